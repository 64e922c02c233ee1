/** `fogpilot webhook` as an operator starts it: a separate process, secrets from the environment only. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { get as httpsGet } from 'node:https';
import { writeFileSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { promisify } from 'node:util';
import type { WebhookStartLine } from '../../src/cli/commands/webhook';
import { makeCertificates } from '../../src/emulator/tls/ca';
import { removeTempFile, writeTempConfig, writeTempFile } from '../support/temp-files';
import { repoRoot } from '../support/temporal';

const run = promisify(execFile);
const bin = path.join(repoRoot, 'bin', 'fogpilot.js');
const SECRET = 'cli-test-secret-0123456789abcdef';

/** The caller's environment without any webhook secret, Temporal pointed at a port where nothing listens. */
function environment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', ...extra };
  if (!('FOGPILOT_WEBHOOK_HMAC_SECRET' in extra)) delete env.FOGPILOT_WEBHOOK_HMAC_SECRET;
  if (!('FOGPILOT_WEBHOOK_TOKEN' in extra)) delete env.FOGPILOT_WEBHOOK_TOKEN;
  if (!('FOGPILOT_CONFIG' in extra)) delete env.FOGPILOT_CONFIG;
  return env;
}

describe('fogpilot webhook', () => {
  it('refuses to start without a secret, exiting 2 with a message naming FOGPILOT_WEBHOOK_HMAC_SECRET', async () => {
    const child = spawn(process.execPath, [bin, 'webhook', '--port', '0'], {
      env: environment(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let errors = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 2);
    assert.match(errors, /FOGPILOT_WEBHOOK_HMAC_SECRET/);
    assert.match(errors, /FOGPILOT_WEBHOOK_TOKEN/);
    assert.match(errors, /openssl rand -hex 32/);
  });

  it('refuses to start when a caller of the access section has no secret, naming the caller and the variable', async () => {
    const config = writeTempConfig(
      'access:\n  callers:\n    incident-bot:\n      credential: { hmacKeyEnv: FOGPILOT_TEST_BOT_KEY }\n      start: [readinessCheck]\n',
    );
    try {
      const child = spawn(process.execPath, [bin, 'webhook', '--port', '0'], {
        env: environment({ FOGPILOT_CONFIG: config, FOGPILOT_WEBHOOK_HMAC_SECRET: SECRET }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let errors = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
      // A webhook that starts anyway prints its start line: stop it, so the test fails instead of waiting.
      let listened = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        listened += chunk;
        child.kill('SIGTERM');
      });
      const [code] = (await once(child, 'exit')) as [number];
      assert.equal(listened, '', 'the webhook must not start');
      assert.equal(code, 2, errors);
      assert.match(
        errors,
        /caller incident-bot's HMAC key is read from the environment variable FOGPILOT_TEST_BOT_KEY/,
      );
      assert.match(errors, /not set/);
      assert.ok(!errors.includes(SECRET));
    } finally {
      removeTempFile(config);
    }
  });

  it('shows its routes, the secret variables and a signed curl example in --help', async () => {
    const { stdout } = await run(process.execPath, [bin, 'webhook', '--help'], { env: environment() });
    assert.match(stdout, /POST \/v1\/runbooks\/<runbook>/);
    assert.match(stdout, /--ui-url <url>/);
    assert.match(stdout, /Examples:/);
    assert.match(stdout, /X-Fogpilot-Signature: sha256=\$sig/);
    assert.doesNotMatch(stdout, /--secret|--token/, 'secrets are never flags');
  });

  it('serves health while Temporal is down, accepts a request signed with openssl as the README shows, and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [bin, 'webhook', '--port', '0', '--ui-url', 'https://temporal.example.com/'],
      {
        env: environment({ FOGPILOT_WEBHOOK_HMAC_SECRET: SECRET }),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    let errors = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
    child.stdout.setEncoding('utf8');
    const exited = once(child, 'exit');
    try {
      const firstLine = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: string) => {
          output += chunk;
          if (output.includes('\n')) resolve(output.split('\n')[0]!);
        });
        child.once('exit', (code) => reject(new Error(`webhook exited with ${code}: ${errors}`)));
      });
      const line = JSON.parse(firstLine) as WebhookStartLine;
      assert.match(line.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.deepEqual(line.auth, ['hmac']);
      assert.deepEqual(line.callers, ['default']);
      assert.equal(line.access, 'read-only');
      assert.equal(line.temporalAddress, '127.0.0.1:1');
      assert.equal(line.uiBaseUrl, 'https://temporal.example.com');

      assert.equal((await fetch(`${line.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${line.url}/readyz`)).status, 503, 'Temporal does not answer');

      const body = JSON.stringify({ input: { group: 'fog-sales', vCores: 6 } });
      const route = '/v1/runbooks/scaleGroup';
      const unsigned = await fetch(`${line.url}${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      assert.equal(unsigned.status, 401);

      // The recipe of docs/http-trigger.md and --help: the canonical request, signed with openssl.
      const ts = Math.floor(Date.now() / 1000).toString();
      const { stdout: digest } = await run(
        'bash',
        [
          '-c',
          `digest=$(printf '%s' "$body" | openssl dgst -sha256 -hex | sed 's/^.* //')
           printf '%s\\nPOST\\n%s\\n\\n%s' "$ts" "$path" "$digest" | openssl dgst -sha256 -hmac "$KEY" -hex | sed 's/^.* //'`,
        ],
        { env: { ...process.env, ts, body, path: route, KEY: SECRET } },
      );
      const signed = await fetch(`${line.url}${route}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-fogpilot-timestamp': ts,
          'x-fogpilot-signature': `sha256=${digest.trim()}`,
        },
        body,
      });
      // Authenticated, then refused by validation, which needs no Temporal.
      assert.equal(signed.status, 400, await signed.clone().text());
      assert.match(((await signed.json()) as { message: string }).message, /input\.vCores/);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, errors);
    assert.match(errors, /"signal":"SIGTERM"/);
    assert.match(
      errors,
      /no access section: the webhook starts only read-only runbooks \(readinessCheck\) and dry runs/,
    );
    assert.ok(!output.includes(SECRET) && !errors.includes(SECRET), 'the secret is never printed');
  });

  it('serves HTTPS with --tls-cert and --tls-key to a client that trusts the CA, and refuses one flag without the other', async () => {
    const certificates = await makeCertificates({ armHosts: [], dnsZones: [] });
    const certFile = writeTempFile('tls.crt', certificates.arm.cert, 'fogpilot-webhook-tls-');
    const keyFile = path.join(path.dirname(certFile), 'tls.key');
    writeFileSync(keyFile, certificates.arm.key, { mode: 0o600 });
    const stateDir = path.join(path.dirname(certFile), 'state');
    try {
      const alone = await run(process.execPath, [bin, 'webhook', '--port', '0', '--tls-cert', certFile], {
        env: environment({ FOGPILOT_WEBHOOK_HMAC_SECRET: SECRET }),
      }).catch((error: { code: number; stderr: string }) => error);
      assert.equal((alone as { code: number }).code, 2);
      assert.match(
        (alone as { stderr: string }).stderr,
        /--tls-cert and --tls-key go together \(got only --tls-cert\)/,
      );

      const child = spawn(
        process.execPath,
        [bin, 'webhook', '--port', '0', '--tls-cert', certFile, '--tls-key', keyFile, '--state-dir', stateDir],
        { env: environment({ FOGPILOT_WEBHOOK_HMAC_SECRET: SECRET }), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let errors = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
      const exited = once(child, 'exit');
      try {
        const line = await startLineOf(child, () => errors);
        assert.match(line.url, /^https:\/\/127\.0\.0\.1:\d+$/);
        assert.equal(line.tls, true);
        assert.equal(line.replayStore, path.join(stateDir, 'webhook-replay.json'));
        const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          httpsGet(`${line.url}/healthz`, { ca: certificates.ca }, (response) => {
            let body = '';
            response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
          }).on('error', reject);
        });
        assert.deepEqual(answer, { status: 200, body: '{"status":"ok"}' });
        // A client that does not trust the CA does not get through.
        await assert.rejects(
          new Promise((resolve, reject) => httpsGet(`${line.url}/healthz`, resolve).on('error', reject)),
          /self-signed|unable to verify|certificate/i,
        );
      } finally {
        child.kill('SIGTERM');
      }
      assert.equal(((await exited) as [number | null])[0], 0, errors);
    } finally {
      removeTempFile(certFile);
    }
  });
});

/** The JSON line `fogpilot webhook` prints once it listens. */
function startLineOf(
  child: ChildProcessByStdio<null, Readable, Readable>,
  errors: () => string,
): Promise<WebhookStartLine> {
  let output = '';
  child.stdout.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('\n')) resolve(JSON.parse(output.split('\n')[0]!) as WebhookStartLine);
    });
    child.once('exit', (code) => reject(new Error(`webhook exited with ${code}: ${errors()}`)));
  });
}
