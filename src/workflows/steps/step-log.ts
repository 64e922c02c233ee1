/**
 * The step log of one runbook execution: its steps with evidence, its warnings, what it waits for, its phase. It is
 * what the `status` query serves and the Temporal UI shows ("current details", search attributes), and what the
 * report is made of; step durations go to the worker's metrics.
 */
import {
  isCancellation,
  log,
  metricMeter,
  patched,
  setCurrentDetails,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { FogpilotGroup, FogpilotPhase, FogpilotRunbook, SEARCH_ATTRIBUTES_PATCH } from '../search-attributes';
import type { ResolvedGroup } from '../../domain/group-ref';
import type { Evidence, RunbookStatus, RunbookType, StepRecord } from '../definitions';
import { describeFailure } from './report';

export interface StepHandle {
  /** Adds to the step's evidence (merged, later keys win). */
  evidence(evidence: Evidence): void;
  /** Replaces the live line shown in the UI for this step. */
  detail(text: string): void;
}

/** Thrown inside the runbook when an abort stops it before the point of no return (after compensations ran). */
export class RunbookAborted extends Error {
  override readonly name = 'RunbookAborted';
}

export function nowIso(): string {
  return new Date().toISOString();
}

/** What the step log asks of the rest of the run. */
export interface StepLogHooks {
  /**
   * Called whenever the visible status changed (a lock holder mirrors it to its starter); `forPerson`: the change is
   * one a person acts on or waits to see (the run now waits for their approval), so it goes at once.
   */
  changed(forPerson?: boolean): void;
  /** A last line for the UI's live view, if any (the abort received). */
  footnote(): string | undefined;
}

export class StepLog {
  groupLabel: string;
  group?: ResolvedGroup;
  phase = 'starting';
  readonly steps: StepRecord[] = [];
  readonly warnings: string[] = [];
  awaiting?: RunbookStatus['awaiting'];
  /** The current `awaiting` is a wait the runbook may be pre-empted in (see `setAwaiting`). */
  awaitingPreemptible = false;

  constructor(
    readonly runbook: RunbookType,
    groupLabel: string,
    private readonly hooks: StepLogHooks,
  ) {
    this.groupLabel = groupLabel;
    this.tag([{ key: FogpilotRunbook, value: runbook }]);
  }

  /** Sets search attributes, for runs recorded after they were introduced. */
  tag(pairs: SearchAttributeUpdatePair[]): void {
    if (patched(SEARCH_ATTRIBUTES_PATCH)) upsertSearchAttributes(pairs);
  }

  /** The group is known: its name goes on the run (search attribute `FogpilotGroup`) and in the status. */
  identify(group: ResolvedGroup): void {
    this.group = group;
    this.groupLabel = group.displayName;
    this.tag([{ key: FogpilotGroup, value: group.displayName }]);
  }

  warn(message: string): void {
    this.warnings.push(message);
    log.warn(message, this.logContext());
  }

  /** What every log line of a runbook carries besides the SDK's workflow id and type. */
  logContext(): Record<string, unknown> {
    return { runbook: this.runbook, group: this.groupLabel, step: this.steps[this.steps.length - 1]?.name };
  }

  /** Runs one named step: visible in `status` and the UI while it runs, recorded with its evidence when it ends. */
  async step<T>(name: string, title: string, work: (step: StepHandle) => Promise<T>): Promise<T> {
    const record: StepRecord = { name, title, state: 'running', startedAt: nowIso() };
    this.steps.push(record);
    log.info(`Step ${name}: ${title}`, this.logContext());
    this.phase = name;
    this.tag([{ key: FogpilotPhase, value: name }]);
    this.showDetails();
    const handle: StepHandle = {
      evidence: (evidence) => {
        record.evidence = { ...record.evidence, ...evidence };
      },
      detail: (text) => this.showDetails(text),
    };
    try {
      const value = await work(handle);
      record.state = 'succeeded';
      return value;
    } catch (error) {
      record.state = isCancellation(error) || error instanceof RunbookAborted ? 'skipped' : 'failed';
      record.error = describeFailure(error).message;
      throw error;
    } finally {
      record.endedAt = nowIso();
      this.showDetails();
      stepDurations().record((Date.parse(record.endedAt) - Date.parse(record.startedAt!)) / 1000, {
        runbook: this.runbook,
        step: metricStepName(name),
        state: record.state,
      });
    }
  }

  /** Records a step that was decided without running (e.g. a scale that was not needed). */
  skipStep(name: string, title: string, why: string, evidence?: Evidence): void {
    this.steps.push({
      name,
      title,
      state: 'skipped',
      startedAt: nowIso(),
      endedAt: nowIso(),
      evidence: { why, ...evidence },
    });
  }

  /** Records a step that failed before it could run (the input did not validate). */
  failedStep(name: string, title: string, error: string, evidence: Evidence): void {
    this.steps.push({ name, title, state: 'failed', startedAt: nowIso(), endedAt: nowIso(), evidence, error });
  }

  /** Shows what the runbook waits for; `preemptible` as `RunbookRun.setAwaiting` explains. */
  setAwaiting(kind: string, detail: string, preemptible: boolean): void {
    this.awaiting = { kind, since: nowIso(), detail };
    this.awaitingPreemptible = preemptible;
    this.showDetails(detail);
    if (kind === 'approval') this.hooks.changed(true);
  }

  clearAwaiting(): void {
    this.awaiting = undefined;
    this.awaitingPreemptible = false;
    this.hooks.changed();
  }

  /** The one-paragraph live view in the Temporal UI ("current details"). */
  showDetails(detail?: string): void {
    const current = this.steps[this.steps.length - 1];
    this.hooks.changed();
    const lines = [`**${this.runbook}** · ${this.groupLabel} · phase \`${this.phase}\``];
    if (current) lines.push(`step \`${current.name}\` (${current.state}): ${current.title}`);
    if (detail) lines.push(detail);
    const footnote = this.hooks.footnote();
    if (footnote) lines.push(footnote);
    setCurrentDetails(lines.join('\n\n'));
  }
}

// Metrics go through Temporal's meter: the worker exports them on its Prometheus endpoint, and replay emits none.
const stepDurations = () =>
  metricMeter.createHistogram('fogpilot_step_duration', 'float', 's', 'Duration of runbook steps, by runbook and step');

/** A step name without its per-group part (`collect/fog-sales` → `collect`), so metric labels stay few. */
function metricStepName(name: string): string {
  const [head, ...rest] = name.split('/');
  return head === 'collect' || head === 'evaluate' || rest.length === 0 ? head! : name;
}
