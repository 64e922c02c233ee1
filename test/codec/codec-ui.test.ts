/**
 * The real Temporal UI (the one built into `temporal server start-dev`) reading an encrypted history through
 * `fogpilot codec-server`, as docs/cli.md "Reading encrypted histories" tells people to set it up: the UI's codec
 * endpoint is a reverse proxy standing for the SSO proxy, which adds `Authorization: Bearer <token>` and passes the
 * request to the codec server, run as `fogpilot codec-server --allow-origin <the UI's origin>`. Headless Chromium
 * opens the run's page and the test reads what it shows.
 *
 * The browser is found as test/report/html-chromium.test.ts finds it; `FOGPILOT_SKIP_BROWSER=1` skips these tests
 * where there is none.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { temporal } from '@temporalio/proto';
import { Client } from '@temporalio/client';
import { dataConverterFromEnvironment } from '../../src/codec';
import { startDevServer, type DevServer } from '../support/dev-server';
import { lookUpChromium, openPage, requireChromium } from '../support/chromium';
import { uniqueTaskQueue } from '../support/temporal';
import { startFogpilot, type RunningCli } from '../cli/fogpilot-cli';

const KEYS = `ui-1:${randomBytes(32).toString('base64')}`;
const TOKEN = randomBytes(24).toString('hex');
// Distinctive, so finding it on the page can only come from this run's decrypted input.
const REASON = `CHG-${randomUUID()} shown by the Temporal UI`;
/** How long the UI may take to load and render a run on a busy 2-core machine. */
const PAGE_TIMEOUT_MS = 60_000;

/** One request the proxy passed on: what the browser asked and what the codec server answered. */
interface Exchange {
  method: string;
  path: string;
  origin: string | undefined;
  status: number;
}

/**
 * Stands for the SSO proxy: while `signedIn`, it adds the codec token to each request, as a proxy that has signed the
 * person in would. It passes everything else through, CORS headers included, in both directions.
 */
