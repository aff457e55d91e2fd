/**
 * The discrete action tables of the Gov Workflow RL adapter, their masks, and decoding an index into
 * the env's JSON action (and back). Three layouts (docs/envs.md#rl-adapter-what-ppo-and-evaluation-use):
 * `v1` (31 indices, the reference adapter's rules over all eight services), `v2` (79 indices: any
 * one-officer move between two services, and priority modes also before the first case arrives), so
 * that every move of the rule agents has an index, and `v3` (v2's indices; a document request only
 * for a service none of whose cases still awaits requested documents).
 */
import type { GovAction } from '../actions.js';
import type { GovWorkflowEnv } from '../env.js';
import type { ActionType } from '../types.js';
import { PRIORITY_MODES, SERVICES } from '../types.js';
import type { AdapterTrace } from './trace.js';

export const GOV_ADAPTER_VERSIONS = ['v1', 'v2', 'v3'] as const;
export type GovAdapterVersion = (typeof GOV_ADAPTER_VERSIONS)[number];

export const N_SERVICES = SERVICES.length;
export const PRIORITY_OFFSET = 0;
export const REQUEST_DOCS_OFFSET = PRIORITY_OFFSET + PRIORITY_MODES.length; // 4
export const ESCALATE_OFFSET = REQUEST_DOCS_OFFSET + N_SERVICES; // 12
export const ADVANCE_INDEX = ESCALATE_OFFSET + N_SERVICES; // 20
export const REALLOCATE_OFFSET = ADVANCE_INDEX + 1; // 21
/** v1: 8 "from this service to the most pending other" moves; v2 and v3: 8 × 7 explicit (from, to) moves. */
const REALLOCATIONS: Record<GovAdapterVersion, number> = {
  v1: N_SERVICES,
  v2: N_SERVICES * (N_SERVICES - 1),
  v3: N_SERVICES * (N_SERVICES - 1),
};
/** v1's size (the default adapter). */
export const N_ACTIONS = REALLOCATE_OFFSET + REALLOCATIONS.v1 + 2; // 31

export const DEFAULT_MAX_NON_ADVANCE_STREAK = 3;

/** One layout of the discrete action table. */
export interface GovActionTable {
  readonly version: GovAdapterVersion;
  /** Number of indices (the policy's logits). */
  readonly size: number;
  readonly assignMostPendingIndex: number;
  readonly assignMostUrgentIndex: number;
  /** The env action type an index stands for. */
  actionTypeOf(index: number): ActionType;
  /** A short human label (logs, tables). */
  describe(index: number): string;
  /** Writes the mask of the current state into `out` (length `size`; 1 = allowed). */
  mask(env: GovWorkflowEnv, trace: Readonly<AdapterTrace>, out: Uint8Array): Uint8Array;
  /** The JSON action an index stands for in the current state. */
  decode(index: number, env: GovWorkflowEnv): GovAction;
  /** The allowed index whose action is `action` (same type, target and officer moves), or −1. */
  encode(action: GovAction, env: GovWorkflowEnv, mask: Uint8Array): number;
}

/** Thrown when an index has no meaning in the current state (only happens for masked-out indices). */
export class UndecodableActionError extends Error {
  override readonly name = 'UndecodableActionError';
}

/** (from, to) of a v2 move index, both SERVICES indices. */
function movePair(index: number): [number, number] {
  const k = index - REALLOCATE_OFFSET;
  const from = Math.floor(k / (N_SERVICES - 1));
  const rest = k % (N_SERVICES - 1);
  return [from, rest < from ? rest : rest + 1];
}

