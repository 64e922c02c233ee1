/**
 * The steps of a run on a time axis, drawn as inline SVG: one bar per started step from the first start to the last
 * end, coloured by state, with the failover and failback legs shaded (request → every database writable) and, for a
 * drill with a write probe, the windows in which the workload could not write.
 */
import type { RunbookReport, StepRecord, StepState } from '../workflows/definitions';
import { escapeHtml, formatOffset, formatSeconds, formatTimestamp, parseTime } from './format';

/** Fill of a step's bar by state; the HTML legend and tables use the same colours. */
export const STATE_COLOURS: Record<StepState, string> = {
  succeeded: '#2f855a',
  failed: '#c53030',
  skipped: '#a0aec0',
  compensated: '#dd6b20',
  running: '#3182ce',
  pending: '#cbd5e0',
};

const LEG_COLOURS = { failover: '#2b6cb0', failback: '#6b46c1' } as const;
const DOWNTIME_COLOUR = '#e53e3e';

const WIDTH = 960;
const LABEL_WIDTH = 230;
/** Room right of the axis for the last bar's duration. */
const RIGHT_MARGIN = 90;
const CHART_X = LABEL_WIDTH;
const CHART_WIDTH = WIDTH - LABEL_WIDTH - RIGHT_MARGIN;
const TOP = 44;
const ROW = 22;
const BAR_HEIGHT = 14;
const AXIS_HEIGHT = 30;
/** A step of a few milliseconds still shows as a sliver. */
const MIN_BAR_WIDTH = 2;
const MAX_LABEL_CHARS = 32;
const TICK_STEPS_SECONDS = [
  0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
];
const MAX_TICKS = 8;

interface Span {
  startMs: number;
  endMs: number;
}

/** The axis: from the first step's start to the last step's end (a running step counts until the report's end). */
function axisOf(report: RunbookReport): Span | undefined {
  let startMs = Infinity;
  let endMs = -Infinity;
  for (const step of report.steps) {
    const start = parseTime(step.startedAt);
    if (start === undefined) continue;
    const end = stepEndMs(step, report) ?? start;
    startMs = Math.min(startMs, start);
    endMs = Math.max(endMs, end, start);
  }
  return Number.isFinite(startMs) ? { startMs, endMs } : undefined;
}

function stepEndMs(step: StepRecord, report: RunbookReport): number | undefined {
  return parseTime(step.endedAt) ?? (step.state === 'running' ? parseTime(report.endedAt) : undefined);
}

const round = (value: number): number => Math.round(value * 100) / 100;

function truncate(value: string): string {
  return value.length > MAX_LABEL_CHARS ? `${value.slice(0, MAX_LABEL_CHARS - 1)}…` : value;
}

