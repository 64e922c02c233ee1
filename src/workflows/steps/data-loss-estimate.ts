/**
 * The forced failover's data-loss estimate, per database, from `sys.dm_geo_replication_link_status` read on each side.
 *
 * Microsoft documents `replication_lag_sec` and `last_replication` for the primary database only; the secondary — the
 * only side that surely answers when a region is down — reports `last_commit`: its last commit, or, when the primary
 * is down, "until what point the secondary has caught up" (learn.microsoft.com/sql/relational-databases/
 * system-dynamic-management-views/sys-dm-geo-replication-link-status-azure-sql-database). So:
 * - primary answers: at risk = primary `last_commit` − secondary `last_commit` (measured at the read);
 * - primary unreachable: at risk ≤ now − secondary `last_commit` (an upper bound: it also counts time with no commits);
 * - a database not in CATCH_UP is listed with its state; one still SEEDING (or PENDING) has no consistent copy on the
 *   secondary, so a forced failover loses it whole.
 *
 * `estimateDataLoss` and the describers are pure; `readDataLossEstimate` is the step that reads.
 */
import { formatDuration } from '../../domain/durations';
import type { DatabaseReplicationLink, FailoverGroupView, ManagedInstanceView } from '../../domain/azure-state';
import { serverNameOfId, sqlTargetGroup, type ResolvedGroup } from '../../domain/group-ref';
import type { SqlInstanceTarget } from '../../sql/data-plane';
import type { DatabaseLossEstimate, DataLossEstimate } from '../definitions';
import { checks, partnerReads } from './activity-presets';
import { describeFailure, type RunbookRun, type StepHandle } from './runbook-run';

/**
 * The forced failover reads `last_commit` on both sides and estimates per database (and lists databases not in
 * CATCH_UP); runs started before it estimated from the secondary's lag and last replication time alone.
 */
export const FORCED_FAILOVER_ESTIMATE_PATCH = 'forced-failover-estimate-last-commit';

/** Sources, as the report shows them. */
export const EstimateSources = {
  bothSides: 'primary last_commit vs secondary last_commit',
  primaryUnreachable: 'secondary last_commit only (primary unreachable): upper bound',
  primaryWithoutCommit: 'secondary last_commit only (the primary reported no last_commit for it): upper bound',
  primaryNotPrimary: 'secondary last_commit only (the partner did not report the primary role): upper bound',
  replicationState: 'replication_state_desc on the secondary',
  role: 'role_desc on the target',
} as const;

/** One side's replication links as read, or why they could not be read. */
export interface LinksRead {
  instance: string;
  links?: DatabaseReplicationLink[];
  error?: string;
}

export interface EstimateInput {
  /** The failover target (the secondary, unless it already is primary). */
  secondary: LinksRead;
  /** The current primary, when it was asked; `error` when it did not answer. */
  primary?: LinksRead;
  /** When the reads ended (workflow time), for the bound from the secondary alone. */
  readAtMs: number;
}

const upper = (value: string | undefined) => (value ?? '').toUpperCase();
const seconds = (ms: number) => Math.round(Math.max(0, ms) / 100) / 10;

