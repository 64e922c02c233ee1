/**
 * The steps of `establishGroup`: resolve the group and its pair, check every prerequisite, create the group, wait for
 * its seeding (durably, for days if need be), and check its readiness.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  executeChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { NewGroupResolution, SeedingStateReading } from '../../activities';
import type { FailoverGroupDefinition, SeedingProgress } from '../../domain/azure-state';
import { formatDuration } from '../../domain/durations';
import { sqlTargetGroup, type GroupCoordinates } from '../../domain/group-ref';
import {
  FailureTypes,
  RunbookTypes,
  type EstablishGroupInput,
  type EstablishGroupParams,
  type EstablishRecord,
  type GateResult,
  type ReadinessCheckInput,
  type RunbookReport,
} from '../definitions';
import { groupChanges, reads } from './activity-presets';
import { evaluateGroupPrerequisites } from './pair-checks';
import { describeFailure, RunbookAborted, type RunbookRun } from './runbook-run';

/** Seeding reads per workflow run before it continues as new, so a wait of days keeps each history small. */
export const SEEDING_POLLS_PER_RUN = 25;
/** The first pause between seeding reads (the longest is the input's `pollInterval`). */
export const FIRST_SEEDING_POLL_MS = 60_000;

/** Resolves the name and the two instances into the group's coordinates, lock id and instance ids. */
export function resolvePairStep(
  run: RunbookRun,
  params: EstablishGroupParams,
  options: { newRegions?: boolean } = {},
): Promise<NewGroupResolution> {
  return run.step('resolve-pair', 'Resolve the group and its two instances', async (step) => {
    const resolved = await reads.resolveNewGroup.executeWithOptions({ summary: 'resolve the group to create' }, [
      {
        name: params.name,
        primaryInstance: params.primaryInstance,
        secondaryInstance: params.secondaryInstance,
        ...(options.newRegions ? { newRegions: true } : {}),
      },
    ]);
    run.identify(resolved.group);
    step.evidence({
      group: { ...resolved.group },
      primaryInstanceId: resolved.primaryInstanceId,
      secondaryInstanceId: resolved.secondaryInstanceId,
    });
    return resolved;
  });
}

/**
 * Reads the pair and checks every prerequisite, each with its evidence and what to do. Fails `PreflightFailed`
 * listing those that failed; nothing is changed. `alreadyEstablished`: the group exists between these two already.
 */
export function checkPrerequisitesStep(
  run: RunbookRun,
  pair: NewGroupResolution,
  params: Pick<EstablishGroupParams, 'readOnlyFailoverPolicy' | 'secondaryType'>,
  options: { replacing?: string; stepName?: string } = {},
): Promise<{ checks: GateResult[]; alreadyEstablished: boolean }> {
  return run.step(options.stepName ?? 'check-prerequisites', 'Check every prerequisite of the group', async (step) => {
    const evidence = await reads.readPairEvidence.executeWithOptions({ summary: 'read the pair' }, [
      {
        primaryInstanceId: pair.primaryInstanceId,
        secondaryInstanceId: pair.secondaryInstanceId,
        groupResourceGroup: pair.group.resourceGroup,
      },
    ]);
    const verdict = evaluateGroupPrerequisites(evidence, {
      name: pair.group.name,
      readOnlyFailoverPolicy: params.readOnlyFailoverPolicy,
      secondaryType: params.secondaryType,
      ...(options.replacing ? { replacing: options.replacing } : {}),
    });
    run.gates = verdict.checks;
    for (const check of verdict.checks.filter((entry) => entry.status === 'warn'))
      run.warn(`${check.name}: ${check.message}`);
    const failed = verdict.checks.filter((check) => check.status === 'fail');
    step.evidence({
      alreadyEstablished: verdict.alreadyEstablished,
      passed: verdict.checks.filter((check) => check.status === 'pass').map((check) => check.name),
      failed: failed.map((check) => check.name),
    });
    if (failed.length > 0) {
      throw ApplicationFailure.create({
        type: FailureTypes.PreflightFailed,
        nonRetryable: true,
        message:
          `${pair.group.displayName} was not created: ${failed.length} prerequisite${failed.length === 1 ? '' : 's'} ` +
          `not met. ${failed.map((check) => `${check.name}: ${check.message}. To do: ${check.action}`).join(' ')}`,
        details: [{ gates: failed }],
      });
    }
    return verdict;
  });
}

