/**
 * Who the CLI acts as: the identity of its Temporal connection, from the same settings it connects with. Approvals and
 * the runs it starts carry it, so it must come from the connection, never from a flag.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { makeCertificates, type KeyAndCertificate } from '../../src/emulator/tls/ca';
import { connectionIdentity } from '../../src/cli/connect';
import { CliError, ExitCodes } from '../../src/cli/errors';
import { removeTempFile, writeTempFile } from '../support/temp-files';
import { fogpilot } from './fogpilot-cli';

const API_KEY = 'tmprl-api-key-0123456789abcdefghijklmnopqrstuvwxyz';

describe('the CLI identity', () => {
  let client: KeyAndCertificate;
  const files: string[] = [];
  before(async () => {
    // Any certificate will do: its subject is CN=localhost, O=fogpilot emulator.
    client = (await makeCertificates({ armHosts: [], dnsZones: [] })).arm;
  });
  after(() => files.forEach(removeTempFile));

  it("is the client certificate's subject when the connection has one", () => {
    const identity = connectionIdentity({
      tls: { clientCertPair: { crt: Buffer.from(client.cert), key: Buffer.from(client.key) } },
      apiKey: API_KEY,
    });
    assert.deepEqual([identity.label, identity.kind], ['certificate:CN=localhost,O=fogpilot emulator', 'certificate']);
  });

  it("is the API key's fingerprint, never the key, when there is no certificate", () => {
    const identity = connectionIdentity({ tls: true, apiKey: API_KEY });
    assert.match(identity.label, /^api-key:sha256:[0-9a-f]{16}$/);
    assert.ok(!identity.label.includes(API_KEY.slice(0, 8)), 'no part of the key shows');
    assert.equal(connectionIdentity({ apiKey: API_KEY }).label, identity.label, 'the same key, the same name');
  });

  it('is the OS user, labelled as such, with neither', () => {
    assert.equal(connectionIdentity({}, () => 'alice').label, 'os-user:alice');
  });

  it('refuses a client certificate it cannot read, saying which setting to check', () => {
    assert.throws(
      () => connectionIdentity({ tls: { clientCertPair: { crt: Buffer.from('not a cert'), key: Buffer.from('') } } }),
      (error: unknown) =>
        error instanceof CliError &&
        error.exitCode === ExitCodes.usage &&
        /TEMPORAL_TLS_CLIENT_CERT_PATH/.test(error.action ?? ''),
    );
  });

  it('fogpilot whoami prints the identity from the Temporal environment without contacting a server', async () => {
    const crt = writeTempFile('client.pem', client.cert);
    const key = writeTempFile('client.key', client.key);
    files.push(crt, key);
    // An address nothing listens on: whoami must not need it.
    const nowhere = { TEMPORAL_ADDRESS: '127.0.0.1:9' };
    const [certificate, apiKey, osUser] = await Promise.all([
      fogpilot(['whoami', '--json'], {
        ...nowhere,
        TEMPORAL_TLS_CLIENT_CERT_PATH: crt,
        TEMPORAL_TLS_CLIENT_KEY_PATH: key,
      }),
      fogpilot(['whoami'], { ...nowhere, TEMPORAL_API_KEY: API_KEY }),
      fogpilot(['whoami'], nowhere),
    ]);
    assert.equal(certificate.code, 0, certificate.stderr);
    assert.equal(
      (JSON.parse(certificate.stdout) as { label: string }).label,
      'certificate:CN=localhost,O=fogpilot emulator',
    );
    assert.equal(apiKey.code, 0, apiKey.stderr);
    assert.match(
      apiKey.stdout,
      /^api-key:sha256:[0-9a-f]{16}\n {2}from the SHA-256 fingerprint of the Temporal API key/,
    );
    assert.ok(!apiKey.stdout.includes(API_KEY), 'the key itself is never printed');
    assert.match(osUser.stdout, new RegExp(`^os-user:${userInfo().username}\\n  from the OS user running fogpilot`));
  });
});
