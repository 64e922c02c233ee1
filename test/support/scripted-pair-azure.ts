/**
 * A scripted Azure in which the failover group does not exist yet: two instances (eastus with the databases, westus
 * empty), a PUT that creates the group, and seeding that takes simulated time by data size, read through the group's
 * replication state, its creation operation and the secondary's seeding DMV. Once seeded, it is the scripted group of
 * {@link ScriptedAzure}, so every runbook (and the readiness check) runs on it.
 */
import type { ArmAnswer, GroupIdentity } from '../../src/azure/control-plane';
import { ArmRequestError } from '../../src/azure/errors';
import type {
  FailoverGroupDefinition,
  FailoverGroupView,
  OperationProgress,
  SeedingProgress,
} from '../../src/domain/azure-state';
import type { SqlInstanceTarget } from '../../src/sql/data-plane';
import { ScriptedAzure, type ScriptedAzureOptions } from './scripted-azure';

const GB = 1024 ** 3;

export class ScriptedPairAzure extends ScriptedAzure {
  /** Size of each database of the primary (GB); seeding runs at {@link seedingGBPerHour}, one database at a time. */
  readonly databaseSizesGB: Record<string, number> = { sales: 400, billing: 200 };
  seedingGBPerHour = 5;
  /** The creation ends Failed with this code when its seeding is done (as Azure's cancellation after 6 days). */
  creationFailsWith?: string;
  /** User databases already on the secondary (it must be empty). */
  secondaryDatabases: string[] = [];
  /** DNS zone of the secondary (the primary's: `abc123`). */
  secondaryDnsZone?: string;

  // Records.
  readonly createRequests: { definition: FailoverGroupDefinition; location: string; at: number }[] = [];
  created?: { at: number; seededAt: number; definition: FailoverGroupDefinition };

  constructor(options: ScriptedAzureOptions) {
    super(options);
  }

  protected override groupExists(): boolean {
    return this.created !== undefined;
  }

  protected override databasesOn(location: string): string[] {
    if (this.created) return this.databases;
    return location === this.primaryLocation ? this.databases : this.secondaryDatabases;
  }

  /** Seeding of each database in turn; the time each one ends (simulated ms). */
  private seedingPlan(): { database: string; startsAt: number; endsAt: number }[] {
    if (!this.created) return [];
    let at = this.created.at;
    return this.databases.map((database) => {
      const ms = ((this.databaseSizesGB[database] ?? 0) / this.seedingGBPerHour) * 3_600_000;
      const entry = { database, startsAt: at, endsAt: at + ms };
      at += ms;
      return entry;
    });
  }

  override async getManagedInstance(instanceId: string) {
    const answer = await super.getManagedInstance(instanceId);
    if (this.secondaryDnsZone && answer.value.location === this.secondaryLocation)
      return { ...answer, value: { ...answer.value, dnsZone: this.secondaryDnsZone } };
    return answer;
  }

  override async getFailoverGroup(group: GroupIdentity, location: string): Promise<ArmAnswer<FailoverGroupView>> {
    const now = await this.clock();
    if (!this.created) {
      await this.record('getFailoverGroup', { location }, 'GET');
      throw new ArmRequestError(`The Resource 'instanceFailoverGroups/${group.name}' was not found.`, {
        statusCode: 404,
        code: 'ResourceNotFound',
        delivery: 'answered',
      });
    }
    const answer = await super.getFailoverGroup(group, location);
    const seeding = now < this.created.seededAt;
    return {
      ...answer,
      value: {
        ...answer.value,
        replicationState: seeding ? 'SEEDING' : answer.value.replicationState,
        readWriteFailoverPolicy: this.created.definition.readWriteFailoverPolicy,
        readOnlyFailoverPolicy: this.created.definition.readOnlyFailoverPolicy,
        secondaryType: this.created.definition.secondaryType,
      },
    };
  }

  override async beginCreateFailoverGroup(
    group: GroupIdentity,
    location: string,
    definition: FailoverGroupDefinition,
  ): Promise<ArmAnswer<{ trackingId?: string; status: number }>> {
    const now = await this.record('beginCreateFailoverGroup', { group, location, definition }, 'PUT');
    this.createRequests.push({ definition, location, at: now });
    if (this.created) {
      throw new ArmRequestError('Failover group already exists on a given server.', {
        statusCode: 409,
        code: 'InstanceFailoverGroupAlreadyExists',
        delivery: 'answered',
      });
    }
    if (this.secondaryDatabases.length > 0) {
      throw new ArmRequestError('Secondary managed instance has user databases.', {
        statusCode: 400,
        code: 'GeoDrSecondaryInstanceNotEmpty',
        delivery: 'answered',
      });
    }
    this.created = { at: now, seededAt: now, definition };
    this.created.seededAt = this.seedingPlan().at(-1)?.endsAt ?? now;
    return { value: { trackingId: 'create-1', status: 201 } };
  }

  override async getFailoverProgress(group: GroupIdentity, trackingId: string): Promise<ArmAnswer<OperationProgress>> {
    if (!trackingId.startsWith('create-')) return super.getFailoverProgress(group, trackingId);
    const now = await this.record('getFailoverProgress', { trackingId }, 'GET');
    if (!this.created)
      throw new ArmRequestError('The async operation was not found.', {
        statusCode: 404,
        code: 'ResourceNotFound',
        delivery: 'answered',
      });
    if (now < this.created.seededAt) return { value: { state: 'InProgress' } };
    if (this.creationFailsWith)
      return {
        value: { state: 'Failed', error: { code: this.creationFailsWith, message: 'The operation was cancelled.' } },
      };
    return { value: { state: 'Succeeded' } };
  }

  override async listSeedingProgress(target: SqlInstanceTarget): Promise<SeedingProgress[]> {
    const now = await this.record('listSeedingProgress', { host: target.host });
    return this.seedingPlan()
      .filter((entry) => entry.startsAt <= now)
      .map((entry) => {
        const bytes = (this.databaseSizesGB[entry.database] ?? 0) * GB;
        const done = now >= entry.endsAt;
        const fraction = done ? 1 : (now - entry.startsAt) / Math.max(1, entry.endsAt - entry.startsAt);
        return {
          database: entry.database,
          state: done ? 'Completed' : 'Transferring',
          transferredBytes: Math.floor(bytes * fraction),
          databaseBytes: bytes,
          startedAt: new Date(entry.startsAt).toISOString(),
          estimatedCompletionAt: new Date(entry.endsAt).toISOString(),
          ...(done ? { endedAt: new Date(entry.endsAt).toISOString() } : {}),
        };
      });
  }
}
