import type { Command } from 'commander';
import { RunbookTypes } from '../../client';
import { groupArgument, numberOrText } from '../flags';
import { registerRunbookCommand, type RunbookCommandSpec } from '../runbook-command';

interface ReprotectFlags {
  newSecondary?: string;
  newName?: string;
  policy?: string;
  gracePeriodMinutes?: string;
  seedingTimeout?: string;
  approvalTimeout?: string;
  dryRun?: boolean;
}

/** `fogpilot reprotect <group> --new-secondary <instance>`: rebuild protection after losing a region for good. */
export const reprotectCommand: RunbookCommandSpec<ReprotectFlags> = {
  name: 'reprotect',
  runbook: RunbookTypes.reprotect,
  summary: 'after losing a region for good, pair the surviving primary with a third region (reprotect)',
  description:
    'Finds the surviving primary, checks the new pair as establish does, waits for approval (it deletes), deletes the ' +
    'broken group on the surviving side and establishes the new one, waiting for its seeding. Approve with ' +
    '`fogpilot approve <workflow id>` (a second person).',
  argument: { syntax: '<group>', description: 'the broken group: inventory name, full ARM id, or coordinates as JSON' },
  examples: [
    'fogpilot reprotect fog-crm --new-secondary fog-crm-northeurope --dry-run',
    'fogpilot reprotect fog-crm --new-secondary /subscriptions/…/managedInstances/fog-crm-northeurope --idempotency-key INC-7',
  ],
  flags: (command) =>
    command
      .option(
        '--new-secondary <instance>',
        "the empty instance in a third region (ARM id, or name in the group's resource group)",
      )
      .option('--new-name <name>', "the new group's name (default: the broken group's)")
      .option('--policy <policy>', 'read-write failover policy of the new group: Manual (default) or Automatic')
      .option('--grace-period-minutes <n>', 'with Automatic: minutes of outage before Azure fails over (at least 60)')
      .option('--seeding-timeout <duration>', 'how long to wait for seeding (default 6 days)')
      .option('--approval-timeout <duration>', 'how long to wait for approval (default 1 hour)')
      .option('--dry-run', 'find the survivor, check the new pair and print the plan; change nothing'),
  toInput: (group, options) => ({
    group: group === undefined ? undefined : groupArgument(group),
    newSecondaryInstance: options.newSecondary,
    newName: options.newName,
    readWriteFailoverPolicy: options.policy,
    gracePeriodMinutes: options.gracePeriodMinutes === undefined ? undefined : numberOrText(options.gracePeriodMinutes),
    seedingTimeout: options.seedingTimeout,
    approvalTimeout: options.approvalTimeout,
    dryRun: options.dryRun,
  }),
  fieldFlags: {
    newSecondaryInstance: '--new-secondary',
    newName: '--new-name',
    readWriteFailoverPolicy: '--policy',
    gracePeriodMinutes: '--grace-period-minutes',
    seedingTimeout: '--seeding-timeout',
    approvalTimeout: '--approval-timeout',
  },
};

export function registerReprotect(program: Command): Command {
  return registerRunbookCommand(program, reprotectCommand);
}
