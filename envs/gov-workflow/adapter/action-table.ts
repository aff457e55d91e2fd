/**
 * The discrete action table of the Gov Workflow RL adapter (31 indices over all eight services), its
 * masks, and decoding an index into the env's JSON action. The table and the mask rules:
 * docs/envs.md#rl-adapter-what-ppo-and-evaluation-use.
 */
import type { GovAction } from '../actions.js';
import type { GovWorkflowEnv } from '../env.js';
import type { ActionType } from '../types.js';
import { PRIORITY_MODES, SERVICES } from '../types.js';

export const N_SERVICES = SERVICES.length;
export const PRIORITY_OFFSET = 0;
export const REQUEST_DOCS_OFFSET = PRIORITY_OFFSET + PRIORITY_MODES.length; // 4
export const ESCALATE_OFFSET = REQUEST_DOCS_OFFSET + N_SERVICES; // 12
export const ADVANCE_INDEX = ESCALATE_OFFSET + N_SERVICES; // 20
export const REALLOCATE_OFFSET = ADVANCE_INDEX + 1; // 21
export const ASSIGN_MOST_PENDING_INDEX = REALLOCATE_OFFSET + N_SERVICES; // 29
export const ASSIGN_MOST_URGENT_INDEX = ASSIGN_MOST_PENDING_INDEX + 1; // 30
export const N_ACTIONS = ASSIGN_MOST_URGENT_INDEX + 1; // 31

export const DEFAULT_MAX_NON_ADVANCE_STREAK = 3;

/** The env action type an index stands for. */
export function actionTypeOf(index: number): ActionType {
  if (index < REQUEST_DOCS_OFFSET) return 'set_priority_mode';
  if (index < ESCALATE_OFFSET) return 'request_missing_documents';
  if (index < ADVANCE_INDEX) return 'escalate_service';
  if (index === ADVANCE_INDEX) return 'advance_time';
  if (index < ASSIGN_MOST_PENDING_INDEX) return 'reallocate_officers';
  return 'assign_capacity';
}

/** A short human label for an index (logs, tables). */
export function describeAction(index: number): string {
  if (index < REQUEST_DOCS_OFFSET) return `set_priority_mode:${PRIORITY_MODES[index - PRIORITY_OFFSET]}`;
  if (index < ESCALATE_OFFSET) return `request_missing_documents:${SERVICES[index - REQUEST_DOCS_OFFSET]}`;
  if (index < ADVANCE_INDEX) return `escalate_service:${SERVICES[index - ESCALATE_OFFSET]}`;
  if (index === ADVANCE_INDEX) return 'advance_time';
  if (index < ASSIGN_MOST_PENDING_INDEX) return `reallocate_officers:from_${SERVICES[index - REALLOCATE_OFFSET]}`;
  return index === ASSIGN_MOST_PENDING_INDEX ? 'assign_capacity:most_pending' : 'assign_capacity:most_urgent';
}

/**
 * The enabled service (SERVICES index) with the largest (primary, secondary) score among those with
 * primary > 0, first in task order on ties; −1 if there is none.
 */
function argmaxEnabled(env: GovWorkflowEnv, primary: Int32Array, exclude = -1, secondary?: Int32Array): number {
  let best = -1;
  for (const s of env.current.serviceIndices) {
    if (s === exclude || (primary[s] as number) <= 0) continue;
    if (best < 0) {
      best = s;
      continue;
    }
    const p = primary[s] as number;
    const bp = primary[best] as number;
    if (p > bp || (p === bp && secondary !== undefined && (secondary[s] as number) > (secondary[best] as number)))
      best = s;
  }
  return best;
}

/** Writes the mask of the current state into `out` (length N_ACTIONS). */
export function computeActionMask(
  env: GovWorkflowEnv,
  nonAdvanceStreak: number,
  maxNonAdvanceStreak: number,
  out: Uint8Array,
): Uint8Array {
  out.fill(0);
  out[ADVANCE_INDEX] = 1;
  const stats = env.queueStats();
  if (stats.totalPending <= 0 || nonAdvanceStreak >= maxNonAdvanceStreak) return out;
  const ep = env.current;
  const mode = env.priorityMode;
  for (let m = 0; m < PRIORITY_MODES.length; m++) out[PRIORITY_OFFSET + m] = PRIORITY_MODES[m] === mode ? 0 : 1;
  const budget = ep.counters.escalationBudgetRemaining;
  let idle = ep.availableOfficers;
  for (const n of ep.allocated) idle -= n;
  let anyPending = false;
  let anyUrgent = false;
  ep.serviceIndices.forEach((s, pos) => {
    const pending = stats.pending[s] as number;
    const urgent = stats.urgent[s] as number;
    if (pending > 0) anyPending = true;
    if (urgent > 0) anyUrgent = true;
    if ((stats.blockedMissingDocs[s] as number) > 0) out[REQUEST_DOCS_OFFSET + s] = 1;
    if (budget > 0 && pending - urgent > 0) out[ESCALATE_OFFSET + s] = 1;
    if ((ep.allocated[pos] as number) > 0 && pending > 0 && argmaxEnabled(env, stats.pending, s) >= 0) {
      out[REALLOCATE_OFFSET + s] = 1;
    }
  });
  if (idle > 0 && anyPending) out[ASSIGN_MOST_PENDING_INDEX] = 1;
  if (idle > 0 && anyUrgent) out[ASSIGN_MOST_URGENT_INDEX] = 1;
  return out;
}

/** Thrown when an index has no meaning in the current state (only happens for masked-out indices). */
export class UndecodableActionError extends Error {
  override readonly name = 'UndecodableActionError';
}

/** The JSON action an index stands for in the current state. */
export function decodeAction(index: number, env: GovWorkflowEnv): GovAction {
  if (!Number.isInteger(index) || index < 0 || index >= N_ACTIONS) {
    throw new RangeError(`action index must be an integer in [0, ${N_ACTIONS - 1}] (got ${index})`);
  }
  if (index < REQUEST_DOCS_OFFSET)
    return { action_type: 'set_priority_mode', priority_mode: PRIORITY_MODES[index - PRIORITY_OFFSET] };
  if (index < ESCALATE_OFFSET)
    return { action_type: 'request_missing_documents', service_target: SERVICES[index - REQUEST_DOCS_OFFSET] };
  if (index < ADVANCE_INDEX)
    return { action_type: 'escalate_service', escalation_target: SERVICES[index - ESCALATE_OFFSET] };
  if (index === ADVANCE_INDEX) return { action_type: 'advance_time' };
  const stats = env.queueStats();
  if (index < ASSIGN_MOST_PENDING_INDEX) {
    const from = index - REALLOCATE_OFFSET;
    const to = argmaxEnabled(env, stats.pending, from);
    if (to < 0)
      throw new UndecodableActionError(`${describeAction(index)}: no other enabled service has pending cases`);
    return {
      action_type: 'reallocate_officers',
      reallocation_delta: { [SERVICES[from] as string]: -1, [SERVICES[to] as string]: 1 },
    };
  }
  const target =
    index === ASSIGN_MOST_PENDING_INDEX
      ? argmaxEnabled(env, stats.pending)
      : argmaxEnabled(env, stats.urgent, -1, stats.pending);
  if (target < 0) {
    throw new UndecodableActionError(`${describeAction(index)}: no enabled service qualifies`);
  }
  return { action_type: 'assign_capacity', capacity_assignment: { [SERVICES[target] as string]: 1 } };
}
