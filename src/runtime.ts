/**
 * The worker's runtime: one pino logger for everything the process says (fogpilot's own lines, the Temporal SDK's,
 * and the SDK core's, forwarded), with secrets redacted; and one Prometheus endpoint for the SDK's metrics and
 * fogpilot's own (which runbooks and activities emit through Temporal's metric meter, so they land on the same port).
 */
import pino, { type Logger as PinoLogger } from 'pino';
import { Runtime, type LogLevel, type LogMetadata, type Logger } from '@temporalio/worker';
import { ConfigError } from './config/config';
import { fogpilotVariable } from './config/environment';
import { secretRedaction } from './secrets';

/**
 * Paths pino blanks out in a line's fields, kept as the first layer: {@link redactSecretFields} blanks secret-named
 * fields at any depth, and every formatted line is scanned for the registered secret values (src/secrets.ts).
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

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export interface LoggerOptions {
  level?: string;
  /**
   * `json` (one object per line, for a log pipeline) or `pretty` (short coloured lines, for a person). Default:
   * `FOGPILOT_LOG_FORMAT`, else pretty when the lines go to a terminal and JSON otherwise.
   */
  format?: LogFormat;
  /** Where lines go (tests pass a stream to read them back); default stdout. */
  destination?: pino.DestinationStream;
  /** Where `FOGPILOT_LOG_LEVEL` and `FOGPILOT_LOG_FORMAT` are read; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/**
 * `FOGPILOT_LOG_FORMAT`: `json`, `pretty`, or `auto` / unset (undefined: pretty on a terminal, JSON otherwise).
 * A wrong value is a {@link ConfigError} naming the variable and its values.
 */
export function logFormatFromEnvironment(env: NodeJS.ProcessEnv = process.env): LogFormat | undefined {
  const raw = fogpilotVariable('FOGPILOT_LOG_FORMAT', env)?.trim() ?? '';
  const value = raw.toLowerCase();
  if (value === '' || value === 'auto') return undefined;
  if ((LOG_FORMATS as readonly string[]).includes(value)) return value as LogFormat;
  throw new ConfigError(
    `FOGPILOT_LOG_FORMAT must be json, pretty or auto (pretty on a terminal, JSON otherwise); got "${raw}"`,
  );
}

/** `FOGPILOT_LOG_LEVEL` (default `info`); a wrong value is a {@link ConfigError} naming the variable and its values. */
export function logLevelFromEnvironment(env: NodeJS.ProcessEnv = process.env): string {
  const raw = fogpilotVariable('FOGPILOT_LOG_LEVEL', env)?.trim() ?? '';
  const value = raw.toLowerCase();
  if (value === '') return 'info';
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value;
  throw new ConfigError(`FOGPILOT_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got "${raw}"`);
}

/** The part of pino-pretty's API used here. */
interface PinoPrettyOptions {
  colorize: boolean;
  sync: boolean;
  destination: number | pino.DestinationStream;
  translateTime: string;
  ignore: string;
}
type PinoPretty = ((options: PinoPrettyOptions) => pino.DestinationStream) & { isColorSupported?: boolean };

/**
 * pino-pretty, loaded only when a logger is pretty (a worker in a container never pays for it); undefined when it is
 * not installed.
 */
function loadPinoPretty(): PinoPretty | undefined {
  let loaded: PinoPretty | { default: PinoPretty };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on demand, see above
    loaded = require('pino-pretty') as PinoPretty | { default: PinoPretty };
  } catch (error) {
    const missing =
      (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && /'pino-pretty'/.test((error as Error).message);
    if (missing) return undefined;
    throw error;
  }
  return typeof loaded === 'function' ? loaded : loaded.default;
}

/**
 * One pino logger, with secrets redacted: fields with secret names at any depth, and the values of the secrets the
 * process holds (registered in src/secrets.ts; the environment's are registered here) wherever they appear in a line,
 * messages included. Both happen before pino-pretty sees the line, so in both formats. Pretty lines go through
 * pino-pretty as a synchronous stream in this thread (no transport worker thread), coloured when the destination is a
 * terminal that supports colour (`NO_COLOR` turns it off).
 */
export function createLogger(options: LoggerOptions = {}): PinoLogger {
  const env = options.env ?? process.env;
  const base: pino.LoggerOptions = {
    level: options.level ?? logLevelFromEnvironment(env),
    base: { service: 'fogpilot' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    ...secretRedaction(env),
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const terminal =
    options.destination === undefined
      ? process.stdout.isTTY === true
      : (options.destination as { isTTY?: boolean }).isTTY === true;
  const requested = options.format ?? logFormatFromEnvironment(env);
  const format = requested ?? (terminal ? 'pretty' : 'json');
  if (format === 'json') return options.destination ? pino(base, options.destination) : pino(base);

  const pinoPretty = loadPinoPretty();
  if (!pinoPretty) {
    if (requested === 'pretty')
      throw new ConfigError(
        'FOGPILOT_LOG_FORMAT=pretty needs the pino-pretty package, which is not installed: ' +
          'reinstall fogpilot with its dependencies, or set FOGPILOT_LOG_FORMAT=json',
      );
    const logger = options.destination ? pino(base, options.destination) : pino(base);
    logger.info('pino-pretty is not installed: logging JSON on a terminal');
    return logger;
  }
  const pretty = pinoPretty({
    colorize: terminal && !('NO_COLOR' in env) && pinoPretty.isColorSupported !== false,
    sync: true,
    destination: options.destination ?? 1,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
  });
  return pino(base, pretty);
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
  const port = fogpilotVariable('FOGPILOT_METRICS_PORT', env)?.trim() || '9464';
  if (port === '0') return undefined;
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65_535) {
    throw new ConfigError(
      `FOGPILOT_METRICS_PORT must be a port number (1-65535), or 0 to turn metrics off; got "${port}"`,
    );
  }
  return `${fogpilotVariable('FOGPILOT_METRICS_HOST', env)?.trim() || '0.0.0.0'}:${port}`;
}
