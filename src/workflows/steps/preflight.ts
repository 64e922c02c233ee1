/**
 * Preflight gates of a planned failover, as a pure function of what was read. Every gate is evaluated (not only up to
 * the first failure) so the report shows the whole picture; the readiness check uses the same gates.
 */
import {
  classifyReplicationState,
  type DatabaseReplicationLink,
  type GroupRolesSummary,
  type FailoverGroupView,
} from '../../domain/azure-state';
import type { GateResult } from '../definitions';
import type { InstanceReading } from '../../activities';
import { describeSize, scaleTargetForSecondary, sizeEvidence } from './member-size';

export { secondaryScaleTarget } from './member-size';

/** A member as the gates judge it (a managed instance, or a server group's side on a server). */
export type InstanceState = InstanceReading;

export interface PreflightSnapshot {
  views: FailoverGroupView[];
  summary: GroupRolesSummary;
  targetLocation: string;
  primary?: InstanceState;
  secondary?: InstanceState;
  /** Links read on the current primary; a string says why they could not be read. */
  links: DatabaseReplicationLink[] | string;
  maxLagSeconds: number;
  scaleSecondary: 'match' | 'skip';
}

export function gate(
  name: string,
  status: GateResult['status'],
  message: string,
  evidence: GateResult['evidence'],
  action?: string,
): GateResult {
  return action ? { name, status, message, action, evidence } : { name, status, message, evidence };
}

export function rolesGate(snapshot: Pick<PreflightSnapshot, 'views' | 'summary'>): GateResult {
  const { summary, views } = snapshot;
  const evidence = {
    roles: views.map((view) => ({ location: view.location, role: view.replicationRole, state: view.replicationState })),
  };
  if (summary.consistent) {
    return gate(
      'roles-consistent',
      'pass',
      `${summary.primaryLocation} is primary, ${summary.secondaryLocation} secondary`,
      evidence,
    );
  }
  return gate(
    'roles-consistent',
    'fail',
    `The two locations disagree about the roles, so a failover is in progress or just ended (${summary.detail})`,
    evidence,
    'Wait until both locations report one primary and one secondary, then start again.',
  );
}

export function synchronizingGate(snapshot: Pick<PreflightSnapshot, 'views' | 'summary'>): GateResult {
  const { summary, views } = snapshot;
  const evidence = {
    status: summary.status,
    replicationStates: views.map((view) => ({ location: view.location, state: view.replicationState })),
  };
  switch (summary.status) {
    case 'synchronizing':
      return gate('replication-synchronizing', 'pass', 'The group is synchronizing', evidence);
    case 'seeding':
      return gate(
        'replication-synchronizing',
        'fail',
        'The group is still seeding: Azure allows no failover until seeding completes',
        evidence,
        'Wait for seeding to finish (the portal shows Synchronizing), then start again.',
      );
    case 'failover-in-progress':
      return gate(
        'replication-synchronizing',
        'fail',
        'A failover is in progress on the group: no other change is allowed until it ends',
        evidence,
        'Wait for the running failover to finish, then check the roles with `fogpilot status`.',
      );
    case 'suspended':
      return gate(
        'replication-synchronizing',
        'fail',
        'Replication is suspended',
        evidence,
        'Resume replication and wait for Synchronizing before failing over.',
      );
    default:
      return gate(
        'replication-synchronizing',
        'fail',
        `The replication state is not one known to be safe (${summary.detail})`,
        evidence,
        'Check the group in the portal; fogpilot fails over only a group it sees synchronizing.',
      );
  }
}

function instanceReady(name: string, role: string, state: InstanceState | undefined): GateResult {
  if (!state) {
    return gate(
      name,
      'fail',
      `The ${role} instance could not be identified`,
      {},
      "Check the group's instance pair in ARM.",
    );
  }
  const { instance } = state;
  const evidence = { instance: instance.name, provisioningState: instance.provisioningState, state: instance.state };
  if (instance.provisioningState === 'Succeeded' && instance.state === 'Ready') {
    return gate(name, 'pass', `${instance.name} is Succeeded/Ready`, evidence);
  }
  return gate(
    name,
    'fail',
    `${instance.name} (${role}) is ${instance.provisioningState}/${instance.state}, not Succeeded/Ready`,
    evidence,
    'Wait until the instance is Ready, then start again.',
  );
}

function noOperationsGate(primary?: InstanceState, secondary?: InstanceState): GateResult {
  const busy = [primary, secondary]
    .filter((state): state is InstanceState => state !== undefined)
    .flatMap((state) =>
      state.operationsInFlight.map((operation) => ({
        instance: state.instance.name,
        operation: operation.friendlyName ?? operation.operation,
        state: operation.state,
        percentComplete: operation.percentComplete,
        startTime: operation.startTime,
      })),
    );
  if (busy.length === 0)
    return gate('no-operations-in-flight', 'pass', 'No management operation is running', { operations: [] });
  return gate(
    'no-operations-in-flight',
    'fail',
    `Management operations are running: ${busy.map((entry) => `${entry.instance}: ${entry.operation} (${entry.state}, ${entry.percentComplete ?? 0}%)`).join('; ')}`,
    { operations: busy },
    'Wait for the operations to finish (or cancel them), then start again.',
  );
}

