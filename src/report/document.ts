/**
 * The report as a document: a headline of facts and sections of tables, lists and label/value pairs, which the Markdown
 * and HTML renderers both draw. The section modules under `sections/` build it; `model.ts` puts it together.
 */

/** How a value reads at a glance; the HTML page colours it, Markdown leaves it as text. */
export type Tone = 'good' | 'bad' | 'warn' | 'info' | 'muted';

/** One table cell, list item or pair value. */
export interface Cell {
  text: string;
  /** A machine name (step, gate, database): monospace. */
  code?: boolean;
  tone?: Tone;
}

/** What a section is made of: a table, a list, label/value pairs, or a sentence. */
export type Block =
  | { kind: 'table'; columns: string[]; rows: Cell[][] }
  | { kind: 'list'; items: Cell[] }
  | { kind: 'pairs'; pairs: [string, Cell][] }
  | { kind: 'text'; text: Cell };

/** One part of the report under a heading; `id` is stable (the HTML page uses it as the anchor). */
export interface Section {
  id: string;
  title: string;
  blocks: Block[];
}

/** One figure of the headline; `key` is stable (the HTML page carries it as `data-fact`). */
export interface Fact {
  key: 'outcome' | 'rto-failover' | 'rto-failback' | 'downtime' | 'data-loss' | 'groups' | 'verdict' | 'scale';
  label: string;
  value: string;
  tone: Tone;
  detail?: string;
}

/** The whole report, as the Markdown and HTML renderers receive it. */
export interface ReportDocument {
  title: string;
  /** `drDrill · fog-h1 · 2026-11-22 00:58:35 UTC`. */
  subtitle: string;
  facts: Fact[];
  error?: { type: string; message: string };
  sections: Section[];
}

const TONES: Record<string, Tone> = {
  succeeded: 'good',
  pass: 'good',
  none: 'good',
  'none-proven': 'good',
  failed: 'bad',
  fail: 'bad',
  lost: 'bad',
  estimated: 'bad',
  warn: 'warn',
  partial: 'warn',
  aborted: 'warn',
  'aborted-after-failover': 'warn',
  // The primary was left in the other region: someone must run the failback.
  failbackPending: 'bad',
  compensated: 'warn',
  unknown: 'warn',
  'not-measured': 'warn',
  running: 'info',
  'dry-run': 'info',
  skipped: 'muted',
  pending: 'muted',
  'not-started': 'muted',
  'not-applicable': 'muted',
};

/** The tone of a state, status, outcome or verdict word. */
export function toneOf(word: string): Tone {
  return TONES[word] ?? 'muted';
}

/** A plain cell, coloured when `tone` is given. */
export const text = (value: string, tone?: Tone): Cell => (tone ? { text: value, tone } : { text: value });
/** A machine name (step, gate, database, id) in monospace. */
export const code = (value: string): Cell => ({ text: value, code: true });
/** A state, status, outcome or verdict word, in its tone. */
export const word = (value: string): Cell => ({ text: value, tone: toneOf(value) });
