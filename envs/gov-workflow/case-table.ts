/**
 * All cases of an episode as a struct of typed arrays (one row per case, row = creation order), plus
 * one ordered list of active rows per enabled service.
 *
 * The reference keeps a Python list of case objects; its "active-list order" is creation order with
 * completed cases removed, which is exactly ascending row order here. Stable sorts and "first in list
 * order" tie-breaks therefore become "lowest row first".
 *
 * Three per-case fields of the reference are derived instead of stored, because the end of every day
 * updates them for every active case in the same way. With D = the last day whose end has run
 * (`agedThrough`), an active case that arrived on day a has
 *   current_day  = max(a, D)   (new arrivals keep their arrival day until the day ends)
 *   waiting_days = D − a + 1   (0 during its arrival day; a completed case keeps completion_day − a)
 *   sla_breached = D > sla_deadline_day
 * and sla_risk, which depends on current_day, is cached per case and refreshed at each day's end.
 */
import { SERVICES, STAGES } from './types.js';

/** Internal substates (reference `InternalSubstate`), as small integers. */
export const Substate = {
  PreScrutiny: 0,
  DocValidation: 1,
  ServiceSpecificValidation: 2,
  FieldVerificationPending: 3,
  DecisionPending: 4,
  IssuanceReady: 5,
  BlockedMissingDocs: 6,
  BlockedEnrichment: 7,
  Completed: 8,
  Rejected: 9,
} as const;
export type Substate = (typeof Substate)[keyof typeof Substate];

export const N_SUBSTATES = 10;
const N_STAGES = STAGES.length;

/** Public stages, indices into STAGES. */
export const StageIndex = {
  Submission: 0,
  DocumentVerification: 1,
  FieldVerification: 2,
  Approval: 3,
  Issuance: 4,
} as const;

/** Reference `INTERNAL_TO_PUBLIC_STAGE`, indexed by Substate. */
export const PUBLIC_STAGE_OF: readonly number[] = [
  StageIndex.Submission, // pre_scrutiny
  StageIndex.DocumentVerification, // doc_validation
  StageIndex.DocumentVerification, // service_specific_validation
  StageIndex.FieldVerification, // field_verification_pending
  StageIndex.Approval, // decision_pending
  StageIndex.Issuance, // issuance_ready
  StageIndex.DocumentVerification, // blocked_missing_docs
  StageIndex.DocumentVerification, // blocked_enrichment
  StageIndex.Issuance, // completed
  StageIndex.Approval, // rejected
];

/** "No day" marker for the reference's Optional[int] day fields. */
export const NO_DAY = -1;

export interface NewCase {
  service: number;
  arrivalDay: number;
  deadlineDay: number;
  digital: boolean;
  missingDocs: boolean;
  fieldVerificationRequired: boolean;
  fieldVerificationCompletionDay: number;
  urgent: boolean;
}

/** The arrays of a table, for snapshots. */
export interface CaseTableData {
  readonly count: number;
  readonly agedThrough: number;
  readonly columns: Readonly<Record<ColumnName, Int32Array | Uint8Array>>;
  readonly slaRisk: Float64Array;
  readonly activeRows: readonly Int32Array[];
}

const INT_COLUMNS = [
  'arrivalDay',
  'deadlineDay',
  'docRequestSentDay',
  'docResolutionDay',
  'fieldVerificationCompletionDay',
] as const;
const BYTE_COLUMNS = [
  'service',
  'substate',
  'publicStage',
  'urgent',
  'digital',
  'missingDocs',
  'fieldVerificationRequired',
] as const;
type ColumnName = (typeof INT_COLUMNS)[number] | (typeof BYTE_COLUMNS)[number];

export class CaseTable {
  /** Number of cases created this episode (rows in use). */
  count = 0;
  private capacity: number;