function moveIndex(from: number, to: number): number {
  return REALLOCATE_OFFSET + from * (N_SERVICES - 1) + (to < from ? to : to - 1);
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

class ActionTable implements GovActionTable {
  readonly size: number;
  readonly assignMostPendingIndex: number;
  readonly assignMostUrgentIndex: number;
  private readonly awaiting = new Int32Array(N_SERVICES);

  constructor(readonly version: GovAdapterVersion) {
    this.assignMostPendingIndex = REALLOCATE_OFFSET + REALLOCATIONS[version];
    this.assignMostUrgentIndex = this.assignMostPendingIndex + 1;
    this.size = this.assignMostUrgentIndex + 1;
  }

  actionTypeOf(index: number): ActionType {
    if (index < REQUEST_DOCS_OFFSET) return 'set_priority_mode';
    if (index < ESCALATE_OFFSET) return 'request_missing_documents';
    if (index < ADVANCE_INDEX) return 'escalate_service';
    if (index === ADVANCE_INDEX) return 'advance_time';
    if (index < this.assignMostPendingIndex) return 'reallocate_officers';
    return 'assign_capacity';
  }

  describe(index: number): string {
    if (index < REQUEST_DOCS_OFFSET) return `set_priority_mode:${PRIORITY_MODES[index - PRIORITY_OFFSET]}`;
    if (index < ESCALATE_OFFSET) return `request_missing_documents:${SERVICES[index - REQUEST_DOCS_OFFSET]}`;
    if (index < ADVANCE_INDEX) return `escalate_service:${SERVICES[index - ESCALATE_OFFSET]}`;
    if (index === ADVANCE_INDEX) return 'advance_time';
    if (index < this.assignMostPendingIndex) {
      if (this.version === 'v1') return `reallocate_officers:from_${SERVICES[index - REALLOCATE_OFFSET]}`;
      const [from, to] = movePair(index);
      return `reallocate_officers:${SERVICES[from]}_to_${SERVICES[to]}`;
    }
    return index === this.assignMostPendingIndex ? 'assign_capacity:most_pending' : 'assign_capacity:most_urgent';
  }

  mask(env: GovWorkflowEnv, trace: Readonly<AdapterTrace>, out: Uint8Array): Uint8Array {
    out.fill(0);
    out[ADVANCE_INDEX] = 1;
    if (trace.nonAdvanceStreak >= trace.maxNonAdvanceStreak) return out;
    const mode = env.priorityMode;
    const stats = env.queueStats();
    // v2 and v3 let the mode be chosen before the first case arrives (the heuristic's first action).
    if (stats.totalPending > 0 || this.version !== 'v1')
      for (let m = 0; m < PRIORITY_MODES.length; m++) out[PRIORITY_OFFSET + m] = PRIORITY_MODES[m] === mode ? 0 : 1;
    if (stats.totalPending <= 0) return out;
    const ep = env.current;
    const budget = ep.counters.escalationBudgetRemaining;
    let idle = ep.availableOfficers;
    for (const n of ep.allocated) idle -= n;
    let anyPending = false;
    let anyUrgent = false;
    // v3: one open document request per service. A second one would mostly pick the same most-at-risk
    // blocked cases again, count them as requested again and push their answer back (docs/envs.md).
    const awaiting = this.version === 'v3' ? ep.table.countAwaitingDocuments(this.awaiting) : null;
    ep.serviceIndices.forEach((s, pos) => {
      const pending = stats.pending[s] as number;
      const urgent = stats.urgent[s] as number;
      if (pending > 0) anyPending = true;
      if (urgent > 0) anyUrgent = true;
      if ((stats.blockedMissingDocs[s] as number) > 0 && (awaiting === null || awaiting[s] === 0))
        out[REQUEST_DOCS_OFFSET + s] = 1;
      if (budget > 0 && pending - urgent > 0) out[ESCALATE_OFFSET + s] = 1;
      this.maskMoves(env, s, (ep.allocated[pos] as number) > 0, pending, out);
    });
    if (idle > 0 && anyPending) out[this.assignMostPendingIndex] = 1;
    if (idle > 0 && anyUrgent) out[this.assignMostUrgentIndex] = 1;
    return out;
  }

  /** The moves out of service `s` (SERVICES index) that the mask allows. */
  private maskMoves(env: GovWorkflowEnv, s: number, hasOfficer: boolean, pending: number, out: Uint8Array): void {
    if (!hasOfficer) return;
    if (this.version === 'v1') {
      if (pending > 0 && argmaxEnabled(env, env.queueStats().pending, s) >= 0) out[REALLOCATE_OFFSET + s] = 1;
      return;
    }
    for (const t of env.current.serviceIndices) if (t !== s) out[moveIndex(s, t)] = 1;
  }

  decode(index: number, env: GovWorkflowEnv): GovAction {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new RangeError(`action index must be an integer in [0, ${this.size - 1}] (got ${index})`);
    }
    if (index < REQUEST_DOCS_OFFSET)
      return { action_type: 'set_priority_mode', priority_mode: PRIORITY_MODES[index - PRIORITY_OFFSET] };
    if (index < ESCALATE_OFFSET)
      return { action_type: 'request_missing_documents', service_target: SERVICES[index - REQUEST_DOCS_OFFSET] };
    if (index < ADVANCE_INDEX)
      return { action_type: 'escalate_service', escalation_target: SERVICES[index - ESCALATE_OFFSET] };
    if (index === ADVANCE_INDEX) return { action_type: 'advance_time' };
    if (index < this.assignMostPendingIndex) return this.decodeMove(index, env);
    const stats = env.queueStats();
    const target =
      index === this.assignMostPendingIndex
        ? argmaxEnabled(env, stats.pending)
        : argmaxEnabled(env, stats.urgent, -1, stats.pending);
    if (target < 0) throw new UndecodableActionError(`${this.describe(index)}: no enabled service qualifies`);
    return { action_type: 'assign_capacity', capacity_assignment: { [SERVICES[target] as string]: 1 } };
  }

  private decodeMove(index: number, env: GovWorkflowEnv): GovAction {
    let from: number;
    let to: number;
    if (this.version === 'v1') {
      from = index - REALLOCATE_OFFSET;
      to = argmaxEnabled(env, env.queueStats().pending, from);
      if (to < 0)
        throw new UndecodableActionError(`${this.describe(index)}: no other enabled service has pending cases`);
    } else {
      [from, to] = movePair(index);
    }
    return {
      action_type: 'reallocate_officers',
      reallocation_delta: { [SERVICES[from] as string]: -1, [SERVICES[to] as string]: 1 },
    };
  }

  encode(action: GovAction, env: GovWorkflowEnv, allowed: Uint8Array): number {
    const wanted = actionKey(action);
    for (let i = 0; i < this.size; i++) {
      if (allowed[i] !== 1 || this.actionTypeOf(i) !== action.action_type) continue;
      try {
        if (actionKey(this.decode(i, env)) === wanted) return i;
      } catch (err) {
        if (!(err instanceof UndecodableActionError)) throw err;
      }
    }
    return -1;
  }
}

