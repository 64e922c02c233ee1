/**
 * fogpilot's custom search attributes, so a group's history is one query away:
 * `temporal workflow list --query 'FogpilotGroup="fog-sales"'`. Registered in the namespace by the worker at start
 * (or by `temporal operator search-attribute create`), set by every runbook as it goes.
 */
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';

/** The group's display name (inventory name, or the ARM name). */
export const FogpilotGroup = defineSearchAttributeKey('FogpilotGroup', SearchAttributeType.KEYWORD);
/** The workflow type: plannedFailover, drDrill, … */
export const FogpilotRunbook = defineSearchAttributeKey('FogpilotRunbook', SearchAttributeType.KEYWORD);
/** The step running now, then the outcome. */
export const FogpilotPhase = defineSearchAttributeKey('FogpilotPhase', SearchAttributeType.KEYWORD);

export const FOGPILOT_SEARCH_ATTRIBUTES = [FogpilotGroup, FogpilotRunbook, FogpilotPhase] as const;

/** The patch that introduced them: histories recorded before replay without the upserts. */
export const SEARCH_ATTRIBUTES_PATCH = 'fogpilot-search-attributes';
