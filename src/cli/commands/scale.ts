import { InvalidArgumentError, type Command } from 'commander';
import { RunbookTypes } from '../../client';
import { groupArgument, numberOrText } from '../flags';
import { registerRunbookCommand, type RunbookCommandSpec } from '../runbook-command';

interface ScaleFlags {
  vcores?: string;
  storageGb?: string;
  sku?: string;
  database?: Record<string, string>;
  elasticPool?: Record<string, string>;
  scaleTimeout?: string;
  dryRun?: boolean;
}

/** `--database orders=GP_Gen5_4` (repeatable): one name and its SKU, added to those before. */
const namedSku =
  (what: string, example: string) =>
  (value: string, previous: Record<string, string> = {}): Record<string, string> => {
    const at = value.indexOf('=');
    if (at <= 0 || at === value.length - 1)
      throw new InvalidArgumentError(`write it as <${what}>=<SKU>, e.g. ${example}`);
    return { ...previous, [value.slice(0, at).trim()]: value.slice(at + 1).trim() };
  };

/** `fogpilot scale <group>`: resize both instances (or a SQL Database group's databases and pools) in the safe order. */
export const scaleCommand: RunbookCommandSpec<ScaleFlags> = {
  name: 'scale',
  runbook: RunbookTypes.scaleGroup,
  summary: 'resize both instances of a group, or its databases and pools, in the safe order (scaleGroup)',
  description:
    'Scaling up: the secondary first, then the primary; down: the primary first, then the secondary. Each ' +
    'operation is followed to its end in Azure (hours for a managed instance). Refused while a failover runs. ' +
    'A Managed Instance group takes --vcores, --storage-gb and --sku; a SQL Database group takes --database and ' +
    '--elastic-pool (a pooled database is scaled through its pool).',
  argument: { syntax: '<group>', description: 'inventory name, full ARM id, or coordinates as JSON' },
  examples: [
    'fogpilot scale fog-sales --vcores 16',
    'fogpilot scale fog-sales --vcores 8 --storage-gb 512 --dry-run',
    'fogpilot scale fog-sales --sku BC_Gen5 --no-wait',
    'fogpilot scale fog-orders --database orders=GP_Gen5_4 --elastic-pool orders-pool=GP_Gen5_8',
    'fogpilot scale fog-orders --database orders=S3 --dry-run',
  ],
  flags: (command) =>
    command
      .option('--vcores <n>', 'vCores for both instances: 4, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96 or 128')
      .option('--storage-gb <n>', 'storage for both instances in GB (a multiple of 32)')
      .option('--sku <name>', 'SKU for both instances, e.g. GP_Gen5 or BC_Gen5')
      .option(
        '--database <name=sku>',
        'SQL Database groups: a member database and its SKU on both servers, e.g. orders=GP_Gen5_4 or orders=S3 (repeatable)',
        namedSku('database', 'orders=GP_Gen5_4'),
      )
      .option(
        '--elastic-pool <name=sku>',
        'SQL Database groups: an elastic pool of member databases and its SKU on both servers, e.g. orders-pool=GP_Gen5_8 (repeatable)',
        namedSku('pool', 'orders-pool=GP_Gen5_8'),
      )
      .option('--scale-timeout <duration>', 'how long each operation may take (default 3 hours, at most 7 days)')
      .option('--dry-run', 'print the plan (order and sizes); change nothing'),
  toInput: (group, options) => ({
    group: group === undefined ? undefined : groupArgument(group),
    vCores: options.vcores === undefined ? undefined : numberOrText(options.vcores),
    storageSizeInGB: options.storageGb === undefined ? undefined : numberOrText(options.storageGb),
    sku: options.sku,
    databases: options.database,
    elasticPools: options.elasticPool,
    scaleTimeout: options.scaleTimeout,
    dryRun: options.dryRun,
  }),
  fieldFlags: {
    vCores: '--vcores',
    storageSizeInGB: '--storage-gb',
    sku: '--sku',
    databases: '--database',
    elasticPools: '--elastic-pool',
    scaleTimeout: '--scale-timeout',
  },
};

export function registerScale(program: Command): Command {
  return registerRunbookCommand(program, scaleCommand);
}
