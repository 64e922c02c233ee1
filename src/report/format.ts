/**
 * Formatting and escaping shared by the report renderers. Every string a report carries may hold text from Azure or
 * from operators, so each output format escapes it here and nowhere else.
 */

/** Seconds as people read them: `840 ms`, `40.8 s`, `72.6 s`, `2 min 22 s`, `1 h 05 min`; `—` when not a number. */
export function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '—';
  const sign = seconds < 0 ? '-' : '';
  const value = Math.abs(seconds);
  if (value < 1) return `${sign}${Math.round(value * 1000)} ms`;
  // RTOs and downtimes are compared to the tenth of a second up to two minutes.
  if (value < 120) return `${sign}${Number(value.toFixed(1))} s`;
  if (value < 3600) {
    let minutes = Math.floor(value / 60);
    let rest = Math.round(value - minutes * 60);
    if (rest === 60) {
      minutes += 1;
      rest = 0;
    }
    return `${sign}${minutes} min ${rest} s`;
  }
  let hours = Math.floor(value / 3600);
  let minutes = Math.round((value - hours * 3600) / 60);
  if (minutes === 60) {
    hours += 1;
    minutes = 0;
  }
  return `${sign}${hours} h ${String(minutes).padStart(2, '0')} min`;
}

/** Milliseconds since the epoch, or `undefined` for a missing or unparseable timestamp. */
export function parseTime(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Seconds between two timestamps, when both are known. */
export function secondsBetween(from: string | undefined, to: string | undefined): number | undefined {
  const start = parseTime(from);
  const end = parseTime(to);
  return start === undefined || end === undefined ? undefined : (end - start) / 1000;
}

/**
 * `00:58:35.278` (UTC time of day), prefixed with the date when it differs from `sameDayAs`'s; the raw text when it is
 * not a timestamp.
 */
export function formatClock(iso: string | undefined, sameDayAs?: string): string {
  const ms = parseTime(iso);
  if (ms === undefined) return iso ?? '—';
  const stamp = new Date(ms).toISOString();
  const day = parseTime(sameDayAs);
  const sameDay = day !== undefined && new Date(day).toISOString().slice(0, 10) === stamp.slice(0, 10);
  return sameDay ? stamp.slice(11, 23) : `${stamp.slice(0, 10)} ${stamp.slice(11, 23)}`;
}

/** `2026-11-22 00:58:35 UTC`; the raw text when it is not a timestamp. */
export function formatTimestamp(iso: string | undefined): string {
  const ms = parseTime(iso);
  if (ms === undefined) return iso ?? '—';
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** An offset on the timeline axis: `+0:30`, `+12:05`, `+1:02:00`. */
export function formatOffset(seconds: number): string {
  const total = Math.round(seconds);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = String(total % 60).padStart(2, '0');
  return hours > 0 ? `+${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `+${minutes}:${rest}`;
}

/** `1 item` / `3 items`. */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text for HTML or SVG content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

/**
 * Text for Markdown: one line, with every character that could start markup (HTML, links, emphasis, code, a table
 * cell's end) backslash-escaped, so a title like `<script>` shows as itself in any CommonMark or GFM renderer.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/\r?\n|\r/g, ' ').replace(/[\\`*[\]<>|&]/g, (char) => `\\${char}`);
}

/**
 * A machine name (step, gate, database, id) as a Markdown code span; anything that does not look like one is written
 * as escaped text instead, so no renderer's notion of a code span matters.
 */
export function markdownCode(text: string): string {
  return /^[\w.:/@+=-]+$/.test(text) ? `\`${text}\`` : escapeMarkdown(text);
}
