/**
 * ARM's front door as the emulator reproduces it: the bearer token, api-versions per resource type, the error shape of
 * unknown routes and methods, the correlation id, and HTTPS with the emulator's CA for the real SDK pipeline.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { ArmControlPlane } from '../../src/azure/arm-control-plane';
import { EmulatorCredential } from '../../src/azure/credentials';
import { startEmulator, type Emulator } from '../../src/emulator';

const bearer = { authorization: 'Bearer fogpilot-emulator-token' };

let plain: Emulator;
let secure: Emulator;
/** The CA of another emulator: trusting it is trusting the wrong CA. */
let otherCa: string;
before(async () => {
  [plain, secure] = await Promise.all([startEmulator({ speed: 10 }), startEmulator({ speed: 10, tls: true })]);
  const other = await startEmulator({ tls: true });
  otherCa = other.startLine().tls!.ca;
  await other.close();
});
after(async () => {
  await plain?.close();
  await secure?.close();
});

const groupPath = (emulator: Emulator) => emulator.startLine().groups[0]!.id;
const instancePath = (emulator: Emulator) => emulator.startLine().instances[0]!.id;

interface Answer {
  status: number;
  headers: Headers;
  body: { error?: { code?: string; message?: string } } & Record<string, unknown>;
}

async function call(path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`${plain.armEndpoint}${path}`, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Answer['body']) : {} };
}

describe('ARM authentication', () => {
  it('answers a request without an Authorization header with 401 AuthenticationFailed and a Bearer challenge', async () => {
    const answer = await call(`${groupPath(plain)}?api-version=2022-05-01-preview`);
    assert.equal(answer.status, 401);
    assert.equal(answer.body.error?.code, 'AuthenticationFailed');
    assert.equal(answer.body.error?.message, "Authentication failed. The 'Authorization' header is missing.");
    assert.match(
      answer.headers.get('www-authenticate') ?? '',
      /^Bearer authorization_uri="[^"]+", error="invalid_token"/,
    );
  });

  it('answers a header that is not a bearer token with AuthenticationFailed, and an unknown token with InvalidAuthenticationToken', async () => {
    const basic = await call(`${groupPath(plain)}?api-version=2022-05-01-preview`, {
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
    });
    assert.equal(basic.status, 401);
    assert.equal(basic.body.error?.code, 'AuthenticationFailed');
    assert.match(basic.body.error?.message ?? '', /invalid format/);
    const unknown = await call(`${groupPath(plain)}?api-version=2022-05-01-preview`, {
      headers: { authorization: 'Bearer not-a-token' },
    });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body.error?.code, 'InvalidAuthenticationToken');
    assert.match(
      unknown.body.error?.message ?? '',
      /fogpilot-emulator-token/,
      'the refusal names the token it accepts',
    );
  });

  it("accepts EmulatorCredential's token and any JWT-shaped token, and needs none for the admin API", async () => {
    const path = `${groupPath(plain)}?api-version=2022-05-01-preview`;
    assert.equal((await call(path, { headers: bearer })).status, 200);
    assert.equal(
      (await call(path, { headers: { authorization: 'Bearer eyJhbGciOi.eyJhdWQiOi.c2lnbmF0dXJl' } })).status,
      200,
    );
    assert.equal((await call('/_admin/world')).status, 200);
    assert.equal(plain.startLine().armToken, 'fogpilot-emulator-token');
  });
});

