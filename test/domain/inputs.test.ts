import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DrDrillInputSchema,
  FailbackInputSchema,
  FleetFailoverInputSchema,
  ForcedFailoverInputSchema,
  PlannedFailoverInputSchema,
  ReadinessCheckInputSchema,
  ScaleGroupInputSchema,
  describeInputProblems,
  parseRunbookInput,
} from '../../src/domain/inputs';

describe('runbook inputs', () => {
  it('fills every default from a group name alone', () => {
    const parsed = parseRunbookInput(PlannedFailoverInputSchema, { group: 'fog-sales' });
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value, {
      group: 'fog-sales',
      maxLagSeconds: 30,
      scaleSecondary: 'match',
      roleSwitchTimeout: 15 * 60_000,
      syncTimeout: 10 * 60_000,
      writableTimeout: 10 * 60_000,
      scaleTimeout: 3 * 3_600_000,
      dryRun: false,
      failbackWaitTimeout: 3_600_000,
    });
  });

  it('normalizes region names in coordinates and target', () => {
    const parsed = parseRunbookInput(PlannedFailoverInputSchema, {
      group: {
        subscriptionId: '00000000-1111-2222-3333-444444444444',
        resourceGroup: 'rg',
        name: 'fog',
        primaryLocation: 'Japan East',
        secondaryLocation: 'Japan West',
      },
      targetLocation: 'Japan West',
    });
    assert.ok(parsed.ok);
    assert.equal(parsed.value.targetLocation, 'japanwest');
    assert.deepEqual(
      typeof parsed.value.group === 'object' && [
        parsed.value.group.primaryLocation,
        parsed.value.group.secondaryLocation,
      ],
      ['japaneast', 'japanwest'],
    );
  });

  it('says a missing group is required, and suggests the right spelling of a mistyped field', () => {
    const missing = parseRunbookInput(PlannedFailoverInputSchema, {});
    assert.ok(!missing.ok);
    assert.equal(missing.problems[0]!.field, 'group');
    assert.match(missing.problems[0]!.message, /group is required/);
    const typo = parseRunbookInput(PlannedFailoverInputSchema, { group: 'fog', dryrun: true });
    assert.ok(!typo.ok);
    assert.equal(typo.problems[0]!.field, 'dryrun');
    assert.match(typo.problems[0]!.message, /did you mean "dryRun"/);
  });

  it('refuses an input that is not a JSON object', () => {
    for (const raw of ['fog-sales', null, undefined, [], 42]) {
      const parsed = parseRunbookInput(PlannedFailoverInputSchema, raw);
      assert.ok(!parsed.ok);
      assert.equal(parsed.problems[0]!.field, '(input)');
    }
  });

  it('carries every duration in milliseconds once parsed, whether the caller wrote a duration string, a number of milliseconds or nothing', () => {
    const written = parseRunbookInput(DrDrillInputSchema, {
      group: 'fog',
      soak: '2h',
      roleSwitchTimeout: 90_000,
      smoke: { httpCheck: { url: 'https://app.example.com/health', timeout: '30 seconds' } },
    });
    assert.ok(written.ok);
    assert.equal(written.value.soak, 2 * 3_600_000, 'a duration string');
    assert.equal(written.value.roleSwitchTimeout, 90_000, 'a number of milliseconds');
    assert.equal(written.value.smoke.httpCheck?.timeout, 30_000, 'a nested duration');
    assert.equal(written.value.syncTimeout, 10 * 60_000, 'the default');

    const forced = parseRunbookInput(ForcedFailoverInputSchema, { group: 'fog', tryPlannedFirst: { timeout: '5m' } });
    assert.ok(forced.ok);
    assert.deepEqual(
      [forced.value.tryPlannedFirst?.timeout, forced.value.approvalTimeout, forced.value.approvalMaxAge],
      [5 * 60_000, 3_600_000, 15 * 60_000],
    );
    const planned = parseRunbookInput(PlannedFailoverInputSchema, { group: 'fog', failback: { after: '0s' } });
    assert.ok(planned.ok);
    assert.equal(planned.value.failback?.after, 0);
    const failback = parseRunbookInput(FailbackInputSchema, { group: 'fog' });
    assert.ok(failback.ok);
    assert.deepEqual([failback.value.waitTimeout, failback.value.pollInterval], [7 * 86_400_000, 60_000]);
    const fleet = parseRunbookInput(FleetFailoverInputSchema, { region: 'eastus', approvalTimeout: '2 hours' });
    assert.ok(fleet.ok);
    assert.equal(fleet.value.approvalTimeout, 2 * 3_600_000);
    const readiness = parseRunbookInput(ReadinessCheckInputSchema, { all: true });
    assert.ok(readiness.ok);
    assert.equal(readiness.value.maxRestorePointAge, 3_600_000);
    const scale = parseRunbookInput(ScaleGroupInputSchema, { group: 'fog', vCores: 8, scaleTimeout: 600_000 });
    assert.ok(scale.ok);
    assert.equal(scale.value.scaleTimeout, 600_000);
  });

  it('refuses a health-check URL whose query string carries something that looks like a credential, naming the field and the parameter but never its value', () => {
    const urls: Array<[string, string]> = [
      ['https://app.example.com/health?token=s3cr3t-value', 'token'],
      ['https://app.example.com/health?x=1&API_KEY=s3cr3t-value', 'API_KEY'],
      ['https://app.example.com/health?access_token=s3cr3t-value', 'access_token'],
      ['https://app.example.com/health?code=s3cr3t-value', 'code'],
      ['https://app.example.com/health?Password=s3cr3t-value', 'Password'],
      ['https://app.example.com/health?client_secret=s3cr3t-value', 'client_secret'],
      ['https://app.example.com/health?subscription-key=s3cr3t-value', 'subscription-key'],
      ['https://store.blob.core.windows.net/c/health.txt?sv=2022-11-02&sr=b&sig=s3cr3t-value', 'sig'],
      ['https://app.example.com/health?signature=s3cr3t-value#top', 'signature'],
      ['https://app.example.com/health?apikey', 'apikey'],
    ];
    for (const [url, parameter] of urls) {
      const parsed = parseRunbookInput(DrDrillInputSchema, { group: 'fog', smoke: { httpCheck: { url } } });
      assert.ok(!parsed.ok, url);
      assert.equal(parsed.problems[0]!.field, 'smoke.httpCheck.url', url);
      assert.match(parsed.problems[0]!.message, new RegExp(`the parameter "${parameter}" looks like one`), url);
      assert.match(parsed.problems[0]!.message, /kept in the workflow history/, url);
      assert.doesNotMatch(describeInputProblems('drDrill', parsed.problems), /s3cr3t-value/, url);
    }
  });

  it('accepts a health-check URL whose query string carries no credential-like parameter', () => {
    for (const url of [
      'https://app.example.com/health?region=eastus&verbose=1',
      'https://app.example.com/health',
      'https://app.example.com/health#token=anchor-not-query',
    ]) {
      const parsed = parseRunbookInput(DrDrillInputSchema, { group: 'fog', smoke: { httpCheck: { url } } });
      assert.ok(parsed.ok, url);
    }
  });

  it('gives one clear message per bad duration', () => {
    const parsed = parseRunbookInput(PlannedFailoverInputSchema, { group: 'fog', failback: { after: 'soon' } });
    assert.ok(!parsed.ok);
    assert.deepEqual(
      parsed.problems.map((problem) => problem.field),
      ['failback.after'],
    );
    assert.match(describeInputProblems('plannedFailover', parsed.problems), /Nothing was changed in Azure/);
  });

  it('waits at most a day, by default an hour, for replication to catch up before a drill or a failover fails back', () => {
    for (const schema of [DrDrillInputSchema, PlannedFailoverInputSchema]) {
      const parsed = parseRunbookInput(schema, { group: 'fog' });
      assert.ok(parsed.ok);
      assert.equal(parsed.value.failbackWaitTimeout, 3_600_000);
      assert.ok(parseRunbookInput(schema, { group: 'fog', failbackWaitTimeout: '0s' }).ok, 'one look, then pending');
      const tooLong = parseRunbookInput(schema, { group: 'fog', failbackWaitTimeout: '2 days' });
      assert.ok(!tooLong.ok);
      assert.deepEqual(tooLong.problems, [
        { field: 'failbackWaitTimeout', message: 'failbackWaitTimeout must be between 0 and 1 day' },
      ]);
    }
  });

  it('keeps the failback wait within its bounds', () => {
    assert.ok(parseRunbookInput(FailbackInputSchema, { group: 'fog', waitTimeout: '3 days' }).ok);
    const tooLong = parseRunbookInput(FailbackInputSchema, { group: 'fog', waitTimeout: '90 days' });
    assert.ok(!tooLong.ok);
    assert.equal(tooLong.problems[0]!.field, 'waitTimeout');
  });

  it('accepts a scaleTimeout of 7 days, for a Business Critical scale that reseeds for days, and refuses 8 days naming scaleTimeout', () => {
    const cases = [
      { schema: ScaleGroupInputSchema, input: { group: 'fog', vCores: 16 }, runbook: 'scaleGroup' },
      { schema: PlannedFailoverInputSchema, input: { group: 'fog' }, runbook: 'plannedFailover' },
      { schema: DrDrillInputSchema, input: { group: 'fog' }, runbook: 'drDrill' },
    ] as const;
    for (const { schema, input, runbook } of cases) {
      const week = parseRunbookInput(schema, { ...input, scaleTimeout: '7 days' });
      assert.ok(week.ok, `${runbook}: ${week.ok ? '' : JSON.stringify(week.problems)}`);
      assert.equal(week.value.scaleTimeout, 7 * 86_400_000);
      assert.ok(parseRunbookInput(schema, { ...input, scaleTimeout: 7 * 86_400_000 }).ok, `${runbook}: 7 days in ms`);

      const tooLong = parseRunbookInput(schema, { ...input, scaleTimeout: '8 days' });
      assert.ok(!tooLong.ok, `${runbook}: 8 days must be refused`);
      assert.deepEqual(
        tooLong.problems.map((problem) => problem.field),
        ['scaleTimeout'],
      );
      assert.match(
        describeInputProblems(runbook, tooLong.problems),
        /scaleTimeout: scaleTimeout must be between 1 minute and 7 days/,
      );
    }
  });

  it('takes a SQL Database group as coordinates with its servers, or as the ARM id of its server failover group', () => {
    const sub = '00000000-1111-2222-3333-444444444444';
    const coordinates = {
      subscriptionId: sub,
      resourceGroup: 'rg-orders',
      name: 'fog-orders',
      primaryLocation: 'East US',
      secondaryLocation: 'westus',
      kind: 'sqlDatabase',
      servers: { eastus: 'orders-eus', 'West US': 'orders-wus' },
    };
    const parsed = PlannedFailoverInputSchema.parse({ group: coordinates });
    assert.deepEqual(parsed.group, {
      ...coordinates,
      primaryLocation: 'eastus',
      servers: { eastus: 'orders-eus', westus: 'orders-wus' },
    });
    const armId = `/subscriptions/${sub}/resourceGroups/rg-orders/providers/Microsoft.Sql/servers/orders-wus/failoverGroups/fog-orders`;
    assert.equal(PlannedFailoverInputSchema.parse({ group: armId }).group, armId);

    const problems = (group: unknown): string => {
      const result = parseRunbookInput(PlannedFailoverInputSchema, { group });
      assert.ok(!result.ok, 'refused');
      return describeInputProblems('plannedFailover', result.problems);
    };
    assert.match(
      problems({ ...coordinates, servers: { eastus: 'orders-eus' } }),
      /servers must name the logical server in primaryLocation and in secondaryLocation/,
    );
    assert.match(problems({ ...coordinates, kind: 'managedInstance' }), /servers is for kind "sqlDatabase" only/);
    // A field of the coordinates that fails its type collapses the union into the reference's own help.
    assert.match(
      problems({ ...coordinates, kind: 'cosmos' }),
      /with kind "sqlDatabase" and servers for a server failover group/,
    );
    assert.match(
      problems(`/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Sql/servers/orders-wus/databases/orders`),
      /not one of a failover group/,
    );
  });
});
