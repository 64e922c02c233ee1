/**
 * Where fogpilot's fixed cost goes in `bench/overhead.ts`'s run: planned failovers with failback on the same rig (dev
 * server, emulator at speed 10, seeded world, a `fogpilot worker` process), each read back from the lock holder's
 * history. Prints the segments between the client's start and the run's end that are fogpilot's own (the checks before
 * each POST, the end), and the events of the last run, so a change to the step order can be seen in milliseconds.
 *
 *   node dist/bench/overhead-timeline.js [--runs 3] [--out docs/results]
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { temporal } from '@temporalio/proto';
import { startOverheadRig } from './overhead';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

interface Segments {
  wallMs: number;
  /** Client start → the lock holder's first activity scheduled. */
  startMs: number;
  /** First activity → the failover POST scheduled. */
  failoverChecksMs: number;
  /** The failover's watch seeing every database writable → the failback POST scheduled. */
  failbackChecksMs: number;
  /** The failback's watch seeing every database writable → the run's result at the client. */
  endMs: number;
  /** Status signals the lock holder sent its starter. */
  statusSignals: number;
}

const eventMs = (event: HistoryEvent): number =>
  Number(event.eventTime?.seconds ?? 0) * 1000 + Math.round((event.eventTime?.nanos ?? 0) / 1e6);

/** The activity type of each scheduled event, by its id; scheduled, started and completed events name it. */
function activityOf(events: HistoryEvent[]): (event: HistoryEvent) => string | undefined {
  const byId = new Map<string, string>();
  for (const event of events) {
    const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) byId.set(String(event.eventId), name);
  }
  return (event) => {
    const scheduled = event.activityTaskScheduledEventAttributes
      ? event.eventId
      : (event.activityTaskCompletedEventAttributes?.scheduledEventId ??
        event.activityTaskStartedEventAttributes?.scheduledEventId);
    return scheduled === undefined || scheduled === null ? undefined : byId.get(String(scheduled));
  };
}

function segmentsOf(events: HistoryEvent[], startedAt: number, endedAt: number): Segments {
  const activity = activityOf(events);
  const scheduled = (name: string) =>
    events.filter((event) => event.activityTaskScheduledEventAttributes && activity(event) === name).map(eventMs);
  const completed = (name: string) =>
    events.filter((event) => event.activityTaskCompletedEventAttributes && activity(event) === name).map(eventMs);
  const firstActivity = Math.min(...events.filter((event) => event.activityTaskScheduledEventAttributes).map(eventMs));
  const posts = scheduled('sendFailover');
  const watches = completed('watchWritable');
  const lastWatchBefore = (at: number) => Math.max(...watches.filter((when) => when < at));
  return {
    wallMs: endedAt - startedAt,
    startMs: firstActivity - startedAt,
    failoverChecksMs: posts[0]! - firstActivity,
    failbackChecksMs: posts[1]! - lastWatchBefore(posts[1]!),
    endMs: endedAt - watches[watches.length - 1]!,
    statusSignals: events.filter((event) => event.signalExternalWorkflowExecutionInitiatedEventAttributes).length,
  };
}

function describeEvents(events: HistoryEvent[], startedAt: number): string[] {
  const activity = activityOf(events);
  return events.map((event) => {
    const kind = Object.keys(event).find((key) => key.endsWith('EventAttributes')) ?? '?';
    const name = activity(event);
    return `${String(eventMs(event) - startedAt).padStart(6)} ms  ${kind.replace('EventAttributes', '')}${name ? ` ${name}` : ''}`;
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '3' }, out: { type: 'string', default: 'docs/results' } },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`--runs: a whole number of runs, at least 1 (got ${values.runs})`);
  const rig = await startOverheadRig({ speed: 10, roleSwitchSeconds: 30, seed: 20261205 });
  const rows: Segments[] = [];
  let lastEvents: string[] = [];
  try {
    for (let index = 0; index < runs; index++) {
      const startedAt = Date.now();
      const started = await rig.fogpilot.start('plannedFailover', {
        group: 'fog-sales',
        failback: { after: 0 },
        requestedBy: 'bench/overhead-timeline',
      });
      const result = await rig.fogpilot.result(started.workflowId);
      const endedAt = Date.now();
      if (result.report?.outcome !== 'succeeded')
        throw new Error(`run ${index + 1}: ${result.failure?.message ?? '?'}`);
      const holderId = result.report.workflowId;
      const history = await rig.temporal.client.workflow.getHandle(holderId).fetchHistory();
      const events = history.events ?? [];
      rows.push(segmentsOf(events, startedAt, endedAt));
      lastEvents = describeEvents(events, startedAt);
      console.log(`run ${index + 1}: ${endedAt - startedAt} ms`);
    }
  } finally {
    await rig.close();
  }
  const table = [
    '| run | wall (ms) | start → first read | failover checks → POST | writable → failback POST | writable → result | status signals |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (row, index) =>
        `| ${index + 1} | ${row.wallMs} | ${row.startMs} | ${row.failoverChecksMs} | ${row.failbackChecksMs} | ${row.endMs} | ${row.statusSignals} |`,
    ),
  ];
  const text = [
    '# Where the fixed cost goes: the lock holder’s history',
    '',
    `- Command: \`node dist/bench/overhead-timeline.js --runs ${runs}\` (after \`npm run build\`)`,
    '- Rig: as `bench/overhead.ts` (speed 10, seed 20261205, a `fogpilot worker` process on the dev server); times in',
    '  real milliseconds from the client’s start. Each run draws the next databases’ writable moments, so the',
    '  watches’ lengths differ; the segments below are fogpilot’s own.',
    '',
    ...table,
    '',
    '## The last run’s lock holder, event by event',
    '',
    '```',
    ...lastEvents,
    '```',
    '',
  ].join('\n');
  const file = path.join(values.out, 'overhead-timeline.md');
  writeFileSync(file, text);
  console.log(table.join('\n'));
  console.log(`wrote ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
