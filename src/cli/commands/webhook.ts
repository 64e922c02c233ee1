import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { pino } from 'pino';
import { FogpilotClient } from '../../client';
import { READ_ONLY_RUNBOOKS } from '../../config/access';
import { ConfigError, loadConfig } from '../../config/config';
import {
  BEARER_TOKEN_ENV,
  DEFAULT_UI_BASE_URL,
  HMAC_SECRET_ENV,
  REPLAY_STORE_FILE,
  ReplayStoreError,
  WebhookSettingsError,
  createWebhookServer,
  webhookCredentials,
} from '../../webhook';
import { taskQueueFromEnvironment } from '../../config/task-queue';
import { fogpilotVariable } from '../../config/environment';
import { secretRedaction } from '../../secrets';
import { PayloadKeysError, dataConverterFromEnvironment } from '../../codec';
import { CliError, ExitCodes } from '../errors';
import { untilStopped } from '../stop-signal';

/** The line `fogpilot webhook` prints on stdout once it listens (logs go to stderr). */
export interface WebhookStartLine {
  url: string;
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  auth: ('hmac' | 'bearer')[];
  /** The callers a request may authenticate as, by name (`default` without an access section); never their secrets. */
  callers: string[];
  /** `access`: fogpilot.yaml's access section decides; `read-only`: none, so only read-only runbooks and dry runs start. */
  access: 'access' | 'read-only';
  uiBaseUrl: string;
  /** Whether it serves HTTPS (--tls-cert and --tls-key). */
  tls: boolean;
  /** Where accepted signed changes are remembered: `memory` (a restart forgets) or the file under --state-dir. */
  replayStore: string;
}

interface WebhookFlags {
  port: string;
  host: string;
  uiUrl: string;
  tlsCert?: string;
  tlsKey?: string;
  stateDir?: string;
}

/** The PEM text of a --tls-cert or --tls-key file, or a usage error naming the flag and the file. */
function readPem(flag: string, file: string, marker: RegExp): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(
      `${flag} names ${path.resolve(file)}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`,
      ExitCodes.usage,
      'Give the path of a PEM file the webhook may read.',
    );
  }
  if (!marker.test(text)) {
    throw new CliError(
      `${flag} names ${path.resolve(file)}, which holds no PEM ${flag === '--tls-cert' ? 'certificate' : 'private key'}.`,
      ExitCodes.usage,
      'Give a PEM file (-----BEGIN ...-----), e.g. the files your certificate authority or cert-manager issued.',
    );
  }
  return text;
}

