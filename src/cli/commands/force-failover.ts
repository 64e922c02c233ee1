import type { Command } from 'commander';
import { RunbookTypes } from '../../client';
import { CliError, ExitCodes } from '../errors';
import { groupArgument } from '../flags';
import { registerRunbookCommand, type RunbookCommandSpec } from '../runbook-command';

interface ForceFailoverFlags {
  targetLocation?: string;
  tryPlannedFirst?: string;
  approveBy?: string;
  approveReason?: string;
  approvalTimeout?: string;
  roleSwitchTimeout?: string;
  dryRun?: boolean;
}

/** Pre-approval from the command line: both flags or neither. */
export function approvalFromFlags(by: string | undefined, reason: string | undefined) {
  if (by === undefined && reason === undefined) return undefined;
  if (by === undefined || reason === undefined) {
    throw new CliError(
      'pre-approval needs both --approve-by and --approve-reason',
      ExitCodes.usage,
      'Give both (who approves, and why: an incident id), or neither to wait for `fogpilot approve`.',
    );
  }
  return { by, reason };
}

/** `fogpilot force-failover <group>`: the primary region is down; fail over allowing data loss, after approval. */
export const forceFailoverCommand: RunbookCommandSpec<ForceFailoverFlags> = {
  name: 'force-failover',
  runbook: RunbookTypes.forcedFailover,
  summary: 'forced failover when the primary region is down; may lose data, waits for approval (forcedFailover)',
  description:
    "Reads the group from the secondary's region only, estimates the data at risk, waits for a person's approval\n" +
    '(`fogpilot approve <id>`) unless pre-approved, optionally tries a planned failover first, then forces the ' +
    'failover and waits for the new primary to be writable.',
  argument: { syntax: '<group>', description: 'inventory name, full ARM id, or coordinates as JSON' },
  examples: [
    'fogpilot force-failover fog-sales            # then, from anywhere: fogpilot approve <id> --by alice --reason INC-42',
    'fogpilot force-failover fog-sales --try-planned-first 5m',
    'fogpilot force-failover fog-sales --approve-by pagerduty --approve-reason INC-42 --idempotency-key INC-42',
    'fogpilot force-failover fog-sales --no-wait --json',
  ],
  flags: (command) =>
    command
      .option(
        '--target-location <region>',
        'the region to make primary (default: the home secondary; required when the group is not at home)',
      )
      .option('--try-planned-first <duration>', 'try a planned failover for this long before forcing, e.g. 5m')
      .option('--approve-by <who>', 'pre-approve: who approves (with --approve-reason)')
      .option('--approve-reason <why>', 'pre-approve: why (an incident id)')
      .option('--approval-timeout <duration>', 'end without change when nobody approves within this (default 1h)')
      .option('--role-switch-timeout <duration>', 'how long to wait for the roles to switch (default 15 minutes)')
      .option('--dry-run', 'read the state and estimate the data at risk; change nothing'),
  toInput: (group, options) => ({
    group: group === undefined ? undefined : groupArgument(group),
    targetLocation: options.targetLocation,
    tryPlannedFirst: options.tryPlannedFirst === undefined ? undefined : { timeout: options.tryPlannedFirst },
    approval: approvalFromFlags(options.approveBy, options.approveReason),
    approvalTimeout: options.approvalTimeout,
    roleSwitchTimeout: options.roleSwitchTimeout,
    dryRun: options.dryRun,
  }),
  fieldFlags: {
    targetLocation: '--target-location',
    'tryPlannedFirst.timeout': '--try-planned-first',
    'approval.by': '--approve-by',
    'approval.reason': '--approve-reason',
    approvalTimeout: '--approval-timeout',
    roleSwitchTimeout: '--role-switch-timeout',
  },
};

export function registerForceFailover(program: Command): Command {
  return registerRunbookCommand(program, forceFailoverCommand);
}