/** Renders the timeline, or `undefined` when no step has a start time to draw. */
export function renderTimelineSvg(report: RunbookReport): string | undefined {
  const axis = axisOf(report);
  if (!axis) return undefined;
  const spanMs = Math.max(axis.endMs - axis.startMs, 1);
  const xOf = (ms: number): number =>
    CHART_X + (CHART_WIDTH * (Math.min(Math.max(ms, axis.startMs), axis.endMs) - axis.startMs)) / spanMs;
  const probe = report.drill?.probe;
  const rows = report.steps.length + (probe ? 1 : 0);
  const rowsBottom = TOP + rows * ROW;
  const height = rowsBottom + AXIS_HEIGHT;
  const out: string[] = [];

  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="${WIDTH}" height="${height}" ` +
      `viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="timeline-title" ` +
      `font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
    `<title id="timeline-title">${escapeHtml(
      `Timeline of ${report.steps.length} steps, ${formatTimestamp(new Date(axis.startMs).toISOString())} to ` +
        `${formatTimestamp(new Date(axis.endMs).toISOString())}`,
    )}</title>`,
  );

  // Grid and axis first, so bars and marks paint over them.
  const spanSeconds = spanMs / 1000;
  const tick = TICK_STEPS_SECONDS.find((step) => spanSeconds / step <= MAX_TICKS) ?? spanSeconds;
  for (let count = 0; count * tick <= spanSeconds + 1e-9; count += 1) {
    const seconds = count * tick;
    const x = round(xOf(axis.startMs + seconds * 1000));
    const label = tick < 1 ? `+${Number(seconds.toFixed(1))} s` : formatOffset(seconds);
    out.push(
      `<line class="grid" x1="${x}" y1="${TOP - 6}" x2="${x}" y2="${rowsBottom}" stroke="#e2e8f0" stroke-width="1"/>`,
      `<text class="tick" x="${x}" y="${rowsBottom + 16}" text-anchor="middle" fill="#4a5568">${escapeHtml(label)}</text>`,
    );
  }
  out.push(
    `<line class="axis" x1="${CHART_X}" y1="${rowsBottom}" x2="${CHART_X + CHART_WIDTH}" y2="${rowsBottom}" stroke="#718096" stroke-width="1"/>`,
  );

  // The legs: shaded from the failover request to every database writable (or to the end, if never).
  report.legs.forEach((leg, index) => {
    const requested = parseTime(leg.requestedAt);
    if (requested === undefined) return;
    const writable = parseTime(leg.allWritableAt);
    const x1 = xOf(requested);
    const x2 = xOf(writable ?? axis.endMs);
    const colour = LEG_COLOURS[leg.name] ?? LEG_COLOURS.failover;
    const label =
      `${leg.name} ${leg.from} → ${leg.to} · ` +
      (leg.rtoSeconds !== undefined ? `RTO ${formatSeconds(leg.rtoSeconds)}` : 'never all writable');
    const nearEnd = x1 > WIDTH - 260;
    const labelY = 14 + (index % 2) * 14;
    out.push(
      `<g class="leg leg-${escapeHtml(leg.name)}" data-leg="${escapeHtml(leg.name)}">`,
      `<rect class="leg-band" x="${round(x1)}" y="${TOP - 6}" width="${round(Math.max(x2 - x1, 1))}" ` +
        `height="${rowsBottom - TOP + 6}" fill="${colour}" fill-opacity="0.12"/>`,
      `<line class="leg-start" x1="${round(x1)}" y1="${labelY + 4}" x2="${round(x1)}" y2="${rowsBottom}" ` +
        `stroke="${colour}" stroke-width="1.5" stroke-dasharray="4 3"/>`,
      `<text class="leg-label" x="${round(nearEnd ? x1 - 4 : x1 + 4)}" y="${labelY}" ` +
        `text-anchor="${nearEnd ? 'end' : 'start'}" fill="${colour}" font-weight="600">${escapeHtml(label)}</text>`,
      `</g>`,
    );
  });

  report.steps.forEach((step, index) => {
    const y = TOP + index * ROW;
    const start = parseTime(step.startedAt);
    const end = stepEndMs(step, report);
    out.push(
      `<text class="step-label" x="${LABEL_WIDTH - 8}" y="${y + BAR_HEIGHT - 3}" text-anchor="end" fill="#1a202c">` +
        `${escapeHtml(truncate(step.name))}</text>`,
    );
    if (start === undefined) {
      out.push(
        `<text class="not-started" x="${CHART_X + 4}" y="${y + BAR_HEIGHT - 3}" fill="#718096">not started</text>`,
      );
      return;
    }
    const seconds = ((end ?? start) - start) / 1000;
    const x = xOf(start);
    const width = Math.max(xOf(end ?? start) - x, MIN_BAR_WIDTH);
    const colour = STATE_COLOURS[step.state] ?? STATE_COLOURS.pending;
    const tooltip = `${step.name} · ${step.state} · ${formatSeconds(seconds)}\n${step.title}${step.error ? `\n${step.error}` : ''}`;
    out.push(
      `<rect class="bar state-${escapeHtml(step.state)}" data-step="${escapeHtml(step.name)}" ` +
        `data-state="${escapeHtml(step.state)}" data-seconds="${seconds}" x="${round(x)}" y="${y}" ` +
        `width="${round(width)}" height="${BAR_HEIGHT}" rx="2" fill="${colour}"><title>${escapeHtml(tooltip)}</title></rect>`,
      `<text class="duration" x="${round(x + width + 5)}" y="${y + BAR_HEIGHT - 3}" fill="#4a5568">` +
        `${escapeHtml(formatSeconds(seconds))}</text>`,
    );
  });

  if (probe) {
    const y = TOP + report.steps.length * ROW;
    out.push(
      `<text class="step-label" x="${LABEL_WIDTH - 8}" y="${y + BAR_HEIGHT - 3}" text-anchor="end" fill="${DOWNTIME_COLOUR}">` +
        `write probe: no write</text>`,
    );
    for (const window of probe.windows) {
      const from = parseTime(window.from);
      const to = parseTime(window.to);
      if (from === undefined || to === undefined) continue;
      const x = xOf(from);
      out.push(
        `<rect class="downtime" x="${round(x)}" y="${y}" width="${round(Math.max(xOf(to) - x, MIN_BAR_WIDTH))}" ` +
          `height="${BAR_HEIGHT}" fill="${DOWNTIME_COLOUR}"><title>${escapeHtml(
            `No successful write for ${formatSeconds(window.seconds)} (${formatTimestamp(window.from)} → ${formatTimestamp(window.to)})`,
          )}</title></rect>`,
      );
    }
  }

  out.push('</svg>');
  return out.join('\n');
}
