import type { Command } from 'commander';
import { ScheduleAlreadyRunning } from '@temporalio/client';
import {
  DrillScheduleNotFoundError,
  InvalidRunbookInputError,
  RunbookTypes,
  drillScheduleIdFor,
  drillScheduleSpec,
  normalizeDrillScheduleId,
  validateRunbookInput,
  type DrillScheduleView,
} from '../../client';
import { formatDuration } from '../../domain/durations';
import { withFogpilot, type FogpilotSession } from '../connect';
import { CliError, ExitCodes } from '../errors';
import { inputOption, invalidInputError, mergeInput } from '../flags';
import { stdout } from '../progress';
import { DRILL_FIELD_FLAGS, addDrillFlags, drillInputFromFlags, type DrillFlags } from './drill';

const SCHEDULE_FIELD_FLAGS: Record<string, string> = {
  ...DRILL_FIELD_FLAGS,
  schedule: '--cron or --every',
  cron: '--cron',
  every: '--every',
  timezone: '--timezone',
  jitter: '--jitter',
  catchupWindow: '--catchup-window',
};

interface ScheduleDrillFlags extends DrillFlags {
  cron?: string;
  every?: string;
  timezone?: string;
  jitter?: string;
  catchupWindow?: string;
  scheduleId?: string;
  paused?: boolean;
  note?: string;
  input?: string;
  json?: boolean;
}

/** A schedule view in a few lines. */
export function formatSchedule(view: DrillScheduleView): string {
  const when = view.when.cron ? `cron "${view.when.cron}"` : `every ${view.when.every ?? '?'}`;
  const jitter = view.when.jitter ? `, jitter up to ${view.when.jitter}` : '';
  const lines = [
    `${view.scheduleId}  (drDrill of ${view.group}, task queue ${view.taskQueue})`,
    `  when:     ${when} in ${view.when.timezone}${jitter}`,
    `  next:     ${view.paused ? '(paused)' : view.nextActionTimes.slice(0, 3).join(', ') || '—'}`,
    `  state:    ${view.paused ? 'paused' : 'active'}${view.note ? ` — ${view.note}` : ''}`,
    `  policies: overlap ${view.policies.overlap}, catch-up window ${formatDuration(view.policies.catchupWindowMs)}, ` +
      `${view.policies.pauseOnFailure ? 'pauses when a drill fails' : 'does not pause on failure'}`,
    `  drills:   ${view.actionsTaken} started, ${view.actionsSkippedOverlap} skipped (one was still running)`,
  ];
  const last = view.recentActions.at(-1);
  if (last) lines.push(`  last:     ${last.takenAt}  ${last.workflowId}`);
  for (const running of view.running)
    lines.push(`  running:  ${running.workflowId}  (fogpilot watch ${running.workflowId})`);
  return `${lines.join('\n')}\n`;
}

async function scheduleCall<T>(scheduleId: string, work: (session: FogpilotSession) => Promise<T>): Promise<T> {
  return withFogpilot(async (session) => {
    try {
      return await work(session);
    } catch (error) {
      if (error instanceof DrillScheduleNotFoundError) {
        throw new CliError(
          `No schedule ${scheduleId} in namespace ${session.namespace}.`,
          ExitCodes.notFound,
          '`fogpilot schedule list` shows the drill schedules.',
        );
      }
      throw error;
    }
  });
}

function print(view: DrillScheduleView, json: boolean | undefined, headline: string): void {
  stdout.write(json ? `${JSON.stringify(view)}\n` : `${headline}\n${formatSchedule(view)}`);
}

