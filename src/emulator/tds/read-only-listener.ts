/**
 * The read-only listener of a failover group, `<group>.secondary.<zone>.database.windows.net`: it forwards to the
 * current secondary, as Azure's DNS record for it points there ("Failover groups overview & best practices - Azure SQL
 * Managed Instance", learn.microsoft.com/en-us/azure/azure-sql/managed-instance/failover-group-sql-mi: "Use the
 * read-only listener to direct read-only traffic to a readable secondary database"; the endpoints are DNS records
 * updated at a geo-failover). Clients use it with ApplicationIntent=ReadOnly.
 *
 * Being a DNS record, it cannot look at a session's intent: a ReadWrite-intent session through it lands on the
 * secondary too, where reads work and writes fail with 3906 (the geo secondary allows ALL connections, as
 * `secondary_allow_connections_desc` says). With `readOnlyFailoverPolicy: Enabled` and the secondary's region dark, it
 * points at the primary instead (the REST spec's `readOnlyEndpoint.failoverPolicy`). Connections are dropped when the
 * roles switch, as the instances' are.
 */
import { ForwardingListener } from './forwarding-listener';

export class ReadOnlyListener extends ForwardingListener {
  /** The instance the listener's name resolves to now, if any answers. */
  protected target(): string | undefined {
    const group = this.world.groups.get(this.groupKey);
    if (!group) return undefined;
    const primary = this.world.instanceById(group.primaryInstanceId)!;
    const secondary = this.world.partnerInstance(group, primary.id);
    if (!this.world.isDark(secondary.location)) return secondary.id;
    if (group.readOnlyFailoverPolicy === 'Enabled' && !this.world.isDark(primary.location)) return primary.id;
    return undefined;
  }

  /** Its record moves to the other instance at a switch: every forward through it ends. */
  protected droppedAtSwitch(): undefined {
    return undefined;
  }
}

/** The read-only listener's name: `<group>.secondary.<zone>.database.windows.net`. */
export function readOnlyListenerHost(groupName: string, dnsZone: string): string {
  return `${groupName}.secondary.${dnsZone}.database.windows.net`;
}