/** What the PUT asks for, from the input and the resolved pair. */
export function groupDefinition(pair: NewGroupResolution, params: EstablishGroupParams): FailoverGroupDefinition {
  return {
    primaryInstanceId: pair.primaryInstanceId,
    partnerInstanceId: pair.secondaryInstanceId,
    partnerLocation: pair.group.secondaryLocation,
    readWriteFailoverPolicy: params.readWriteFailoverPolicy,
    ...(params.readWriteFailoverPolicy === 'Automatic' ? { gracePeriodMinutes: params.gracePeriodMinutes ?? 60 } : {}),
    readOnlyFailoverPolicy: params.readOnlyFailoverPolicy,
    secondaryType: params.secondaryType,
  };
}

/** Sends the PUT at the primary's location, once (an existing group between the pair is adopted). */
export function createGroupStep(
  run: RunbookRun,
  pair: NewGroupResolution,
  params: EstablishGroupParams,
): Promise<{ trackingId?: string; outcome: string }> {
  const definition = groupDefinition(pair, params);
  return run.step(
    'create-group',
    `Create failover group ${pair.group.name} at ${pair.group.primaryLocation}`,
    async (step) => {
      const sent = await groupChanges.sendCreateGroup.executeWithOptions({ summary: 'create the failover group' }, [
        { group: pair.group, location: pair.group.primaryLocation, definition },
      ]);
      step.evidence({ outcome: sent.outcome, trackingId: sent.trackingId ?? null, definition: { ...definition } });
      return sent;
    },
  );
}

function percentOf(progress: SeedingProgress): number | undefined {
  if (/^completed$/i.test(progress.state ?? '')) return 100;
  if (!progress.databaseBytes || progress.transferredBytes === undefined) return undefined;
  return Math.min(100, Math.floor((progress.transferredBytes / progress.databaseBytes) * 100));
}

function describeSeeding(databases: SeedingProgress[]): string {
  if (databases.length === 0) return 'no database reported yet';
  return databases
    .map((entry) => {
      const percent = percentOf(entry);
      return `${entry.database} ${percent !== undefined ? `${percent}%` : (entry.state ?? 'seeding')}`;
    })
    .join(', ');
}

/**
 * What is left of the seeding, from the DMV's own figures (its start, its estimate and the share transferred), so it
 * holds whatever the reader's clock: the most any database being seeded has left; undefined when none says.
 */
function remainingSeedingMs(databases: SeedingProgress[]): number | undefined {
  const left = databases
    .filter((entry) => !/^completed$/i.test(entry.state ?? ''))
    .map((entry) => {
      const total = Date.parse(entry.estimatedCompletionAt ?? '') - Date.parse(entry.startedAt ?? '');
      if (!Number.isFinite(total) || !entry.databaseBytes || entry.transferredBytes === undefined) return undefined;
      return Math.max(0, total * (1 - entry.transferredBytes / entry.databaseBytes));
    });
  if (left.length === 0 || left.some((value) => value === undefined)) return undefined;
  return Math.max(...(left as number[]));
}

/** The pause before the next look: a quarter of what is left, between a minute (or `maxMs`) and `maxMs`. */
function nextPollMs(databases: SeedingProgress[], previousMs: number, maxMs: number): number {
  const floor = Math.min(FIRST_SEEDING_POLL_MS, maxMs);
  const remaining = remainingSeedingMs(databases);
  if (remaining !== undefined) return Math.min(maxMs, Math.max(floor, Math.floor(remaining / 4)));
  return Math.min(maxMs, Math.max(floor, previousMs * 2));
}

/** Looks in a row that may read nothing before the wait gives up (at the longest pause, hours). */
export const MAX_UNANSWERED_LOOKS = 10;

/** Waits `ms`, or less when an abort arrives: true when it did. */
function pauseBeforeNextLook(run: RunbookRun, ms: number): Promise<boolean> {
  return condition(() => run.abortRequested, ms);
}

