import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NotificationEndpointSchema } from '../../src/notify/schema';
import { deliverNotification, NotificationDeliveryError } from '../../src/notify/deliver';
import type { RunbookNotification } from '../../src/notify/events';
import { verifySignature } from '../../src/notify/signature';
import { startReceiver, type LocalReceiver } from '../hooks/local-receiver';

const KEY = 'notify-hmac-key-9b1f2e7c5d3a4e6f';
const payload: RunbookNotification = {
  event: 'pointOfNoReturn',
  occurredAt: '2027-03-01T10:00:00.000Z',
  runbook: 'plannedFailover',
  workflowId: 'planned-failover-fog-sales-1',
  group: 'fog-sales',
  fromLocation: 'eastus',
  toLocation: 'westus',
  message: 'Sending the failover to westus.',
};

/** Whether `error` is a NotificationDeliveryError of `kind`, retryable as said, whose message and result hold none of `secrets`. */
function deliveryFailure(kind: string, retryable: boolean, secrets: string[]) {
  return (error: unknown) => {
    assert.ok(error instanceof NotificationDeliveryError, String(error));
    assert.equal(error.kind, kind);
    assert.equal(error.retryable, retryable);
    const shown = `${error.message} ${JSON.stringify(error.delivery)} ${error.stack ?? ''}`;
    for (const secret of secrets) assert.ok(!shown.includes(secret), `"${secret}" in ${shown}`);
    return true;
  };
}

