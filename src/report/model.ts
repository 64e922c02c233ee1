/**
 * The report as a document: a headline and sections of tables, lists and label/value pairs, built once from a
 * `RunbookReport` so the Markdown and HTML renderers say the same things. Sections appear only when the report has
 * their data, so every runbook type renders.
 *
 * Each part of a report has its module under `sections/`, which builds both its headline fact and its section; this
 * file only sets their order. The document's types are in `document.ts`.
 */
import type { RunbookReport } from '../workflows/definitions';
import type { Fact, ReportDocument, Section } from './document';
import { formatTimestamp } from './format';
import { dataLossFact, estimateSection } from './sections/data-loss';
import { abortSection, approvalSection } from './sections/decisions';
import { downtimeFact, probeSection, smokeSection } from './sections/drill';
import { fleetFact, fleetSection } from './sections/fleet';
import { gatesSection } from './sections/gates';
import { establishSection, hooksSection, objectivesSection, watchSection } from './sections/group-life';
import { legsSection, rtoFacts } from './sections/legs';
import { readinessFact, readinessSection } from './sections/readiness';
import { protectionSection, restoreSection } from './sections/recovery';
import { recoveryPointsSection } from './sections/recovery-points';
import { rolesSection } from './sections/roles';
import { armSection, outcomeFact, runSection, runbookLabel } from './sections/run';
import { scaleFact, scaleSection } from './sections/scale';
import { planSection, stepsSection } from './sections/steps';
import { warningsSection } from './sections/warnings';

export { toneOf, type Block, type Cell, type Fact, type ReportDocument, type Section, type Tone } from './document';
export { stepSeconds } from './sections/steps';

/** Builds the document every text format renders. */
export function buildDocument(report: RunbookReport): ReportDocument {
  const label = runbookLabel(report.runbook);
  return {
    title: `${label} of ${report.group.displayName}: ${report.outcome}`,
    subtitle: [report.runbook, report.group.displayName, formatTimestamp(report.startedAt)].join(' · '),
    facts: headlineFacts(report),
    ...(report.error ? { error: { type: report.error.type, message: report.error.message } } : {}),
    sections: [
      rolesSection(report),
      stepsSection(report),
      legsSection(report),
      probeSection(report.drill),
      smokeSection(report.drill),
      fleetSection(report),
      readinessSection(report),
      recoveryPointsSection(report),
      scaleSection(report),
      establishSection(report),
      restoreSection(report),
      protectionSection(report),
      watchSection(report),
      objectivesSection(report),
      hooksSection(report),
      gatesSection(report.gates),
      planSection(report),
      approvalSection(report),
      estimateSection(report),
      abortSection(report),
      warningsSection(report),
      armSection(report),
      runSection(report, label),
    ].filter((section): section is Section => section !== undefined),
  };
}

/** The headline: the outcome first, then each figure the report has data for. */
function headlineFacts(report: RunbookReport): Fact[] {
  return [
    outcomeFact(report),
    ...rtoFacts(report),
    downtimeFact(report.drill),
    dataLossFact(report),
    fleetFact(report),
    readinessFact(report),
    scaleFact(report),
  ].filter((fact): fact is Fact => fact !== undefined);
}
