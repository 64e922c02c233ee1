/**
 * `fogpilot protect-workload`: its flags make a valid protectWorkload input, and a refused field names its flag. The
 * start is recorded, not sent (the runbook itself is tested in test/workflows/protect-workload*.test.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { InvalidRunbookInputError, validateRunbookInput, workflowIdFor } from '../../src/client';
import { protectWorkloadCommand } from '../../src/cli/commands/protect-workload';
import { ExitCodes } from '../../src/cli/errors';
import { invalidInputError } from '../../src/cli/flags';
import { registerRunbookCommand } from '../../src/cli/runbook-command';

const SUB = '00000000-0000-4000-8000-0000000f0c05';
const RG = `/subscriptions/${SUB}/resourceGroups/rg-app/providers`;
const VM_A = `${RG}/Microsoft.Compute/virtualMachines/vm-a`;
const VM_B = `${RG}/Microsoft.Compute/virtualMachines/vm-b`;
const VAULT = `${RG}/Microsoft.RecoveryServices/vaults/rsv-app`;
const ORDERS = `${RG}/Microsoft.DocumentDB/databaseAccounts/cosmos-orders`;

async function parse(argv: string[]): Promise<Record<string, unknown>> {
  let captured: Record<string, unknown> | undefined;
  const program = new Command('fogpilot').exitOverride();
  registerRunbookCommand(program, protectWorkloadCommand, (_spec, input) => {
    captured = input;
    return Promise.resolve();
  });
  await program.parseAsync(['node', 'fogpilot', 'protect-workload', ...argv]);
  assert.ok(captured, 'the command started');
  validateRunbookInput('protectWorkload', captured);
  const { requestedBy: _, ...input } = captured;
  return input;
}

describe('fogpilot protect-workload', () => {
  it('maps its flags to the input: VMs and accounts repeated or comma-separated, the pre-approval, the timeouts', async () => {
    const input = await parse([
      '--vm',
      `${VM_A},${VM_B}`,
      '--vault',
      VAULT,
      '--policy',
      'DefaultPolicy',
      '--cosmos-account',
      ORDERS,
      '--continuous-tier',
      'Continuous30Days',
      '--keep-on-demand-for',
      '14 days',
      '--backup-timeout',
      '2h',
      '--migration-timeout',
      '1 day',
      '--approve-by',
      'ops-b',
      '--approve-reason',
      'CHG-17',
      '--dry-run',
    ]);
    assert.deepEqual(input, {
      vms: [VM_A, VM_B],
      vault: VAULT,
      policy: 'DefaultPolicy',
      keepOnDemandFor: '14 days',
      backupTimeout: '2h',
      cosmosAccounts: [ORDERS],
      continuousTier: 'Continuous30Days',
      migrationTimeout: '1 day',
      approval: { by: 'ops-b', reason: 'CHG-17' },
      dryRun: true,
    });
    const repeated = await parse(['--cosmos-account', ORDERS, '--cosmos-account', ORDERS.replace('orders', 'catalog')]);
    assert.deepEqual(repeated.cosmosAccounts, [ORDERS, ORDERS.replace('orders', 'catalog')]);
  });

  it('names the flag of a refused field, with exit code 2', () => {
    let refused;
    try {
      validateRunbookInput('protectWorkload', { vms: [VM_A], policy: 'DefaultPolicy' });
    } catch (error) {
      assert.ok(error instanceof InvalidRunbookInputError);
      refused = invalidInputError(error, protectWorkloadCommand.fieldFlags);
    }
    assert.ok(refused);
    assert.equal(refused.exitCode, ExitCodes.usage);
    assert.match(refused.message, /vault \(--vault\): .*protecting vms needs vault/);
  });

  it("gets a workflow id of its own resources, not a group's or a fleet's: the same resources in any order are one", () => {
    const one = workflowIdFor(
      'protectWorkload',
      { vms: [VM_A, VM_B], cosmosAccounts: [ORDERS] },
      { idempotencyKey: 'CHG-17' },
    );
    const same = workflowIdFor(
      'protectWorkload',
      { vms: [VM_B.toUpperCase(), VM_A], cosmosAccounts: [ORDERS] },
      { idempotencyKey: 'CHG-17' },
    );
    const other = workflowIdFor('protectWorkload', { vms: [VM_A] }, { idempotencyKey: 'CHG-17' });
    assert.match(one, /^fogpilot\/protectWorkload\/workload-3~[0-9a-f]{32}\/CHG-17$/);
    assert.equal(same, one);
    assert.notEqual(other, one);
  });
});
