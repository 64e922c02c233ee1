import { Option, type Command } from 'commander';
import { RunbookTypes } from '../../client';
import { groupArgument, numberOrText } from '../flags';
import { registerRunbookCommand, type RunbookCommandSpec } from '../runbook-command';
import { approvalFromFlags } from './force-failover';

interface FleetFlags {
  region?: string;
  groups?: string;
  mode?: string;
  concurrency?: string;
  approveBy?: string;
  approveReason?: string;
  approvalTimeout?: string;
  maxLagSeconds?: string;
  dryRun?: boolean;
}

/** `fogpilot fleet-failover (--region R | --groups a,b)`: a region's worth of groups. */
export const fleetFailoverCommand: RunbookCommandSpec<FleetFlags> = {
  name: 'fleet-failover',
  runbook: RunbookTypes.fleetFailover,
  summary: 'fail over every group of a region, or a list of groups, a few at a time (fleetFailover)',
  description:
    'Runs one planned (or forced) failover per group as child runbooks, at most --concurrency at once, each under ' +
    "its group's lock, and reports every group's outcome. In forced mode one approval covers the fleet.",
  examples: [
    'fogpilot fleet-failover --region eastus',
    'fogpilot fleet-failover --groups fog-sales,fog-billing --concurrency 2',
    'fogpilot fleet-failover --region eastus --mode forced --approve-by alice --approve-reason INC-42',
    'fogpilot fleet-failover --region eastus --dry-run --json',
  ],
  flags: (command) =>
    command
      .option('--region <region>', 'every inventory group with a location in this region')
      .option('--groups <a,b,…>', 'a comma-separated list of groups (instead of --region)')
      .addOption(new Option('--mode <mode>', 'planned or forced (default planned)').choices(['planned', 'forced']))
      .option('--concurrency <n>', 'groups at a time (default 5)')
      .option('--approve-by <who>', 'forced mode, pre-approved: who approves (with --approve-reason)')
      .option('--approve-reason <why>', 'forced mode, pre-approved: why (an incident id)')
      .option('--approval-timeout <duration>', 'forced mode: end without change when nobody approves within this')
      .option('--max-lag-seconds <n>', 'planned mode: refuse a group whose databases lag more than this')
      .option('--dry-run', 'evaluate each group and print the plan; change nothing'),
  toInput: (_group, options) => ({
    region: options.region,
    groups:
      options.groups === undefined
        ? undefined
        : options.groups
            .split(',')
            .map((entry) => entry.trim())
            .filter((entry) => entry !== '')
            .map(groupArgument),
    mode: options.mode,
    concurrency: options.concurrency === undefined ? undefined : numberOrText(options.concurrency),
    approval: approvalFromFlags(options.approveBy, options.approveReason),
    approvalTimeout: options.approvalTimeout,
    maxLagSeconds: options.maxLagSeconds === undefined ? undefined : numberOrText(options.maxLagSeconds),
    dryRun: options.dryRun,
  }),
  fieldFlags: {
    region: '--region or --groups',
    groups: '--groups',
    mode: '--mode',
    concurrency: '--concurrency',
    'approval.by': '--approve-by',
    'approval.reason': '--approve-reason',
    approvalTimeout: '--approval-timeout',
    maxLagSeconds: '--max-lag-seconds',
  },
};

export function registerFleetFailover(program: Command): Command {
  return registerRunbookCommand(program, fleetFailoverCommand);
}
