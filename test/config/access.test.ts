/**
 * The access rules of fogpilot.yaml: who may start which runbook on which group, approve, or pre-approve. Each rule is
 * tried by a principal it should refuse, and by one it should let through.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mayApprove, mayStart, type Access, type Principal } from '../../src/config/access';
import { ConfigError, groupForAccess, loadConfig } from '../../src/config/config';
import { writeTempConfig as file } from '../support/temp-files';

const CONFIG = `
inventory:
  fog-sales:
    subscriptionId: 00000000-0000-0000-0000-000000000001
    resourceGroup: rg-fog
    primaryLocation: eastus
    secondaryLocation: westus
    tags: { tier: gold }
  fog-hr:
    subscriptionId: 00000000-0000-0000-0000-000000000001
    resourceGroup: rg-fog
    primaryLocation: eastus
    secondaryLocation: westus
access:
  callers:
    incident-bot:
      credential: { bearerTokenEnv: FOGPILOT_INCIDENT_BOT_TOKEN }
      start: [readinessCheck, forcedFailover]
      groups: [fog-sales]
      preApprove: true
    oncall-lead:
      credential: { hmacKeyFile: /run/secrets/oncall-lead.key }
      start: [plannedFailover]
      groupTags: { tier: gold }
      approve: true
  operators:
    - identity: "certificate:CN=alice,O=Contoso"
      groups: ['*']
      approve: true
`;

const config = loadConfig({ env: {}, path: file(CONFIG) });
const access = config.access as Access;
const bot: Principal = { kind: 'caller', name: 'incident-bot' };
const lead: Principal = { kind: 'caller', name: 'oncall-lead' };
const alice: Principal = { kind: 'operator', identity: 'certificate:CN=alice,O=Contoso' };
const sales = groupForAccess(config, 'fog-sales');
const hr = groupForAccess(config, 'fog-hr');
const start = (runbook: Parameters<typeof mayStart>[2]['runbook'], groups = [sales], extra = {}) => ({
  runbook,
  groups,
  dryRun: false,
  preApproved: false,
  ...extra,
});

describe('access rules', () => {
  it('without an access section starts only read-only runbooks and dry runs, and says how to grant more', () => {
    assert.deepEqual(mayStart(undefined, bot, start('readinessCheck')), { allowed: true });
    assert.deepEqual(mayStart(undefined, bot, start('plannedFailover', [sales], { dryRun: true })), { allowed: true });
    const refused = mayStart(undefined, bot, start('plannedFailover'));
    assert.equal(refused.allowed, false);
    assert.match(refused.allowed ? '' : refused.reason, /no access section/);
    assert.match(refused.allowed ? '' : refused.remedy, /access section/);
  });

  it('refuses a runbook the caller is not granted, naming what it may start', () => {
    const refused = mayStart(access, lead, start('forcedFailover'));
    assert.equal(refused.allowed, false);
    assert.match(
      refused.allowed ? '' : refused.reason,
      /webhook:oncall-lead may not start forcedFailover.*plannedFailover/,
    );
    assert.deepEqual(mayStart(access, lead, start('plannedFailover')), { allowed: true });
  });

  it('refuses a group outside the caller’s names and tags, and lets a tagged group through', () => {
    assert.deepEqual(mayStart(access, bot, start('forcedFailover', [sales])), { allowed: true });
    const refused = mayStart(access, bot, start('forcedFailover', [sales, hr]));
    assert.equal(refused.allowed, false);
    assert.match(refused.allowed ? '' : refused.reason, /may not act on fog-hr/);
    assert.equal(mayStart(access, lead, start('plannedFailover', [hr])).allowed, false);
    assert.equal(
      mayStart(access, lead, start('plannedFailover', [{}])).allowed,
      false,
      'a group outside the inventory',
    );
  });

  it('refuses a pre-approved start to a caller without preApprove, even without an access section', () => {
    assert.deepEqual(mayStart(access, bot, start('forcedFailover', [sales], { preApproved: true })), { allowed: true });
    const lead2 = {
      ...access,
      callers: {
        ...access.callers,
        'oncall-lead': { ...access.callers['oncall-lead']!, start: ['forcedFailover' as const] },
      },
    };
    const refused = mayStart(lead2, lead, start('forcedFailover', [sales], { preApproved: true }));
    assert.equal(refused.allowed, false);
    assert.match(refused.allowed ? '' : refused.reason, /already approved/);
    assert.equal(mayStart(undefined, bot, start('readinessCheck', [sales], { preApproved: true })).allowed, false);
  });

  it('refuses a principal the access section does not name', () => {
    const refused = mayStart(access, { kind: 'caller', name: 'stranger' }, start('readinessCheck'));
    assert.equal(refused.allowed, false);
    assert.match(refused.allowed ? '' : refused.reason, /not named/);
  });

  it('never lets the requester approve their own run (two-person rule), with or without an access section', () => {
    const own = mayApprove(access, lead, { requester: 'webhook:oncall-lead', group: sales });
    assert.equal(own.allowed, false);
    assert.match(own.allowed ? '' : own.reason, /two-person rule/);
    assert.equal(mayApprove(undefined, bot, { requester: 'webhook:incident-bot', group: sales }).allowed, false);
    assert.deepEqual(mayApprove(access, lead, { requester: 'webhook:incident-bot', group: sales }), { allowed: true });
    assert.deepEqual(mayApprove(access, alice, { requester: 'webhook:incident-bot', group: hr }), { allowed: true });
  });

  it('refuses an approver without approve, or outside its groups', () => {
    assert.equal(mayApprove(access, bot, { requester: 'webhook:oncall-lead', group: sales }).allowed, false);
    const outside = mayApprove(access, lead, { requester: 'webhook:incident-bot', group: hr });
    assert.equal(outside.allowed, false);
    assert.match(outside.allowed ? '' : outside.reason, /may not approve runs on fog-hr/);
  });

  it('refuses a caller with two credentials or none, and a secret written into the YAML, naming the key', () => {
    const twoCredentials = CONFIG.replace(
      'credential: { bearerTokenEnv: FOGPILOT_INCIDENT_BOT_TOKEN }',
      'credential: { bearerTokenEnv: FOGPILOT_INCIDENT_BOT_TOKEN, hmacKeyEnv: FOGPILOT_BOT_KEY }',
    );
    assert.throws(
      () => loadConfig({ env: {}, path: file(twoCredentials) }),
      (error: Error) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /access\.callers\.incident-bot\.credential.*exactly one credential/);
        return true;
      },
    );
    const inline = CONFIG.replace(
      'credential: { bearerTokenEnv: FOGPILOT_INCIDENT_BOT_TOKEN }',
      'credential: { bearerToken: s3cr3t-in-yaml }',
    );
    assert.throws(() => loadConfig({ env: {}, path: file(inline) }), /unknown key\(s\) bearerToken/);
  });
});
