/**
 * Following a runbook from the command line: its steps as they change (from the `status` query, and from the group's
 * lock holder when the runbook delegated to it), then its outcome, and the exit code that outcome maps to.
 */
import type { FogpilotClient, RunbookOutcome } from '../client';
import { FailureTypes, type RunbookReport, type RunbookStatus, type StepRecord } from '../workflows/definitions';
import { CliError, ExitCodes } from './errors';

export interface Output {
  write(text: string): void;
}

export const stdout: Output = { write: (text) => void process.stdout.write(text) };
export const stderr: Output = { write: (text) => void process.stderr.write(text) };

/** How often the status query is asked while following a run. */
const POLL_MS = 1_000;
/** A status query that takes longer than this is given up (the next poll asks again). */
const QUERY_DEADLINE_MS = 5_000;
/** Consecutive unanswered queries before the operator is told that no worker seems to answer. */
const SILENT_POLLS_BEFORE_HINT = 5;

function clock(iso: string | undefined): string {
  const date = iso ? new Date(iso) : new Date();
  return Number.isNaN(date.getTime()) ? '--:--:--' : date.toTimeString().slice(0, 8);
}

function seconds(from?: string, to?: string): string {
  if (!from || !to) return '';
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? ` (${(ms / 1000).toFixed(1)}s)` : '';
}

/** Prints each step when it starts and when it ends, once; and what the run waits for, when that changes. */
export class ProgressPrinter {
  private readonly seen = new Map<string, string>();
  private readonly delegations = new Set<string>();
  /** What each workflow waits for, as last printed. */
  private readonly awaiting = new Map<string, string | undefined>();
  /** The refused decisions already printed, by sender and time (a starter shows its holder's as its own). */
  private readonly refusalsShown = new Set<string>();

  constructor(
    private readonly out: Output,
    /** The workflow the operator follows: approvals and aborts go to it. */
    private readonly followedId: string,
  ) {}

  update(workflowId: string, status: Pick<RunbookStatus, 'steps'> & Partial<RunbookStatus>): void {
    const indent = workflowId === this.followedId ? '  ' : '    ';
    // A step is known by its name and start, not by whose status shows it: a run that delegated shows its lock
    // holder's steps as its own, and the holder's report shows them again at the end.
    status.steps.forEach((step, index) =>
      this.step(step.startedAt ? `${step.name}@${step.startedAt}` : `${workflowId}#${index}`, step, indent),
    );
    if (status.delegatedTo && !this.delegations.has(status.delegatedTo)) {
      this.delegations.add(status.delegatedTo);
      this.out.write(`  ${clock(undefined)}  running under the group's lock as ${status.delegatedTo}\n`);
    }
    const awaiting = status.awaiting;
    const key = awaiting ? `${awaiting.kind}@${awaiting.since}` : undefined;
    if (key && key !== this.awaiting.get(workflowId)) {
      this.out.write(`${indent}${clock(awaiting!.since)}  waiting     ${awaiting!.kind}: ${awaiting!.detail}\n`);
      if (awaiting!.kind === 'approval') {
        this.out.write(
          `${indent}          approve: fogpilot approve ${this.followedId} --reason <why>  (as your Temporal identity: fogpilot whoami)\n` +
            `${indent}          reject:  fogpilot reject ${this.followedId} --reason <why>\n`,
        );
      }
    }
    this.awaiting.set(workflowId, key);
    for (const refusal of status.refusals ?? []) {
      const seen = `${refusal.by}@${refusal.at}`;
      if (this.refusalsShown.has(seen)) continue;
      this.refusalsShown.add(seen);
      this.out.write(
        `${indent}${clock(refusal.at)}  refused     ${refusal.decision} from ${refusal.by}: ${refusal.refused}\n`,
      );
    }
  }

  private step(key: string, step: StepRecord, indent: string): void {
    const previous = this.seen.get(key);
    if (previous === step.state) return;
    this.seen.set(key, step.state);
    if (step.state === 'running' || (previous === undefined && step.state !== 'pending')) {
      this.out.write(`${indent}${clock(step.startedAt)}  started     ${step.name}: ${step.title}\n`);
    }
    if (step.state !== 'running' && step.state !== 'pending') {
      const error = step.error ? ` — ${step.error}` : '';
      this.out.write(
        `${indent}${clock(step.endedAt)}  ${step.state.padEnd(10)}  ${step.name}${seconds(step.startedAt, step.endedAt)}${error}\n`,
      );
    }
  }
}

