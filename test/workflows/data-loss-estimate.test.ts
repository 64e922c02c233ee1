/**
 * The forced failover's per-database data-loss estimate, as a pure function of the replication links each side
 * reported: which figure each database gets, from which source, and why when there is none.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DatabaseReplicationLink } from '../../src/domain/azure-state';
import {
  EstimateSources,
  describeDataLossEstimate,
  estimateDataLoss,
  lossEvidence,
  partnerSqlTarget,
} from '../../src/workflows/steps/data-loss-estimate';
import type { ManagedInstanceView } from '../../src/domain/azure-state';
import { resolvedGroup } from '../../src/domain/group-ref';

const READ_AT = Date.parse('2026-11-22T01:00:00.000Z');
const at = (secondsBeforeRead: number) => new Date(READ_AT - secondsBeforeRead * 1000).toISOString();

function link(
  database: string,
  role: 'PRIMARY' | 'SECONDARY',
  fields: Partial<DatabaseReplicationLink> = {},
): DatabaseReplicationLink {
  return {
    database,
    partnerServer: role === 'PRIMARY' ? 'mi-westus' : 'mi-eastus',
    partnerDatabase: database,
    role,
    replicationState: 'CATCH_UP',
    lagSeconds: role === 'PRIMARY' ? 1 : null,
    ...fields,
  };
}

const secondary = (links: DatabaseReplicationLink[]) => ({ instance: 'mi-westus', links });
const primary = (links: DatabaseReplicationLink[]) => ({ instance: 'mi-eastus', links });
const unreachable = { instance: 'mi-eastus', error: 'mi-eastus.zone.database.windows.net does not answer' };

describe('estimateDataLoss', () => {
  it("measures each database as the primary's last_commit minus the secondary's when both answer", () => {
    const estimate = estimateDataLoss({
      secondary: secondary([link('sales', 'SECONDARY', { lastCommit: at(12) })]),
      primary: primary([link('sales', 'PRIMARY', { lastCommit: at(5), lastReplication: at(5), lagSeconds: 7 })]),
      readAtMs: READ_AT,
    });
    assert.deepEqual(estimate.databases, [
      {
        database: 'sales',
        lagSeconds: 7,
        lastReplication: at(5),
        replicationState: 'CATCH_UP',
        secondaryLastCommit: at(12),
        primaryLastCommit: at(5),
        kind: 'measured',
        seconds: 7,
        source: EstimateSources.bothSides,
      },
    ]);
    assert.equal(estimate.seconds, 7);
    assert.equal(estimate.upperBound, undefined);
    assert.equal(estimate.method, 'last-commit');
  });

  it('bounds each database from the time since the secondary last committed when the primary does not answer', () => {
    const estimate = estimateDataLoss({
      secondary: secondary([link('sales', 'SECONDARY', { lastCommit: at(90) })]),
      primary: unreachable,
      readAtMs: READ_AT,
    });
    assert.equal(estimate.databases[0]!.kind, 'upper-bound');
    assert.equal(estimate.databases[0]!.seconds, 90);
    assert.equal(estimate.databases[0]!.source, 'secondary last_commit only (primary unreachable): upper bound');
    assert.equal(estimate.upperBound, true);
    assert.match(
      estimate.basis,
      /mi-eastus did not answer \(mi-eastus\.zone\.database\.windows\.net does not answer\)/,
    );
  });

  it('falls back to a bound from the secondary when the answering primary reports no last_commit for a database', () => {
    const estimate = estimateDataLoss({
      secondary: secondary([link('sales', 'SECONDARY', { lastCommit: at(3) })]),
      primary: primary([link('sales', 'PRIMARY')]),
      readAtMs: READ_AT,
    });
    assert.deepEqual(
      [estimate.databases[0]!.kind, estimate.databases[0]!.seconds, estimate.databases[0]!.source],
      ['upper-bound', 3, EstimateSources.primaryWithoutCommit],
    );
  });

  it('lists SEEDING and PENDING databases as lost whole, and a database only the primary holds too', () => {
    const estimate = estimateDataLoss({
      secondary: secondary([
        link('sales', 'SECONDARY', { lastCommit: at(1) }),
        link('ledger', 'SECONDARY', { replicationState: 'SEEDING' }),
        link('audit', 'SECONDARY', { replicationState: 'PENDING' }),
      ]),
      primary: primary([link('sales', 'PRIMARY', { lastCommit: at(1) }), link('fresh', 'PRIMARY')]),
      readAtMs: READ_AT,
    });
    assert.deepEqual(
      estimate.databases.map((entry) => [entry.database, entry.kind, entry.replicationState]),
      [
        ['sales', 'measured', 'CATCH_UP'],
        ['ledger', 'lost-whole', 'SEEDING'],
        ['audit', 'lost-whole', 'PENDING'],
        ['fresh', 'lost-whole', undefined],
      ],
    );
    assert.deepEqual(estimate.lostWhole, ['ledger', 'audit', 'fresh']);
    assert.equal(estimate.seconds, 0, 'the figure in seconds covers the databases that have one');
    assert.match(estimate.databases[3]!.reason!, /mi-westus has no copy of it/);
    assert.match(describeDataLossEstimate(estimate), /; lost whole: ledger, audit, fresh \(from /);
  });

  it('keeps the figure of a SUSPENDED database and says the gap grows while it lasts', () => {
    const estimate = estimateDataLoss({
      secondary: secondary([link('sales', 'SECONDARY', { replicationState: 'SUSPENDED', lastCommit: at(40) })]),
      primary: primary([link('sales', 'PRIMARY', { replicationState: 'SUSPENDED', lastCommit: at(0) })]),
      readAtMs: READ_AT,
    });
    const [sales] = estimate.databases;
    assert.deepEqual([sales!.kind, sales!.seconds, sales!.replicationState], ['measured', 40, 'SUSPENDED']);
    assert.match(sales!.reason!, /SUSPENDED on mi-westus: replication is not running/);
  });

  it('gives unknown with the reason for a missing last_commit, an unknown state or a database with no link', () => {
    const estimate = estimateDataLoss({
      secondary: secondary([
        link('sales', 'SECONDARY'),
        link('odd', 'SECONDARY', { replicationState: 'RE_SEEDING', lastCommit: at(1) }),
        { ...link('local', 'SECONDARY'), role: 'NONE', replicationState: 'NONE' },
      ]),
      primary: unreachable,
      readAtMs: READ_AT,
    });
    assert.deepEqual(
      estimate.databases.map((entry) => [entry.database, entry.kind, entry.reason]),
      [
        ['sales', 'unknown', 'mi-westus reported no last_commit for it and the primary did not answer'],
        ['odd', 'unknown', 'replication state RE_SEEDING on mi-westus is not one known to hold a consistent copy'],
        [
          'local',
          'unknown',
          'mi-westus reports no geo-replication link for it: it is not a copy of a database on the primary',
        ],
      ],
    );
    assert.equal(estimate.seconds, undefined);
    assert.deepEqual(estimate.unknown, ['sales', 'odd', 'local']);
    assert.match(describeDataLossEstimate(estimate), /^Estimate: unknown \(last_commit on mi-westus only/);
  });

  it('is unknown, with the reason, when the secondary could not be read', () => {
    const estimate = estimateDataLoss({
      secondary: { instance: 'mi-westus', error: 'login failed' },
      readAtMs: READ_AT,
    });
    assert.deepEqual(estimate, {
      method: 'last-commit',
      basis: 'the links on mi-westus could not be read: login failed',
      databases: [],
    });
    assert.equal(
      describeDataLossEstimate(estimate),
      'Estimate: unknown (the links on mi-westus could not be read: login failed).',
    );
  });

  it('describes an estimate from a run before per-database estimates as it always did', () => {
    const old = {
      seconds: 4,
      basis: 'the replication lag mi-westus reported',
      databases: [{ database: 'sales', lagSeconds: 4, lastReplication: at(4) }],
    };
    assert.equal(
      describeDataLossEstimate(old),
      'Estimate: at most the last 4s of commits (from the replication lag mi-westus reported).',
    );
    assert.deepEqual(lossEvidence(old), [{ database: 'sales', evidence: `last replicated ${at(4)}` }]);
    assert.equal(
      describeDataLossEstimate({ basis: 'mi-westus reported no replication times', databases: [] }),
      'Estimate: unknown (mi-westus reported no replication times).',
    );
  });
});

describe('partnerSqlTarget', () => {
  it("puts the partner's name in front of the DNS zone both instances of a group share, and carries the group's ARM identity", () => {
    const target = { fullyQualifiedDomainName: 'mi-westus.abc123.database.usgovcloudapi.net' } as ManagedInstanceView;
    const group = resolvedGroup({
      subscriptionId: 's',
      resourceGroup: 'rg',
      name: 'fog',
      primaryLocation: 'eastus',
      secondaryLocation: 'westus',
    });
    assert.deepEqual(
      partnerSqlTarget(
        target,
        '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/mi-eastus',
        group,
      ),
      {
        instanceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/mi-eastus',
        host: 'mi-eastus.abc123.database.usgovcloudapi.net',
        group: 'fog',
        groupId: { subscriptionId: 's', resourceGroup: 'rg', name: 'fog' },
      },
    );
  });
});
