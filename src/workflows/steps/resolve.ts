import type { GroupRef, ResolvedGroup } from '../../domain/group-ref';
import { reads } from './activity-presets';
import type { RunbookRun } from './runbook-run';

/** Resolves the input's group reference into coordinates and the group's lock id (in an activity: it needs the inventory). */
export async function resolveGroupStep(run: RunbookRun, ref: GroupRef): Promise<ResolvedGroup> {
  return run.step('resolve-group', 'Resolve the group reference', async (step) => {
    const resolved = await reads.resolveGroup.executeWithOptions({ summary: 'resolve the group' }, [ref]);
    run.identify(resolved.group);
    step.evidence({ ...resolved.group });
    return resolved.group;
  });
}