describe('ARM api-versions, unknown routes and correlation ids', () => {
  it('refuses an api-version the resource type does not serve with 400 NoRegisteredProviderFound, listing those it does', async () => {
    const answer = await call(`${groupPath(plain)}?api-version=2099-01-01`, { headers: bearer });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error?.code, 'NoRegisteredProviderFound');
    assert.match(
      answer.body.error?.message ?? '',
      /No registered resource provider found for location 'eastus' and API version '2099-01-01' for type 'locations\/instanceFailoverGroups'\. The supported api-versions are '.*2022-05-01-preview.*'/,
    );
    // 2015-05-01-preview serves managed instances but not failover groups.
    const older = await call(`${groupPath(plain)}?api-version=2015-05-01-preview`, { headers: bearer });
    assert.equal(older.body.error?.code, 'NoRegisteredProviderFound');
    assert.equal(
      (await call(`${instancePath(plain)}?api-version=2015-05-01-preview`, { headers: bearer })).status,
      200,
    );
  });

  it('refuses a malformed api-version with 400 InvalidApiVersionParameter', async () => {
    const answer = await call(`${instancePath(plain)}?api-version=latest`, { headers: bearer });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error?.code, 'InvalidApiVersionParameter');
    assert.match(
      answer.body.error?.message ?? '',
      /^The api-version 'latest' is invalid\. The supported versions are '/,
    );
  });

  it('accepts every api-version @azure/arm-sql 10 sends, and the stable 2023-08-01', async () => {
    const instance = instancePath(plain);
    for (const path of [
      `${groupPath(plain)}?api-version=2022-05-01-preview`,
      `${groupPath(plain)}?api-version=2023-08-01`,
      `${instance}?api-version=2022-08-01-preview`,
      `${instance}/operations?api-version=2020-11-01-preview`,
      `${instance}/databases/sales/backupLongTermRetentionPolicies?api-version=2020-11-01-preview`,
    ]) {
      assert.equal((await call(path, { headers: bearer })).status, 200, path);
    }
  });

  it("answers an unknown route with 404 InvalidResourceType and an unserved method with 405, both in ARM's error shape", async () => {
    const unknown = await call(`${instancePath(plain)}/dnsAliases?api-version=2022-08-01-preview`, { headers: bearer });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error?.code, 'InvalidResourceType');
    assert.match(
      unknown.body.error?.message ?? '',
      /'managedInstances\/dnsAliases' could not be found in the namespace 'Microsoft\.Sql'/,
    );
    const nowhere = await call('/nowhere', { headers: bearer });
    assert.equal(nowhere.status, 404);
    assert.equal(typeof nowhere.body.error?.code, 'string');
    const method = await call(`${groupPath(plain)}?api-version=2022-05-01-preview`, {
      method: 'PATCH',
      headers: bearer,
    });
    assert.equal(method.status, 405);
    assert.equal(method.body.error?.code, 'MethodNotAllowed');
    assert.match(method.headers.get('allow') ?? '', /GET/);
  });

  it("sends x-ms-correlation-request-id on every answer, echoing the client's when it sent one", async () => {
    const path = `${groupPath(plain)}?api-version=2022-05-01-preview`;
    const echoed = await call(path, {
      headers: { ...bearer, 'x-ms-correlation-request-id': 'c0ffee00-0000-4000-8000-000000000001' },
    });
    assert.equal(echoed.headers.get('x-ms-correlation-request-id'), 'c0ffee00-0000-4000-8000-000000000001');
    for (const answer of [
      await call(path, { headers: bearer }),
      await call(path),
      await call('/nowhere', { headers: bearer }),
    ]) {
      assert.match(
        answer.headers.get('x-ms-correlation-request-id') ?? '',
        /^[0-9a-f-]{36}$/,
        `status ${answer.status}`,
      );
    }
  });
});

describe('ARM over HTTPS', () => {
  const get = (url: string, ca: string | undefined, hostname?: string) =>
    new Promise<number>((resolve, reject) => {
      const target = new URL(url);
      https
        .get(
          {
            hostname: hostname ?? target.hostname,
            port: target.port,
            path: target.pathname + target.search,
            ca,
            headers: bearer,
          },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        )
        .on('error', reject);
    });

  it('serves HTTPS with a certificate for 127.0.0.1 and localhost signed by the CA in the start line', async () => {
    const line = secure.startLine();
    assert.match(line.armEndpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(line.tls?.ca ?? '', /^-----BEGIN CERTIFICATE-----/);
    const url = `${line.armEndpoint}${groupPath(secure)}?api-version=2022-05-01-preview`;
    assert.equal(await get(url, line.tls!.ca), 200);
    assert.equal(await get(url, line.tls!.ca, 'localhost'), 200);
    await assert.rejects(
      get(url, undefined),
      /self-signed|unable to verify|certificate/i,
      'a client that does not trust the CA is refused',
    );
    await assert.rejects(
      get(url, otherCa),
      /certificate|verify|signature/i,
      'a client that trusts another CA is refused',
    );
  });

  it('lets the SDK pipeline run unchanged, bearer policy included, when the adapter trusts the CA', async () => {
    const line = secure.startLine();
    const controlPlane = new ArmControlPlane({
      credential: new EmulatorCredential(),
      endpoint: line.armEndpoint,
      ca: line.tls!.ca,
    });
    const group = line.groups[0]!;
    const answer = await controlPlane.getFailoverGroup(group, group.primaryLocation);
    assert.equal(answer.value.name, group.name);
    const policies = controlPlane
      .client(group.subscriptionId)
      .pipeline.getOrderedPolicies()
      .map((policy) => policy.name);
    assert.ok(policies.includes('bearerTokenAuthenticationPolicy'), policies.join(', '));
  });
});