describe('delivering notifications to a real receiver', () => {
  let receiver: LocalReceiver;
  before(async () => {
    receiver = await startReceiver();
  });
  after(() => receiver.close());

  it('sends signed JSON that verifies with the key, and not with another key, a changed body or later than the tolerance', async () => {
    receiver.answer({ status: 202 });
    const endpoint = NotificationEndpointSchema.parse({
      name: 'ops',
      url: `${receiver.origin}/hooks/fogpilot`,
      secretEnv: 'NOTIFY_KEY',
    });
    const now = Date.parse('2027-03-01T10:00:05Z');
    const delivery = await deliverNotification(endpoint, payload, { env: { NOTIFY_KEY: KEY }, now: () => now });
    assert.equal(delivery.ok, true);
    assert.equal(delivery.status, 202);
    assert.equal(delivery.endpoint, 'ops');

    const request = receiver.requests.at(-1)!;
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/hooks/fogpilot');
    assert.equal(request.headers['x-fogpilot-event'], 'pointOfNoReturn');
    assert.equal(request.headers['x-fogpilot-delivery'], delivery.deliveryId);
    const body = JSON.parse(request.rawBody.toString('utf8')) as Record<string, unknown>;
    assert.equal(body.schemaVersion, 1);
    assert.equal(body.deliveryId, delivery.deliveryId);
    assert.equal(body.group, 'fog-sales');

    const signature = request.headers['x-fogpilot-signature'];
    const nowSeconds = Math.floor(now / 1000);
    assert.equal(verifySignature(KEY, signature, request.rawBody, { nowSeconds }).ok, true);
    // Positive controls: each must be refused.
    assert.equal(verifySignature('some-other-key-0123456789', signature, request.rawBody, { nowSeconds }).ok, false);
    const changed = Buffer.from(request.rawBody.toString('utf8').replace('westus', 'eastus2'));
    assert.equal(verifySignature(KEY, signature, changed, { nowSeconds }).ok, false);
    assert.equal(verifySignature(KEY, signature, request.rawBody, { nowSeconds: nowSeconds + 301 }).ok, false);
  });

  it('gives every attempt of the same notification the same delivery id, so the receiver can drop repeats', async () => {
    receiver.answer({ status: 200 });
    const endpoint = NotificationEndpointSchema.parse({
      name: 'ops',
      url: `${receiver.origin}/n`,
      secretEnv: 'NOTIFY_KEY',
    });
    const first = await deliverNotification(endpoint, payload, { env: { NOTIFY_KEY: KEY } });
    const second = await deliverNotification(endpoint, payload, { env: { NOTIFY_KEY: KEY } });
    assert.equal(first.deliveryId, second.deliveryId);
    const [a, b] = receiver.requests.slice(-2);
    assert.equal(a?.headers['x-fogpilot-delivery'], b?.headers['x-fogpilot-delivery']);
  });

  it('never shows a URL from urlEnv beyond its scheme and host, nor the key, in results or errors', async () => {
    const secretPath = '/services/T0001/B0002/XyZsecretPathToken42';
    const url = `${receiver.origin}${secretPath}?sig=query-secret-value-77`;
    const env = { SLACK_URL: url, NOTIFY_KEY: KEY };
    const endpoint = NotificationEndpointSchema.parse({
      name: 'chat',
      urlEnv: 'SLACK_URL',
      format: 'slack',
      secretEnv: 'NOTIFY_KEY',
    });
    const secrets = [KEY, 'XyZsecretPathToken42', 'query-secret-value-77', secretPath];

    // The receiver echoes what it got, as a misbehaving proxy might.
    receiver.answer((request) => ({
      status: 500,
      body: `oops ${request.url} ${String(request.headers['x-fogpilot-signature'])}`,
    }));
    const failure = await deliverNotification(endpoint, payload, { env }).then(
      () => assert.fail('a 500 must fail'),
      (error: unknown) => error,
    );
    assert.ok(deliveryFailure('status', true, secrets)(failure));
    assert.match((failure as Error).message, new RegExp(`chat \\(${receiver.origin.replace(/[.]/g, '\\.')}\\)`));

    receiver.answer({ status: 200, body: 'ok' });
    const delivered = await deliverNotification(endpoint, payload, { env });
    const shown = JSON.stringify(delivered);
    for (const secret of secrets) assert.ok(!shown.includes(secret), shown);
    const slack = JSON.parse(receiver.requests.at(-1)!.rawBody.toString('utf8')) as {
      text?: unknown;
      blocks?: unknown;
    };
    assert.equal(typeof slack.text, 'string');
    assert.ok(Array.isArray(slack.blocks));
  });

  it('classifies answers: 408, 429 and 5xx are retryable, another 4xx is not, and a 429 passes on its Retry-After', async () => {
    const endpoint = NotificationEndpointSchema.parse({
      name: 'ops',
      url: `${receiver.origin}/n`,
      secretEnv: 'NOTIFY_KEY',
    });
    const env = { NOTIFY_KEY: KEY };
    for (const [status, retryable] of [
      [400, false],
      [401, false],
      [404, false],
      [408, true],
      [429, true],
      [502, true],
    ] as const) {
      receiver.answer({ status, headers: status === 429 ? { 'retry-after': '7' } : {}, body: 'no' });
      await assert.rejects(deliverNotification(endpoint, payload, { env }), (error: unknown) => {
        assert.ok(deliveryFailure('status', retryable, [KEY])(error));
        const failure = (error as NotificationDeliveryError).toApplicationFailure();
        assert.equal(failure.type, 'NotificationNotDelivered');
        assert.equal(failure.nonRetryable, !retryable);
        if (status === 429) assert.equal(failure.nextRetryDelay, 7000);
        assert.equal((failure.details?.[0] as { status?: number }).status, status);
        return true;
      });
    }
  });

  it('ends an attempt at the endpoint timeout when the receiver never answers: a retryable timeout', async () => {
    receiver.answer('never');
    const endpoint = NotificationEndpointSchema.parse({
      name: 'ops',
      url: `${receiver.origin}/slow`,
      secretEnv: 'NOTIFY_KEY',
      timeout: '150 ms',
    });
    await assert.rejects(
      deliverNotification(endpoint, payload, { env: { NOTIFY_KEY: KEY } }),
      deliveryFailure('timeout', true, [KEY]),
    );
    receiver.answer({ status: 200 });
  });

  it('classifies a refused connection as a retryable network error', async () => {
    const closed = await startReceiver();
    const origin = closed.origin;
    await closed.close();
    const endpoint = NotificationEndpointSchema.parse({ name: 'ops', url: `${origin}/n`, secretEnv: 'NOTIFY_KEY' });
    await assert.rejects(
      deliverNotification(endpoint, payload, { env: { NOTIFY_KEY: KEY } }),
      deliveryFailure('network', true, [KEY]),
    );
  });

  it('refuses to send, without retrying, when the key or URL variable is not set on the worker, naming the variable', async () => {
    const before = receiver.requests.length;
    const signed = NotificationEndpointSchema.parse({
      name: 'ops',
      url: `${receiver.origin}/n`,
      secretEnv: 'NOTIFY_KEY',
    });
    await assert.rejects(deliverNotification(signed, payload, { env: {} }), (error: unknown) => {
      assert.ok(deliveryFailure('configuration', false, [])(error));
      assert.match((error as Error).message, /NOTIFY_KEY \(secretEnv\) is not set/);
      return true;
    });
    const chat = NotificationEndpointSchema.parse({ name: 'chat', urlEnv: 'TEAMS_URL', format: 'teams' });
    await assert.rejects(deliverNotification(chat, payload, { env: {} }), /TEAMS_URL \(urlEnv\) is not set/);
    await assert.rejects(
      deliverNotification(chat, payload, { env: { TEAMS_URL: 'http://example.com/workflows/secret-path' } }),
      (error: unknown) => deliveryFailure('configuration', false, ['secret-path'])(error),
    );
    assert.equal(receiver.requests.length, before, 'nothing was sent');
  });

  it('stops at once, not retryable, when the activity is cancelled', async () => {
    receiver.answer('never');
    const endpoint = NotificationEndpointSchema.parse({
      name: 'ops',
      url: `${receiver.origin}/n`,
      secretEnv: 'NOTIFY_KEY',
    });
    const controller = new AbortController();
    const delivery = deliverNotification(endpoint, payload, {
      env: { NOTIFY_KEY: KEY },
      abortSignal: controller.signal,
    });
    controller.abort();
    await assert.rejects(delivery, deliveryFailure('cancelled', false, [KEY]));
    receiver.answer({ status: 200 });
  });
});
