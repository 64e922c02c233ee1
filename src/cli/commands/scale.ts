import type { Command } from 'commander';
import { RunbookTypes } from '../../client';
import { groupArgument, numberOrText } from '../flags';
import { registerRunbookCommand, type RunbookCommandSpec } from '../runbook-command';

interface ScaleFlags {
  vcores?: string;
  storageGb?: string;
  sku?: string;
  scaleTimeout?: string;
  dryRun?: boolean;
}

/** `fogpilot scale <group>`: resize both instances in the safe order. */
export const scaleCommand: RunbookCommandSpec<ScaleFlags> = {
  name: 'scale',
  runbook: RunbookTypes.scaleGroup,
  summary: 'resize both instances of a group in the safe order (scaleGroup)',
  description:
    'Scaling up: the secondary first, then the primary; down: the primary first, then the secondary. Each ' +
    'operation is followed to its end in Azure (hours for a managed instance). Refused while a failover runs.',
  argument: { syntax: '<group>', description: 'inventory name, full ARM id, or coordinates as JSON' },
  examples: [
    'fogpilot scale fog-sales --vcores 16',
    'fogpilot scale fog-sales --vcores 8 --storage-gb 512 --dry-run',
    'fogpilot scale fog-sales --sku BC_Gen5 --no-wait',
  ],
  flags: (command) =>
    command
      .option('--vcores <n>', 'vCores for both instances: 4, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96 or 128')
      .option('--storage-gb <n>', 'storage for both instances in GB (a multiple of 32)')
      .option('--sku <name>', 'SKU for both instances, e.g. GP_Gen5 or BC_Gen5')
      .option('--scale-timeout <duration>', 'how long each operation may take (default 3 hours, at most 7 days)')
      .option('--dry-run', 'print the plan (order and sizes); change nothing'),
  toInput: (group, options) => ({
    group: group === undefined ? undefined : groupArgument(group),
    vCores: options.vcores === undefined ? undefined : numberOrText(options.vcores),
    storageSizeInGB: options.storageGb === undefined ? undefined : numberOrText(options.storageGb),
    sku: options.sku,
    scaleTimeout: options.scaleTimeout,
    dryRun: options.dryRun,
  }),
  fieldFlags: {
    vCores: '--vcores',
    storageSizeInGB: '--storage-gb',
    sku: '--sku',
    scaleTimeout: '--scale-timeout',
  },
};

export function registerScale(program: Command): Command {
  return registerRunbookCommand(program, scaleCommand);
}
