/**
 * How big a fleet's history gets: a `fleetFailover` of scripted groups with many databases each on the time-skipping
 * server, measured in history events, history bytes (the server's own count, which its 50 MB limit applies to), the
 * largest payload of any event (limit 2 MB) and the size of the fleet's report. Shared by the fleet test and
 * `bench/fleet-history.ts`.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import { lockWorkflowId } from '../../src/domain/group-ref';
import type { RunbookReport } from '../../src/workflows/definitions';
import { outcomeOf, type StartedWorkflows } from './runbook-harness';
import { ScriptedFleet } from './scripted-fleet';
import { Inventory, createTestWorker, uniqueTaskQueue } from './temporal';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

export interface HistoryMeasure {
  events: number;
  /** The server's count of the history's size, as of the last workflow task (what its 50 MB limit applies to). */
  bytes: number;
  /** The payload bytes of the event that carries the most (its 2 MB limit applies to each payload). */
  largestEventPayloadBytes: number;
  largestEventType: string;
}

export function measureHistory(history: History): HistoryMeasure {
  const events = history.events ?? [];
  let bytes = 0;
  let largestEventPayloadBytes = 0;
  let largestEventType = '';
  for (const event of events) {
    const size = Number(event.workflowTaskStartedEventAttributes?.historySizeBytes ?? 0);
    if (size > bytes) bytes = size;
    const payload = payloadBytes(event);
    if (payload > largestEventPayloadBytes) {
      largestEventPayloadBytes = payload;
      largestEventType = String(event.eventType);
    }
  }
  return { events: events.length, bytes, largestEventPayloadBytes, largestEventType };
}

/** The bytes of every payload's data inside `value`. */
function payloadBytes(value: unknown): number {
  if (value instanceof Uint8Array) return value.length;
  if (value === null || typeof value !== 'object') return 0;
  let total = 0;
  for (const child of Object.values(value as Record<string, unknown>)) total += payloadBytes(child);
  return total;
}

/** The JSON values of the payloads the fleet's children ended with, as its history holds them (results and failure details). */
export function childEndings(history: History): { type: string; value: unknown }[] {
  const decode = (data: Uint8Array | null | undefined): unknown =>
    data ? (JSON.parse(Buffer.from(data).toString('utf8')) as unknown) : undefined;
  const endings: { type: string; value: unknown }[] = [];
  for (const event of history.events ?? []) {
    const completed = event.childWorkflowExecutionCompletedEventAttributes;
    if (completed) endings.push({ type: 'completed', value: decode(completed.result?.payloads?.[0]?.data) });
    const failed = event.childWorkflowExecutionFailedEventAttributes;
    if (failed) {
      const details = failed.failure?.applicationFailureInfo?.details?.payloads?.[0]?.data;
      endings.push({ type: 'failed', value: decode(details) });
    }
  }
  return endings;
}

export interface FleetHistoryFigures {
  groups: number;
  databasesPerGroup: number;
  outcome: string;
  /** Members by outcome, and the failure types of those that failed (a loaded machine can time some out). */
  counts: Record<string, number>;
  failureTypes: string[];
  fleet: HistoryMeasure;
  perGroup: { events: number; bytes: number };
  reportBytes: number;
  reportBytesPerGroup: number;
  wallSeconds: number;
}

/** Runs a planned `fleetFailover` of `groups` scripted groups of `databases` databases each, and measures its history. */
export async function measureFleetHistory(
  env: TestWorkflowEnvironment,
  started: StartedWorkflows,
  options: { groups: number; databases: number; concurrency: number; prefix: string },
): Promise<FleetHistoryFigures> {
  const names = Array.from({ length: options.groups }, (_, index) => `${options.prefix}-g${index + 1}`);
  const databases = Array.from({ length: options.databases }, (_, index) => `db${String(index + 1).padStart(3, '0')}`);
  const fleet = new ScriptedFleet(
    () => env.currentTimeMs(),
    names,
    (azure) => {
      azure.databases = databases;
      for (const database of databases) azure.lagSeconds[database] = 1;
      azure.syncWaitRealMs = 0;
    },
  );
  const inventory = new Inventory(
    Object.fromEntries([...fleet.members].map(([name, azure]) => [name, azure.coordinates])),
  );
  const planes = fleet.planes();
  const taskQueue = uniqueTaskQueue();
  const workflowId = `fleet/${options.prefix}`;
  started.add(workflowId, ...[...fleet.members.values()].map((azure) => lockWorkflowId(azure.coordinates)));
  const worker = await createTestWorker({
    env,
    taskQueue,
    deps: { controlPlane: planes, dataPlane: planes, inventory },
    called: [],
  });
  const began = Date.now();
  const { report, failure, handle } = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start('fleetFailover', {
      taskQueue,
      workflowId,
      args: [{ region: 'eastus', concurrency: options.concurrency }],
    });
    return outcomeOf(handle);
  });
  const wallSeconds = (Date.now() - began) / 1000;
  const ended: RunbookReport | undefined = report ?? (failure?.details?.[0] as RunbookReport | undefined);
  const measured = measureHistory(await handle.fetchHistory());
  const reportBytes = Buffer.byteLength(JSON.stringify(ended ?? {}));
  return {
    groups: options.groups,
    databasesPerGroup: options.databases,
    outcome: ended?.outcome ?? failure?.type ?? 'unknown',
    counts: ended?.fleet?.counts ?? {},
    failureTypes: [
      ...new Set((ended?.fleet?.members ?? []).flatMap((member) => (member.error ? [member.error.type] : []))),
    ],
    fleet: measured,
    perGroup: {
      events: Math.round((measured.events / options.groups) * 10) / 10,
      bytes: Math.round(measured.bytes / options.groups),
    },
    reportBytes,
    reportBytesPerGroup: Math.round(reportBytes / options.groups),
    wallSeconds: Math.round(wallSeconds * 10) / 10,
  };
}
