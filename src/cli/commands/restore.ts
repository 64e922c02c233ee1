import type { Command } from 'commander';
import { RunbookTypes } from '../../client';
import { groupArgument, inputOption } from '../flags';
import { registerRunbookCommand, type RunbookCommandSpec } from '../runbook-command';

interface RestoreFlags {
  database?: string;
  pointInTime?: string;
  ltrBackup?: string;
  restoredName?: string;
  verify?: string;
  swap?: boolean;
  restoreTimeout?: string;
  seedingTimeout?: string;
  approvalTimeout?: string;
  dryRun?: boolean;
}

/** `fogpilot restore <group> --database <db> --point-in-time <time>`: repair a database from a trusted recovery point. */
export const restoreCommand: RunbookCommandSpec<RestoreFlags> = {
  name: 'restore',
  runbook: RunbookTypes.restoreDatabase,
  summary:
    'restore a damaged database to a point in time or an LTR backup, check it, optionally swap it in (restoreDatabase)',
  description:
    'Restores the database to a new one on the current primary, runs your checks in it (--verify), and with --swap, ' +
    'after approval by a second person (`fogpilot approve <workflow id>`), drops the damaged database, restores the ' +
    'same point under its name and keeps the damage aside as <db>_damaged_<time>. The database is missing while the ' +
    'swap runs. Waits until the geo-secondary holds the result.',
  argument: { syntax: '<group>', description: 'the group: inventory name, full ARM id, or coordinates as JSON' },
  examples: [
    'fogpilot restore fog-sales --database sales --point-in-time 2026-12-06T02:15:00Z --dry-run',
    'fogpilot restore fog-sales --database sales --point-in-time 2026-12-06T02:15:00Z --verify @checks.json --swap',
  ],
  flags: (command) =>
    command
      .option('--database <name>', 'the damaged database')
      .option('--point-in-time <time>', 'the last good moment, ISO 8601 with a zone (2026-12-06T02:15:00Z)')
      .option('--ltr-backup <id>', 'or the ARM id of a long-term-retention backup')
      .option('--restored-name <name>', 'the new database (default <database>_restored_<time>)')
      .option(
        '--verify <json>',
        'checks as a JSON object or @file.json: {"queries": [{"name", "sql", "expect"}], "rowCounts": [{"table", "atLeast"|"equals"}]}',
      )
      .option('--swap', 'after the checks pass and approval, put the restore in place of the damaged database')
      .option('--restore-timeout <duration>', 'how long one restore may run (default 12 hours)')
      .option('--seeding-timeout <duration>', 'how long to wait for the geo-secondary (default 1 day)')
      .option('--approval-timeout <duration>', 'how long to wait for approval of the swap (default 1 hour)')
      .option('--dry-run', 'read and check what the restore stands on and print the plan; change nothing'),
  toInput: (group, options) => ({
    group: group === undefined ? undefined : groupArgument(group),
    database: options.database,
    pointInTime: options.pointInTime,
    longTermBackupId: options.ltrBackup,
    restoredName: options.restoredName,
    verify: options.verify === undefined ? undefined : inputOption(options.verify),
    swap: options.swap,
    restoreTimeout: options.restoreTimeout,
    seedingTimeout: options.seedingTimeout,
    approvalTimeout: options.approvalTimeout,
    dryRun: options.dryRun,
  }),
  fieldFlags: {
    database: '--database',
    pointInTime: '--point-in-time',
    longTermBackupId: '--ltr-backup',
    restoredName: '--restored-name',
    verify: '--verify',
    swap: '--swap',
    restoreTimeout: '--restore-timeout',
    seedingTimeout: '--seeding-timeout',
    approvalTimeout: '--approval-timeout',
  },
};

export function registerRestore(program: Command): Command {
  return registerRunbookCommand(program, restoreCommand);
}