/** Leaving the wait on an abort leaves nothing half done: the creation carries on in Azure. */
function abortedWhileSeeding(run: RunbookRun, group: string, detail: string): RunbookAborted {
  run.warn(
    `Aborted while ${group} was seeding (${detail}): Azure goes on creating the group. Start establishGroup again ` +
      'with the same input to wait for it.',
  );
  return new RunbookAborted('abort received while the group was seeding');
}

export interface SeedingWait {
  run: RunbookRun;
  input: EstablishGroupInput;
  params: EstablishGroupParams;
  pair: NewGroupResolution;
  record: EstablishRecord;
}

/**
 * Waits until the group's creation has succeeded and both locations report it synchronizing, reading the secondary's
 * seeding DMV for progress per database. Continues as new every {@link SEEDING_POLLS_PER_RUN} reads. An abort ends
 * the wait (the creation goes on in Azure). Fails `SeedingFailed` when Azure ends the creation Failed or Canceled, or
 * after `seedingTimeout`.
 */
export function awaitSeedingStep(wait: SeedingWait): Promise<void> {
  const { run, input, params, pair, record } = wait;
  const group = pair.group;
  return run.step('await-seeding', `Wait for ${group.displayName} to finish seeding`, async (step) => {
    const since = Date.parse(record.seeding.since);
    const secondary = {
      instanceId: pair.secondaryInstanceId,
      host: pair.secondaryHost,
      ...sqlTargetGroup(group),
    };
    let intervalMs = Math.min(FIRST_SEEDING_POLL_MS, params.pollInterval);
    let operationDone = record.trackingId === undefined;
    /** Looks in a row that read nothing at all, or no group: an outage is waited out, a group gone for good is not. */
    let unanswered = 0;
    let groupUnread = 0;
    for (let poll = 1; ; poll++) {
      record.seeding.polls += 1;
      let look: SeedingStateReading | undefined;
      try {
        look = await reads.readSeedingState.executeWithOptions({ summary: 'read the seeding group' }, [
          {
            group,
            locations: [group.primaryLocation, group.secondaryLocation],
            secondary,
            ...(operationDone ? {} : { trackingId: record.trackingId }),
          },
        ]);
        unanswered = 0;
      } catch (error) {
        // A wait of days outlives outages: a look whose reads ran out of retries is one missed look, not the end.
        if (!(error instanceof ActivityFailure)) throw error;
        unanswered += 1;
        step.evidence({ polls: record.seeding.polls, lastError: describeFailure(error).message, unanswered });
        if (unanswered >= MAX_UNANSWERED_LOOKS) throw error;
      }
      if (!look) {
        if (await pauseBeforeNextLook(run, intervalMs)) throw abortedWhileSeeding(run, group.displayName, 'unread');
        continue;
      }
      const { operation, seeding } = look;
      const roles = 'error' in look.roles ? { failed: look.roles.error } : look.roles;
      groupUnread = 'failed' in roles ? groupUnread + 1 : 0;
      if (groupUnread >= MAX_UNANSWERED_LOOKS && record.trackingId === undefined) {
        throw ApplicationFailure.create({
          type: FailureTypes.SeedingFailed,
          nonRetryable: true,
          message:
            `${group.displayName} could not be read for ${groupUnread} looks in a row (${'failed' in roles ? roles.failed : ''}): it may have been ` +
            'removed (Azure removes a creation that failed). Check it in the portal, then start establishGroup again.',
        });
      }
      if (seeding.databases.length > 0) {
        record.seeding.databases = seeding.databases.map((entry) => ({
          database: entry.database,
          state: entry.state,
          percent: percentOf(entry),
          transferredBytes: entry.transferredBytes,
          databaseBytes: entry.databaseBytes,
          estimatedCompletionAt: entry.estimatedCompletionAt,
        }));
      }
      if (operation && operation.state !== 'InProgress') {
        if (operation.state !== 'Succeeded') {
          throw ApplicationFailure.create({
            type: FailureTypes.SeedingFailed,
            nonRetryable: true,
            message:
              `Azure ended the creation of ${group.displayName} ${operation.state}` +
              `${operation.error ? ` (${operation.error.code ?? 'no code'}: ${operation.error.message})` : ''} after ` +
              `${formatDuration(Date.now() - since)} of seeding (${describeSeeding(seeding.databases)}). Azure cancels ` +
              'a creation still seeding after 6 days. Check the group in the portal (delete a half-created group), ' +
              'make seeding faster or the data smaller, then start establishGroup again.',
          });
        }
        operationDone = true;
      }
      const summary = 'failed' in roles ? undefined : roles.summary;
      const detail = `${describeSeeding(seeding.databases)}; group ${summary?.status ?? 'unread'}`;
      step.evidence({
        polls: record.seeding.polls,
        roles: summary?.detail ?? ('failed' in roles ? roles.failed : null),
        operation: operation?.state ?? (operationDone ? 'Succeeded' : null),
        seeding: record.seeding.databases,
        ...(seeding.unreadable ? { seedingUnreadable: seeding.unreadable } : {}),
      });
      if (operationDone && summary?.consistent && summary.status === 'synchronizing') {
        record.seeding.endedAt = new Date().toISOString();
        run.clearAwaiting();
        return;
      }
      const waitedMs = Date.now() - since;
      if (waitedMs >= params.seedingTimeout) {
        throw ApplicationFailure.create({
          type: FailureTypes.SeedingFailed,
          nonRetryable: true,
          message:
            `${group.displayName} was still seeding after ${formatDuration(waitedMs)} (seedingTimeout; ${detail}). ` +
            'fogpilot stopped waiting; the creation goes on in Azure, which cancels it after 6 days of seeding. ' +
            'Start establishGroup again with the same input to wait on, or raise seedingTimeout.',
        });
      }
      if (run.abortRequested) throw abortedWhileSeeding(run, group.displayName, detail);
      if (poll >= SEEDING_POLLS_PER_RUN) {
        await continueAsNew<(next: EstablishGroupInput) => Promise<RunbookReport>>({
          ...input,
          resume: {
            seedingSince: record.seeding.since,
            polls: record.seeding.polls,
            created: record.creation,
            ...(record.trackingId ? { trackingId: record.trackingId } : {}),
            gates: (run.gates ?? []).map(({ name, status, message, action }) => ({
              name,
              status,
              message,
              ...(action !== undefined ? { action } : {}),
            })),
            checkedBy: params.resume?.checkedBy ?? workflowInfo().runId,
          },
        });
      }
      run.setAwaiting('seeding', `seeding ${group.displayName}: ${detail}`);
      intervalMs = nextPollMs(seeding.databases, intervalMs, params.pollInterval);
      if (await pauseBeforeNextLook(run, Math.min(intervalMs, params.seedingTimeout - waitedMs)))
        throw abortedWhileSeeding(run, group.displayName, detail);
    }
  });
}