/** What an action does, for comparing two JSON actions: type, mode, target, non-zero officer changes. */
function actionKey(a: GovAction): string {
  const target =
    a.action_type === 'escalate_service'
      ? (a.escalation_target ?? a.service_target)
      : a.action_type === 'request_missing_documents'
        ? a.service_target
        : undefined;
  const changes = (d: Record<string, number> | null | undefined): string =>
    Object.entries(d ?? {})
      .filter(([, v]) => v !== 0)
      .sort(([x], [y]) => (x < y ? -1 : 1))
      .map(([k, v]) => `${k}${v}`)
      .join(',');
  return [
    a.action_type,
    a.action_type === 'set_priority_mode' ? a.priority_mode : '',
    target ?? '',
    changes(a.reallocation_delta),
    changes(a.capacity_assignment),
  ].join('|');
}

const TABLES: Record<GovAdapterVersion, GovActionTable> = {
  v1: new ActionTable('v1'),
  v2: new ActionTable('v2'),
  v3: new ActionTable('v3'),
};

/** The action table of an adapter version (default v1). */
export function govActionTable(version: GovAdapterVersion = 'v1'): GovActionTable {
  return TABLES[version];
}

// v1 as plain functions (the default layout).
const V1 = TABLES.v1;
export const ASSIGN_MOST_PENDING_INDEX = V1.assignMostPendingIndex; // 29
export const ASSIGN_MOST_URGENT_INDEX = V1.assignMostUrgentIndex; // 30
export const actionTypeOf = (index: number): ActionType => V1.actionTypeOf(index);
export const describeAction = (index: number): string => V1.describe(index);
export const decodeAction = (index: number, env: GovWorkflowEnv): GovAction => V1.decode(index, env);