/** The per-database estimate from what each side reported. Pure. */
export function estimateDataLoss(input: EstimateInput): DataLossEstimate {
  const { secondary, primary } = input;
  if (!secondary.links) {
    return {
      method: 'last-commit',
      basis: `the links on ${secondary.instance} could not be read: ${secondary.error ?? 'no answer'}`,
      databases: [],
    };
  }
  const find = (links: DatabaseReplicationLink[] | undefined, name: string) =>
    links?.find((link) => link.database.toLowerCase() === name.toLowerCase());
  const names = [...secondary.links.map((link) => link.database)];
  for (const link of primary?.links ?? []) if (!find(secondary.links, link.database)) names.push(link.database);

  const databases = names.map((name) =>
    estimateOne(name, find(secondary.links, name), find(primary?.links, name), input),
  );
  const figures = databases.map((entry) => entry.seconds).filter((value): value is number => value !== undefined);
  const lostWhole = databases.filter((entry) => entry.kind === 'lost-whole').map((entry) => entry.database);
  const unknown = databases.filter((entry) => entry.kind === 'unknown').map((entry) => entry.database);
  const upperBound = databases.some((entry) => entry.kind === 'upper-bound');
  const basis = !primary
    ? `last_commit on ${secondary.instance}`
    : primary.links
      ? `last_commit on ${primary.instance} (primary) vs on ${secondary.instance} (secondary)`
      : `last_commit on ${secondary.instance} only: ${primary.instance} did not answer (${primary.error ?? 'no answer'}), ` +
        'so each figure is an upper bound (it also counts time with no commits)';
  return {
    method: 'last-commit',
    ...(figures.length > 0 ? { seconds: Math.max(...figures) } : {}),
    basis,
    databases,
    ...(upperBound ? { upperBound } : {}),
    ...(lostWhole.length > 0 ? { lostWhole } : {}),
    ...(unknown.length > 0 ? { unknown } : {}),
  };
}

function estimateOne(
  database: string,
  onSecondary: DatabaseReplicationLink | undefined,
  onPrimary: DatabaseReplicationLink | undefined,
  { secondary, primary, readAtMs }: EstimateInput,
): DatabaseLossEstimate {
  const primaryRole = upper(onPrimary?.role) === 'PRIMARY';
  const entry: DatabaseLossEstimate = {
    database,
    ...(primaryRole && onPrimary!.lagSeconds !== null ? { lagSeconds: onPrimary!.lagSeconds } : {}),
    ...(primaryRole && onPrimary!.lastReplication ? { lastReplication: onPrimary!.lastReplication } : {}),
    ...(onSecondary ? { replicationState: onSecondary.replicationState } : {}),
    ...(onSecondary?.lastCommit ? { secondaryLastCommit: onSecondary.lastCommit } : {}),
    ...(onPrimary?.lastCommit ? { primaryLastCommit: onPrimary.lastCommit } : {}),
  };
  const here = secondary.instance;
  if (!onSecondary) {
    return {
      ...entry,
      kind: 'lost-whole',
      source: `the databases on ${here}`,
      reason: `${primary?.instance ?? 'the primary'} holds it and ${here} has no copy of it`,
    };
  }
  if (upper(onSecondary.role) === 'PRIMARY') {
    return {
      ...entry,
      kind: 'none',
      seconds: 0,
      source: EstimateSources.role,
      reason: `${here} already holds the primary copy`,
    };
  }
  if (upper(onSecondary.role) !== 'SECONDARY') {
    return {
      ...entry,
      kind: 'unknown',
      reason: `${here} reports no geo-replication link for it: it is not a copy of a database on the primary`,
    };
  }
  const state = upper(onSecondary.replicationState);
  if (state === 'SEEDING' || state === 'PENDING') {
    return {
      ...entry,
      kind: 'lost-whole',
      source: EstimateSources.replicationState,
      reason: `${state} on ${here}: the secondary holds no transactionally consistent copy yet, so a forced failover keeps none of it`,
    };
  }
  if (state !== 'CATCH_UP' && state !== 'SUSPENDED') {
    return {
      ...entry,
      kind: 'unknown',
      reason: `replication state ${onSecondary.replicationState || '(none)'} on ${here} is not one known to hold a consistent copy`,
    };
  }
  // SUSPENDED still holds a consistent copy up to its last_commit; the gap only grows while it lasts.
  const suspended =
    state === 'SUSPENDED'
      ? {
          reason: `SUSPENDED on ${here}: replication is not running, so the gap grows with every commit on the primary`,
        }
      : {};
  const secondaryCommit = onSecondary.lastCommit ? Date.parse(onSecondary.lastCommit) : Number.NaN;
  if (!Number.isFinite(secondaryCommit)) {
    return {
      ...entry,
      kind: 'unknown',
      reason: `${here} reported no last_commit for it${primary?.links ? '' : ' and the primary did not answer'}`,
    };
  }
  const primaryCommit = onPrimary?.lastCommit ? Date.parse(onPrimary.lastCommit) : Number.NaN;
  if (primaryRole && Number.isFinite(primaryCommit)) {
    return {
      ...entry,
      kind: 'measured',
      seconds: seconds(primaryCommit - secondaryCommit),
      source: EstimateSources.bothSides,
      ...suspended,
    };
  }
  const source = !primary?.links
    ? EstimateSources.primaryUnreachable
    : onPrimary && !primaryRole
      ? EstimateSources.primaryNotPrimary
      : EstimateSources.primaryWithoutCommit;
  return { ...entry, kind: 'upper-bound', seconds: seconds(readAtMs - secondaryCommit), source, ...suspended };
}