export function registerWebhook(program: Command): void {
  program
    .command('webhook')
    .summary('serve the HTTP trigger for incident tooling: start runbooks, read status, approve/reject/abort')
    .description(
      [
        'Serves POST /v1/runbooks/<runbook>, GET /v1/runbooks/<workflowId> and ' +
          'POST /v1/runbooks/<workflowId>/signals/(approve|reject|abort), plus /healthz and /readyz, until SIGINT/SIGTERM.',
        'Who may call it comes from the access section of fogpilot.yaml (FOGPILOT_CONFIG): each named caller has one ' +
          'credential, a bearer token or an HMAC key read from the environment variable or file it names, and may start ' +
          'the runbooks on the groups it is granted. Without an access section, ' +
          `${HMAC_SECRET_ENV} and/or ${BEARER_TOKEN_ENV} make one caller named default, which may start only ` +
          'read-only runbooks and dry runs. Secrets are never read from flags.',
        'A signature is HMAC-SHA256 over "<timestamp>\\n<METHOD>\\n<path with query>\\n<Idempotency-Key or empty>\\n' +
          '<sha256 hex of the body>": it binds the route, the key and the body (docs/http-trigger.md).',
        'Temporal is reached with the settings the Temporal CLI uses (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, ' +
          'TEMPORAL_API_KEY, TLS variables, temporal.toml profiles); runbooks go to FOGPILOT_TASK_QUEUE (default fogpilot).',
      ].join('\n\n'),
    )
    .option('--port <n>', 'port to listen on (0: any free port)', '8088')
    .option('--host <address>', 'address to listen on (0.0.0.0 to serve other machines)', '127.0.0.1')
    .option('--ui-url <url>', 'Temporal UI base URL, for the links in answers', DEFAULT_UI_BASE_URL)
    .option('--tls-cert <file>', 'serve HTTPS with this certificate chain (PEM); needs --tls-key')
    .option('--tls-key <file>', 'the private key (PEM) of --tls-cert')
    .option(
      '--state-dir <dir>',
      `keep the replay store in <dir>/${REPLAY_STORE_FILE}, so a restart keeps refusing signed requests already accepted (default: in memory)`,
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        `  ${HMAC_SECRET_ENV}="$(openssl rand -hex 32)" fogpilot webhook`,
        `  TEMPORAL_ADDRESS=temporal.internal:7233 ${BEARER_TOKEN_ENV}=... fogpilot webhook --host 0.0.0.0 --port 8088 \\`,
        '    --ui-url https://temporal.example.com',
        '  fogpilot webhook --host 0.0.0.0 --tls-cert /etc/fogpilot/tls.crt --tls-key /etc/fogpilot/tls.key \\',
        '    --state-dir /var/lib/fogpilot',
        '',
        '  # start a forced failover for incident INC-123 (a repeat returns the same run), as a caller granted',
        '  # forcedFailover in access.callers whose HMAC key is in $KEY',
        '  body=\'{"input":{"group":"fog-sales"},"idempotencyKey":"INC-123"}\'; path=/v1/runbooks/forcedFailover; ts=$(date +%s)',
        "  digest=$(printf '%s' \"$body\" | openssl dgst -sha256 -hex | sed 's/^.* //')",
        `  sig=$(printf '%s\\nPOST\\n%s\\n\\n%s' "$ts" "$path" "$digest" | openssl dgst -sha256 -hmac "$KEY" -hex | sed 's/^.* //')`,
        '  curl -sS -X POST "http://127.0.0.1:8088$path" -H "Content-Type: application/json" \\',
        '    -H "X-Fogpilot-Timestamp: $ts" -H "X-Fogpilot-Signature: sha256=$sig" --data "$body"',
      ].join('\n'),
    )
    .action(async (flags: WebhookFlags) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new CliError(`--port must be a port number (got ${flags.port})`, ExitCodes.usage);
      let uiBaseUrl: string;
      try {
        uiBaseUrl = new URL(flags.uiUrl).toString().replace(/\/+$/, '');
      } catch {
        throw new CliError(
          `--ui-url must be a URL such as ${DEFAULT_UI_BASE_URL} (got ${flags.uiUrl})`,
          ExitCodes.usage,
        );
      }
      if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
        throw new CliError(
          `--tls-cert and --tls-key go together (got only ${flags.tlsCert === undefined ? '--tls-key' : '--tls-cert'}).`,
          ExitCodes.usage,
          'Give both to serve HTTPS, or neither to serve HTTP behind a TLS-terminating proxy (docs/http-trigger.md).',
        );
      }
      const https =
        flags.tlsCert !== undefined && flags.tlsKey !== undefined
          ? {
              cert: readPem('--tls-cert', flags.tlsCert, /-----BEGIN CERTIFICATE-----/),
              key: readPem('--tls-key', flags.tlsKey, /-----BEGIN [A-Z ]*PRIVATE KEY-----/),
            }
          : undefined;
      let config;
      try {
        config = loadConfig();
      } catch (error) {
        if (error instanceof ConfigError) {
          throw new CliError(error.message, ExitCodes.usage, 'Fix fogpilot.yaml (FOGPILOT_CONFIG names it).');
        }
        throw error;
      }
      let credentials;
      let dataConverter;
      try {
        credentials = webhookCredentials(config.access);
        dataConverter = dataConverterFromEnvironment();
      } catch (error) {
        if (error instanceof WebhookSettingsError || error instanceof PayloadKeysError)
          throw new CliError(error.message, ExitCodes.usage, error.action);
        throw error;
      }
      let connectConfig;
      try {
        connectConfig = loadClientConnectConfig();
      } catch (error) {
        throw new CliError(
          `The Temporal connection settings could not be read: ${(error as Error).message}`,
          ExitCodes.usage,
          'Check TEMPORAL_ADDRESS, TEMPORAL_PROFILE and the temporal.toml file (TEMPORAL_CONFIG_FILE).',
        );
      }
      const namespace = connectConfig.namespace ?? 'default';
      const taskQueue = taskQueueFromEnvironment();
      // Lazy: the trigger serves /healthz at once and /readyz tells when Temporal answers.
      const connection = Connection.lazy(connectConfig.connectionOptions);
      const logger = pino(
        {
          name: 'fogpilot-webhook',
          level: fogpilotVariable('FOGPILOT_LOG_LEVEL')?.trim() || 'info',
          redact: ['req.headers.authorization', 'req.headers["x-fogpilot-signature"]'],
          ...secretRedaction(),
        },
        pino.destination(2),
      );
      if (credentials.mode === 'legacy') {
        logger.warn(
          { readOnlyRunbooks: READ_ONLY_RUNBOOKS, config: config.source },
          `fogpilot.yaml has no access section: the webhook starts only read-only runbooks (${READ_ONLY_RUNBOOKS.join(', ')}) and dry runs. Name callers and grant them runbooks under access.callers to allow more.`,
        );
      }
      if (credentials.ignoredVariables.length > 0) {
        logger.warn(
          { ignored: credentials.ignoredVariables },
          `${credentials.ignoredVariables.join(' and ')} ignored: the access section of fogpilot.yaml names the callers and their credentials.`,
        );
      }
      if (flags.stateDir === undefined) {
        logger.warn(
          'the replay store is in memory: a signed request captured in the last replay window (5 minutes) before a restart could be sent once more after it. Give --state-dir to keep it across restarts.',
        );
      }
      let app;
      try {
        app = createWebhookServer({
          client: new FogpilotClient(
            new Client({ connection, namespace, ...(dataConverter ? { dataConverter } : {}) }),
            taskQueue,
          ),
          credentials: credentials.credentials,
          config,
          uiBaseUrl,
          namespace,
          logger,
          https,
          stateDir: flags.stateDir,
        });
      } catch (error) {
        await connection.close().catch(() => undefined);
        if (error instanceof ReplayStoreError) throw new CliError(error.message, ExitCodes.usage);
        throw error;
      }
      let listening: string;
      try {
        listening = await app.listen({ port, host: flags.host });
      } catch (error) {
        await connection.close().catch(() => undefined);
        throw new CliError(
          `The webhook could not listen on ${flags.host}:${port}: ${(error as Error).message}`,
          ExitCodes.failure,
          'Choose another --port, or stop what holds this one.',
        );
      }
      const startLine: WebhookStartLine = {
        url: listening,
        temporalAddress: connectConfig.connectionOptions.address ?? 'localhost:7233',
        namespace,
        taskQueue,
        auth: (['hmac', 'bearer'] as const).filter((method) =>
          credentials.credentials.some((credential) => credential.method === method),
        ),
        callers: [...new Set(credentials.credentials.map((credential) => credential.caller))].sort(),
        access: credentials.mode === 'access' ? 'access' : 'read-only',
        uiBaseUrl,
        tls: https !== undefined,
        replayStore: flags.stateDir === undefined ? 'memory' : path.resolve(flags.stateDir, REPLAY_STORE_FILE),
      };
      const stopped = untilStopped();
      process.stdout.write(`${JSON.stringify(startLine)}\n`);
      const signal = await stopped;
      logger.info({ signal }, 'stopping: finishing requests in flight');
      // close() stops accepting connections and waits for the requests in flight.
      await app.close();
      await connection.close().catch(() => undefined);
      logger.flush();
    });
}
