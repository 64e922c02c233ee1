import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objectiveReading, type RunbookNotification } from '../../src/notify/events';
import { notificationDeliveryId, renderNotification } from '../../src/notify/render';

const payload: RunbookNotification = {
  event: 'failed',
  occurredAt: '2027-03-01T10:00:00.000Z',
  runbook: 'plannedFailover',
  workflowId: 'planned-failover-fog-sales-1',
  runId: 'run-1',
  group: 'fog-sales',
  fromLocation: 'eastus',
  toLocation: 'westus',
  outcome: 'failed',
  message: 'The roles did not switch within 10m.\nRun `fogpilot status fog-sales` & check <Azure>.',
  details: { failureType: 'RoleSwitchTimeout' },
  objectives: { rto: objectiveReading(300_000, 420_000), rpo: objectiveReading(30_000) },
};

type Json = Record<string, unknown>;

describe('notification formats', () => {
  it('json: the payload itself with schemaVersion 1 and a delivery id, the message on one line', () => {
    const body = renderNotification(payload, 'json', { deliveryId: 'd-1' });
    assert.equal(body.schemaVersion, 1);
    assert.equal(body.deliveryId, 'd-1');
    assert.equal(body.event, 'failed');
    assert.deepEqual(body.details, payload.details);
    assert.deepEqual(body.objectives, {
      rto: { targetMs: 300_000, measuredMs: 420_000, met: false },
      rpo: { targetMs: 30_000 },
    });
    assert.doesNotMatch(String(body.message), /\n/);
  });

  it('gives the same payload to the same endpoint the same delivery id, a UUID, and another endpoint another', () => {
    const id = notificationDeliveryId(payload, 'ops');
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(notificationDeliveryId(structuredClone(payload), 'ops'), id);
    assert.notEqual(notificationDeliveryId(payload, 'pager'), id);
    assert.notEqual(notificationDeliveryId({ ...payload, event: 'succeeded' }, 'ops'), id);
  });

  it('slack: text plus blocks Slack incoming webhooks take (a section, a section of at most 10 fields, a context)', () => {
    const body = renderNotification(payload, 'slack') as Json & { blocks: Json[] };
    assert.equal(typeof body.text, 'string');
    assert.match(String(body.text), /plannedFailover on fog-sales failed/);
    assert.match(String(body.text), /&amp; check &lt;Azure&gt;/, 'mrkdwn control characters are escaped');
    const [section, fields, context] = body.blocks;
    assert.equal(section?.type, 'section');
    const sectionText = section?.text as Json;
    assert.equal(sectionText.type, 'mrkdwn');
    assert.ok(String(sectionText.text).length <= 3000);
    assert.equal(fields?.type, 'section');
    const list = fields?.fields as Json[];
    assert.ok(list.length >= 1 && list.length <= 10);
    for (const field of list) {
      assert.equal(field.type, 'mrkdwn');
      assert.ok(typeof field.text === 'string' && field.text.length <= 2000);
    }
    assert.ok(list.some((field) => /\*RTO\*\n7m \(target 5m\): missed/.test(String(field.text))));
    assert.equal(context?.type, 'context');
    const elements = context?.elements as Json[];
    assert.ok(elements.length >= 1 && elements.length <= 10);
    assert.equal(elements[0]?.type, 'mrkdwn');
  });

  it('teams: a message with one Adaptive Card attachment, as Teams incoming webhooks and Workflows take it', () => {
    const body = renderNotification(payload, 'teams') as Json & { attachments: Json[] };
    assert.equal(body.type, 'message');
    assert.equal(body.attachments.length, 1);
    const [attachment] = body.attachments;
    assert.equal(attachment?.contentType, 'application/vnd.microsoft.card.adaptive');
    assert.equal(attachment?.contentUrl, null);
    const card = attachment?.content as Json & { body: Json[] };
    assert.equal(card.type, 'AdaptiveCard');
    assert.equal(card.$schema, 'http://adaptivecards.io/schemas/adaptive-card.json');
    assert.match(String(card.version), /^1\.\d$/);
    assert.ok(card.body.length > 0);
    for (const element of card.body) assert.ok(['TextBlock', 'FactSet'].includes(String(element.type)));
    const factSet = card.body.find((element) => element.type === 'FactSet') as {
      facts: { title: string; value: string }[];
    };
    assert.ok(factSet.facts.every((fact) => typeof fact.title === 'string' && typeof fact.value === 'string'));
    assert.deepEqual(
      factSet.facts.find((fact) => fact.title === 'Regions'),
      { title: 'Regions', value: 'eastus → westus' },
    );
    assert.ok(Buffer.byteLength(JSON.stringify(body)) < 28 * 1024, 'Teams refuses messages over 28 KB');
  });

  it('names an Azure-initiated failover by the group, not as a runbook', () => {
    const seen = renderNotification(
      { ...payload, event: 'azureFailoverSeen', runbook: 'readinessCheck', message: 'The primary moved to westus.' },
      'slack',
    );
    assert.match(String(seen.text), /fog-sales: Azure-initiated failover seen/);
  });
});
