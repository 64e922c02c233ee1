import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';

/**
 * A duration as operators write it (`'15 minutes'`, `'2h'`) or a number of milliseconds. Plain `string` rather than
 * Temporal's template-literal type, because input arrives as JSON; {@link durationToMs} validates it.
 */
export type DurationInput = string | number;

/**
 * Milliseconds for a duration, or `undefined` when it is not one. Uses the same parser as the Temporal SDK, so a duration
 * means here exactly what it means in a Temporal timeout.
 */
export function durationToMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  let parsed: number;
  try {
    parsed = msToNumber(value as Duration);
  } catch {
    return undefined;
  }
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined;
}

/** `90000` → `'1m 30s'`: compact, for evidence and UI text. */
export function formatDuration(milliseconds: number): string {
  if (!Number.isFinite(milliseconds)) return String(milliseconds);
  const negative = milliseconds < 0;
  let rest = Math.round(Math.abs(milliseconds));
  if (rest < 1000) return `${negative ? '-' : ''}${rest}ms`;
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  const parts: string[] = [];
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      parts.push(`${count}${unit}`);
      rest -= count * size;
    }
  }
  return (negative ? '-' : '') + parts.slice(0, 2).join(' ');
}