function linksGate(links: PreflightSnapshot['links']): GateResult {
  if (typeof links === 'string') {
    return gate(
      'replication-links',
      'fail',
      `Replication links could not be read: ${links}`,
      {},
      'Fix the cause, then start again.',
    );
  }
  if (links.length === 0) {
    return gate(
      'replication-links',
      'fail',
      'The primary has no user database with a replication link',
      { databases: 0 },
      'Check that the databases are in the failover group.',
    );
  }
  const wrong = links.filter((link) => link.role.toUpperCase() !== 'PRIMARY' || !link.partnerServer);
  const evidence = {
    databases: links.map((link) => ({
      database: link.database,
      role: link.role,
      partner: `${link.partnerServer}/${link.partnerDatabase}`,
      state: link.replicationState,
    })),
  };
  if (wrong.length > 0) {
    return gate(
      'replication-links',
      'fail',
      `Databases without a primary-side link: ${wrong.map((link) => link.database).join(', ')}`,
      evidence,
      'Every database must replicate to the partner before a failover.',
    );
  }
  const notCatchingUp = links.filter((link) => classifyReplicationState(link.replicationState) !== 'synchronizing');
  if (notCatchingUp.length > 0) {
    return gate(
      'replication-links',
      'fail',
      `Databases not synchronizing: ${notCatchingUp.map((link) => `${link.database} (${link.replicationState})`).join(', ')}`,
      evidence,
      'Wait until every database is in CATCH_UP, then start again.',
    );
  }
  return gate('replication-links', 'pass', `${links.length} database(s) replicating to the partner`, evidence);
}

/** Every database's replication lag, read on the primary, known and within `maxLagSeconds`. */
export function lagGate(links: PreflightSnapshot['links'], maxLagSeconds: number): GateResult {
  if (typeof links === 'string') {
    return gate('replication-lag', 'fail', 'Replication lag unknown', {}, 'Fix the cause, then start again.');
  }
  const lags = links.map((link) => ({ database: link.database, lagSeconds: link.lagSeconds }));
  const unknown = lags.filter((entry) => entry.lagSeconds === null);
  const over = lags.filter((entry) => entry.lagSeconds !== null && entry.lagSeconds > maxLagSeconds);
  const evidence = { maxLagSeconds, lags };
  if (over.length > 0 || unknown.length > 0) {
    const parts = [
      ...over.map((entry) => `${entry.database} lags ${entry.lagSeconds}s`),
      ...unknown.map((entry) => `${entry.database} lag unknown`),
    ];
    return gate(
      'replication-lag',
      'fail',
      `Replication lag above ${maxLagSeconds}s: ${parts.join(', ')}`,
      evidence,
      'Find what holds the secondary back (log rate, network), or raise maxLagSeconds if this lag is acceptable.',
    );
  }
  const worst = Math.max(0, ...lags.map((entry) => entry.lagSeconds ?? 0));
  return gate('replication-lag', 'pass', `Worst lag ${worst}s ≤ ${maxLagSeconds}s`, evidence);
}

function sizeGate(snapshot: PreflightSnapshot): GateResult {
  const { primary, secondary } = snapshot;
  if (!primary || !secondary) return gate('secondary-size', 'fail', 'Instance sizes unknown', {});
  const evidence = { primary: sizeEvidence(primary), secondary: sizeEvidence(secondary) };
  const target = scaleTargetForSecondary(primary, secondary);
  if (!target) return gate('secondary-size', 'pass', "The secondary is at least the primary's size", evidence);
  const describe = primary.serverSide
    ? `on ${secondary.instance.name}: ${describeSize(secondary)}; on the primary: ${describeSize(primary)}`
    : `${secondary.instance.name} has ${secondary.instance.vCores} vCores/${secondary.instance.storageSizeInGB} GB, the primary ${primary.instance.vCores}/${primary.instance.storageSizeInGB}`;
  if (snapshot.scaleSecondary === 'match') {
    return gate('secondary-size', 'pass', `The secondary is smaller (${describe}); it will be scaled up first`, {
      ...evidence,
      scaleTo: target,
    });
  }
  return gate(
    'secondary-size',
    'fail',
    `The secondary is smaller than the primary (${describe}) and scaleSecondary is "skip"`,
    evidence,
    'Use scaleSecondary "match" to scale it up first, or scale it yourself with scaleGroup.',
  );
}

function targetGate(snapshot: PreflightSnapshot): GateResult {
  const { summary, targetLocation } = snapshot;
  const evidence = {
    targetLocation,
    currentPrimary: summary.primaryLocation,
    currentSecondary: summary.secondaryLocation,
  };
  if (!summary.consistent) return gate('target-is-secondary', 'fail', 'The roles are not settled', evidence);
  if (summary.secondaryLocation === targetLocation) {
    return gate('target-is-secondary', 'pass', `${targetLocation} is the secondary`, evidence);
  }
  return gate(
    'target-is-secondary',
    'fail',
    `${targetLocation} is already the primary: there is nothing to fail over to`,
    evidence,
    'To move the primary back, fail over to the other region (or use failback).',
  );
}

export function evaluatePlannedFailoverGates(snapshot: PreflightSnapshot): GateResult[] {
  return [
    rolesGate(snapshot),
    synchronizingGate(snapshot),
    targetGate(snapshot),
    instanceReady('primary-ready', 'primary', snapshot.primary),
    instanceReady('secondary-ready', 'secondary', snapshot.secondary),
    noOperationsGate(snapshot.primary, snapshot.secondary),
    linksGate(snapshot.links),
    lagGate(snapshot.links, snapshot.maxLagSeconds),
    sizeGate(snapshot),
  ];
}
