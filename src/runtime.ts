/**
 * The worker's runtime: one pino logger for everything the process says (fogpilot's own lines, the Temporal SDK's,
 * and the SDK core's, forwarded), with secrets redacted; and one Prometheus endpoint for the SDK's metrics and
 * fogpilot's own (which runbooks and activities emit through Temporal's metric meter, so they land on the same port).
 */
import pino, { type Logger as PinoLogger } from 'pino';
import { Runtime, type LogLevel, type LogMetadata, type Logger } from '@temporalio/worker';

/**
 * Paths pino blanks out wherever they appear in a line's fields. Secrets have no business in logs; this is the net
 * under the rule that they never get there (SQL logins, tokens, webhook secrets, connection strings).
 */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'connectionString',
  '*.connectionString',
  'clientSecret',
  '*.clientSecret',
  'hmacSecret',
  '*.hmacSecret',
];

export interface LoggerOptions {
  level?: string;
  /** `json` (one object per line), `pretty` (for a terminal); default: pretty when stdout is a terminal. */
  format?: 'json' | 'pretty';
  /** Where lines go (tests pass a stream to read them back). */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): PinoLogger {
  const format =
    options.format ?? (process.env.FOGPILOT_LOG_FORMAT === 'json' || !process.stdout.isTTY ? 'json' : 'pretty');
  const base: pino.LoggerOptions = {
    level: options.level ?? process.env.FOGPILOT_LOG_LEVEL ?? 'info',
    base: { service: 'fogpilot' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.destination) return pino(base, options.destination);
  if (format === 'pretty' && canResolve('pino-pretty')) {
    // A terminal gets short, readable lines; anything else gets JSON for the log pipeline.
    return pino({ ...base, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss' } } });
  }
  return pino(base);
}

function canResolve(module: string): boolean {
  try {
    require.resolve(module);
    return true;
  } catch {
    return false;
  }
}

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The Temporal SDK's `Logger`, writing to pino. Workflow and activity lines arrive with the SDK's metadata (workflow
 * id, run id, type, activity); runbooks add `runbook`, `group` and `step` to theirs.
 */
export class PinoSdkLogger implements Logger {
  constructor(private readonly logger: PinoLogger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.logger[PINO_LEVEL[level] ?? 'info'](meta ?? {}, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

export interface RuntimeOptions {
  logger: PinoLogger;
  /** `host:port` of the Prometheus endpoint (`/metrics`); none when undefined. */
  metricsBindAddress?: string;
}

/**
 * Installs the SDK runtime once per process: logs (the core's forwarded) into pino, metrics on the Prometheus port.
 * Must run before the first connection or worker is created.
 */
export function installRuntime(options: RuntimeOptions): void {
  Runtime.install({
    logger: new PinoSdkLogger(options.logger),
    telemetryOptions: {
      logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } },
      ...(options.metricsBindAddress
        ? { metrics: { prometheus: { bindAddress: options.metricsBindAddress, countersTotalSuffix: true } } }
        : {}),
    },
  });
}

/** `FOGPILOT_METRICS_PORT` (default 9464; `0` turns the endpoint off) on all interfaces, for Prometheus to scrape. */
export function metricsBindAddressFromEnvironment(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const port = env.FOGPILOT_METRICS_PORT?.trim() || '9464';
  if (port === '0') return undefined;
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65_535) {
    throw new Error(`FOGPILOT_METRICS_PORT must be a port number (1-65535), or 0 to turn metrics off; got "${port}"`);
  }
  return `${env.FOGPILOT_METRICS_HOST?.trim() || '0.0.0.0'}:${port}`;
}
