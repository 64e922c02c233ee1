import type { Command } from 'commander';
import { RunbookTypes } from '../../client';
import { groupArgument, numberOrText } from '../flags';
import { registerRunbookCommand, type RunbookCommandSpec } from '../runbook-command';

interface FailbackFlags {
  targetLocation?: string;
  maxLagSeconds?: string;
  waitTimeout?: string;
  pollInterval?: string;
  dryRun?: boolean;
}

/** `fogpilot failback <group>`: home again once the old primary region is back and synchronizing. */
export const failbackCommand: RunbookCommandSpec<FailbackFlags> = {
  name: 'failback',
  runbook: RunbookTypes.failback,
  summary: 'wait until the group synchronizes again, then fail back to its home region (failback)',
  description:
    'Waits (durably, for days if needed) until the group is synchronizing again after a failover, then runs a ' +
    'planned failover back to the original primary region. Long waits are normal: use --no-wait and `fogpilot watch`.',
  argument: { syntax: '<group>', description: 'inventory name, full ARM id, or coordinates as JSON' },
  examples: [
    'fogpilot failback fog-sales',
    'fogpilot failback fog-sales --wait-timeout 3d --no-wait',
    'fogpilot failback fog-sales --dry-run',
  ],
  flags: (command) =>
    command
      .option('--target-location <region>', 'the region to fail back to (default: the home primary)')
      .option('--max-lag-seconds <n>', 'refuse when any database lags more than this (default 30)')
      .option('--wait-timeout <duration>', 'give up waiting for synchronization after this (default 7 days)')
      .option('--poll-interval <duration>', 'how often to check synchronization (default 1 minute)')
      .option('--dry-run', 'evaluate the gates and print the plan; change nothing'),
  toInput: (group, options) => ({
    group: group === undefined ? undefined : groupArgument(group),
    targetLocation: options.targetLocation,
    maxLagSeconds: options.maxLagSeconds === undefined ? undefined : numberOrText(options.maxLagSeconds),
    waitTimeout: options.waitTimeout,
    pollInterval: options.pollInterval,
    dryRun: options.dryRun,
  }),
  fieldFlags: {
    targetLocation: '--target-location',
    maxLagSeconds: '--max-lag-seconds',
    waitTimeout: '--wait-timeout',
    pollInterval: '--poll-interval',
  },
};

export function registerFailback(program: Command): Command {
  return registerRunbookCommand(program, failbackCommand);
}
