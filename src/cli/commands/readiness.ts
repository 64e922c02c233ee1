import type { Command } from 'commander';
import { RunbookTypes } from '../../client';
import { groupArgument, numberOrText } from '../flags';
import { registerRunbookCommand, type RunbookCommandSpec } from '../runbook-command';

interface ReadinessFlags {
  all?: boolean;
  maxLagSeconds?: string;
  maxRestorePointAge?: string;
}

/** `fogpilot readiness (<group> | --all)`: would a failover work now, and would anything be left behind? */
export const readinessCommand: RunbookCommandSpec<ReadinessFlags> = {
  name: 'readiness',
  runbook: RunbookTypes.readinessCheck,
  summary: 'check that a group (or every group) is ready to fail over, changing nothing (readinessCheck)',
  description:
    'Runs every preflight gate plus drift checks (configuration parity, logins and SIDs, SQL Agent jobs, backups, ' +
    'long-term retention, failover policy) and prints a verdict per group. Exits 5 when a check fails.',
  argument: { syntax: '[group]', description: 'inventory name, full ARM id, or coordinates as JSON (or --all)' },
  examples: [
    'fogpilot readiness fog-sales',
    'fogpilot readiness --all --json',
    'fogpilot readiness fog-sales --max-lag-seconds 5 && fogpilot failover fog-sales',
  ],
  flags: (command) =>
    command
      .option('--all', 'every group in the inventory')
      .option('--max-lag-seconds <n>', 'the replication lag that still passes (default 30)')
      .option('--max-restore-point-age <duration>', 'the oldest acceptable restore point (default 1 hour)'),
  toInput: (group, options) => ({
    group: group === undefined ? undefined : groupArgument(group),
    all: options.all,
    maxLagSeconds: options.maxLagSeconds === undefined ? undefined : numberOrText(options.maxLagSeconds),
    maxRestorePointAge: options.maxRestorePointAge,
  }),
  fieldFlags: {
    group: '<group> or --all',
    all: '--all',
    maxLagSeconds: '--max-lag-seconds',
    maxRestorePointAge: '--max-restore-point-age',
  },
};

export function registerReadiness(program: Command): Command {
  return registerRunbookCommand(program, readinessCommand);
}
