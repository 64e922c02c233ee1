import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config';
import { findHook, planHooks } from '../../src/hooks/plan';
import { writeTempConfig } from '../support/temp-files';

const yaml = `
inventory:
  fog-sales:
    subscriptionId: 00000000-1111-2222-3333-444444444444
    resourceGroup: rg-data
    primaryLocation: eastus
    secondaryLocation: westus
    hooks:
      before:
        - name: disable-jobs
          url: https://jobs.example.com/api/pause?scope=sales
          headers: { Authorization: { env: JOBS_TOKEN }, X-Team: data }
      after:
        - name: purge-cache
          url: https://cache.example.com/purge
          method: PUT
          timeout: 2 minutes
          attempts: 5
          expectStatus: [200, 202]
          onFailure: fail
  fog-other:
    subscriptionId: 00000000-1111-2222-3333-444444444444
    resourceGroup: rg-data
    primaryLocation: eastus
    secondaryLocation: westus
`;

describe('hook plans', () => {
  const config = loadConfig({ env: {}, path: writeTempConfig(yaml) });

  it('gives the workflow names, bounds and URLs without query strings, never header values', () => {
    const plan = planHooks(config, 'fog-sales');
    assert.deepEqual(plan, {
      before: [
        {
          name: 'disable-jobs',
          phase: 'before',
          method: 'POST',
          url: 'https://jobs.example.com/api/pause',
          timeoutMs: 30_000,
          attempts: 3,
          onFailure: 'stop',
        },
      ],
      after: [
        {
          name: 'purge-cache',
          phase: 'after',
          method: 'PUT',
          url: 'https://cache.example.com/purge',
          timeoutMs: 120_000,
          attempts: 5,
          onFailure: 'fail',
          expectStatus: [200, 202],
        },
      ],
    });
    assert.ok(!JSON.stringify(plan).includes('JOBS_TOKEN'));
  });

  it('plans nothing for a group without hooks or outside the inventory', () => {
    assert.deepEqual(planHooks(config, 'fog-other'), { before: [], after: [] });
    assert.deepEqual(planHooks(config, 'nowhere'), { before: [], after: [] });
    assert.deepEqual(planHooks(config, 'constructor'), { before: [], after: [] });
  });

  it('finds a hook again by group, phase and name, for the activity that runs it', () => {
    assert.equal(findHook(config, 'fog-sales', 'after', 'purge-cache')?.method, 'PUT');
    assert.equal(findHook(config, 'fog-sales', 'before', 'purge-cache'), undefined);
    assert.equal(findHook(config, 'fog-other', 'before', 'disable-jobs'), undefined);
  });
});
