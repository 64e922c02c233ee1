/**
 * Reports as the runbooks return them, modelled on recorded runs (test/histories): a DR drill with a write probe
 * through the listener, and a planned failover that ended in RoleSwitchTimeout after the failover was sent.
 */
import type { Evidence, RunbookReport, StepRecord, StepState } from '../../src/workflows/definitions';

type StepSpec = [name: string, title: string, state: StepState, seconds: number, extra?: Partial<StepRecord>];

/** Steps run one after the other from `startIso`, each taking its seconds. */
export function sequentialSteps(startIso: string, specs: StepSpec[]): StepRecord[] {
  let at = Date.parse(startIso);
  return specs.map(([name, title, state, seconds, extra]) => {
    const startedAt = new Date(at).toISOString();
    at += Math.round(seconds * 1000);
    return { name, title, state, startedAt, endedAt: new Date(at).toISOString(), ...extra };
  });
}

const SUBSCRIPTION = '00000000-1111-2222-3333-444444444444';
const COPY_SYNC_PROVEN =
  "Every database's sp_wait_for_database_copy_sync returned before the planned failover, and Azure runs a planned " +
  'failover synchronously: no committed transaction was lost.';
const copySynced = (): { database: string; evidence: string }[] => [
  { database: 'sales', evidence: 'copy sync returned before the failover' },
  { database: 'billing', evidence: 'copy sync returned before the failover' },
];

function legSteps(prefix: string, to: string, from: string, awaitRolesSeconds: number, writableSeconds: number) {
  const gates: Evidence = { gates: [{ name: 'roles-consistent', status: 'pass' }] };
  return [
    [
      `${prefix}preflight`,
      'Read the group at both locations and check every gate',
      'succeeded',
      0.15,
      { evidence: gates },
    ],
    [
      `${prefix}scale-secondary`,
      "Scale the secondary up to the primary's size before failing over",
      'skipped',
      0,
      { evidence: { why: "the secondary is at least the primary's size" } },
    ],
    [
      `${prefix}verify-sync`,
      'Wait until every database is hardened on the secondary (sp_wait_for_database_copy_sync)',
      'succeeded',
      0.05,
    ],
    [`${prefix}failover`, `Send the planned failover to ${to} (the point of no return)`, 'succeeded', 0.02],
    [`${prefix}await-roles`, `Wait until ${to} reports Primary and ${from} Secondary`, 'succeeded', awaitRolesSeconds],
    [
      `${prefix}await-writable`,
      `Wait until every database on fog-sales-mi-${to} is READ_WRITE`,
      'succeeded',
      writableSeconds,
    ],
    [`${prefix}post-checks`, 'Check that replication is synchronizing again toward the old primary', 'succeeded', 0.06],
  ] satisfies StepSpec[];
}

/** A DR drill of fog-sales: eastus → westus, a 2-minute soak with smoke checks, back to eastus; zero loss. */
export function drillReport(): RunbookReport {
  const steps = sequentialSteps('2026-11-22T02:00:00.000Z', [
    ['resolve-group', 'Resolve the group reference', 'succeeded', 0.21],
    ['locate-listener', "Find the group's read-write listener and the smoke database", 'succeeded', 0.35],
    ...legSteps('', 'westus', 'eastus', 38.4, 2.1),
    ['soak', 'Soak 2m in westus with smoke checks', 'succeeded', 120.03],
    ...legSteps('failback/', 'eastus', 'westus', 37.9, 1.3),
    ['verify-writes', 'Stop the write probe and read back every acknowledged write', 'succeeded', 0.4],
  ]);
  const at = (name: string, end: 'startedAt' | 'endedAt'): string => steps.find((step) => step.name === name)![end]!;
  return {
    runbook: 'drDrill',
    workflowId: `fogpilot/${SUBSCRIPTION}/rg-fog/fog-sales`,
    runId: '6f0c1a52-93d1-4c55-a0f7-2b8e5d7c9a10',
    group: {
      displayName: 'fog-sales',
      subscriptionId: SUBSCRIPTION,
      resourceGroup: 'rg-fog',
      name: 'fog-sales',
      homePrimary: 'eastus',
      homeSecondary: 'westus',
    },
    outcome: 'succeeded',
    requestedBy: 'schedule:weekly-drill',
    reason: 'weekly DR drill',
    startedAt: steps[0]!.startedAt!,
    endedAt: steps.at(-1)!.endedAt!,
    rolesBefore: { primary: 'eastus', secondary: 'westus' },
    rolesAfter: { primary: 'eastus', secondary: 'westus' },
    rtoSeconds: 40.5,
    legs: [
      {
        name: 'failover',
        from: 'eastus',
        to: 'westus',
        failoverSent: true,
        dataLoss: { kind: 'none-proven', detail: COPY_SYNC_PROVEN, databases: copySynced() },
        requestedAt: at('failover', 'startedAt'),
        allWritableAt: at('await-writable', 'endedAt'),
        rtoSeconds: 40.5,
      },
      {
        name: 'failback',
        from: 'westus',
        to: 'eastus',
        failoverSent: true,
        dataLoss: { kind: 'none-proven', detail: COPY_SYNC_PROVEN, databases: copySynced() },
        requestedAt: at('failback/failover', 'startedAt'),
        allWritableAt: at('failback/await-writable', 'endedAt'),
        rtoSeconds: 39.2,
      },
    ],
    gates: [
      { name: 'roles-consistent', status: 'pass', message: 'eastus is primary, westus secondary', evidence: {} },
      { name: 'replication-lag', status: 'pass', message: 'Worst lag 1s ≤ 30s', evidence: { maxLagSeconds: 30 } },
    ],
    steps,
    armCalls: { reads: 36, writes: 2, throttled: 1 },
    warnings: [],
    drill: {
      soakSeconds: 120,
      rtoFailoverSeconds: 40.5,
      rtoFailbackSeconds: 39.2,
      probe: {
        database: 'sales',
        listener: 'fog-sales.3f6a9c1d2e4b.database.windows.net',
        attempted: 202,
        acknowledged: 128,
        inDoubt: 3,
        refused: 71,
        downtimeSeconds: 72.6,
        windows: [
          { from: at('failover', 'endedAt'), to: '2026-11-22T02:00:38.000Z', seconds: 37.2 },
          { from: at('failback/failover', 'endedAt'), to: '2026-11-22T02:03:16.990Z', seconds: 35.4 },
        ],
        lostAcknowledged: 0,
        errors: { 'sql-3906': 9, 'sql-40613': 62, ESOCKET: 3 },
      },
      smokeChecks: [
        {
          name: 'write/soak-start',
          status: 'pass',
          at: at('soak', 'startedAt'),
          detail: 'wrote row 131 into sales through fog-sales.3f6a9c1d2e4b.database.windows.net in 38 ms',
        },
        {
          name: 'http/soak-start',
          status: 'pass',
          at: at('soak', 'startedAt'),
          detail: 'GET https://app.contoso.example/health answered 200 in 112 ms',
        },
        {
          name: 'write/soak-end',
          status: 'pass',
          at: at('soak', 'endedAt'),
          detail: 'wrote row 252 into sales through fog-sales.3f6a9c1d2e4b.database.windows.net in 35 ms',
        },
        {
          name: 'http/soak-end',
          status: 'pass',
          at: at('soak', 'endedAt'),
          detail: 'GET https://app.contoso.example/health answered 200 in 97 ms',
        },
      ],
      dataLoss: 'none',
      stepTimings: steps.map((step) => ({
        name: step.name,
        seconds: (Date.parse(step.endedAt!) - Date.parse(step.startedAt!)) / 1000,
      })),
    },
  };
}

