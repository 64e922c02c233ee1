/**
 * `fogpilot scale` for SQL Database groups: `--database name=SKU` and `--elastic-pool name=SKU` (repeatable) make
 * scaleGroup's `databases` and `elasticPools`; a malformed pair is refused by the command, a malformed SKU by the
 * input's validation, naming the field.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { InvalidRunbookInputError, validateRunbookInput } from '../../src/client';
import { scaleCommand } from '../../src/cli/commands/scale';
import { registerRunbookCommand } from '../../src/cli/runbook-command';

async function inputOf(argv: string[]): Promise<Record<string, unknown>> {
  let captured: Record<string, unknown> | undefined;
  const program = new Command('fogpilot').exitOverride().configureOutput({ writeErr: () => undefined });
  registerRunbookCommand(program, scaleCommand, (_spec, input) => {
    captured = input;
    return Promise.resolve();
  });
  await program.parseAsync(['node', 'fogpilot', 'scale', ...argv]);
  assert.ok(captured, 'the command started');
  const { requestedBy: _requestedBy, ...input } = captured;
  return input;
}

describe('fogpilot scale for SQL Database groups', () => {
  it('maps repeated --database and --elastic-pool flags to databases and elasticPools', async () => {
    const input = await inputOf([
      'fog-orders',
      '--database',
      'orders=GP_Gen5_4',
      '--database',
      'ledger=S3',
      '--elastic-pool',
      'orders-pool=GP_Gen5_8',
      '--dry-run',
    ]);
    assert.deepEqual(input, {
      group: 'fog-orders',
      databases: { orders: 'GP_Gen5_4', ledger: 'S3' },
      elasticPools: { 'orders-pool': 'GP_Gen5_8' },
      dryRun: true,
    });
    validateRunbookInput('scaleGroup', input);
  });

  it('refuses a --database without a SKU, saying how to write it', async () => {
    await assert.rejects(inputOf(['fog-orders', '--database', 'orders']), /write it as <database>=<SKU>/);
  });

  it('leaves a SKU it does not know to the input validation, which names the field', async () => {
    const input = await inputOf(['fog-orders', '--database', 'orders=GP_Gen5']);
    assert.throws(
      () => validateRunbookInput('scaleGroup', input),
      (error: unknown) =>
        error instanceof InvalidRunbookInputError &&
        error.problems.some(
          (problem) => problem.field === 'databases.orders' && /GP_Gen5_<vCores>/.test(problem.message),
        ),
    );
  });
});
