import type { Command } from 'commander';
import { RunbookTypes } from '../../client';
import { numberOrText } from '../flags';
import { registerRunbookCommand, type RunbookCommandSpec } from '../runbook-command';

interface EstablishFlags {
  primary?: string;
  secondary?: string;
  policy?: string;
  gracePeriodMinutes?: string;
  readOnlyPolicy?: string;
  secondaryType?: string;
  seedingTimeout?: string;
  pollInterval?: string;
  dryRun?: boolean;
}

/** `fogpilot establish <name>`: create a failover group after checking every prerequisite, and wait for its seeding. */
export const establishCommand: RunbookCommandSpec<EstablishFlags> = {
  name: 'establish',
  runbook: RunbookTypes.establishGroup,
  summary: 'create a failover group between two instances and wait for its seeding (establishGroup)',
  description:
    'Checks every prerequisite first (regions, DNS zone, empty secondary, sizes, memberships, the geo-replication ' +
    'ports between the subnets, TDE keys, collation, time zone, maintenance windows) and refuses with the remedy; ' +
    'then creates the group and waits durably, for days if need be, until it has seeded. Ends with a readiness check.',
  argument: {
    syntax: '<name>',
    description: 'the group to create: its Azure name, or an inventory name (instances may then be plain names)',
  },
  examples: [
    'fogpilot establish fog-crm --primary fog-crm-eastus --secondary fog-crm-westus --dry-run',
    'fogpilot establish fog-crm --primary /subscriptions/…/managedInstances/fog-crm-eastus --secondary /subscriptions/…/managedInstances/fog-crm-westus --no-wait',
    'fogpilot establish fog-crm --primary fog-crm-eastus --secondary fog-crm-westus --policy Automatic --grace-period-minutes 60',
  ],
  flags: (command) =>
    command
      .option('--primary <instance>', 'the primary managed instance (ARM id, or name within the inventory group)')
      .option('--secondary <instance>', 'the secondary managed instance, in another region, empty')
      .option('--policy <policy>', 'read-write failover policy: Manual (default) or Automatic')
      .option('--grace-period-minutes <n>', 'with Automatic: minutes of outage before Azure fails over (at least 60)')
      .option('--read-only-policy <policy>', 'read-only endpoint failover: Disabled (default) or Enabled')
      .option('--secondary-type <type>', 'Geo (default) or Standby (license-free, serves no reads)')
      .option('--seeding-timeout <duration>', 'how long to wait for seeding (default 6 days, at most 7)')
      .option('--poll-interval <duration>', 'the longest pause between looks at the seeding (default 30 minutes)')
      .option('--dry-run', 'check every prerequisite and print the plan; create nothing'),
  toInput: (name, options) => ({
    name,
    primaryInstance: options.primary,
    secondaryInstance: options.secondary,
    readWriteFailoverPolicy: options.policy,
    gracePeriodMinutes: options.gracePeriodMinutes === undefined ? undefined : numberOrText(options.gracePeriodMinutes),
    readOnlyFailoverPolicy: options.readOnlyPolicy,
    secondaryType: options.secondaryType,
    seedingTimeout: options.seedingTimeout,
    pollInterval: options.pollInterval,
    dryRun: options.dryRun,
  }),
  fieldFlags: {
    name: '<name>',
    primaryInstance: '--primary',
    secondaryInstance: '--secondary',
    readWriteFailoverPolicy: '--policy',
    gracePeriodMinutes: '--grace-period-minutes',
    readOnlyFailoverPolicy: '--read-only-policy',
    secondaryType: '--secondary-type',
    seedingTimeout: '--seeding-timeout',
    pollInterval: '--poll-interval',
  },
};

export function registerEstablish(program: Command): Command {
  return registerRunbookCommand(program, establishCommand);
}
