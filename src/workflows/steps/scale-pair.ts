/**
 * What `scaleGroup` reads before it decides anything: the roles at both locations and both members of the pair, and
 * whether scaling may start now (no failover in progress, no management operation running).
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { InstanceReading, ServerSideDetail } from '../../activities';
import type { ManagedInstanceView } from '../../domain/azure-state';
import { isServerGroup, type ResolvedGroup } from '../../domain/group-ref';
import { normalizeLocation } from '../../domain/locations';
import { FailureTypes } from '../definitions';
import { groupKindOf } from './group-kind';
import { type RunbookRun, type StepHandle } from './runbook-run';
import { memberKey, type InstanceSize, type PairMember, type PairRole } from './scale-plan';

export interface PairReading {
  primary: PairMember;
  secondary: PairMember;
  /** Why the runbook must not scale now (a failover in progress, an operation in flight), with the evidence. */
  blocked?: { message: string; evidence: Record<string, unknown> };
  /** A SQL Database group: what each server holds of the group (member databases, their pools). */
  sides?: Record<PairRole, ServerSideDetail>;
}

export function sizeOf(instance: ManagedInstanceView): InstanceSize {
  return { vCores: instance.vCores, storageSizeInGB: instance.storageSizeInGB, skuName: instance.skuName };
}

/**
 * A member's size as the plan compares it: a managed instance's, or a server side's per standalone member database
 * and per elastic pool holding member databases (a pooled database's size is its pool's).
 */
export function sizeOfReading(reading: InstanceReading): InstanceSize {
  const size = sizeOf(reading.instance);
  const side = reading.serverSide;
  if (!side) return size;
  const members: InstanceSize['members'] = {};
  for (const database of side.databases)
    if (!database.elasticPoolId) members[memberKey('database', database.name)] = { ...database.sku };
  for (const pool of side.elasticPools) members[memberKey('elasticPool', pool.name)] = { ...pool.sku };
  return { ...size, members };
}

function memberOf(role: PairRole, location: string, reading: InstanceReading): PairMember {
  return {
    role,
    location,
    instanceId: reading.instance.id,
    instanceName: reading.instance.name,
    size: sizeOfReading(reading),
  };
}

export function instanceEvidence(reading: InstanceReading): Record<string, unknown> {
  if (reading.serverSide) {
    return {
      server: reading.instance.name,
      location: reading.instance.location,
      databases: reading.serverSide.databases.map((database) => ({
        name: database.name,
        sku: database.sku,
        ...(database.elasticPoolId ? { elasticPoolId: database.elasticPoolId } : {}),
      })),
      elasticPools: reading.serverSide.elasticPools.map((pool) => ({ name: pool.name, sku: pool.sku })),
      ...(reading.serverSide.missingDatabases.length > 0
        ? { missingDatabases: reading.serverSide.missingDatabases }
        : {}),
      operationsInFlight: reading.operationsInFlight.map((operation) => ({
        operation: operation.friendlyName ?? operation.operation,
        state: operation.state,
        percentComplete: operation.percentComplete,
      })),
    };
  }
  return {
    instance: reading.instance.name,
    location: reading.instance.location,
    ...sizeOf(reading.instance),
    provisioningState: reading.instance.provisioningState,
    operationsInFlight: reading.operationsInFlight.map((operation) => ({
      operation: operation.friendlyName ?? operation.operation,
      state: operation.state,
      percentComplete: operation.percentComplete,
    })),
  };
}

export async function readRoles(run: RunbookRun, group: ResolvedGroup, summary: string) {
  const roles = await groupKindOf(group).readRoles(group, [group.primaryLocation, group.secondaryLocation], summary);
  return roles;
}

