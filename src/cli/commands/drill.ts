import type { Command } from 'commander';
import { RunbookTypes } from '../../client';
import { groupArgument, numberOrText } from '../flags';
import { registerRunbookCommand, type RunbookCommandSpec } from '../runbook-command';

/** Flags a drill takes, on `fogpilot drill` and `fogpilot schedule drill` alike. */
export interface DrillFlags {
  soak?: string;
  httpCheck?: string;
  httpExpectStatus?: string;
  smokeDatabase?: string;
  smokeWrite?: boolean;
  targetLocation?: string;
  maxLagSeconds?: string;
  failbackWaitTimeout?: string;
  dryRun?: boolean;
}

export function addDrillFlags(command: Command): Command {
  return command
    .option('--soak <duration>', 'how long to stay in the secondary region with smoke checks (default 10 minutes)')
    .option('--http-check <url>', 'an application health URL checked during the soak (no credentials in it)')
    .option('--http-expect-status <code>', 'the status the health URL must answer (default 200)')
    .option('--smoke-database <name>', 'the database the write probe uses (default: the first in the group)')
    .option('--no-smoke-write', 'do not write probe rows through the read-write listener')
    .option('--target-location <region>', 'the region to drill into (default: the current secondary)')
    .option('--max-lag-seconds <n>', 'refuse when any database lags more than this (default 30)')
    .option(
      '--failback-wait-timeout <duration>',
      'how long to wait for replication to catch up before failing back; past it the drill ends failbackPending (default 1 hour)',
    );
}

export function drillInputFromFlags(group: string | undefined, options: DrillFlags): Record<string, unknown> {
  return {
    group: group === undefined ? undefined : groupArgument(group),
    soak: options.soak,
    smoke: {
      write: options.smokeWrite === false ? false : undefined,
      database: options.smokeDatabase,
      httpCheck:
        options.httpCheck === undefined
          ? undefined
          : {
              url: options.httpCheck,
              expectStatus: options.httpExpectStatus === undefined ? undefined : numberOrText(options.httpExpectStatus),
            },
    },
    targetLocation: options.targetLocation,
    maxLagSeconds: options.maxLagSeconds === undefined ? undefined : numberOrText(options.maxLagSeconds),
    failbackWaitTimeout: options.failbackWaitTimeout,
    dryRun: options.dryRun,
  };
}

export const DRILL_FIELD_FLAGS: Record<string, string> = {
  soak: '--soak',
  'smoke.httpCheck.url': '--http-check',
  'smoke.httpCheck.expectStatus': '--http-expect-status',
  'smoke.database': '--smoke-database',
  'smoke.write': '--no-smoke-write',
  targetLocation: '--target-location',
  maxLagSeconds: '--max-lag-seconds',
  failbackWaitTimeout: '--failback-wait-timeout',
};

/** `fogpilot drill <group>`: a DR drill, there and back, with proof. */
export const drillCommand: RunbookCommandSpec<DrillFlags> = {
  name: 'drill',
  runbook: RunbookTypes.drDrill,
  summary: 'DR drill: planned failover, soak with smoke checks, failback, and a drill report (drDrill)',
  description:
    'Rehearses disaster recovery end to end: a planned failover, a soak in the secondary region with smoke checks ' +
    '(writes through the read-write listener; an optional HTTP health check), the failback, and a report with the ' +
    'RTO each way, the downtime the workload saw and the data lost (must be none). Runs under the group lock. ' +
    'To run drills on a calendar, see `fogpilot schedule drill`.',
  argument: { syntax: '<group>', description: 'inventory name, full ARM id, or coordinates as JSON' },
  examples: [
    'fogpilot drill fog-sales',
    'fogpilot drill fog-sales --soak 30m --http-check https://app.example.com/health',
    'fogpilot drill fog-sales --dry-run',
    'fogpilot drill fog-sales --json --no-wait   # then: fogpilot watch <id>; fogpilot report <id> --format html',
  ],
  flags: (command) =>
    addDrillFlags(command).option('--dry-run', 'evaluate the gates and print the plan; change nothing'),
  toInput: drillInputFromFlags,
  fieldFlags: DRILL_FIELD_FLAGS,
};

export function registerDrill(program: Command): Command {
  return registerRunbookCommand(program, drillCommand);
}
