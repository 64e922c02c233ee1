/**
 * What the reliability proofs (bad input, secrets) share: a fogpilot.yaml pointing at an emulator, the table of cases
 * each proof prints and writes for docs/RELIABILITY.md, and a scanner that looks for a secret in every form it could
 * take on its way into a history, a log line or a report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { Emulator } from '../../src/emulator';
import { writeTempConfig } from './temp-files';

/** Where the proofs write their Markdown for docs/RELIABILITY.md (`FOGPILOT_RELIABILITY_OUT`), when set. */
export function writeReliabilityResult(file: string, markdown: string): string | undefined {
  const dir = process.env.FOGPILOT_RELIABILITY_OUT?.trim();
  if (!dir) return undefined;
  mkdirSync(dir, { recursive: true });
  const target = path.resolve(dir, file);
  writeFileSync(target, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  return target;
}

/** A Markdown table cell: one line, pipes escaped, at most `max` characters. */
export function cell(text: string, max = 160): string {
  const line = text.replace(/\s+/g, ' ').trim();
  const short = line.length > max ? `${line.slice(0, max - 1)}…` : line;
  return short.replace(/\|/g, '\\|');
}

export function markdownTable(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map((entry) => cell(entry)).join(' | ')} |`),
  ].join('\n');
}

export interface SqlLoginSettings {
  userEnv: string;
  passwordEnv: string;
}

/**
 * Writes a fogpilot.yaml for the emulator, as an operator writes one, into a fresh temporary directory and returns its
 * path (remove it with `removeTempFile`): its ARM endpoint with the emulator credential, its TDS endpoints as host
 * overrides, its groups as the inventory, and SQL auth either the default (Entra) or a SQL login whose name and
 * password come from the environment variables named here (never the values themselves). With the emulator's TLS on,
 * its CA goes into a file beside the config, named by `azure.caFile`, and SQL connections encrypt, as against Azure.
 */
export function writeEmulatorConfig(
  emulator: Emulator,
  options: { taskQueue?: string; sqlLogin?: SqlLoginSettings } = {},
): string {
  const line = emulator.startLine();
  const configFile = writeTempConfig('');
  const caFile = line.tls ? path.join(path.dirname(configFile), 'emulator-ca.pem') : undefined;
  if (caFile) writeFileSync(caFile, line.tls!.ca);
  const inventory = Object.fromEntries(
    line.groups.map((group) => [
      group.name,
      {
        subscriptionId: group.subscriptionId,
        resourceGroup: group.resourceGroup,
        primaryLocation: group.primaryLocation,
        secondaryLocation: group.secondaryLocation,
      },
    ]),
  );
  const yaml = toYaml({
    azure: {
      armEndpoint: line.armEndpoint,
      credential: 'emulator',
      requestTimeout: '5 seconds',
      ...(caFile ? { caFile } : {}),
    },
    sql: {
      ...(options.sqlLogin ? { auth: { auth: 'sql-login', ...options.sqlLogin } } : {}),
      encrypt: caFile !== undefined,
      hosts: line.sql.hosts,
      connectTimeout: '5 seconds',
    },
    ...(options.taskQueue ? { temporal: { taskQueue: options.taskQueue } } : {}),
    inventory,
  });
  writeFileSync(configFile, yaml);
  return configFile;
}

/**
 * The forms a secret can take in text that went through JSON, a URL, base64 (at any byte alignment inside a larger
 * encoded blob) or hex. Base64 of the secret inside a longer base64 string depends on where the secret starts modulo
 * 3: each alignment gives a run of characters that appears whenever the secret does.
 */
export function secretForms(secret: string): { form: string; value: string }[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = [
    { form: 'plain', value: secret },
    { form: 'json-escaped', value: JSON.stringify(secret).slice(1, -1) },
    { form: 'url-encoded', value: encodeURIComponent(secret) },
    { form: 'form-encoded', value: new URLSearchParams({ s: secret }).toString().slice(2) },
    { form: 'hex', value: bytes.toString('hex') },
  ];
  for (const encoding of ['base64', 'base64url'] as const) {
    for (let offset = 0; offset < 3; offset++) {
      const padded = Buffer.concat([Buffer.alloc(offset), bytes]);
      const encoded = padded.toString(encoding).replace(/=+$/, '');
      // Characters touched by the leading padding or by the bytes after the secret differ with the context: drop them.
      const start = Math.ceil((offset * 4) / 3);
      const end = Math.floor(((offset + bytes.length) * 4) / 3);
      forms.push({ form: `${encoding}@${offset}`, value: encoded.slice(start, end) });
    }
  }
  return forms.filter((entry, index, all) => all.findIndex((other) => other.value === entry.value) === index);
}

export interface SecretFinding {
  source: string;
  /** Which secret (its name, e.g. `AZURE_CLIENT_SECRET`) was found. */
  secret: string;
  form: string;
  excerpt: string;
}

/**
 * Looks for secrets in every text it is given, and keeps count of what it saw. Given one value, it is named `secret`;
 * given a record, each value is looked for under its name.
 */
export class SecretScanner {
  private readonly forms: { secret: string; form: string; value: string }[];
  readonly findings: SecretFinding[] = [];
  /** Bytes and items scanned, per kind (`history`, `event`, `log line`, `report`, …). */
  readonly counts = new Map<string, number>();
  bytes = 0;

  constructor(secrets: string | Record<string, string>) {
    const named = typeof secrets === 'string' ? { secret: secrets } : secrets;
    this.forms = Object.entries(named).flatMap(([name, value]) => {
      if (value.length < 12) throw new Error(`the secret ${name} must be distinctive (12 characters or more)`);
      return secretForms(value).map((form) => ({ secret: name, ...form }));
    });
  }

  /** The names of the secrets looked for. */
  get secretNames(): string[] {
    return [...new Set(this.forms.map((entry) => entry.secret))];
  }

  count(kind: string, by = 1): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + by);
  }

  scan(source: string, text: string): void {
    this.bytes += Buffer.byteLength(text);
    const lower = text.toLowerCase();
    for (const { secret, form, value } of this.forms) {
      // Hex and URL escapes may come in either case; the rest must match exactly.
      const at = form === 'hex' || form.endsWith('-encoded') ? lower.indexOf(value.toLowerCase()) : text.indexOf(value);
      if (at >= 0) {
        this.findings.push({ source, secret, form, excerpt: text.slice(Math.max(0, at - 60), at + value.length + 20) });
      }
    }
  }
}

/**
 * JSON of anything the Temporal client returns, with every byte array (payload data and metadata) decoded as UTF-8, so
 * what a payload carries is scanned as the text it encodes rather than as an array of numbers.
 */
export function jsonWithDecodedBytes(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, converted: unknown) {
    const original = this[key];
    if (original instanceof Uint8Array) return Buffer.from(original).toString('utf8');
    return converted;
  });
}
