/** A readiness check: the verdict (headline), each group's checks, and the checks that did not pass with what to do. */
import type { RunbookReport } from '../../workflows/definitions';
import { code, text, toneOf, word, type Block, type Fact, type Section } from '../document';
import { plural } from '../format';

/** The verdict and how many groups do not pass; none without a readiness result. */
export function readinessFact(report: RunbookReport): Fact | undefined {
  if (!report.readiness) return undefined;
  const notPassing = report.readiness.groups.filter((group) => group.verdict !== 'pass').length;
  return {
    key: 'verdict',
    label: 'Readiness',
    value: report.readiness.verdict,
    tone: toneOf(report.readiness.verdict),
    detail: `${notPassing} of ${plural(report.readiness.groups.length, 'group')} not passing`,
  };
}

export function readinessSection(report: RunbookReport): Section | undefined {
  const readiness = report.readiness;
  if (!readiness) return undefined;
  const blocks: Block[] = [
    {
      kind: 'table',
      columns: ['Group', 'Verdict', 'Checks passed'],
      rows: readiness.groups.map((group) => [
        text(group.group),
        word(group.verdict),
        text(`${group.checks.filter((check) => check.status === 'pass').length} of ${group.checks.length}`),
      ]),
    },
  ];
  const notPassed = readiness.groups.flatMap((group) =>
    group.checks.filter((check) => check.status !== 'pass').map((check) => ({ group: group.group, check })),
  );
  if (notPassed.length > 0) {
    blocks.push({
      kind: 'table',
      columns: ['Group', 'Check', 'Status', 'What was found', 'What to do'],
      rows: notPassed.map(({ group, check }) => [
        text(group),
        code(check.name),
        word(check.status),
        text(check.message),
        text(check.action ?? '—'),
      ]),
    });
  }
  return { id: 'readiness', title: 'Readiness checks', blocks };
}
