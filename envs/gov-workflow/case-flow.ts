/**
 * The case state machine (reference `app/state_machine.py` and the resolution steps of
 * `app/engine.py`), in both variants.
 *
 * Advancing is the same in both variants. They differ only in what happens when requested documents
 * arrive and when field verification finishes:
 * - `reference`: the case goes back to pre_scrutiny with has_missing_docs still set (so it re-blocks
 *   on its next advance: dead end 1), or with its verification day cleared (so it walks back into
 *   field verification and stays there: dead end 2). The stored public stage is left unchanged.
 * - `corrected`: the reference's own unused helpers — documents clear the flag and return the case
 *   to doc_validation; finished verification moves it to decision_pending. Both update the public
 *   stage, as a transition does.
 */
import { type CaseTable, NO_DAY, PUBLIC_STAGE_OF, Substate } from './case-table.js';
import type { Variant } from './types.js';

export const AdvanceOutcome = { None: 0, Advanced: 1, Completed: 2 } as const;
export type AdvanceOutcome = (typeof AdvanceOutcome)[keyof typeof AdvanceOutcome];

function transition(table: CaseTable, row: number, next: Substate): void {
  table.setSubstate(row, next);
  table.setPublicStage(row, PUBLIC_STAGE_OF[next] as number);
}

/** Whether a case may be picked for processing (reference `can_advance`). */
export function canAdvance(table: CaseTable, row: number): boolean {
  const s = table.substate[row];
  return s !== Substate.Completed && s !== Substate.Rejected && s !== Substate.BlockedMissingDocs;
}

/** One processing step (reference `advance_case`). A re-block on missing documents counts as an advance. */
export function advanceCase(table: CaseTable, row: number): AdvanceOutcome {
  if (!canAdvance(table, row)) return AdvanceOutcome.None;
  const current = table.substate[row] as Substate;
  if (table.missingDocs[row] === 1 && (current === Substate.PreScrutiny || current === Substate.DocValidation)) {
    transition(table, row, Substate.BlockedMissingDocs);
    return AdvanceOutcome.Advanced;
  }
  switch (current) {
    case Substate.PreScrutiny:
      transition(table, row, Substate.DocValidation);
      return AdvanceOutcome.Advanced;
    case Substate.DocValidation:
    case Substate.ServiceSpecificValidation:
      if (table.fieldVerificationRequired[row] === 1) {
        transition(table, row, Substate.FieldVerificationPending);
        if (table.fieldVerificationCompletionDay[row] !== NO_DAY) table.fieldVerificationWatch.push(row);
      } else {
        transition(table, row, Substate.DecisionPending);
      }
      return AdvanceOutcome.Advanced;
    case Substate.DecisionPending:
      transition(table, row, Substate.IssuanceReady);
      return AdvanceOutcome.Advanced;
    case Substate.IssuanceReady:
      transition(table, row, Substate.Completed);
      return AdvanceOutcome.Completed;
    default: // field_verification_pending (and blocked_enrichment, never generated)
      return AdvanceOutcome.None;
  }
}

/**
 * Resolves every watched field verification and document request that is due today or earlier, as
 * the reference does for all cases (verifications first, then documents; each touches only its own
 * case, so only the counts depend on the order). Returns [verifications completed, cases unblocked].
 */
export function resolveDue(table: CaseTable, day: number, variant: Variant): [number, number] {
  let verified = 0;
  let unblocked = 0;
  const fv = table.fieldVerificationWatch;
  let keep = 0;
  for (let k = 0; k < fv.length; k++) {
    const row = fv.rows[k] as number;
    if (resolveFieldVerification(table, row, day, variant)) verified++;
    else fv.rows[keep++] = row;
  }
  fv.length = keep;
  const docs = table.documentWatch;
  keep = 0;
  for (let k = 0; k < docs.length; k++) {
    const row = docs.rows[k] as number;
    if (resolveDocuments(table, row, day, variant)) unblocked++;
    else docs.rows[keep++] = row;
  }
  docs.length = keep;
  return [verified, unblocked];
}

/** Field verification due today or earlier. Returns true when the case was resolved. */
export function resolveFieldVerification(table: CaseTable, row: number, day: number, variant: Variant): boolean {
  const due = table.fieldVerificationCompletionDay[row] as number;
  if (table.substate[row] !== Substate.FieldVerificationPending || due === NO_DAY || day < due) return false;
  table.fieldVerificationCompletionDay[row] = NO_DAY;
  if (variant === 'corrected') transition(table, row, Substate.DecisionPending);
  else table.setSubstate(row, Substate.PreScrutiny); // public stage deliberately left as stored
  return true;
}

/** Requested documents due today or earlier. Returns true when the case was unblocked. */
export function resolveDocuments(table: CaseTable, row: number, day: number, variant: Variant): boolean {
  const due = table.docResolutionDay[row] as number;
  if (table.substate[row] !== Substate.BlockedMissingDocs || due === NO_DAY || day < due) return false;
  table.docResolutionDay[row] = NO_DAY;
  if (variant === 'corrected') {
    table.missingDocs[row] = 0;
    transition(table, row, Substate.DocValidation);
  } else {
    table.setSubstate(row, Substate.PreScrutiny); // has_missing_docs stays set: the case re-blocks
  }
  return true;
}
