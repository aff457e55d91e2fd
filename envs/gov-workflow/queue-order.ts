/**
 * Queue ordering (reference `DaySimulator._sort_queue`): each priority mode is an ascending sort key;
 * Python's sort is stable, so ties keep active-list order (= lowest row first here).
 *
 *   urgent_first       (not urgent, −sla_risk, arrival_day)
 *   oldest_first       (arrival_day)
 *   backlog_clearance  (−sla_risk, not urgent, arrival_day)
 *   balanced           (−sla_risk if sla_risk > 0.8 else 0, not urgent, arrival_day)
 *
 * Officers only ever reach the first `capacity` cases that can move, so instead of sorting the whole
 * queue every day we select those few with a bounded insertion buffer: same cases, same order.
 */
import type { CaseTable } from './case-table.js';
import { Substate } from './case-table.js';
import type { PriorityMode } from './types.js';

/**
 * A sort key: a priority mode, or `most_at_risk` = (−sla_risk, arrival_day), the order in which the
 * reference picks cases for document requests (a stable sort) and escalation (first maximum of
 * (sla_risk, −arrival_day), which is the same case).
 */
export type SortKey = PriorityMode | 'most_at_risk';

/** Writes the three key components of `row` into key[0..2]. */
export function priorityKey(table: CaseTable, row: number, mode: SortKey, key: Float64Array): void {
  const notUrgent = table.urgent[row] === 1 ? 0 : 1;
  const arrival = table.arrivalDay[row] as number;
  switch (mode) {
    case 'urgent_first':
      key[0] = notUrgent;
      key[1] = -table.slaRisk(row);
      key[2] = arrival;
      return;
    case 'oldest_first':
      key[0] = arrival;
      key[1] = 0;
      key[2] = 0;
      return;
    case 'backlog_clearance':
      key[0] = -table.slaRisk(row);
      key[1] = notUrgent;
      key[2] = arrival;
      return;
    case 'most_at_risk':
      key[0] = -table.slaRisk(row);
      key[1] = arrival;
      key[2] = 0;
      return;
    case 'balanced': {
      const risk = table.slaRisk(row);
      key[0] = risk > 0.8 ? -risk : 0;
      key[1] = notUrgent;
      key[2] = arrival;
      return;
    }
  }
}

/**
 * Picks, in priority order, the first `limit` rows of `rows[0..n)` that are eligible.
 * Reuses its buffers between calls.
 */
export class TopKSelector {
  private keys = new Float64Array(3 * 32);
  private picked = new Int32Array(32);

  /** Returns the number selected; the rows are in `selected()` (valid until the next call). */
  select(table: CaseTable, rows: Int32Array, n: number, mode: SortKey, limit: number, accept: Eligibility): number {
    if (limit <= 0) return 0;
    if (this.picked.length < limit) {
      this.picked = new Int32Array(limit * 2);
      this.keys = new Float64Array(limit * 6);
    }
    const keys = this.keys;
    const picked = this.picked;
    const { substate, urgent, arrivalDay, slaRiskCache } = table;
    const rule = accept === 'processing' ? 0 : accept === 'blocked' ? 1 : 2;
    let size = 0;
    if (mode === 'oldest_first') {
      // Rows are in creation order and arrival days never decrease with the row, so the
      // (arrival_day, list position) order is the list order: take the first `limit` eligible.
      for (let r = 0; r < n && size < limit; r++) {
        const row = rows[r] as number;
        if (!eligible(rule, substate[row] as number, urgent[row] as number)) continue;
        picked[size] = row;
        keys[3 * size] = arrivalDay[row] as number;
        keys[3 * size + 1] = 0;
        keys[3 * size + 2] = 0;
        size++;
      }
      return size;
    }
    const modeCode = mode === 'urgent_first' ? 0 : mode === 'backlog_clearance' ? 1 : mode === 'balanced' ? 2 : 3;
    for (let r = 0; r < n; r++) {
      const row = rows[r] as number;
      const isUrgent = urgent[row] as number;
      if (!eligible(rule, substate[row] as number, isUrgent)) continue;
      // The same keys as priorityKey(), computed inline (this loop runs over every queued case daily).
      const risk = slaRiskCache[row] as number;
      const notUrgent = 1 - isUrgent;
      const arrival = arrivalDay[row] as number;
      let k0: number;
      let k1: number;
      let k2: number;
      if (modeCode === 0) {
        k0 = notUrgent;
        k1 = -risk;
        k2 = arrival;
      } else if (modeCode === 1) {
        k0 = -risk;
        k1 = notUrgent;
        k2 = arrival;
      } else if (modeCode === 2) {
        k0 = risk > 0.8 ? -risk : 0;
        k1 = notUrgent;
        k2 = arrival;
      } else {
        k0 = -risk;
        k1 = arrival;
        k2 = 0;
      }
      // Insertion position: after every kept entry whose key is <= the candidate (stability).
      let pos = size;
      while (pos > 0) {
        const b0 = keys[3 * pos - 3] as number;
        const b1 = keys[3 * pos - 2] as number;
        const before = k0 !== b0 ? k0 < b0 : k1 !== b1 ? k1 < b1 : k2 < (keys[3 * pos - 1] as number);
        if (!before) break;
        pos--;
      }
      if (pos >= limit) continue;
      const last = size < limit ? size : limit - 1;
      for (let i = last; i > pos; i--) {
        picked[i] = picked[i - 1] as number;
        keys[3 * i] = keys[3 * i - 3] as number;
        keys[3 * i + 1] = keys[3 * i - 2] as number;
        keys[3 * i + 2] = keys[3 * i - 1] as number;
      }
      picked[pos] = row;
      keys[3 * pos] = k0;
      keys[3 * pos + 1] = k1;
      keys[3 * pos + 2] = k2;
      if (size < limit) size++;
    }
    return size;
  }

  selected(): Int32Array {
    return this.picked;
  }

  /** The key of the i-th selected row (valid until the next call). */
  selectedKey(i: number, out: Float64Array): void {
    out[0] = this.keys[3 * i] as number;
    out[1] = this.keys[3 * i + 1] as number;
    out[2] = this.keys[3 * i + 2] as number;
  }
}

/** Strict lexicographic a < b over three components. */
export function keyBefore(a: Float64Array, b: Float64Array): boolean {
  if ((a[0] as number) !== (b[0] as number)) return (a[0] as number) < (b[0] as number);
  if ((a[1] as number) !== (b[1] as number)) return (a[1] as number) < (b[1] as number);
  return (a[2] as number) < (b[2] as number);
}

/**
 * Which cases a selection considers: `processing` = cases an officer would move (daily processing);
 * `blocked` = cases blocked on missing documents (document requests); `not_urgent` (escalation).
 */
export type Eligibility = 'processing' | 'blocked' | 'not_urgent';

/**
 * Eligibility by rule code (0 processing, 1 blocked, 2 not urgent) from the case's substate and
 * urgency. Processing: the reference's can_advance (not completed, rejected or blocked) minus
 * field-verification cases, which it walks past without using an officer.
 */
function eligible(rule: number, substate: number, urgent: number): boolean {
  if (rule === 0)
    return (
      substate !== Substate.BlockedMissingDocs &&
      substate !== Substate.FieldVerificationPending &&
      substate !== Substate.Completed &&
      substate !== Substate.Rejected
    );
  if (rule === 1) return substate === Substate.BlockedMissingDocs;
  return urgent === 0;
}