/** One line per database, for the approval question, the plan and the leg's detail. */
function describeDatabase(entry: DatabaseLossEstimate): string {
  const figure = formatDuration((entry.seconds ?? 0) * 1000);
  switch (entry.kind) {
    case 'measured':
      return `${entry.database}: ${figure} (${entry.source})`;
    case 'upper-bound':
      return `${entry.database}: at most ${figure} (${entry.source})`;
    case 'lost-whole':
      return `${entry.database}: lost whole (${entry.reason})`;
    case 'none':
      return `${entry.database}: none (${entry.reason})`;
    default:
      return `${entry.database}: unknown (${entry.reason ?? 'not estimated'})`;
  }
}

/** The estimate in a sentence or two; estimates from runs before per-database estimates read as they always did. */
export function describeDataLossEstimate(estimate: DataLossEstimate): string {
  if (estimate.method !== 'last-commit') {
    if (estimate.seconds === undefined) return `Estimate: unknown (${estimate.basis}).`;
    return `Estimate: at most the last ${formatDuration(estimate.seconds * 1000)} of commits (from ${estimate.basis}).`;
  }
  const head =
    estimate.seconds !== undefined
      ? `Estimate: at most the last ${formatDuration(estimate.seconds * 1000)} of commits`
      : estimate.lostWhole?.length
        ? 'Estimate: no figure in seconds'
        : 'Estimate: unknown';
  const lost = estimate.lostWhole?.length ? `; lost whole: ${estimate.lostWhole.join(', ')}` : '';
  const perDatabase =
    estimate.databases.length > 0 ? ` Per database: ${estimate.databases.map(describeDatabase).join('; ')}.` : '';
  const basis = estimate.seconds === undefined && !lost ? estimate.basis : `from ${estimate.basis}`;
  return `${head}${lost} (${basis}).${perDatabase}`;
}

/** Per-database evidence for the failover leg's data-loss record. */
export function lossEvidence(estimate: DataLossEstimate): { database: string; evidence: string }[] {
  return estimate.databases.map((entry) => ({
    database: entry.database,
    evidence:
      estimate.method === 'last-commit'
        ? describeDatabase(entry).slice(entry.database.length + 2)
        : entry.lastReplication
          ? `last replicated ${entry.lastReplication}`
          : 'the secondary reported no last replication time',
  }));
}

/**
 * Where the partner instance answers SQL: both instances of a failover group share one DNS zone (Azure refuses a group
 * whose instances do not: `DnsZoneMismatch`), so its FQDN is the target's with the partner's name in front. Deriving
 * it reads nothing at the partner's location, whose ARM may be down with it.
 */
export function partnerSqlTarget(
  target: ManagedInstanceView,
  partnerInstanceId: string,
  group: ResolvedGroup,
): SqlInstanceTarget | undefined {
  const name = partnerInstanceId.split('/').filter(Boolean).at(-1);
  const dot = target.fullyQualifiedDomainName.indexOf('.');
  if (!name || dot <= 0) return undefined;
  return {
    instanceId: partnerInstanceId,
    host: `${name}${target.fullyQualifiedDomainName.slice(dot)}`,
    ...sqlTargetGroup(group),
  };
}

