import { Option, type Command } from 'commander';
import { RunbookTypes } from '../../client';
import { groupArgument, numberOrText } from '../flags';
import { registerRunbookCommand, type RunbookCommandSpec } from '../runbook-command';

interface FailoverFlags {
  targetLocation?: string;
  maxLagSeconds?: string;
  scaleSecondary?: string;
  failbackAfter?: string;
  failbackWaitTimeout?: string;
  roleSwitchTimeout?: string;
  syncTimeout?: string;
  dryRun?: boolean;
}

/** `fogpilot failover <group>`: a planned failover (no data loss), optionally failing back after a while. */
export const failoverCommand: RunbookCommandSpec<FailoverFlags> = {
  name: 'failover',
  runbook: RunbookTypes.plannedFailover,
  summary: 'planned failover of a group to its secondary region, with no data loss (plannedFailover)',
  description:
    'Checks every preflight gate, scales a smaller secondary up, waits until every database is in sync, fails over, ' +
    'waits until the new primary is writable, and reports the measured RTO. Waits for the end, showing each step.',
  argument: { syntax: '<group>', description: 'inventory name, full ARM id, or coordinates as JSON' },
  examples: [
    'fogpilot failover fog-sales',
    'fogpilot failover fog-sales --dry-run',
    'fogpilot failover fog-sales --max-lag-seconds 10 --failback-after 2h --reason CHG-1234',
    'fogpilot failover fog-sales --no-wait --json',
  ],
  flags: (command) =>
    command
      .option(
        '--target-location <region>',
        "the region to make primary (default: the group's home secondary); nothing is sent if it already is",
      )
      .option('--max-lag-seconds <n>', 'refuse when any database lags more than this (default 30)')
      .addOption(
        new Option('--scale-secondary <mode>', 'scale a smaller secondary up first, or refuse (default match)').choices(
          ['match', 'skip'],
        ),
      )
      .option('--failback-after <duration>', 'fail back to the original primary after this long, e.g. 2h')
      .option(
        '--failback-wait-timeout <duration>',
        'with --failback-after: how long to wait for replication to catch up before failing back (default 1 hour)',
      )
      .option('--role-switch-timeout <duration>', 'how long to wait for the roles to switch (default 15 minutes)')
      .option('--sync-timeout <duration>', 'how long to wait for the databases to sync (default 10 minutes)')
      .option('--dry-run', 'evaluate every gate and print the plan; change nothing'),
  toInput: (group, options) => ({
    group: group === undefined ? undefined : groupArgument(group),
    targetLocation: options.targetLocation,
    maxLagSeconds: options.maxLagSeconds === undefined ? undefined : numberOrText(options.maxLagSeconds),
    scaleSecondary: options.scaleSecondary,
    failback: options.failbackAfter === undefined ? undefined : { after: options.failbackAfter },
    failbackWaitTimeout: options.failbackWaitTimeout,
    roleSwitchTimeout: options.roleSwitchTimeout,
    syncTimeout: options.syncTimeout,
    dryRun: options.dryRun,
  }),
  fieldFlags: {
    targetLocation: '--target-location',
    maxLagSeconds: '--max-lag-seconds',
    scaleSecondary: '--scale-secondary',
    'failback.after': '--failback-after',
    failbackWaitTimeout: '--failback-wait-timeout',
    roleSwitchTimeout: '--role-switch-timeout',
    syncTimeout: '--sync-timeout',
  },
};

export function registerFailover(program: Command): Command {
  return registerRunbookCommand(program, failoverCommand);
}
