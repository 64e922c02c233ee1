/**
 * The drift checks of a SQL Database server failover group, as pure functions of hand-made readings: each pair of
 * member databases (service objective through the pool, backup redundancy), the membership, and the member databases'
 * users against the partner server's logins. The workflow on the time-skipping server is in
 * readiness-sql-database.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InstanceReading } from '../../src/activities';
import type { ElasticPoolView, SqlDatabaseView, SqlSku } from '../../src/domain/azure-state';
import type { LoginInfo } from '../../src/sql/data-plane';
import type { GateResult } from '../../src/workflows/definitions';
import {
  databaseUsersCheck,
  evaluateSqlDatabaseDriftChecks,
  membershipMissingCheck,
  membershipOutsideGroupCheck,
  serviceObjectiveCheck,
  databaseBackupRedundancyCheck,
  databasePairs,
} from '../../src/workflows/steps/drift-sql-database';
import { evaluateDriftChecks } from '../../src/workflows/steps/readiness';
import type { DriftReadings } from '../../src/workflows/steps/drift-readings';

const RG = '/subscriptions/sub/resourceGroups/rg-fog/providers/Microsoft.Sql/servers';
const GP = (capacity: number): SqlSku => ({ name: 'GP_Gen5', tier: 'GeneralPurpose', family: 'Gen5', capacity });

interface SideSpec {
  databases?: Record<string, { sku?: SqlSku; pool?: string; redundancy?: string }>;
  pools?: Record<string, SqlSku>;
  missing?: string[];
  other?: string[];
}

function side(server: string, location: string, spec: SideSpec = {}): InstanceReading {
  const pools: ElasticPoolView[] = Object.entries(spec.pools ?? {}).map(([name, sku]) => ({
    id: `${RG}/${server}/elasticPools/${name}`,
    name,
    serverName: server,
    location,
    sku,
  }));
  const databases: SqlDatabaseView[] = Object.entries(spec.databases ?? { orders: {} }).map(([name, db]) => ({
    id: `${RG}/${server}/databases/${name}`,
    name,
    serverName: server,
    location,
    sku: db.pool ? { name: 'ElasticPool', tier: 'GeneralPurpose', capacity: 0 } : (db.sku ?? GP(2)),
    ...(db.pool ? { elasticPoolId: `${RG}/${server}/elasticPools/${db.pool}` } : {}),
    currentBackupStorageRedundancy: db.redundancy ?? 'Geo',
  }));
  return {
    instance: {
      id: `${RG}/${server}/failoverGroups/fog-orders`,
      name: server,
      location,
      skuName: 'SqlDatabase',
      tier: 'SqlDatabase',
      vCores: 0,
      storageSizeInGB: 0,
      provisioningState: 'Succeeded',
      state: 'Ready',
      fullyQualifiedDomainName: `${server}.database.windows.net`,
    },
    operationsInFlight: [],
    serverSide: {
      server: {
        id: `${RG}/${server}`,
        name: server,
        location,
        fullyQualifiedDomainName: `${server}.database.windows.net`,
      },
      databases,
      elasticPools: pools,
      missingDatabases: spec.missing ?? [],
      otherDatabases: spec.other ?? [],
    },
  };
}

const pairOf = (primary: InstanceReading, secondary: InstanceReading, database = 'orders') => {
  const pair = databasePairs(primary, secondary).find((entry) => entry.primary.name === database);
  assert.ok(pair, `${database} is on both servers`);
  return pair;
};

const login = (name: string, sid: string): LoginInfo => ({ name, sid, type: 'S' });
const user = (database: string, name: string, sid: string, authenticationType: string, type = 'S'): LoginInfo => ({
  name,
  sid,
  type,
  database,
  authenticationType,
});

describe('SQL Database drift checks', () => {
  const east = side('orders-eus', 'eastus');
  const west = side('orders-wus', 'westus');

  it('passes a pair of databases with the same service objective, and compares a pooled one through its pool', () => {
    assert.equal(serviceObjectiveCheck(east, west, pairOf(east, west), true).status, 'pass');
    const pooled: SideSpec = { databases: { billing: { pool: 'p' } }, pools: { p: GP(4) } };
    const [a, b] = [side('orders-eus', 'eastus', pooled), side('orders-wus', 'westus', pooled)];
    const check = serviceObjectiveCheck(a, b, pairOf(a, b, 'billing'), true);
    assert.equal(check.status, 'pass', check.message);
    assert.match(check.message, /pool p GP_Gen5 \(4\)/);
  });

  it('warns about less compute on the secondary, fails a lower edition, and names the scale to make', () => {
    const small = side('orders-wus', 'westus', { databases: { orders: { sku: GP(1) } } });
    const fewer = serviceObjectiveCheck(east, small, pairOf(east, small), true);
    assert.equal(fewer.name, 'config-sku/orders');
    assert.equal(fewer.status, 'warn');
    assert.match(fewer.action ?? '', /scaleGroup \{"databases": \{"orders": "GP_Gen5_2"\}\}/);

    const premium = side('orders-eus', 'eastus', {
      databases: { orders: { sku: { name: 'P2', tier: 'Premium', capacity: 250 } } },
    });
    const standard = side('orders-wus', 'westus', {
      databases: { orders: { sku: { name: 'S3', tier: 'Standard', capacity: 100 } } },
    });
    const lower = serviceObjectiveCheck(premium, standard, pairOf(premium, standard), true);
    assert.equal(lower.status, 'fail', lower.message);
    assert.match(lower.action ?? '', /"P2"/);

    // The planned failover's secondary-size gate scales a smaller secondary first: its preflight leaves it be.
    assert.equal(serviceObjectiveCheck(east, small, pairOf(east, small), false).status, 'pass');
  });

  it("compares pools' SKUs, and warns about a database pooled on one server only", () => {
    const primary = side('orders-eus', 'eastus', { databases: { billing: { pool: 'p' } }, pools: { p: GP(8) } });
    const secondary = side('orders-wus', 'westus', { databases: { billing: { pool: 'p' } }, pools: { p: GP(4) } });
    const check = serviceObjectiveCheck(primary, secondary, pairOf(primary, secondary, 'billing'), true);
    assert.equal(check.status, 'warn');
    assert.match(check.action ?? '', /\{"elasticPools": \{"p": "GP_Gen5_8"\}\}/);

    const alone = side('orders-wus', 'westus', { databases: { billing: { sku: GP(8) } } });
    const mixed = serviceObjectiveCheck(primary, alone, pairOf(primary, alone, 'billing'), true);
    assert.equal(mixed.status, 'warn');
    assert.match(mixed.message, /in elastic pool p on orders-eus but has a SKU of its own on orders-wus/);
  });

  it('warns when the copies keep their backups on different storage redundancy', () => {
    assert.equal(databaseBackupRedundancyCheck(east, west, pairOf(east, west)).status, 'pass');
    const local = side('orders-wus', 'westus', { databases: { orders: { redundancy: 'Local' } } });
    const check = databaseBackupRedundancyCheck(east, local, pairOf(east, local));
    assert.equal(check.name, 'config-backup-redundancy/orders');
    assert.equal(check.status, 'warn');
    assert.match(check.message, /cannot be geo-restored/);
    assert.match(check.action ?? '', /--backup-storage-redundancy Geo/);
  });

  it('warns about a database of the primary outside the group and fails a member missing on a server', () => {
    assert.equal(membershipOutsideGroupCheck(east).status, 'pass');
    const outside = membershipOutsideGroupCheck(side('orders-eus', 'eastus', { other: ['reports'] }));
    assert.equal(outside.status, 'warn');
    assert.match(outside.message, /reports/);
    assert.match(outside.action ?? '', /--add-db reports/);

    assert.equal(membershipMissingCheck(east, west).status, 'pass');
    const missing = membershipMissingCheck(east, side('orders-wus', 'westus', { missing: ['billing'] }));
    assert.equal(missing.status, 'fail');
    assert.match(missing.message, /billing has no copy on orders-wus/);
  });

  it('passes contained, Microsoft Entra and login-mapped users whose login the partner has with the same SID', () => {
    const primary = [
      login('app', '0x01AB'),
      user('orders', 'app', '0x01AB', 'INSTANCE'),
      user('orders', 'reporting', '0x77', 'DATABASE'),
      user('orders', 'ops@contoso.com', '0x99', 'EXTERNAL', 'E'),
      user('orders', 'svc-entra', '0x98', 'INSTANCE', 'E'),
    ];
    const check = databaseUsersCheck(east.instance, west.instance, {
      primary,
      secondary: [login('app', '0x01ab')],
    });
    assert.equal(check.status, 'pass', check.message);
  });

  it('fails a login-mapped user whose SID the partner lacks or has under another login', () => {
    const primary = [
      login('app', '0x01AB'),
      login('etl', '0x02'),
      user('orders', 'app', '0x01AB', 'INSTANCE'),
      user('orders', 'etl', '0x02', 'INSTANCE'),
    ];
    const check = databaseUsersCheck(east.instance, west.instance, {
      primary,
      secondary: [login('app', '0x0BAD')],
    });
    assert.equal(check.status, 'fail');
    assert.match(check.message, /app in orders \(login app, SID 0x01AB; orders-wus has app with SID 0x0BAD\)/);
    assert.match(check.message, /etl in orders/);
    assert.match(check.action ?? '', /DROP LOGIN \[app\]; CREATE LOGIN \[app\] .*SID = 0x01AB/);
    assert.match(check.action ?? '', /CREATE LOGIN \[etl\] .*SID = 0x02;/);
  });

  it('says why logins were not compared when a side could not be read', () => {
    const check = databaseUsersCheck(east.instance, west.instance, { primary: [], secondary: 'TransientError: down' });
    assert.equal(check.status, 'warn');
    assert.match(check.message, /orders-wus: TransientError: down/);
  });

  it('reaches readiness through evaluateDriftChecks, with the instance-only checks not applicable', () => {
    const drift: DriftReadings = {
      logins: { primary: [login('app', '0x01')], secondary: [login('app', '0x01')] },
      jobs: { primary: [], secondary: [] },
      backups: [{ database: 'orders', lastFullBackup: '2026-01-01T00:00:00Z', lastLogBackup: '2026-01-01T00:55:00Z' }],
      readAt: '2026-01-01T01:00:00Z',
    };
    const views = [
      {
        id: 'x',
        name: 'fog-orders',
        location: 'eastus',
        replicationRole: 'Primary',
        replicationState: 'CATCH_UP',
        partnerLocation: 'westus',
        primaryManagedInstanceId: east.instance.id,
        partnerManagedInstanceId: west.instance.id,
        readWriteFailoverPolicy: 'Automatic',
        failoverWithDataLossGracePeriodMinutes: 60,
      },
    ];
    const checks = evaluateDriftChecks({ views, primary: east, secondary: west, links: [] }, drift, {
      maxRestorePointAgeMs: 3_600_000,
      sizes: true,
    });
    const byName = (name: string): GateResult | undefined => checks.find((check) => check.name === name);
    assert.deepEqual(
      checks.map((check) => check.name),
      [
        'config-sku/orders',
        'config-vcores',
        'config-storage',
        'config-license',
        'config-backup-redundancy/orders',
        'ltr-policy',
        'membership-outside-group',
        'membership-missing',
        'logins-match',
        'agent-jobs-match',
        'restore-point-age',
        'failover-policy',
      ],
    );
    assert.match(byName('agent-jobs-match')!.message, /^Not applicable to SQL Database: /);
    assert.equal(byName('restore-point-age')!.status, 'pass');
    assert.match(byName('failover-policy')!.action ?? '', /az sql failover-group update/);
    // Only the checks that hold everywhere are judged in a preflight; the not-applicable ones pass and stay quiet.
    const preflight = evaluateSqlDatabaseDriftChecks({ links: [] }, east, west, drift, {
      maxRestorePointAgeMs: 3_600_000,
      sizes: false,
    });
    assert.ok(preflight.every((check) => check.status === 'pass'));
  });
});
