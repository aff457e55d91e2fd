/**
 * The bounded top-k selection must pick exactly what the reference's full stable sort would put first:
 * checked against priorityKey() + Array.prototype.sort (stable) on random queues, every mode and rule.
 */
import { describe, expect, it } from 'vitest';
import { createStream } from '../core/random/streams.js';
import { CaseTable, NO_DAY, Substate } from './case-table.js';
import type { Eligibility, SortKey } from './queue-order.js';
import { priorityKey, TopKSelector } from './queue-order.js';

const MODES: SortKey[] = ['urgent_first', 'oldest_first', 'backlog_clearance', 'balanced', 'most_at_risk'];
const RULES: Eligibility[] = ['processing', 'blocked', 'not_urgent'];
const SUBSTATES = [
  Substate.PreScrutiny,
  Substate.DocValidation,
  Substate.FieldVerificationPending,
  Substate.DecisionPending,
  Substate.IssuanceReady,
  Substate.BlockedMissingDocs,
];

function eligible(t: CaseTable, row: number, rule: Eligibility): boolean {
  const s = t.substate[row];
  if (rule === 'blocked') return s === Substate.BlockedMissingDocs;
  if (rule === 'not_urgent') return t.urgent[row] === 0;
  return (
    s !== Substate.BlockedMissingDocs &&
    s !== Substate.FieldVerificationPending &&
    s !== Substate.Completed &&
    s !== Substate.Rejected
  );
}

describe('TopKSelector', () => {
  it('matches a full stable sort by priorityKey on 300 random queues', () => {
    const rng = createStream(1, 'queue-order-test');
    const selector = new TopKSelector();
    const key = new Float64Array(3);
    for (let trial = 0; trial < 300; trial++) {
      const t = new CaseTable(16);
      const n = 1 + rng.int(60);
      let day = 0;
      for (let i = 0; i < n; i++) {
        day += rng.int(2); // arrival days never decrease with the row, as in an episode
        const window = 2 + rng.int(5); // small windows: many equal risks, so ties are exercised
        const row = t.add({
          service: 0,
          arrivalDay: day,
          deadlineDay: day + window,
          digital: false,
          missingDocs: false,
          fieldVerificationRequired: false,
          fieldVerificationCompletionDay: NO_DAY,
          urgent: rng.next() < 0.3,
        });
        t.setSubstate(row, SUBSTATES[rng.int(SUBSTATES.length)] as number);
        t.slaRiskCache[row] = Math.min(1, rng.int(window + 2) / window);
      }
      const rows = (t.activeRows[0] as Int32Array).subarray(0, n);
      for (const mode of MODES) {
        for (const rule of RULES) {
          const limit = 1 + rng.int(6);
          const expected = [...rows]
            .filter((row) => eligible(t, row, rule))
            .map((row) => {
              priorityKey(t, row, mode, key);
              return { row, k: [key[0], key[1], key[2]] as number[] };
            })
            .sort(
              (a, b) =>
                (a.k[0] as number) - (b.k[0] as number) ||
                (a.k[1] as number) - (b.k[1] as number) ||
                (a.k[2] as number) - (b.k[2] as number),
            )
            .slice(0, limit)
            .map((x) => x.row);
          const got = selector.select(t, rows, n, mode, limit, rule);
          expect([...selector.selected().subarray(0, got)]).toEqual(expected);
        }
      }
    }
  });
});