class SigningProxy {
  signedIn = true;
  readonly exchanges: Exchange[] = [];
  upstream: URL | undefined;
  private readonly server: Server = createServer((incoming, outgoing) => {
    if (!this.upstream) {
      outgoing.writeHead(503).end();
      return;
    }
    const headers = { ...incoming.headers, host: this.upstream.host };
    delete headers.authorization;
    if (this.signedIn) headers.authorization = `Bearer ${TOKEN}`;
    const forwarded = request(
      { host: this.upstream.hostname, port: this.upstream.port, method: incoming.method, path: incoming.url, headers },
      (answer) => {
        this.exchanges.push({
          method: incoming.method ?? '',
          path: incoming.url ?? '',
          origin: incoming.headers.origin,
          status: answer.statusCode ?? 0,
        });
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', (error) => outgoing.writeHead(502).end(error.message));
    incoming.pipe(forwarded);
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** The decode requests the codec server answered since `from` (an index into `exchanges`). */
  decodes(from: number): Exchange[] {
    return this.exchanges
      .slice(from)
      .filter((exchange) => exchange.method === 'POST' && /^\/decode\b/.test(exchange.path));
  }
}

const lookup = lookUpChromium();

describe(
  'the Temporal UI through fogpilot codec-server',
  { concurrency: 1, timeout: 240_000, skip: 'skip' in lookup ? lookup.skip : false },
  () => {
    const proxy = new SigningProxy();
    let server: DevServer;
    let codecServer: RunningCli;
    let uiOrigin: string;
    let historyPage: string;
    /** Everything Temporal stores for the run, read without the codec. */
    let rawHistory: Buffer;
    /** The encrypted input as stored (base64), which the UI shows when it cannot decode. */
    let ciphertext: string;

    before(async () => {
      if (!('binary' in lookup)) return; // each test fails with the install instructions
      const proxyUrl = await proxy.listen();
      server = await startDevServer({ ui: { codecEndpoint: proxyUrl }, readyTimeoutMs: 60_000 });
      uiOrigin = new URL(server.uiUrl!).origin;
      codecServer = startFogpilot(
        ['codec-server', '--port', '0', '--allow-origin', uiOrigin],
        {
          FOGPILOT_PAYLOAD_KEYS: KEYS,
          FOGPILOT_CODEC_TOKEN: TOKEN,
        },
        300_000,
      );
      await codecServer.printed(/\n/);
      proxy.upstream = new URL((JSON.parse(codecServer.stdout()) as { url: string }).url);

      // No worker polls this queue: the run stays open, and its start event holds the encrypted input.
      const client = new Client({
        connection: server.env.connection,
        namespace: server.namespace,
        dataConverter: dataConverterFromEnvironment({ FOGPILOT_PAYLOAD_KEYS: KEYS }),
      });
      const handle = await client.workflow.start('readinessCheck', {
        taskQueue: uniqueTaskQueue('codec-ui'),
        workflowId: `codec-ui-${randomUUID()}`,
        args: [{ group: 'fog-sales', reason: REASON }],
      });
      const history = await server.env.client.workflow.getHandle(handle.workflowId).fetchHistory();
      rawHistory = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
      const [input] = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;
      assert.equal(Buffer.from(input!.metadata!.encoding!).toString(), 'binary/encrypted');
      ciphertext = Buffer.from(input!.data!).toString('base64');
      historyPage =
        `${server.uiUrl}/namespaces/${server.namespace}/workflows/${encodeURIComponent(handle.workflowId)}/` +
        `${handle.firstExecutionRunId}/history`;
    });
    after(async () => {
      codecServer?.kill();
      await codecServer?.ended;
      await proxy.close();
      await server?.teardown();
    });

    it('the run is stored encrypted: its raw history holds no trace of the reason', () => {
      requireChromium(lookup);
      assert.ok(!rawHistory.includes(REASON.slice(0, 40)), 'the raw history holds the reason');
      assert.ok(ciphertext.length > 40, 'the start event holds an encrypted input');
    });

    it("the UI, its codec endpoint the proxy that adds the token, shows the run's encrypted input in clear", async () => {
      const browser = requireChromium(lookup);
      const from = proxy.exchanges.length;
      proxy.signedIn = true;
      const page = await openPage(browser, historyPage);
      try {
        const text = await page.waitForText((shown) => shown.includes(REASON), 'the decrypted reason', PAGE_TIMEOUT_MS);
        assert.match(text, /Input[\s\S]*"group": "fog-sales"/);
      } finally {
        await page.close();
      }
      const decodes = proxy.decodes(from);
      assert.ok(decodes.length > 0, 'the browser called the codec endpoint');
      assert.ok(
        decodes.every((exchange) => exchange.status === 200 && exchange.origin === uiOrigin),
        JSON.stringify(decodes),
      );
    });

    it('without the token the codec server refuses the UI (401), and the UI shows the input encrypted, never in clear', async () => {
      const browser = requireChromium(lookup);
      const from = proxy.exchanges.length;
      proxy.signedIn = false;
      const page = await openPage(browser, historyPage);
      try {
        // The UI shows the stored input first and its banner about the codec server when that call has failed:
        // wait for both, rather than for the first and hoping the second came with it.
        const text = await page.waitForText(
          (shown) => shown.includes(ciphertext) && /Codec Server could not connect/.test(shown),
          'the stored (encrypted) input and the codec server banner',
          PAGE_TIMEOUT_MS,
        );
        assert.ok(!text.includes(REASON), text);
        assert.ok(!text.includes('"group": "fog-sales"'), text);
      } finally {
        await page.close();
        proxy.signedIn = true;
      }
      const decodes = proxy.decodes(from);
      assert.ok(decodes.length > 0, 'the browser called the codec endpoint');
      assert.ok(
        decodes.every((exchange) => exchange.status === 401 && exchange.origin === uiOrigin),
        JSON.stringify(decodes),
      );
    });
  },
);
