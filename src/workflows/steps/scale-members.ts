/**
 * What `scaleGroup` asks of a SQL Database group's members, checked against the group before anything is sent: the
 * fields of the input that fit the group's kind, the databases it names (members of the group, not pooled), and the
 * pools it names (holding member databases on both servers). Each refusal is `InvalidInput`, naming the field, with
 * nothing changed.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { SqlSku } from '../../domain/azure-state';
import { isServerGroup, type ResolvedGroup } from '../../domain/group-ref';
import type { ScaleGroupParams } from '../../domain/inputs';
import { FailureTypes } from '../definitions';
import type { PairReading } from './scale-pair';
import { memberKey, type PairRole } from './scale-plan';

function invalid(field: string, message: string, details: Record<string, unknown> = {}): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureTypes.InvalidInput,
    nonRetryable: true,
    message: `${field}: ${message} Nothing was changed.`,
    details: [{ field, ...details }],
  });
}

/**
 * Refuses the fields that do not fit the group's kind: a Managed Instance group has one size per instance
 * (`vCores`, `storageSizeInGB`, `sku`); a SQL Database group has one per database or elastic pool (`databases`,
 * `elasticPools`). Pure: the opening calls it once the group is resolved, before the lock or any read.
 */
export function refuseFieldsOfOtherKind(params: ScaleGroupParams, group: ResolvedGroup): void {
  if (isServerGroup(group)) {
    const field = (['vCores', 'storageSizeInGB', 'sku'] as const).find((name) => params[name] !== undefined);
    if (field) {
      throw invalid(
        field,
        `${group.displayName} is a SQL Database failover group (kind sqlDatabase), whose sizes are per database: ` +
          `${field} is for a Managed Instance group. Give databases ({ "<database>": "<SKU>" }, e.g. "GP_Gen5_4" ` +
          'or "S3") for member databases, and elasticPools ({ "<pool>": "<SKU>" }) for the pools that hold them.',
        { kind: 'sqlDatabase' },
      );
    }
    return;
  }
  const field = (['databases', 'elasticPools'] as const).find((name) => params[name] !== undefined);
  if (field) {
    throw invalid(
      field,
      `${group.displayName} is a Managed Instance failover group (kind managedInstance), scaled as a whole ` +
        `instance: ${field} is for a SQL Database group. Give vCores, storageSizeInGB and/or sku.`,
      { kind: 'managedInstance' },
    );
  }
}

/**
 * The member SKUs the input asks for, keyed as the plan keys a side's sizes (`database/<name>`,
 * `elasticPool/<name>`, spelled as Azure spells them), after checking each name against both sides of the pair:
 *
 * - a database must be a member of the group on both servers, and standalone on both: a pooled database is scaled
 *   through its pool, and moving a database in or out of a pool is not a scale;
 * - a pool must hold member databases on both servers (a pool that holds none is not the group's to scale).
 */
export function memberScaleRequest(
  params: Pick<ScaleGroupParams, 'databases' | 'elasticPools'>,
  pair: PairReading,
  group: ResolvedGroup,
): Record<string, SqlSku> {
  const sides = pair.sides;
  if (!sides) return {};
  const roles: PairRole[] = ['primary', 'secondary'];
  const serverOf = (role: PairRole) => pair[role].instanceName;
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  const requested: Record<string, SqlSku> = {};

  for (const [name, sku] of Object.entries(params.databases ?? {})) {
    const field = `databases.${name}`;
    let spelled: string | undefined;
    for (const role of roles) {
      const side = sides[role];
      const database = side.databases.find((entry) => same(entry.name, name));
      if (!database) {
        const members = [...new Set([...side.databases.map((entry) => entry.name), ...side.missingDatabases])];
        const onServer = side.otherDatabases.some((other) => same(other, name));
        throw invalid(
          field,
          `${name} is not a member database of ${group.displayName} on ${serverOf(role)} (${role})` +
            (onServer ? ': the server has it, but the failover group does not replicate it' : '') +
            `. Its member databases: ${members.join(', ') || 'none'}. Name a member database, or add ${name} to ` +
            'the group first.',
          { database: name, server: serverOf(role), members },
        );
      }
      if (database.elasticPoolId) {
        const pool = side.elasticPools.find((entry) => same(entry.id, database.elasticPoolId!));
        const poolName = pool?.name ?? database.elasticPoolId.split('/').pop() ?? 'its pool';
        throw invalid(
          field,
          `${database.name} is in elastic pool ${poolName} on ${serverOf(role)} (${role}), so its size is the ` +
            `pool's: scale it through its pool with elasticPools: { "${poolName}": "<SKU>" }. Moving a database in ` +
            'or out of a pool is not something scaleGroup does (do it in the portal or with az sql db update).',
          { database: database.name, server: serverOf(role), elasticPool: poolName },
        );
      }
      spelled ??= database.name;
    }
    requested[memberKey('database', spelled!)] = sku;
  }

  for (const [name, sku] of Object.entries(params.elasticPools ?? {})) {
    const field = `elasticPools.${name}`;
    let spelled: string | undefined;
    for (const role of roles) {
      const side = sides[role];
      const pool = side.elasticPools.find((entry) => same(entry.name, name));
      if (!pool) {
        const pools = side.elasticPools.map((entry) => entry.name);
        throw invalid(
          field,
          `no elastic pool named ${name} holds a member database of ${group.displayName} on ${serverOf(role)} ` +
            `(${role}). Pools that do: ${pools.join(', ') || 'none'}. scaleGroup scales the pools of the group's ` +
            'databases, under the same name on both servers.',
          { elasticPool: name, server: serverOf(role), pools },
        );
      }
      spelled ??= pool.name;
    }
    requested[memberKey('elasticPool', spelled!)] = sku;
  }
  return requested;
}