async function sleepOrSettle(ms: number, settled: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([settled, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * Follows a run until it ends: prints progress to `out` and returns the outcome. Progress is best effort (a query
 * needs a worker); the outcome comes from Temporal whatever happens to the queries.
 */
export async function followRunbook(
  fogpilot: FogpilotClient,
  workflowId: string,
  out: Output,
  options: { taskQueue: string; pollMs?: number },
): Promise<RunbookOutcome> {
  const printer = new ProgressPrinter(out, workflowId);
  let ended = false;
  const result = fogpilot.result(workflowId);
  const settled = result.then(
    () => (ended = true),
    () => (ended = true),
  );
  const query = (id: string) => fogpilot.client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => fogpilot.status(id));
  let silent = 0;
  while (!ended) {
    try {
      const status = await query(workflowId);
      silent = 0;
      if (ended) break;
      // A run that delegated to the group's lock holder shows the holder's steps and waits as its own.
      printer.update(workflowId, status);
    } catch {
      if (++silent === SILENT_POLLS_BEFORE_HINT) {
        out.write(
          `  (no worker answers the status query: is a fogpilot worker running on task queue "${options.taskQueue}"? ` +
            'The run goes on; this command keeps waiting for its end)\n',
        );
      }
    }
    await sleepOrSettle(options.pollMs ?? POLL_MS, settled);
  }
  const outcome = await result;
  // A workflow that is not a fogpilot runbook returns something else: show its end, not a report it does not have.
  if (outcome.report && !Array.isArray((outcome.report as Partial<RunbookReport>).steps)) outcome.report = undefined;
  // The last steps may have ended between two polls: the report has them all (a delegated run's report is the lock
  // holder's; its steps print as the followed run's, as they did while it ran).
  if (outcome.report) printer.update(workflowId, { steps: outcome.report.steps });
  return outcome;
}

/** What to do after a runbook ended with this failure type. */
export function actionFor(type: string, workflowId: string, report?: RunbookReport): string {
  const group = report?.group?.displayName ?? '<group>';
  const fullReport = `The evidence of each step: fogpilot report ${workflowId} --format md`;
  const actions: Record<string, string> = {
    [FailureTypes.InvalidInput]: 'Correct the input named above and start again.',
    [FailureTypes.GroupNotFound]:
      "Check the name against the worker's inventory (fogpilot.yaml) or give the group's full coordinates.",
    [FailureTypes.PreflightFailed]: `Nothing was changed. Fix what the failing gates show (\`fogpilot readiness ${group}\` runs every check), then start again.`,
    [FailureTypes.NotSecondary]: `Check the roles with \`fogpilot status ${group}\`: the target may already be primary.`,
    [FailureTypes.GroupBusy]: `Nothing was changed. Another runbook holds ${group}: follow it (the message names it) with \`fogpilot watch <id>\` and start again when it ends.`,
    [FailureTypes.FailoverNotSent]: "No failover is under way. Check Azure's health for the regions, then start again.",
    [FailureTypes.FailoverFailed]: `Azure ended the failover it was sent; no other is under way. Check Azure's health and \`fogpilot status ${group}\`, then run the command the message above names (it states the same target, and sends nothing if that region is primary).`,
    [FailureTypes.RoleSwitchTimeout]: `A failover was sent: do not send another. Watch \`fogpilot status ${group}\`; once the roles settle, the command the message above names is safe (it states the same target, and sends nothing if that region is primary).`,
    [FailureTypes.WritableTimeout]: `The roles switched: do not send another failover. Check the databases on the new primary (\`fogpilot status ${group}\`), then the application.`,
    [FailureTypes.SyncTimeout]:
      'Nothing was failed over. Find why replication lags (load, log generation), then start again, perhaps with a longer syncTimeout.',
    [FailureTypes.ReplicationLinkMissing]: 'Add the database to the failover group (or remove it), then start again.',
    [FailureTypes.ScaleFailed]: `Read Azure's operation error in the report, check \`fogpilot status ${group}\`, then start again.`,
    [FailureTypes.NotSynchronizing]: `Nothing was changed. Check replication with \`fogpilot status ${group}\` and start the failback again when it is back.`,
    [FailureTypes.ApprovalRejected]: 'Nothing was changed.',
    [FailureTypes.ApprovalTimeout]:
      'Nothing was changed. Start again and approve in time, or pre-approve with --approve-by and --approve-reason.',
    [FailureTypes.DrillCheckFailed]: `The group is back home. Read which check failed in the report (fogpilot report ${workflowId}) and fix the application side before the next drill.`,
    [FailureTypes.FleetFailed]: `No group succeeded. The report lists each group's failure: fogpilot report ${workflowId} --format md`,
    [FailureTypes.AzureRequestRejected]: "Read Azure's error code in the message, fix what it names, then start again.",
    [FailureTypes.AzureAuthorizationFailed]:
      "Grant the worker's identity the role docs/azure-permissions.md lists (least privilege), then start again.",
    [FailureTypes.SqlLoginFailed]:
      "Give the worker's identity a login and user on both instances (see docs/azure-permissions.md), then start again.",
    [FailureTypes.AzureUnavailable]: `The message says whether a failover was sent. If one was, do not send another: watch \`fogpilot status ${group}\` until the roles settle, then only the command the message names. If not, nothing was changed: start again once Azure answers (for a region that stays down, forcedFailover).`,
  };
  return actions[type] ?? fullReport;
}

/** The outcome in a few lines a person reads at the end of a run. */
export function formatOutcome(workflowId: string, outcome: RunbookOutcome): string {
  const report = outcome.report;
  const lines: string[] = [];
  const what = report ? `${report.runbook} of ${report.group.displayName}` : workflowId;
  const verdict = outcome.failure ? `failed: ${outcome.failure.type}` : (report?.outcome ?? 'ended');
  const took = report ? seconds(report.startedAt, report.endedAt) : '';
  lines.push('', `${what}: ${verdict}${took}`);
  if (outcome.failure) lines.push(`  ${outcome.failure.message}`);
  if (report) {
    if (report.rolesBefore && report.rolesAfter) {
      lines.push(
        `  primary: ${report.rolesBefore.primary} before, ${report.rolesAfter.primary} after` +
          (report.rolesBefore.primary === report.rolesAfter.primary ? ' (unchanged)' : ''),
      );
    }
    if (report.outcome === 'alreadyPrimary' && report.intent) {
      lines.push(`  ${report.intent.primary} already was primary (${report.intent.detail}): nothing was sent`);
    }
    for (const leg of report.legs) {
      const rto = leg.rtoSeconds !== undefined ? `RTO ${leg.rtoSeconds.toFixed(1)}s` : 'RTO not measured';
      lines.push(
        `  ${leg.name} ${leg.from} → ${leg.to}: ${leg.failoverSent ? rto : 'no failover sent'}; data loss: ${leg.dataLoss.kind}`,
      );
    }
    const failedGates = (report.gates ?? []).filter((gate) => gate.status === 'fail');
    for (const gate of failedGates) {
      lines.push(`  gate ${gate.name} failed: ${gate.message}${gate.action ? ` → ${gate.action}` : ''}`);
    }
    if (report.failbackPending) {
      const pending = report.failbackPending;
      lines.push(
        `  failback pending: the primary is still in ${pending.primary} (${pending.reason}); fail back to ` +
          `${pending.home} with: ${pending.command}`,
      );
    }
    if (report.approval) {
      const requester = report.approval.requestedBy ?? report.requestedBy;
      lines.push(
        `  approved by ${report.approval.by} (${report.approval.via}): ${report.approval.reason}` +
          (requester ? `; requested by ${requester}` : ''),
      );
    }
    if (report.drill) {
      const drill = report.drill;
      const probe = drill.probe
        ? `; the workload saw ${drill.probe.downtimeSeconds.toFixed(1)}s without a write, ${drill.probe.lostAcknowledged} acknowledged writes lost`
        : '';
      lines.push(`  drill: soaked ${drill.soakSeconds}s, data loss ${drill.dataLoss}${probe}`);
      for (const check of drill.smokeChecks.filter((entry) => entry.status === 'fail')) {
        lines.push(`  smoke check ${check.name} failed: ${check.detail}`);
      }
    }
    if (report.fleet) {
      const counts = Object.entries(report.fleet.counts)
        .map(([outcomeName, count]) => `${count} ${outcomeName}`)
        .join(', ');
      lines.push(`  fleet (${report.fleet.mode}, ${report.fleet.concurrency} at a time): ${counts}`);
      for (const member of report.fleet.members.filter((entry) => entry.outcome !== 'succeeded')) {
        lines.push(`    ${member.group}: ${member.outcome}${member.detail ? ` — ${member.detail}` : ''}`);
      }
    }
    if (report.readiness) {
      lines.push(`  readiness: ${report.readiness.verdict}`);
      for (const group of report.readiness.groups) {
        for (const check of group.checks.filter((entry) => entry.status !== 'pass')) {
          lines.push(
            `    ${group.group} ${check.status} ${check.name}: ${check.message}${check.action ? ` → ${check.action}` : ''}`,
          );
        }
      }
    }
    if (report.scale) {
      lines.push(`  scale ${report.scale.direction}: ${report.scale.operations.length} operation(s)`);
      for (const operation of report.scale.operations) {
        lines.push(`    ${operation.instance} (${operation.role}, ${operation.location}): ${operation.state}`);
      }
    }
    if (report.plan?.length) {
      lines.push('  plan:');
      for (const item of report.plan) lines.push(`    ${item.step}: ${item.action}`);
    }
    for (const warning of report.warnings) lines.push(`  warning: ${warning}`);
    lines.push(
      `  ARM calls: ${report.armCalls.reads} reads, ${report.armCalls.writes} writes, ${report.armCalls.throttled} throttled`,
    );
  }
  lines.push(`  full report: fogpilot report ${workflowId} --format md`);
  return `${lines.join('\n')}\n`;
}

/** The machine form of an outcome: one JSON object. */
export function outcomeJson(workflowId: string, outcome: RunbookOutcome): Record<string, unknown> {
  return {
    workflowId,
    runbook: outcome.report?.runbook,
    outcome: outcome.failure ? 'failed' : outcome.report?.outcome,
    failure: outcome.failure,
    action: outcome.failure ? actionFor(outcome.failure.type, workflowId, outcome.report) : undefined,
    report: outcome.report,
  };
}

/**
 * The exit code of an ended run: 0 when it did what was asked (or a dry run), 5 when it failed, was aborted, ended
 * partial or failbackPending (the primary left in the other region), or (readiness) found a failing check. Throws the
 * CliError for a non-zero code.
 */
export function raiseForOutcome(workflowId: string, outcome: RunbookOutcome): void {
  const report = outcome.report;
  const what = report ? `${report.runbook} of ${report.group.displayName}` : workflowId;
  if (outcome.failure) {
    throw new CliError(
      `${what} failed: ${outcome.failure.type}: ${outcome.failure.message}`,
      ExitCodes.runbookFailed,
      actionFor(outcome.failure.type, workflowId, report),
    );
  }
  if (!report) return;
  if (report.outcome === 'aborted' || report.outcome === 'aborted-after-failover') {
    const by = report.abort ? ` by ${report.abort.by} (${report.abort.reason})` : '';
    throw new CliError(
      `${what} was aborted${by}: ${report.outcome}`,
      ExitCodes.runbookFailed,
      report.outcome === 'aborted'
        ? 'Nothing was changed (compensations ran). Start again when ready.'
        : `The failover was done and the group is stable; check \`fogpilot status ${report.group.displayName}\`.`,
    );
  }
  if (report.outcome === 'failbackPending') {
    const pending = report.failbackPending;
    const command = pending?.command ?? `fogpilot failback ${report.group.displayName}`;
    throw new CliError(
      `${what} ended failbackPending: it did not fail back, and the primary is still in ` +
        `${pending?.primary ?? report.rolesAfter?.primary ?? 'the other region'}` +
        (pending ? ` (${pending.reason})` : ''),
      ExitCodes.runbookFailed,
      `Fail back once replication has caught up: \`${command}\` (it waits until every database is within the lag ` +
        'bound, then fails over; it sends nothing if the home region already is primary).',
    );
  }
  if (report.outcome === 'partial' || report.outcome === 'failed') {
    throw new CliError(
      `${what} ended ${report.outcome}`,
      ExitCodes.runbookFailed,
      `The report lists what did not succeed: fogpilot report ${workflowId} --format md`,
    );
  }
  if (report.readiness?.verdict === 'fail') {
    throw new CliError(
      `${what}: not ready (a check failed)`,
      ExitCodes.runbookFailed,
      'Fix what the failing checks above name, then check again.',
    );
  }
}