  // Per-case columns (row = creation order).
  service: Uint8Array;
  substate: Uint8Array;
  /** Stored public stage: changes only when a case advances (reference correction 2). */
  publicStage: Uint8Array;
  urgent: Uint8Array;
  digital: Uint8Array;
  missingDocs: Uint8Array;
  fieldVerificationRequired: Uint8Array;
  arrivalDay: Int32Array;
  deadlineDay: Int32Array;
  docRequestSentDay: Int32Array;
  docResolutionDay: Int32Array;
  fieldVerificationCompletionDay: Int32Array;
  /**
   * sla_risk as of the case's current_day. current_day only changes at the end of a day, so the
   * risk is computed once per case per day (in the end-of-day walk) and read everywhere else.
   */
  slaRiskCache: Float64Array;
  /** The last day whose end has been simulated (0 before the first day). */
  agedThrough = 0;

  /** Active rows per service (indexed by SERVICES position), ascending; length in activeCount. */
  readonly activeRows: Int32Array[];
  readonly activeCount: Int32Array;

  /**
   * Rows waiting for something to happen on a known day: cases in field verification with a
   * completion day, and blocked cases whose documents were requested. The day simulation checks only
   * these instead of every case. Both are derived from the columns (rebuilt on load).
   */
  readonly fieldVerificationWatch = new RowList();
  readonly documentWatch = new RowList();

  /**
   * Active cases counted by (service, substate), (service, public stage) and urgency, kept current by
   * setSubstate / setPublicStage / markUrgent / add / removeCompleted so the queue statistics need
   * no walk for them. Derived from the columns (rebuilt on load).
   */
  readonly substateCount = new Int32Array(SERVICES.length * N_SUBSTATES);
  readonly stageCount = new Int32Array(SERVICES.length * N_STAGES);
  readonly urgentCount = new Int32Array(SERVICES.length);

  constructor(initialCapacity = 1024) {
    this.capacity = Math.max(16, initialCapacity);
    this.service = new Uint8Array(this.capacity);
    this.substate = new Uint8Array(this.capacity);
    this.publicStage = new Uint8Array(this.capacity);
    this.urgent = new Uint8Array(this.capacity);
    this.digital = new Uint8Array(this.capacity);
    this.missingDocs = new Uint8Array(this.capacity);
    this.fieldVerificationRequired = new Uint8Array(this.capacity);
    this.arrivalDay = new Int32Array(this.capacity);
    this.deadlineDay = new Int32Array(this.capacity);
    this.docRequestSentDay = new Int32Array(this.capacity);
    this.docResolutionDay = new Int32Array(this.capacity);
    this.fieldVerificationCompletionDay = new Int32Array(this.capacity);
    this.slaRiskCache = new Float64Array(this.capacity);
    this.activeRows = SERVICES.map(() => new Int32Array(64));
    this.activeCount = new Int32Array(SERVICES.length);
  }

  /** Forget every case (a new episode); keeps the allocated memory. */
  clear(): void {
    this.count = 0;
    this.agedThrough = 0;
    this.activeCount.fill(0);
    this.substateCount.fill(0);
    this.stageCount.fill(0);
    this.urgentCount.fill(0);
    this.fieldVerificationWatch.clear();
    this.documentWatch.clear();
  }

  /** Append a new case (reference `_new_case`): active, at the end of its service's list. */
  add(c: NewCase): number {
    if (this.count === this.capacity) this.grow();
    const row = this.count++;
    const s = c.service;
    this.service[row] = s;
    const substate = c.missingDocs ? Substate.BlockedMissingDocs : Substate.PreScrutiny;
    this.substate[row] = substate;
    this.publicStage[row] = StageIndex.Submission; // even when it arrives blocked (correction 2)
    this.urgent[row] = c.urgent ? 1 : 0;
    bump(this.substateCount, s * N_SUBSTATES + substate, 1);
    bump(this.stageCount, s * N_STAGES + StageIndex.Submission, 1);
    if (c.urgent) bump(this.urgentCount, s, 1);
    this.digital[row] = c.digital ? 1 : 0;
    this.missingDocs[row] = c.missingDocs ? 1 : 0;
    this.fieldVerificationRequired[row] = c.fieldVerificationRequired ? 1 : 0;
    this.arrivalDay[row] = c.arrivalDay;
    this.deadlineDay[row] = c.deadlineDay;
    this.docRequestSentDay[row] = NO_DAY;
    this.docResolutionDay[row] = NO_DAY;
    this.fieldVerificationCompletionDay[row] = c.fieldVerificationCompletionDay;
    this.slaRiskCache[row] = slaRiskAt(c.arrivalDay, c.deadlineDay, c.arrivalDay);

    let list = this.activeRows[s] as Int32Array;
    const n = this.activeCount[s] as number;
    if (n === list.length) {
      const bigger = new Int32Array(list.length * 2);
      bigger.set(list);
      this.activeRows[s] = list = bigger;
    }
    list[n] = row;
    this.activeCount[s] = n + 1;
    return row;
  }

