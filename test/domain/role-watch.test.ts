/**
 * Reading many groups' roles from list calls (the scopes they need, one group's roles from the answers) and judging
 * whether a fogpilot runbook made a change: the pure parts of watchGroups.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FailoverGroupView } from '../../src/domain/azure-state';
import type { GroupCoordinates } from '../../src/domain/group-ref';
import { parseRunbookInput, WatchGroupsInputSchema } from '../../src/domain/inputs';
import { readRolesFromScopes, scopeKey, scopesOf, type ScopeAnswer } from '../../src/domain/role-watch';
import { judgeChange } from '../../src/workflows/steps/watch-steps';

const SUB = '00000000-1111-2222-3333-444444444444';

function group(name: string, resourceGroup = 'rg-fog', primary = 'eastus', secondary = 'westus'): GroupCoordinates {
  return { subscriptionId: SUB, resourceGroup, name, primaryLocation: primary, secondaryLocation: secondary };
}

function view(name: string, location: string, role: string, state = 'CATCH_UP'): FailoverGroupView {
  const partner = location === 'eastus' ? 'westus' : 'eastus';
  return {
    id: `id-${name}-${location}`,
    name,
    location,
    replicationRole: role,
    replicationState: state,
    partnerLocation: partner,
    partnerRole: role === 'Primary' ? 'Secondary' : 'Primary',
    primaryManagedInstanceId: 'mi-a',
    partnerManagedInstanceId: 'mi-b',
    readWriteFailoverPolicy: 'Automatic',
  };
}

function answers(entries: [string, ScopeAnswer][]): Map<string, ScopeAnswer> {
  return new Map(
    entries.map(([location, answer]) => [scopeKey({ subscriptionId: SUB, resourceGroup: 'rg-fog', location }), answer]),
  );
}

describe('the scopes of a watch', () => {
  it('lists each subscription, resource group and location once, whatever the case, however many groups share it', () => {
    const scopes = scopesOf([
      group('fog-a'),
      group('fog-b', 'RG-FOG', 'westus', 'eastus'),
      group('fog-c', 'rg-other', 'East US', 'westus'),
    ]);
    assert.deepEqual(
      scopes.map((scope) => scopeKey(scope)),
      [`${SUB}/rg-fog/eastus`, `${SUB}/rg-fog/westus`, `${SUB}/rg-other/eastus`, `${SUB}/rg-other/westus`],
    );
  });
});

describe("one group's roles from its scopes' answers", () => {
  it('reads the roles when both locations agree', () => {
    const reading = readRolesFromScopes(
      group('fog-a'),
      answers([
        ['eastus', { views: [view('fog-b', 'eastus', 'Primary'), view('fog-a', 'eastus', 'Secondary')] }],
        ['westus', { views: [view('fog-a', 'westus', 'Primary')] }],
      ]),
    );
    assert.equal(reading.read, 'both');
    assert.equal(reading.primaryLocation, 'westus');
    assert.equal(reading.secondaryLocation, 'eastus');
    assert.equal(reading.replicationStatus, 'synchronizing');
  });

  it('takes the surviving location alone when it says Primary and the other did not answer', () => {
    const reading = readRolesFromScopes(
      group('fog-a'),
      answers([
        ['eastus', { error: 'ArmUnavailable: connection reset' }],
        ['westus', { views: [view('fog-a', 'westus', 'Primary')] }],
      ]),
    );
    assert.equal(reading.read, 'survivor');
    assert.equal(reading.primaryLocation, 'westus');
    assert.match(reading.detail, /eastus did not answer: ArmUnavailable/);
  });

  it('names no primary when the only answer says Secondary, when both claim Primary, or when a location does not list it', () => {
    const secondaryAlone = readRolesFromScopes(
      group('fog-a'),
      answers([
        ['eastus', { error: 'dark' }],
        ['westus', { views: [view('fog-a', 'westus', 'Secondary')] }],
      ]),
    );
    assert.equal(secondaryAlone.read, 'ambiguous');
    assert.equal(secondaryAlone.primaryLocation, undefined);
    const twoPrimaries = readRolesFromScopes(
      group('fog-a'),
      answers([
        ['eastus', { views: [view('fog-a', 'eastus', 'Primary')] }],
        ['westus', { views: [view('fog-a', 'westus', 'Primary')] }],
      ]),
    );
    assert.equal(twoPrimaries.read, 'ambiguous');
    const notListed = readRolesFromScopes(
      group('fog-a'),
      answers([
        ['eastus', { views: [] }],
        ['westus', { views: [view('fog-a', 'westus', 'Primary')] }],
      ]),
    );
    assert.equal(notListed.read, 'ambiguous', 'a location that answered without the group is not a dark region');
    const nothing = readRolesFromScopes(group('fog-a'), answers([['eastus', { error: 'dark' }]]));
    assert.equal(nothing.read, 'unread');
  });
});

describe('whose change it was', () => {
  const previous = '2026-01-01T10:00:00.000Z';
  it("is fogpilot's when a runbook that switches roles held the lock, or ended after the previous look", () => {
    assert.equal(
      judgeChange({ running: true, workflowType: 'plannedFailover', runId: 'r1' }, previous).byFogpilot,
      true,
    );
    const endedAfter = judgeChange(
      {
        running: false,
        workflowType: 'failback',
        runId: 'r2',
        closeStatus: 'COMPLETED',
        closedAt: '2026-01-01T10:00:30.000Z',
      },
      previous,
    );
    assert.equal(endedAfter.byFogpilot, true);
    assert.match(endedAfter.explanation, /failback \(run r2\) held the group's lock and ended \(COMPLETED\)/);
  });

  it("is not fogpilot's when the lock was free since the previous look, never held, held by a scale, or unreadable", () => {
    const endedBefore = judgeChange(
      { running: false, workflowType: 'plannedFailover', runId: 'r3', closedAt: '2026-01-01T09:59:00.000Z' },
      previous,
    );
    assert.equal(endedBefore.byFogpilot, false);
    assert.match(endedBefore.explanation, /no fogpilot runbook held the group's lock since the previous look/);
    assert.equal(judgeChange({ running: false }, previous).byFogpilot, false);
    const scaling = judgeChange({ running: true, workflowType: 'scaleGroup', runId: 'r4' }, previous);
    assert.equal(scaling.byFogpilot, false);
    assert.match(scaling.explanation, /never switches roles/);
    assert.equal(judgeChange({ running: false, error: 'deadline exceeded' }, previous).byFogpilot, false);
    assert.equal(judgeChange(undefined, previous).byFogpilot, false);
  });
});

describe('the watchGroups input', () => {
  it('applies the defaults: every inventory group, one look a minute, no failback, a 7-day failback wait', () => {
    const parsed = parseRunbookInput(WatchGroupsInputSchema, {});
    assert.ok(parsed.ok);
    assert.equal(parsed.value.groups, undefined);
    assert.equal(parsed.value.interval, 60_000);
    assert.equal(parsed.value.startFailback, false);
    assert.equal(parsed.value.failbackWaitTimeout, 7 * 86_400_000);
  });

  it('refuses an interval outside 15 seconds to 1 hour, an empty list and unknown fields, naming each field', () => {
    const parsed = parseRunbookInput(WatchGroupsInputSchema, {
      interval: '5 seconds',
      groups: [],
      startFailBack: true,
    });
    assert.equal(parsed.ok, false);
    const problems = parsed.ok ? [] : parsed.problems;
    assert.deepEqual(problems.map((problem) => problem.field).sort(), ['groups', 'interval', 'startFailBack']);
    assert.match(problems.find((p) => p.field === 'interval')!.message, /between 15 seconds and 1 hour/);
    assert.match(problems.find((p) => p.field === 'startFailBack')!.message, /did you mean "startFailback"/);
  });
});