/** The readiness check of the new group, as a child `readinessCheck`; its verdict goes in the report. */
export function readinessStep(run: RunbookRun, group: GroupCoordinates): Promise<void> {
  return run.step('check-readiness', 'Check the readiness of the new group', async (step) => {
    const input: ReadinessCheckInput = {
      group: {
        subscriptionId: group.subscriptionId,
        resourceGroup: group.resourceGroup,
        name: group.name,
        primaryLocation: group.primaryLocation,
        secondaryLocation: group.secondaryLocation,
      },
      requestedBy: `establishGroup ${workflowInfo().workflowId}`,
    };
    try {
      const report: RunbookReport = await executeChild<(check: ReadinessCheckInput) => Promise<RunbookReport>>(
        RunbookTypes.readinessCheck,
        { args: [input], workflowId: `${workflowInfo().workflowId}/readiness` },
      );
      const readiness = report.readiness;
      if (readiness) run.extra.readiness = readiness;
      const notPassing = readiness?.groups.flatMap((entry) => entry.checks.filter((check) => check.status !== 'pass'));
      for (const check of notPassing ?? []) run.warn(`readiness ${check.name} (${check.status}): ${check.message}`);
      step.evidence({ verdict: readiness?.verdict ?? null, notPassing: (notPassing ?? []).map((check) => check.name) });
    } catch (error) {
      // The group exists and is seeded: a readiness check that could not run is a warning, not a failed creation.
      const failure = describeFailure(error);
      run.warn(`The readiness check of the new group did not run to its end (${failure.type}: ${failure.message})`);
      step.evidence({ readinessError: failure.message });
    }
  });
}