export async function readPair(run: RunbookRun, group: ResolvedGroup, step: StepHandle): Promise<PairReading> {
  const roles = await readRoles(run, group, `read ${group.name} at both locations`);
  step.evidence({ roles: roles.summary.detail, groupStatus: roles.summary.status });
  const { summary } = roles;
  const kind = groupKindOf(group);
  const instanceIds = kind.memberIdsOf(roles).filter(Boolean);
  const serverGroup = isServerGroup(group);
  const instances = await kind.readMembers(
    instanceIds,
    serverGroup ? 'read both servers of the group' : 'read both managed instances',
  );
  const at = (location: string | undefined): InstanceReading | undefined =>
    location ? instances.members.find((entry) => normalizeLocation(entry.instance.location) === location) : undefined;
  const primaryReading = at(summary.primaryLocation) ?? at(group.primaryLocation);
  const secondaryReading = at(summary.secondaryLocation) ?? at(group.secondaryLocation);
  if (!primaryReading || !secondaryReading) {
    throw ApplicationFailure.create({
      type: FailureTypes.GroupNotFound,
      nonRetryable: true,
      message:
        `Group ${group.displayName} does not name one ${kind.memberNoun} at each of its locations ` +
        `(read: ${instances.members.map((entry) => `${entry.instance.name} in ${entry.instance.location}`).join(', ') || 'none'}). ` +
        'Nothing was changed. Check the group in the portal.',
      details: [{ roles: roles.views, instanceIds }],
    });
  }
  const primaryLocation = summary.primaryLocation ?? group.primaryLocation;
  const secondaryLocation = summary.secondaryLocation ?? group.secondaryLocation;
  const primary = memberOf('primary', primaryLocation, primaryReading);
  const secondary = memberOf('secondary', secondaryLocation, secondaryReading);
  const sides =
    primaryReading.serverSide && secondaryReading.serverSide
      ? { sides: { primary: primaryReading.serverSide, secondary: secondaryReading.serverSide } }
      : {};
  step.evidence({ primary: instanceEvidence(primaryReading), secondary: instanceEvidence(secondaryReading) });

  if (!summary.consistent || summary.status === 'failover-in-progress') {
    step.evidence({ blocked: 'failover in progress or roles inconsistent' });
    return {
      primary,
      secondary,
      ...sides,
      blocked: {
        message:
          `A failover of ${group.displayName} is in progress, or its locations disagree about the roles ` +
          `(${summary.detail}); nothing was changed. Scaling now could shrink the instance about to become primary. ` +
          'Wait until the group reads one Primary and one Secondary again (readinessCheck shows it), then start ' +
          'scaleGroup again: it scales in the order the roles have then.',
        evidence: { roles: roles.views, summary },
      },
    };
  }
  run.rolesBefore = { primary: primaryLocation, secondary: secondaryLocation };

  const busy = [
    { role: 'primary', reading: primaryReading },
    { role: 'secondary', reading: secondaryReading },
  ].filter((entry) => entry.reading.operationsInFlight.length > 0);
  if (busy.length > 0) {
    step.evidence({ blocked: 'management operation in flight' });
    const described = busy
      .map(({ role, reading }) => {
        const operation = reading.operationsInFlight[0]!;
        // A server side's operations are its databases' and pools': the operation's id names which.
        const on = serverGroup ? ` on ${resourceNameOf(operation.id) ?? 'a member database'}` : '';
        return (
          `${reading.instance.name} (${role}, ${reading.instance.location}) is busy with ` +
          `"${operation.friendlyName ?? operation.operation}"${on} (${operation.state}, ${operation.percentComplete ?? 0}%)`
        );
      })
      .join('; ');
    return {
      primary,
      secondary,
      ...sides,
      blocked: {
        message:
          `${described}. Azure refuses a scale while another management operation runs; nothing was changed. ` +
          `Wait for it to end (\`${operationListCommand(group, serverGroup ? busy[0]!.reading.instance.name : '<instance>')}\` ` +
          'shows it), then start ' +
          'scaleGroup again.',
        evidence: { busy: busy.map(({ role, reading }) => ({ role, ...instanceEvidence(reading) })) },
      },
    };
  }
  return { primary, secondary, ...sides };
}

/** The database or pool an operation's id (`…/databases/{db}/operations/{id}`) names. */
function resourceNameOf(operationId: string): string | undefined {
  const match = /\/(databases|elasticPools)\/([^/]+)\/operations\//i.exec(operationId);
  if (!match) return undefined;
  return `${match[1]!.toLowerCase() === 'databases' ? 'database' : 'pool'} ${match[2]}`;
}

/** The command that lists a member's operations: a managed instance's, or a server's databases'. */
export function operationListCommand(group: ResolvedGroup, member: string): string {
  return isServerGroup(group)
    ? `az sql db op list -g ${group.resourceGroup} -s ${member} -d <database>` +
        ` (a pool: az sql elastic-pool op list -g ${group.resourceGroup} -s ${member} --elastic-pool <pool>)`
    : `az sql mi op list -g ${group.resourceGroup} --mi ${member}`;
}
