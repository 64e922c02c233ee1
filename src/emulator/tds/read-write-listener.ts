/**
 * A failover group's read-write listener (`<group>.<zone>`): a TCP forward to the instance its DNS record points at.
 */
import { ForwardingListener } from './forwarding-listener';

/**
 * The read-write listener of a group: forwards new connections to the instance its DNS points at (the target of an
 * accepted failover from its start, else the primary), and drops the connections to the old primary at the switch.
 * Source: ../shared/reference/azure-sql-mi-failover.md, "Timeline of a user-initiated failover".
 */
export class ReadWriteListener extends ForwardingListener {
  protected target(): string | undefined {
    const group = this.world.groups.get(this.groupKey);
    const target = group && this.world.instanceById(this.world.listenerInstanceId(group));
    return target && !this.world.isDark(target.location) ? target.id : undefined;
  }

  protected droppedAtSwitch(oldPrimaryId: string | undefined): string | undefined {
    return oldPrimaryId;
  }
}
