import type { Command } from 'commander';
import { pino } from 'pino';
import { EncryptionCodec, PAYLOAD_KEYS_ENV, PayloadKeysError, payloadKeysFromEnvironment } from '../../codec';
import {
  CODEC_TOKEN_ENV,
  CodecServerSettingsError,
  codecTokenFromEnvironment,
  createCodecServer,
} from '../../codec/server';
import { fogpilotVariable } from '../../config/environment';
import { secretRedaction } from '../../secrets';
import { CliError, ExitCodes } from '../errors';
import { untilStopped } from '../stop-signal';

/** The line `fogpilot codec-server` prints on stdout once it listens (logs go to stderr). Key ids only, never keys. */
export interface CodecServerStartLine {
  url: string;
  allowOrigins: string[];
  currentKeyId: string;
  keyIds: string[];
}

interface CodecServerFlags {
  port: string;
  host: string;
  allowOrigin: string[];
}

/** `fogpilot codec-server`: Temporal's remote codec endpoints, for the Temporal UI and `temporal --codec-endpoint`. */
export function registerCodecServer(program: Command): void {
  program
    .command('codec-server')
    .summary('serve POST /encode and /decode so the Temporal UI and CLI show encrypted histories in clear')
    .description(
      [
        `Decrypts (and encrypts) payloads with the keys in ${PAYLOAD_KEYS_ENV}, for callers that send ` +
          `Authorization: Bearer <${CODEC_TOKEN_ENV}>. Both variables are required.`,
        'Browsers (the Temporal UI) may call it only from the origins given with --allow-origin.',
        'Anyone holding the token reads every history the keys encrypted: keep it on 127.0.0.1, or behind a proxy ' +
          'that signs people in and adds the header.',
      ].join('\n\n'),
    )
    .option('--port <n>', 'port to listen on (0: any free port)', '8888')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option(
      '--allow-origin <url>',
      'an origin allowed to call from a browser, e.g. the Temporal UI (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        `  ${CODEC_TOKEN_ENV}="$(openssl rand -hex 32)" fogpilot codec-server --allow-origin http://localhost:8080`,
        `  temporal workflow show -w <id> --codec-endpoint http://127.0.0.1:8888 --codec-auth "Bearer $${CODEC_TOKEN_ENV}"`,
      ].join('\n'),
    )
    .action(async (flags: CodecServerFlags) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new CliError(`--port must be a port number (got ${flags.port})`, ExitCodes.usage);
      const allowOrigins = flags.allowOrigin.map((given) => {
        try {
          const url = new URL(given);
          if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
          return url.origin;
        } catch {
          throw new CliError(
            `--allow-origin must be an http(s) origin such as http://localhost:8080 (got ${given})`,
            ExitCodes.usage,
          );
        }
      });
      let token: string;
      let keyring;
      try {
        token = codecTokenFromEnvironment();
        keyring = payloadKeysFromEnvironment();
      } catch (error) {
        if (error instanceof CodecServerSettingsError || error instanceof PayloadKeysError)
          throw new CliError(error.message, ExitCodes.usage, error.action);
        throw error;
      }
      if (!keyring) {
        throw new CliError(
          `The codec server needs the payload keys: ${PAYLOAD_KEYS_ENV} is not set.`,
          ExitCodes.usage,
          `Set ${PAYLOAD_KEYS_ENV} to the value the workers use (keyId:base64key, newest first).`,
        );
      }
      const logger = pino(
        {
          name: 'fogpilot-codec-server',
          level: fogpilotVariable('FOGPILOT_LOG_LEVEL')?.trim() || 'info',
          redact: ['req.headers.authorization'],
          ...secretRedaction(),
        },
        pino.destination(2),
      );
      const app = createCodecServer({ codec: new EncryptionCodec(keyring), token, allowOrigins, logger });
      let url: string;
      try {
        url = await app.listen({ port, host: flags.host });
      } catch (error) {
        throw new CliError(
          `The codec server could not listen on ${flags.host}:${port}: ${(error as Error).message}`,
          ExitCodes.failure,
          'Choose another --port, or stop what holds this one.',
        );
      }
      const startLine: CodecServerStartLine = {
        url,
        allowOrigins,
        currentKeyId: keyring.currentKeyId,
        keyIds: [...keyring.keys.keys()],
      };
      const stopped = untilStopped();
      process.stdout.write(`${JSON.stringify(startLine)}\n`);
      const signal = await stopped;
      logger.info({ signal }, 'stopping');
      await app.close();
      logger.flush();
    });
}
