/**
 * A dry run's plan is made of the runbook's step declarations: a step declared in the list shows in the plan where it
 * runs, with the text it declares, and nothing else has to be kept in step with it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InstanceReading } from '../../src/activities';
import type { DatabaseReplicationLink, ManagedInstanceView } from '../../src/domain/azure-state';
import type { GateResult } from '../../src/workflows/definitions';
import { plannedLegPlan, plannedLegSteps } from '../../src/workflows/planned-failover';
import { sendPlannedFailoverStep } from '../../src/workflows/steps/leg-switch';
import type { LegView, PlannedLegParams, PreflightResult } from '../../src/workflows/steps/planned-leg';
import { declareStep, planOf } from '../../src/workflows/steps/step-declaration';

const params: PlannedLegParams = {
  maxLagSeconds: 30,
  scaleSecondary: 'match',
  roleSwitchTimeout: 15 * 60_000,
  syncTimeout: 10 * 60_000,
  writableTimeout: 10 * 60_000,
  scaleTimeout: 3 * 3_600_000,
  dryRun: true,
};

function instance(name: string, location: string, vCores: number): InstanceReading {
  const view: ManagedInstanceView = {
    id: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/${name}`,
    name,
    location,
    skuName: 'GP_Gen5',
    tier: 'GeneralPurpose',
    vCores,
    storageSizeInGB: 256,
    provisioningState: 'Succeeded',
    state: 'Ready',
    fullyQualifiedDomainName: `${name}.zone.database.windows.net`,
  };
  return { instance: view, operationsInFlight: [] };
}

/** What a preflight of a healthy group failing over from eastus to westus reads, with `gates` as given. */
function viewOf(gates: GateResult[] = []): LegView {
  const link: DatabaseReplicationLink = {
    database: 'sales',
    partnerServer: 'mi-west',
    partnerDatabase: 'sales',
    role: 'PRIMARY',
    replicationState: 'CATCH_UP',
    lagSeconds: 1,
  };
  const preflight = {
    gates,
    from: 'eastus',
    target: 'westus',
    primary: instance('mi-east', 'eastus', 8),
    secondary: instance('mi-west', 'westus', 4),
    links: [link],
  } as Partial<PreflightResult> as PreflightResult;
  return { params, preflight };
}

/** A step the test adds: tell the application team before the point of no return. */
const announce = declareStep<LegView>({
  name: 'announce',
  title: () => 'Tell the application team',
  plan: ({ preflight }) => preflight && `post to #ops that ${preflight.target} becomes primary`,
  body: () => Promise.resolve(),
});

describe('dry-run plans derive from the step declarations', () => {
  it('a step declared in the planned leg shows in its dry-run plan, where it runs and with its text', () => {
    const steps = [...plannedLegSteps];
    steps.splice(steps.indexOf(sendPlannedFailoverStep), 0, announce);
    const plan = plannedLegPlan(viewOf(), 'failback/', steps);
    assert.deepEqual(
      plan.map((item) => item.step),
      [
        'failback/scale-secondary',
        'failback/verify-sync',
        'failback/announce',
        'failback/failover',
        'failback/await-roles',
        'failback/await-writable',
        'failback/post-checks',
      ],
    );
    assert.equal(plan[2]!.action, 'post to #ops that westus becomes primary');
    assert.match(plan[0]!.action, /scale mi-west from 4 to 8 vCores/);
  });

  it('the plan of the declared leg has no step the declarations do not have', () => {
    assert.deepEqual(
      plannedLegPlan(viewOf()).map((item) => item.step),
      ['scale-secondary', 'verify-sync', 'failover', 'await-roles', 'await-writable', 'post-checks'],
    );
  });

  it('a gate that blocks stops the plan at the preflight: a step declared after it is not planned', () => {
    const blocked: GateResult = { name: 'replication-lag', status: 'fail', message: 'lag 90s', evidence: {} };
    const plan = plannedLegPlan(viewOf([blocked]), '', [...plannedLegSteps, announce]);
    assert.deepEqual(plan, [
      {
        step: 'preflight',
        action: 'blocked by replication-lag: the runbook would stop here and change nothing',
      },
    ]);
  });

  it('a step declared without plan text runs but is left out of the plan', () => {
    const silent = declareStep<LegView>({ name: 'silent', title: () => 'Log a line', body: () => Promise.resolve() });
    assert.deepEqual(
      planOf([announce, silent], viewOf()).map((item) => item.step),
      ['announce'],
    );
  });
});
