/**
 * Drift on top of the scripted Azure, for readiness tests: instance settings the scripted world does not vary (tier,
 * license type, backup storage redundancy), the failover policy, and the age of the latest backups. Plus a router that
 * serves several scripted groups as one Azure, for checks over the whole inventory.
 */
import type { ArmAnswer, ControlPlane, GroupIdentity } from '../../src/azure/control-plane';
import { ArmRequestError } from '../../src/azure/errors';
import type { FailoverGroupView, ManagedInstanceView } from '../../src/domain/azure-state';
import type { BackupInfo, DataPlane, SqlInstanceTarget } from '../../src/sql/data-plane';
import { ScriptedAzure, type ScriptedAzureOptions } from './scripted-azure';

export class DriftingAzure extends ScriptedAzure {
  /** Fields of the ARM view of the instance at a location, overriding what the script answers. */
  readonly instanceOverrides: Record<string, Partial<ManagedInstanceView>> = {};
  /** Fields of the group's ARM view (at every location), e.g. an Automatic failover policy. */
  groupOverrides: Partial<FailoverGroupView> = {};
  /**
   * Age of the latest restore point (the last log backup) per database on the primary; `null`: no backup recorded.
   * Databases not named keep the script's (a log backup 5 minutes ago).
   */
  readonly backupAgeMs: Record<string, number | null> = {};
  private readonly now: () => Promise<number>;

  constructor(options: ScriptedAzureOptions) {
    super(options);
    this.now = options.clock;
  }

  override async getManagedInstance(instanceId: string): Promise<ArmAnswer<ManagedInstanceView>> {
    const answer = await super.getManagedInstance(instanceId);
    return { ...answer, value: { ...answer.value, ...this.instanceOverrides[answer.value.location] } };
  }

  override async getFailoverGroup(group: GroupIdentity, location: string): Promise<ArmAnswer<FailoverGroupView>> {
    const answer = await super.getFailoverGroup(group, location);
    return { ...answer, value: { ...answer.value, ...this.groupOverrides } };
  }

  override async latestBackups(target: SqlInstanceTarget): Promise<BackupInfo[]> {
    const backups = await super.latestBackups(target);
    const now = await this.now();
    return backups.flatMap((backup): BackupInfo[] => {
      const age = this.backupAgeMs[backup.database];
      if (age === undefined) return [backup];
      if (age === null) return [];
      return [
        {
          database: backup.database,
          lastFullBackup: new Date(now - age - 6 * 3_600_000).toISOString(),
          lastLogBackup: new Date(now - age).toISOString(),
        },
      ];
    });
  }
}

/**
 * Several scripted groups served as one Azure: each call goes to the group it names (a group identity), owns (an
 * instance id) or hosts (a SQL target). A group none of them has answers 404, as ARM does for a group that is gone.
 */
/** Reads of a scope all scripted groups share (their subnets, NSGs and group listings look alike). */
const SHARED_SCOPE_READS = new Set(['listFailoverGroups', 'getSubnet', 'getNetworkSecurityGroup']);

export function azureOfGroups(groups: ScriptedAzure[]): ControlPlane & DataPlane {
  const byArgument = (argument: unknown): ScriptedAzure | undefined => {
    if (typeof argument === 'string') {
      return groups.find((azure) =>
        Object.values(azure.instances).some((instance) => instance.id.toLowerCase() === argument.toLowerCase()),
      );
    }
    if (argument && typeof argument === 'object') {
      const { host, name } = argument as { host?: unknown; name?: unknown };
      if (typeof host === 'string') {
        return groups.find((azure) => Object.values(azure.instances).some((instance) => instance.fqdn === host));
      }
      if (typeof name === 'string') return groups.find((azure) => azure.coordinates.name === name);
    }
    return undefined;
  };
  return new Proxy({} as ControlPlane & DataPlane, {
    get(_target, method) {
      // Not a thenable, whatever awaits it.
      if (method === 'then' || typeof method === 'symbol') return undefined;
      return async (...args: unknown[]) => {
        // Every scripted group shares one subscription and resource group: network and group listings are alike.
        const azure = byArgument(args[0]) ?? (SHARED_SCOPE_READS.has(String(method)) ? groups[0] : undefined);
        if (!azure) {
          throw new ArmRequestError(`The requested resource was not found (${String(method)}).`, {
            statusCode: 404,
            code: 'ResourceNotFound',
            delivery: 'answered',
          });
        }
        const fn = (azure as unknown as Record<string | symbol, (...rest: unknown[]) => Promise<unknown>>)[method];
        return fn!.apply(azure, args);
      };
    },
  });
}