/** `fogpilot schedule drill|list|pause|unpause|trigger|delete`: DR drills on a calendar, as Temporal Schedules. */
export function registerSchedule(program: Command): Command {
  const schedule = program
    .command('schedule')
    .summary('DR drills on a calendar (Temporal Schedules): drill, list, pause, unpause, trigger, delete')
    .description(
      'Each schedule starts a drDrill for one group. Overlap policy SKIP (a drill still running means the next is ' +
        'skipped), a catch-up window (default 10 minutes), pause-on-failure (a failed drill pauses its schedule until ' +
        "unpaused), optional jitter. The drill runs under the group's lock: while another runbook holds the group the\n" +
        'drill ends skipped without changing anything, and the schedule stays active for the next one. ' +
        'A <scheduleId> may be given as the group name: fog-sales means fogpilot-drill/fog-sales.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  fogpilot schedule drill fog-sales --cron "0 3 * * SAT" --timezone Europe/Paris --jitter 30m --soak 20m\n' +
        '  fogpilot schedule drill fog-sales --every 14d\n  fogpilot schedule list\n' +
        '  fogpilot schedule trigger fog-sales\n  fogpilot schedule unpause fog-sales --note "fixed the health check"\n',
    );

  const drill = schedule
    .command('drill')
    .summary('create a schedule that runs a DR drill of a group')
    .argument('<group>', 'inventory name, full ARM id, or coordinates as JSON')
    .option('--cron <expression>', 'when, as cron (5-7 fields, or @daily/@weekly), e.g. "0 3 * * SAT"')
    .option('--every <duration>', 'when, as an interval, e.g. 7d (instead of --cron)')
    .option('--timezone <zone>', 'IANA time zone the cron expression is read in (default UTC)')
    .option('--jitter <duration>', 'start each drill up to this much later, at random, e.g. 30m')
    .option(
      '--catchup-window <duration>',
      'run a drill missed while Temporal was down if at most this late (default 10m)',
    )
    .option('--schedule-id <id>', 'the schedule id (default fogpilot-drill/<group>)')
    .option('--paused', 'create it paused')
    .option('--note <text>', 'a note shown with the schedule');
  addDrillFlags(drill)
    .option('--input <json>', 'any drill input field as a JSON object (or @file.json); flags override it')
    .option('--json', 'machine output: one JSON object')
    .addHelpText(
      'after',
      '\nExamples:\n  fogpilot schedule drill fog-sales --cron "0 3 * * SAT" --timezone Europe/Paris --jitter 30m\n' +
        '  fogpilot schedule drill fog-sales --every 14d --soak 30m --http-check https://app.example.com/health\n',
    )
    .action(async (group: string, options: ScheduleDrillFlags) => {
      const input = mergeInput(inputOption(options.input), drillInputFromFlags(group, options));
      const timing = { cron: options.cron, every: options.every, timezone: options.timezone, jitter: options.jitter };
      let drillInput;
      try {
        // Refused here, before any connection, so a typo exits 2 whether or not a server is reachable.
        drillInput = validateRunbookInput(RunbookTypes.drDrill, input);
        drillScheduleSpec(timing);
      } catch (error) {
        if (error instanceof InvalidRunbookInputError) throw invalidInputError(error, SCHEDULE_FIELD_FLAGS);
        throw error;
      }
      const scheduleId = options.scheduleId?.trim() || drillScheduleIdFor(input.group);
      await withFogpilot(async (session) => {
        let view: DrillScheduleView;
        try {
          view = await session.schedules.create({
            input: drillInput,
            ...timing,
            catchupWindow: options.catchupWindow,
            scheduleId,
            paused: options.paused,
            note: options.note,
          });
        } catch (error) {
          if (error instanceof InvalidRunbookInputError) throw invalidInputError(error, SCHEDULE_FIELD_FLAGS);
          if (error instanceof ScheduleAlreadyRunning) {
            throw new CliError(
              `A schedule ${scheduleId} already exists; nothing was changed.`,
              ExitCodes.failure,
              `Delete it first (fogpilot schedule delete ${scheduleId}) or choose another --schedule-id.`,
            );
          }
          throw error;
        }
        print(view, options.json, `Created ${scheduleId}: drDrill of ${view.group}`);
      });
    });

  schedule
    .command('list')
    .summary('list the drill schedules: when, next runs, state, last and running drills')
    .option('--json', 'machine output: one JSON object')
    .addHelpText(
      'after',
      '\nExamples:\n  fogpilot schedule list\n  fogpilot schedule list --json | jq ".schedules[].scheduleId"\n',
    )
    .action(async (options: { json?: boolean }) => {
      await withFogpilot(async (session) => {
        const schedules = await session.schedules.list();
        if (options.json) stdout.write(`${JSON.stringify({ schedules })}\n`);
        else if (schedules.length === 0)
          stdout.write('No drill schedules. Create one with `fogpilot schedule drill`.\n');
        else stdout.write(schedules.map(formatSchedule).join('\n'));
      });
    });

  for (const verb of ['pause', 'unpause'] as const) {
    schedule
      .command(verb)
      .summary(
        verb === 'pause'
          ? 'stop a schedule from starting drills (a running drill goes on)'
          : 'let a paused schedule start drills again',
      )
      .argument('<scheduleId>', 'the schedule id, or the group name')
      .option('--note <text>', 'why (shown with the schedule)')
      .option('--json', 'machine output: one JSON object')
      .addHelpText(
        'after',
        `\nExamples:\n  fogpilot schedule ${verb} fog-sales --note "CHG-9"\n  fogpilot schedule ${verb} fogpilot-drill/fog-sales\n`,
      )
      .action(async (id: string, options: { note?: string; json?: boolean }) => {
        const scheduleId = normalizeDrillScheduleId(id);
        const view = await scheduleCall(scheduleId, (session) => session.schedules[verb](scheduleId, options.note));
        print(view, options.json, `${verb === 'pause' ? 'Paused' : 'Unpaused'} ${scheduleId}`);
      });
  }

  schedule
    .command('trigger')
    .summary("run a schedule's drill now (skipped while a drill from it still runs)")
    .argument('<scheduleId>', 'the schedule id, or the group name')
    .option('--json', 'machine output: one JSON object')
    .addHelpText(
      'after',
      '\nExamples:\n  fogpilot schedule trigger fog-sales\n  fogpilot watch "$(fogpilot schedule trigger fog-sales --json | jq -r .started.workflowId)"\n',
    )
    .action(async (id: string, options: { json?: boolean }) => {
      const scheduleId = normalizeDrillScheduleId(id);
      const result = await scheduleCall(scheduleId, (session) => session.schedules.trigger(scheduleId));
      if (options.json) {
        stdout.write(`${JSON.stringify(result)}\n`);
      } else if (result.started) {
        stdout.write(
          `Triggered ${scheduleId}: drill ${result.started.workflowId}\n  follow it: fogpilot watch ${result.started.workflowId}\n`,
        );
      } else if (result.skipped) {
        stdout.write(
          `Skipped: a drill from ${scheduleId} is still running (${result.running.map((run) => run.workflowId).join(', ')}).\n`,
        );
      } else {
        stdout.write(
          `Triggered ${scheduleId}; the drill has not shown yet: \`fogpilot schedule list\` will show it.\n`,
        );
      }
    });

  schedule
    .command('delete')
    .summary('delete a schedule (drills it started and that still run go on)')
    .argument('<scheduleId>', 'the schedule id, or the group name')
    .option('--json', 'machine output: one JSON object')
    .addHelpText('after', '\nExamples:\n  fogpilot schedule delete fog-sales\n')
    .action(async (id: string, options: { json?: boolean }) => {
      const scheduleId = normalizeDrillScheduleId(id);
      await scheduleCall(scheduleId, (session) => session.schedules.delete(scheduleId));
      stdout.write(options.json ? `${JSON.stringify({ scheduleId, deleted: true })}\n` : `Deleted ${scheduleId}\n`);
    });

  return schedule;
}
