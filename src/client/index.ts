/**
 * `fogpilot/client`: typed starters for incident tooling, the HTTP trigger and the CLI. Inputs are validated here, with
 * the same schemas the workflows use, so a bad input is refused before it reaches Temporal; starts, signals, queries
 * and results are typed per runbook.
 *
 * ```ts
 * import { Connection, Client } from '@temporalio/client';
 * import { FogpilotClient } from 'fogpilot/client';
 * // dataConverter: encrypts payloads when FOGPILOT_PAYLOAD_KEYS is set, as the worker does (undefined otherwise).
 * const client = new Client({ connection: await Connection.connect(), dataConverter: dataConverterFromEnvironment() });
 * const fogpilot = new FogpilotClient(client);
 * const run = await fogpilot.start('forcedFailover', { group: 'fog-sales', approval: { by: 'pagerduty', reason: 'INC-9' } },
 *   { idempotencyKey: 'INC-9' });
 * const report = await fogpilot.result(run.workflowId);
 * ```
 */
import {
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { taskQueueFromEnvironment } from '../config/task-queue';
import { describeGroupRef } from '../domain/group-ref';
import { InvalidRunbookInputError, validateRunbookInput, type RunbookInputs } from './inputs';
import { runbookTarget } from './workflow-ids';
import {
  FailureTypes,
  abortSignal,
  approveUpdate,
  isRunbookSummary,
  rejectUpdate,
  statusQuery,
  type ActorMessage,
  type ApprovalReceipt,
  type RefusalRecord,
  type RunbookReport,
  type RunbookStatus,
  type RunbookSummary,
  type RunbookType,
} from '../workflows/definitions';

export * from '../workflows/definitions';
export * from './inputs';
export { dataConverterFromEnvironment, EncryptionCodec, parsePayloadKeys, PayloadKeysError } from '../codec';

const IDEMPOTENCY_KEY = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export interface StartOptions {
  /**
   * An id from the caller's world (an incident id): the workflow id becomes `fogpilot/<runbook>/<target>/<key>`
   * (`…/<target>/dry-run/<key>` for a dry run; see {@link workflowIdFor}) and a repeated start with the same key returns
   * the run already started instead of starting another.
   */
  idempotencyKey?: string;
  /** An explicit workflow id (ignored when `idempotencyKey` is given). */
  workflowId?: string;
}

export interface StartedRunbook {
  runbook: RunbookType;
  workflowId: string;
  runId: string;
  /** False when an idempotency key matched a run already started: this is that run. */
  started: boolean;
}

function groupLabel(input: unknown): string {
  const raw = input as
    { group?: unknown; region?: unknown; all?: unknown; name?: unknown; primaryInstance?: unknown } | undefined;
  if (raw?.group !== undefined) return describeGroupRef(raw.group);
  // establishGroup names the group it creates by `name`.
  if (typeof raw?.name === 'string' && raw.primaryInstance !== undefined) return raw.name;
  if (typeof raw?.region === 'string') return `region-${raw.region}`;
  if (raw?.all === true) return 'all';
  return 'fleet';
}

/**
 * The workflow id a start gets: from the idempotency key, the explicit id, or a fresh time-stamped one.
 *
 * A keyed id is `fogpilot/<runbook>/<target>/<key>`, where the target names the group by its full identity
 * (`fog-sales`, or `<subscription>/<resource group>/<group>` for coordinates and ARM ids, with a hash where the text
 * could be ambiguous or long; see {@link runbookTarget}), so two groups never share an id under one key. A dry run's id
 * is `fogpilot/<runbook>/<target>/dry-run/<key>`: a rehearsal under an incident key never answers for the real run
 * started later with that key. Ids stay under 400 bytes (Temporal's limit is 1000).
 *
 * @throws {InvalidRunbookInputError} when the idempotency key is not 1-128 letters, digits, `.`, `_`, `:` or `-`.
 */
export function workflowIdFor(
  runbook: RunbookType,
  input: unknown,
  options: StartOptions = {},
  now = Date.now(),
): string {
  // A target is one path segment or three (a group's sub/rg/name), so the dry-run segment can never be mistaken for
  // part of a target: real ids have an even number of segments, dry runs' an odd one.
  const scope = `fogpilot/${runbook}/${runbookTarget(input)}${isDryRun(input) ? '/dry-run' : ''}`;
  if (options.idempotencyKey !== undefined) {
    if (!IDEMPOTENCY_KEY.test(options.idempotencyKey)) {
      throw new InvalidRunbookInputError(runbook, [
        {
          field: 'idempotencyKey',
          message:
            'idempotencyKey must be 1-128 letters, digits, ".", "_", ":" or "-" starting with a letter or digit (e.g. an incident id)',
        },
      ]);
    }
    return `${scope}/${options.idempotencyKey}`;
  }
  return options.workflowId ?? `${scope}/${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
}

function isDryRun(input: unknown): boolean {
  return (input as { dryRun?: unknown } | undefined)?.dryRun === true;
}

export class FogpilotClient {
  constructor(
    readonly client: Client,
    readonly taskQueue: string = taskQueueFromEnvironment(),
  ) {}

  /**
   * Starts a runbook after validating its input. With an idempotency key a repeated call returns the existing run.
   * Mutating runbooks take the group's lock themselves (they run their mutating part under the lock id).
   */
  async start<R extends RunbookType>(
    runbook: R,
    input: RunbookInputs[R],
    options: StartOptions = {},
  ): Promise<StartedRunbook> {
    validateRunbookInput(runbook, input);
    const workflowId = workflowIdFor(runbook, input, options);
    const keyed = options.idempotencyKey !== undefined;
    if (keyed) {
      // The same key again: the run it started, running or ended, is the answer.
      const existing = await this.handle(workflowId)
        .describe()
        .catch(() => undefined);
      if (existing) return { runbook, workflowId, runId: existing.runId, started: false };
    }
    try {
      const handle = await this.client.workflow.start(runbook, {
        taskQueue: this.taskQueue,
        workflowId,
        args: [input],
        // Keyed starts racing each other land on one run; a keyed id is never reused once its run has ended.
        workflowIdConflictPolicy: keyed ? WorkflowIdConflictPolicy.USE_EXISTING : WorkflowIdConflictPolicy.FAIL,
        workflowIdReusePolicy: keyed ? WorkflowIdReusePolicy.REJECT_DUPLICATE : WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        staticSummary: `${runbook} of ${groupLabel(input)}`,
      });
      return { runbook, workflowId, runId: handle.firstExecutionRunId, started: true };
    } catch (error) {
      if (!keyed || !(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      const existing = await this.handle(workflowId).describe();
      return { runbook, workflowId, runId: existing.runId, started: false };
    }
  }

  handle(workflowId: string): WorkflowHandle {
    return this.client.workflow.getHandle(workflowId);
  }

  /**
   * Approves a runbook that waits for a person, as `identity` (a principal label: `webhook:<caller>`,
   * `certificate:<subject>`, `api-key:<name>` or `os-user:<name>`; the caller authenticated it). The run judges it by
   * the worker's access rules before it counts.
   *
   * @throws {ApprovalRefusedError} when the rules refuse it (the requester's own run, or no `approve` grant); the
   * refusal is recorded in the run's status and the run keeps waiting.
   */
  approve(workflowId: string, message: { reason: string }, identity: string): Promise<ApprovalReceipt> {
    return this.decide(workflowId, 'approve', message, identity);
  }

  /** Rejects a runbook that waits for a person, as `identity`; judged like {@link approve}. */
  reject(workflowId: string, message: { reason: string }, identity: string): Promise<ApprovalReceipt> {
    return this.decide(workflowId, 'reject', message, identity);
  }

  private async decide(
    workflowId: string,
    decision: 'approve' | 'reject',
    message: { reason: string },
    identity: string,
  ): Promise<ApprovalReceipt> {
    try {
      return await this.handle(workflowId).executeUpdate(decision === 'approve' ? approveUpdate : rejectUpdate, {
        args: [{ reason: message.reason, identity }],
      });
    } catch (error) {
      const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === FailureTypes.ApprovalRefused) {
        throw new ApprovalRefusedError(workflowId, decision, cause.message, cause.details?.[0] as RefusalRecord);
      }
      throw error;
    }
  }

  abort(workflowId: string, message: ActorMessage): Promise<void> {
    return this.handle(workflowId).signal(abortSignal, message);
  }

  /** The runbook's live progress (needs a running worker to answer). */
  status(workflowId: string): Promise<RunbookStatus> {
    return this.handle(workflowId).query(statusQuery);
  }

  /**
   * Waits for the runbook to end and returns its report, whether it succeeded or failed (a failed runbook's report
   * travels in its failure's details). Rethrows what is not a runbook's end (a terminated workflow, a lost server).
   * A run started by a fleet returned only a summary: its report is read from its `status` query, which a worker
   * answers; without one, the outcome has the summary and no report.
   */
  async result(workflowId: string): Promise<RunbookOutcome> {
    let outcome: RunbookOutcome;
    try {
      const value: unknown = await this.handle(workflowId).result();
      outcome = isRunbookSummary(value) ? { summary: value } : { report: value as RunbookReport };
    } catch (error) {
      const failure = runbookFailureOf(error);
      if (!failure) throw error;
      outcome = failure;
    }
    if (outcome.summary && !outcome.report) {
      outcome.report = await this.status(workflowId).then(
        (status) => status.report,
        () => undefined,
      );
    }
    return outcome;
  }
}

/**
 * The run's access rules refused an approval or rejection: the message says why and what would allow it; `refusal`
 * is the record the run kept in its status. Nothing else changed, and the run still waits.
 */
export class ApprovalRefusedError extends Error {
  override readonly name = 'ApprovalRefusedError';
  constructor(
    readonly workflowId: string,
    readonly decision: 'approve' | 'reject',
    message: string,
    readonly refusal?: RefusalRecord,
  ) {
    super(message);
  }
}

export interface RunbookOutcome {
  report?: RunbookReport;
  /** Set when the runbook failed: its failure type (e.g. `PreflightFailed`) and message. */
  failure?: { type: string; message: string };
  /** Set when the run returned a summary (a fleet's child): its report is then read from its `status` query. */
  summary?: RunbookSummary;
}

/** The report and failure of a runbook that ended failed, or undefined when `error` is something else. */
export function runbookFailureOf(error: unknown): RunbookOutcome | undefined {
  if (!(error instanceof WorkflowFailedError)) return undefined;
  const cause = error.cause;
  const first: unknown =
    cause instanceof ApplicationFailure
      ? cause.details?.[0]
      : (cause as { details?: unknown[] } | undefined)?.details?.[0];
  const carried = isRunbookSummary(first) ? { summary: first } : { report: first as RunbookReport | undefined };
  if (cause instanceof ApplicationFailure) {
    return { ...carried, failure: { type: cause.type ?? 'Error', message: cause.message } };
  }
  return { ...carried, failure: { type: cause?.name ?? 'Error', message: cause?.message ?? error.message } };
}
export * from './schedules';
export { groupTarget, runbookTarget } from './workflow-ids';