export interface DataLossReading {
  estimate: DataLossEstimate;
  /** The databases the target will serve after the failover: those it holds a consistent copy of. */
  databases: string[];
}

/**
 * Reads the links on the target and, when the target is still secondary, on the primary (best effort: it may be in the
 * dark region), and estimates per database. Never fails: what could not be read makes the estimate unknown or an
 * upper bound, and says so — the estimate only informs the person approving.
 */
export async function readDataLossEstimate(
  run: RunbookRun,
  step: StepHandle,
  request: {
    group: ResolvedGroup;
    view: FailoverGroupView;
    targetInstance: ManagedInstanceView;
    /** Where the target answers SQL (`FailoverGroupKind.sqlEndpoint`). */
    targetEndpoint: SqlInstanceTarget;
  },
): Promise<DataLossReading> {
  const { group, view, targetInstance, targetEndpoint } = request;
  const secondary = await readLinks(
    () =>
      checks.readReplicationLinks.executeWithOptions({ summary: `replication links on ${targetInstance.name}` }, [
        { instance: targetEndpoint },
      ]),
    targetInstance.name,
  );
  if (!secondary.links) {
    step.evidence({ instance: targetInstance.name, linksUnreadable: secondary.error });
    run.warn(
      `The replication links on ${targetInstance.name} could not be read (${secondary.error}): the loss is not estimated.`,
    );
    return { estimate: estimateDataLoss({ secondary, readAtMs: Date.now() }), databases: [] };
  }

  let primary: LinksRead | undefined;
  if (upper(view.replicationRole) !== 'PRIMARY') {
    const primaryId = view.primaryManagedInstanceId;
    // A server group's member ids are the group's ids at its servers: the primary is the server they name.
    const primaryServer = targetEndpoint.kind === 'sqlDatabase' ? serverNameOfId(primaryId) : undefined;
    const primaryName = primaryServer ?? primaryId.split('/').filter(Boolean).at(-1) ?? primaryId;
    const target = primaryServer
      ? {
          ...targetEndpoint,
          instanceId: primaryId,
          host: `${primaryServer}${targetInstance.fullyQualifiedDomainName.slice(targetInstance.fullyQualifiedDomainName.indexOf('.'))}`,
        }
      : partnerSqlTarget(targetInstance, primaryId, group);
    primary = target
      ? await readLinks(
          () =>
            partnerReads.readReplicationLinks.executeWithOptions(
              { summary: `replication links on the primary ${primaryName} (it may not answer)` },
              [{ instance: target }],
            ),
          primaryName,
        )
      : {
          instance: primaryName,
          error: `no SQL host could be derived from ${targetInstance.fullyQualifiedDomainName}`,
        };
    if (primary.error) step.evidence({ primary: primaryName, primaryUnreachable: primary.error });
  }

  const estimate = estimateDataLoss({ secondary, primary, readAtMs: Date.now() });
  step.evidence({
    instance: targetInstance.name,
    databases: estimate.databases,
    estimate: describeDataLossEstimate(estimate),
  });
  if (estimate.lostWhole?.length) {
    run.warn(
      `A forced failover to ${targetInstance.name} loses these databases whole: ` +
        estimate.databases
          .filter((entry) => entry.kind === 'lost-whole')
          .map((entry) => `${entry.database} (${entry.reason})`)
          .join('; ') +
        '. Wait for seeding to finish if the primary can still be reached.',
    );
  }
  const lost = new Set(estimate.lostWhole ?? []);
  return {
    estimate,
    databases: secondary.links.map((link) => link.database).filter((name) => !lost.has(name)),
  };
}

async function readLinks(
  read: () => Promise<{ links: DatabaseReplicationLink[] }>,
  instance: string,
): Promise<LinksRead> {
  try {
    return { instance, links: (await read()).links };
  } catch (error) {
    return { instance, error: describeFailure(error).message };
  }
}
