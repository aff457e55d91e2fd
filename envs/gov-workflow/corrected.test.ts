/**
 * The `corrected` variant: requested documents and finished field verification let cases move on
 * and complete (the reference's two dead ends are gone), and case totals stay consistent.
 */
import { describe, expect, it } from 'vitest';
import { advanceCase, resolveDocuments, resolveFieldVerification } from './case-flow.js';
import { CaseTable, NO_DAY, StageIndex, Substate } from './case-table.js';
import { GovWorkflowEnv } from './env.js';
import { TASK_IDS } from './tasks.js';
import type { Variant } from './types.js';

/**
 * Every third day, request documents for every service with blocked cases; advance otherwise. (A
 * request re-sent before the documents arrive moves their arrival day back, so daily requests to
 * the same top cases would never let them arrive.)
 */
function runDocRequestingEpisode(
  taskId: string,
  variant: Variant,
  seed: number,
): { env: GovWorkflowEnv; consistent: boolean } {
  const env = new GovWorkflowEnv({ taskId, variant });
  let obs = env.reset({ seed }).observation;
  let consistent = true;
  for (;;) {
    for (const [service, snap] of Object.entries(obs.queue_snapshots)) {
      if (obs.day % 3 === 0 && snap.blocked_missing_docs > 0)
        obs = env.step({ action_type: 'request_missing_documents', service_target: service }).observation;
    }
    const r = env.step({ action_type: 'advance_time' });
    obs = r.observation;
    const s = env.state();
    if (s.total_arrived !== s.total_backlog + s.total_completed + s.total_rejected) consistent = false;
    if (r.terminated || r.truncated) break;
  }
  return { env, consistent };
}

/** Completed cases that had missing documents (a request was sent) and that needed field verification. */
function completedKinds(env: GovWorkflowEnv): { withDocs: number; withVerification: number; completed: number } {
  const t = env.current.table;
  let withDocs = 0;
  let withVerification = 0;
  let completed = 0;
  for (let row = 0; row < t.count; row++) {
    if (t.substate[row] !== Substate.Completed) continue;
    completed++;
    if (t.docRequestSentDay[row] !== NO_DAY) withDocs++;
    if (t.fieldVerificationRequired[row] === 1) withVerification++;
  }
  return { withDocs, withVerification, completed };
}

describe('corrected variant', () => {
  it.each(TASK_IDS)(
    '%s: cases with missing documents and with field verification complete; totals add up',
    (taskId) => {
      const corrected = runDocRequestingEpisode(taskId, 'corrected', 17);
      expect(corrected.consistent).toBe(true);
      const c = completedKinds(corrected.env);
      expect(c.completed).toBe(corrected.env.state().total_completed);
      expect(c.withDocs).toBeGreaterThan(0);
      expect(c.withVerification).toBeGreaterThan(0);

      // The same play in the reference variant completes neither kind (its two dead ends).
      const reference = runDocRequestingEpisode(taskId, 'reference', 17);
      expect(reference.consistent).toBe(true);
      const r = completedKinds(reference.env);
      expect(r.withDocs).toBe(0);
      expect(r.withVerification).toBe(0);
      expect(c.completed).toBeGreaterThan(r.completed);
    },
  );
});

describe('case flow by variant', () => {
  function tableWith(missingDocs: boolean, fieldVerification: boolean): CaseTable {
    const t = new CaseTable(16);
    t.add({
      service: 4,
      arrivalDay: 1,
      deadlineDay: 22,
      digital: true,
      missingDocs,
      fieldVerificationRequired: fieldVerification,
      fieldVerificationCompletionDay: fieldVerification ? 4 : NO_DAY,
      urgent: false,
    });
    return t;
  }

  it('documents arriving: corrected clears the flag and returns to doc_validation; reference re-blocks', () => {
    for (const variant of ['corrected', 'reference'] as const) {
      const t = tableWith(true, false);
      expect(t.substate[0]).toBe(Substate.BlockedMissingDocs);
      expect(t.publicStage[0]).toBe(StageIndex.Submission); // stored, not derived
      t.docResolutionDay[0] = 3;
      expect(resolveDocuments(t, 0, 2, variant)).toBe(false); // not due yet
      expect(resolveDocuments(t, 0, 3, variant)).toBe(true);
      if (variant === 'corrected') {
        expect([t.substate[0], t.missingDocs[0], t.publicStage[0]]).toEqual([
          Substate.DocValidation,
          0,
          StageIndex.DocumentVerification,
        ]);
        advanceCase(t, 0);
        expect(t.substate[0]).toBe(Substate.DecisionPending);
      } else {
        expect([t.substate[0], t.missingDocs[0], t.publicStage[0]]).toEqual([
          Substate.PreScrutiny,
          1,
          StageIndex.Submission,
        ]);
        advanceCase(t, 0);
        expect(t.substate[0]).toBe(Substate.BlockedMissingDocs); // dead end 1
      }
    }
  });

  it(
    'verification finishing: corrected moves to decision_pending; reference walks back into verification ' + 'forever',
    () => {
      for (const variant of ['corrected', 'reference'] as const) {
        const t = tableWith(false, true);
        advanceCase(t, 0); // pre_scrutiny → doc_validation
        advanceCase(t, 0); // → field_verification_pending
        expect(t.substate[0]).toBe(Substate.FieldVerificationPending);
        expect(resolveFieldVerification(t, 0, 4, variant)).toBe(true);
        if (variant === 'corrected') {
          expect([t.substate[0], t.publicStage[0]]).toEqual([Substate.DecisionPending, StageIndex.Approval]);
        } else {
          expect([t.substate[0], t.publicStage[0]]).toEqual([Substate.PreScrutiny, StageIndex.FieldVerification]);
          advanceCase(t, 0);
          advanceCase(t, 0);
          expect(t.substate[0]).toBe(Substate.FieldVerificationPending);
          expect(resolveFieldVerification(t, 0, 99, variant)).toBe(false); // dead end 2: no completion day left
        }
      }
    },
  );
});
