/** What the RL adapter remembers beyond the env state: the last action, the non-advance streak, recent days. */
import type { ActionType } from '../types.js';
import { ACTION_TYPES } from '../types.js';

const ADVANCE_TYPE = ACTION_TYPES.indexOf('advance_time');

export interface AdapterTrace {
  /** ACTION_TYPES index of the last action taken (advance_time after reset). */
  lastActionType: number;
  nonAdvanceStreak: number;
  maxNonAdvanceStreak: number;
  /** Day of the last document request, reallocation and escalation; −1 = none this episode (v2 features). */
  lastDocRequestDay: number;
  lastReallocationDay: number;
  lastEscalationDay: number;
}

export function freshTrace(maxNonAdvanceStreak: number): AdapterTrace {
  return {
    lastActionType: ADVANCE_TYPE,
    nonAdvanceStreak: 0,
    maxNonAdvanceStreak,
    lastDocRequestDay: -1,
    lastReallocationDay: -1,
    lastEscalationDay: -1,
  };
}

/** A new episode. */
export function resetTrace(trace: AdapterTrace): void {
  trace.lastActionType = ADVANCE_TYPE;
  trace.nonAdvanceStreak = 0;
  trace.lastDocRequestDay = -1;
  trace.lastReallocationDay = -1;
  trace.lastEscalationDay = -1;
}

/**
 * An action of type `type` was taken on `day` (the day before the step); `advanced` is true when a
 * day passed (a valid advance_time). Only the streak depends on validity, as in the reference adapter.
 */
export function recordAction(trace: AdapterTrace, type: ActionType | null, day: number, advanced: boolean): void {
  if (type !== null) trace.lastActionType = ACTION_TYPES.indexOf(type);
  trace.nonAdvanceStreak = advanced ? 0 : trace.nonAdvanceStreak + 1;
  if (type === 'request_missing_documents') trace.lastDocRequestDay = day;
  else if (type === 'reallocate_officers') trace.lastReallocationDay = day;
  else if (type === 'escalate_service') trace.lastEscalationDay = day;
}

/** Copies a snapshot's trace into `trace`; traces saved before the day fields existed read as "none". */
export function restoreTrace(trace: AdapterTrace, saved: Readonly<Partial<AdapterTrace>>): void {
  trace.lastActionType = saved.lastActionType ?? ADVANCE_TYPE;
  trace.nonAdvanceStreak = saved.nonAdvanceStreak ?? 0;
  trace.maxNonAdvanceStreak = saved.maxNonAdvanceStreak ?? trace.maxNonAdvanceStreak;
  trace.lastDocRequestDay = saved.lastDocRequestDay ?? -1;
  trace.lastReallocationDay = saved.lastReallocationDay ?? -1;
  trace.lastEscalationDay = saved.lastEscalationDay ?? -1;
}