  /** Reference `ApplicationCase.sla_risk`: elapsed share of the SLA window, capped at 1. */
  slaRisk(row: number): number {
    return this.slaRiskCache[row] as number;
  }

  /** Change a case's substate, keeping the counts. The public stage is separate (it is stored). */
  setSubstate(row: number, next: number): void {
    const base = (this.service[row] as number) * N_SUBSTATES;
    bump(this.substateCount, base + (this.substate[row] as number), -1);
    bump(this.substateCount, base + next, 1);
    this.substate[row] = next;
  }

  setPublicStage(row: number, next: number): void {
    const base = (this.service[row] as number) * N_STAGES;
    bump(this.stageCount, base + (this.publicStage[row] as number), -1);
    bump(this.stageCount, base + next, 1);
    this.publicStage[row] = next;
  }

  markUrgent(row: number): void {
    if (this.urgent[row] === 1) return;
    this.urgent[row] = 1;
    bump(this.urgentCount, this.service[row] as number, 1);
  }

  /** waiting_days of an active case (see the class comment). */
  waitingDays(row: number): number {
    return this.agedThrough - (this.arrivalDay[row] as number) + 1;
  }

  /**
   * Drop completed cases from the active lists, keeping order. `only` limits the work to services
   * that had completions (indexed like SERVICES). Returns how many were removed.
   */
  removeCompleted(only?: Int32Array): number {
    let removed = 0;
    for (let s = 0; s < this.activeRows.length; s++) {
      if (only && only[s] === 0) continue;
      const list = this.activeRows[s] as Int32Array;
      const n = this.activeCount[s] as number;
      let w = 0;
      for (let r = 0; r < n; r++) {
        const row = list[r] as number;
        if (this.substate[row] === Substate.Completed) {
          removed++;
          bump(this.substateCount, s * N_SUBSTATES + Substate.Completed, -1);
          bump(this.stageCount, s * N_STAGES + (this.publicStage[row] as number), -1);
          bump(this.urgentCount, s, -(this.urgent[row] as number));
        } else {
          list[w++] = row;
        }
      }
      this.activeCount[s] = w;
    }
    return removed;
  }

  totalActive(): number {
    let n = 0;
    for (let s = 0; s < this.activeCount.length; s++) n += this.activeCount[s] as number;
    return n;
  }

  private grow(): void {
    const cap = this.capacity * 2;
    const growU8 = (a: Uint8Array): Uint8Array => {
      const b = new Uint8Array(cap);
      b.set(a);
      return b;
    };
    const growI32 = (a: Int32Array): Int32Array => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    const growF64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.service = growU8(this.service);
    this.substate = growU8(this.substate);
    this.publicStage = growU8(this.publicStage);
    this.urgent = growU8(this.urgent);
    this.digital = growU8(this.digital);
    this.missingDocs = growU8(this.missingDocs);
    this.fieldVerificationRequired = growU8(this.fieldVerificationRequired);
    this.arrivalDay = growI32(this.arrivalDay);
    this.deadlineDay = growI32(this.deadlineDay);
    this.docRequestSentDay = growI32(this.docRequestSentDay);
    this.docResolutionDay = growI32(this.docResolutionDay);
    this.fieldVerificationCompletionDay = growI32(this.fieldVerificationCompletionDay);
    this.slaRiskCache = growF64(this.slaRiskCache);
    this.capacity = cap;
  }

