/**
 * A run against its group's objectives: the RTO it measured (the first failover leg's request → every database
 * writable) and the RPO (no loss proven: 0; a forced failover's estimate of seconds at risk), each met or missed
 * against `objectives.rto` / `objectives.rpo` of the group's configuration. No verdict without a measurement.
 */
import { metricMeter } from '@temporalio/workflow';
import { objectiveReading, type ObjectiveReading } from '../../notify/events';
import type { OutboundPlan } from '../../activities';
import type { FailoverLeg, DataLossEstimate } from '../definitions';

export interface ObjectivesRecord {
  rto?: ObjectiveReading;
  rpo?: ObjectiveReading;
}

/** The RPO a leg proves or estimates, in ms: 0 when no loss is proven; the estimate's seconds otherwise. */
function measuredRpoMs(leg: FailoverLeg, estimate: DataLossEstimate | undefined): number | undefined {
  if (leg.dataLoss.kind === 'none-proven') return 0;
  // Only a forced switch loses what the estimate says: a planned attempt that completed first did not.
  if (leg.dataLoss.kind === 'estimated' && estimate?.seconds !== undefined) return estimate.seconds * 1000;
  return undefined;
}

/** The verdicts of the run's first failover leg, or undefined when the group declares no objective or nothing failed over. */
export function objectivesOf(
  plan: OutboundPlan | undefined,
  legs: readonly FailoverLeg[],
  estimate: DataLossEstimate | undefined,
): ObjectivesRecord | undefined {
  const objectives = plan?.objectives;
  const leg = legs.find((entry) => entry.failoverSent);
  if (!objectives || (objectives.rtoMs === undefined && objectives.rpoMs === undefined) || !leg) return undefined;
  const rtoMs = leg.rtoSeconds !== undefined ? leg.rtoSeconds * 1000 : undefined;
  return {
    ...(objectives.rtoMs !== undefined ? { rto: objectiveReading(objectives.rtoMs, rtoMs) } : {}),
    ...(objectives.rpoMs !== undefined
      ? { rpo: objectiveReading(objectives.rpoMs, measuredRpoMs(leg, estimate)) }
      : {}),
  };
}

/**
 * The last measured RTO and RPO of each group, as gauges on the worker's Prometheus endpoint (Temporal's meter;
 * replay emits none). Set whenever a run measured them, whether or not objectives are declared.
 */
export function recordMeasuredObjectives(
  group: string,
  runbook: string,
  legs: readonly FailoverLeg[],
  estimate: DataLossEstimate | undefined,
): void {
  const leg = legs.find((entry) => entry.failoverSent);
  if (!leg) return;
  const tags = { group, runbook };
  if (leg.rtoSeconds !== undefined)
    metricMeter
      .createGauge('fogpilot_last_rto_seconds', 'float', 's', 'RTO the last failover of the group measured')
      .set(leg.rtoSeconds, tags);
  const rpoMs = measuredRpoMs(leg, estimate);
  if (rpoMs !== undefined)
    metricMeter
      .createGauge(
        'fogpilot_last_rpo_seconds',
        'float',
        's',
        'Data-loss window the last failover of the group proved or estimated',
      )
      .set(rpoMs / 1000, tags);
}
