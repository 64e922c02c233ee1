import type { Command } from 'commander';
import { RunbookTypes } from '../../client';
import { groupArgument } from '../flags';
import { registerRunbookCommand, type RunbookCommandSpec } from '../runbook-command';

interface WatchGroupsFlags {
  groups?: string;
  interval?: string;
  startFailback?: boolean;
  failbackWaitTimeout?: string;
}

/** `fogpilot watch-groups [--groups a,b]`: notice role changes fogpilot did not make (Azure's own failover). */
export const watchGroupsCommand: RunbookCommandSpec<WatchGroupsFlags> = {
  name: 'watch-groups',
  runbook: RunbookTypes.watchGroups,
  summary: 'notice role changes fogpilot did not make, record and notify them (watchGroups)',
  description:
    'Looks at every inventory group (or --groups) every --interval with one ARM list call per subscription, ' +
    'resource group and region, and records each switch of primary no fogpilot runbook made (an Azure-initiated ' +
    'failover, a portal click), with a log line and an azureFailoverSeen notification. With --start-failback it ' +
    "also starts a failback under the group's lock, which waits until replication has caught up. It runs until " +
    'aborted (`fogpilot abort <id>`): start it with --no-wait and read it with `temporal workflow query --workflow-id <id> --name watchStatus`.',
  examples: [
    'fogpilot watch-groups --no-wait --idempotency-key standing-watch',
    'fogpilot watch-groups --groups fog-sales,fog-billing --interval 30s --no-wait',
    'fogpilot watch-groups --start-failback --failback-wait-timeout 3d --no-wait',
  ],
  flags: (command) =>
    command
      .option('--groups <a,b,…>', 'a comma-separated list of groups (default: every inventory group)')
      .option('--interval <duration>', 'time between looks (default 1m; 15s to 1h)')
      .option('--start-failback', 'for a change fogpilot did not make away from home, start a failback under the lock')
      .option('--failback-wait-timeout <duration>', "the failback's wait for replication (default 7d)"),
  toInput: (_group, options) => ({
    groups:
      options.groups === undefined
        ? undefined
        : options.groups
            .split(',')
            .map((entry) => entry.trim())
            .filter((entry) => entry !== '')
            .map(groupArgument),
    interval: options.interval,
    startFailback: options.startFailback,
    failbackWaitTimeout: options.failbackWaitTimeout,
  }),
  fieldFlags: {
    groups: '--groups',
    interval: '--interval',
    startFailback: '--start-failback',
    failbackWaitTimeout: '--failback-wait-timeout',
  },
};

export function registerWatchGroups(program: Command): Command {
  return registerRunbookCommand(program, watchGroupsCommand);
}