  /** A deep copy of the rows in use and the active lists. */
  save(): CaseTableData {
    const n = this.count;
    const columns = {} as Record<ColumnName, Int32Array | Uint8Array>;
    for (const name of INT_COLUMNS) columns[name] = this[name].slice(0, n);
    for (const name of BYTE_COLUMNS) columns[name] = this[name].slice(0, n);
    const slaRisk = this.slaRiskCache.slice(0, n);
    const activeRows = this.activeRows.map((list, s) => list.slice(0, this.activeCount[s] as number));
    return { count: n, agedThrough: this.agedThrough, columns, slaRisk, activeRows };
  }

  /** Put saved data back; the saved copy is not shared and stays reusable. */
  load(data: CaseTableData): void {
    while (this.capacity < data.count) this.grow();
    this.count = data.count;
    this.agedThrough = data.agedThrough;
    for (const name of INT_COLUMNS) this[name].set(data.columns[name] as Int32Array);
    for (const name of BYTE_COLUMNS) this[name].set(data.columns[name] as Uint8Array);
    this.slaRiskCache.set(data.slaRisk);
    data.activeRows.forEach((rows, s) => {
      if ((this.activeRows[s] as Int32Array).length < rows.length) this.activeRows[s] = new Int32Array(rows.length * 2);
      (this.activeRows[s] as Int32Array).set(rows);
      this.activeCount[s] = rows.length;
    });
    this.rebuildDerived();
  }

  /**
   * Per service (SERVICES index), the blocked cases whose requested documents are still awaited: the
   * cases another request for that service would only re-request. Writes into `out` (length ≥ 8).
   */
  countAwaitingDocuments(out: Int32Array): Int32Array {
    out.fill(0);
    const watch = this.documentWatch;
    for (let k = 0; k < watch.length; k++) {
      const row = watch.rows[k] as number;
      if (this.substate[row] === Substate.BlockedMissingDocs && this.docResolutionDay[row] !== NO_DAY)
        bump(out, this.service[row] as number, 1);
    }
    return out;
  }

  /** Re-derive the watch lists and the counts from the columns. */
  rebuildDerived(): void {
    this.fieldVerificationWatch.clear();
    this.documentWatch.clear();
    this.substateCount.fill(0);
    this.stageCount.fill(0);
    this.urgentCount.fill(0);
    for (let s = 0; s < this.activeRows.length; s++) {
      const rows = this.activeRows[s] as Int32Array;
      for (let r = 0; r < (this.activeCount[s] as number); r++) {
        const row = rows[r] as number;
        bump(this.substateCount, s * N_SUBSTATES + (this.substate[row] as number), 1);
        bump(this.stageCount, s * N_STAGES + (this.publicStage[row] as number), 1);
        bump(this.urgentCount, s, this.urgent[row] as number);
        if (
          this.substate[row] === Substate.FieldVerificationPending &&
          this.fieldVerificationCompletionDay[row] !== NO_DAY
        )
          this.fieldVerificationWatch.push(row);
        if (this.substate[row] === Substate.BlockedMissingDocs && this.docResolutionDay[row] !== NO_DAY)
          this.documentWatch.push(row);
      }
    }
  }
}

/** A growable list of rows. */
export class RowList {
  rows = new Int32Array(64);
  length = 0;

  clear(): void {
    this.length = 0;
  }

  push(row: number): void {
    if (this.length === this.rows.length) {
      const bigger = new Int32Array(this.rows.length * 2);
      bigger.set(this.rows);
      this.rows = bigger;
    }
    this.rows[this.length++] = row;
  }
}

/**
 * Reference `ApplicationCase.sla_risk` for a case seen on `currentDay`: elapsed share of its SLA window, capped at 1.
 */
export function slaRiskAt(arrivalDay: number, deadlineDay: number, currentDay: number): number {
  const window = deadlineDay - arrivalDay;
  return window <= 0 ? 1.0 : Math.min(1.0, (currentDay - arrivalDay) / window);
}

/** counts[i] += delta (typed-array increment that type-checks under noUncheckedIndexedAccess). */
function bump(counts: Int32Array, i: number, delta: number): void {
  counts[i] = (counts[i] as number) + delta;
}