export const ROLE_SWITCH_TIMEOUT_MESSAGE =
  'The failover to westus was requested at 2036-11-18T23:56:12.407Z, but after 15m the roles read eastus Primary, ' +
  'westus Secondary. Azure may still be switching: do not send another failover. Watch the group with `fogpilot ' +
  'status`; once the roles settle, run the runbook again (it will not resend a failover already done).';

/**
 * A planned failover of fog-orders that scaled its smaller secondary up, sent the failover, and ended in
 * RoleSwitchTimeout: the roles never switched within 15 minutes.
 */
export function failedPlannedFailoverReport(): RunbookReport {
  const steps = sequentialSteps('2036-11-18T23:53:42.437Z', [
    ['resolve-group', 'Resolve the group reference', 'succeeded', 0.17],
    ['preflight', 'Read the group at both locations and check every gate', 'succeeded', 0.24],
    [
      'scale-secondary',
      "Scale the secondary up to the primary's size before failing over",
      'succeeded',
      149.5,
      { evidence: { from: { vCores: 4 }, to: { vCores: 8 } } },
    ],
    [
      'verify-sync',
      'Wait until every database is hardened on the secondary (sp_wait_for_database_copy_sync)',
      'succeeded',
      0.06,
    ],
    ['failover', 'Send the planned failover to westus (the point of no return)', 'succeeded', 0.03],
    [
      'await-roles',
      'Wait until westus reports Primary and eastus Secondary',
      'failed',
      900,
      { error: ROLE_SWITCH_TIMEOUT_MESSAGE, evidence: { operationPolls: 61, operation: 'InProgress' } },
    ],
  ]);
  return {
    runbook: 'plannedFailover',
    workflowId: `fogpilot/${SUBSCRIPTION}/rg-fog/fog-orders`,
    runId: '0d9b7c3e-51a4-4f0e-9a61-7c2d4e8f1b23',
    group: {
      displayName: 'fog-orders',
      subscriptionId: SUBSCRIPTION,
      resourceGroup: 'rg-fog',
      name: 'fog-orders',
      homePrimary: 'eastus',
      homeSecondary: 'westus',
    },
    outcome: 'failed',
    requestedBy: 'dba@contoso.example',
    reason: 'CHG-2291 eastus maintenance',
    startedAt: steps[0]!.startedAt!,
    endedAt: steps.at(-1)!.endedAt!,
    rolesBefore: { primary: 'eastus', secondary: 'westus' },
    legs: [
      {
        name: 'failover',
        from: 'eastus',
        to: 'westus',
        failoverSent: true,
        dataLoss: { kind: 'unknown', detail: 'the failover has not been sent' },
        requestedAt: steps[4]!.startedAt!,
      },
    ],
    gates: [
      { name: 'roles-consistent', status: 'pass', message: 'eastus is primary, westus secondary', evidence: {} },
      {
        name: 'secondary-size',
        status: 'warn',
        message: 'The secondary has 4 vCores, the primary 8',
        action: 'fogpilot scales the secondary up before the failover; or scale it yourself ahead of time.',
        evidence: { primary: { vCores: 8 }, secondary: { vCores: 4 } },
      },
      {
        name: 'failover-policy',
        status: 'warn',
        message: 'Read-write failover policy Automatic with a grace period of 60 minutes',
        action: 'Set the policy to Manual (`az sql instance-failover-group update --failover-policy Manual`).',
        evidence: { policy: 'Automatic', graceMinutes: 60 },
      },
    ],
    steps,
    armCalls: { reads: 133, writes: 2, throttled: 4 },
    warnings: [
      '[failover-policy] Read-write failover policy Automatic with a grace period of 60 minutes → Set the policy to Manual.',
    ],
    error: { type: 'RoleSwitchTimeout', message: ROLE_SWITCH_TIMEOUT_MESSAGE },
  };
}
