/**
 * What the agent sees (reference `ObservationModel`, `QueueSnapshot`, `SignalComputer`), with the
 * reference's JSON field names, and the per-service statistics both the JSON observation and the RL
 * feature builder are made from (computed in one pass over the active cases).
 */
import { z } from 'zod';
import { pyRound } from '../core/py-round.js';
import type { CaseTable } from './case-table.js';
import { N_SUBSTATES, Substate, slaRiskAt } from './case-table.js';
import type { EventType, ScenarioMode, Service } from './types.js';
import { EVENT_TYPES, SCENARIO_MODES, SERVICES, STAGES } from './types.js';

const count = z.number().int().nonnegative();
const unit = z.number().min(0).max(1);

export const QueueSnapshotSchema = z.object({
  service_type: z.enum(SERVICES),
  public_stage_counts: z.object(
    Object.fromEntries(STAGES.map((s) => [s, count])) as Record<(typeof STAGES)[number], typeof count>,
  ),
  total_pending: count,
  /** Cumulative completions of the service (the reference's name notwithstanding). */
  total_completed_today: count,
  total_sla_breached: count,
  urgent_pending: count,
  blocked_missing_docs: count,
  blocked_enrichment: count,
  field_verification_pending: count,
  oldest_case_age_days: count,
  avg_waiting_days: z.number().nonnegative(),
  current_sla_risk: unit,
});
export type QueueSnapshot = z.infer<typeof QueueSnapshotSchema>;

export const OfficerPoolSchema = z.object({
  total_officers: z.number().int().positive(),
  available_officers: count,
  allocated: z.partialRecord(z.enum(SERVICES), count),
  pending_reallocation: z.record(z.string(), z.number().int()),
});
export type OfficerPool = z.infer<typeof OfficerPoolSchema>;

export const GovObservationSchema = z.object({
  task_id: z.string(),
  episode_id: z.string(),
  day: count,
  max_days: z.number().int().positive(),
  scenario_mode: z.enum(SCENARIO_MODES),
  officer_pool: OfficerPoolSchema,
  queue_snapshots: z.partialRecord(z.enum(SERVICES), QueueSnapshotSchema),
  total_backlog: count,
  total_completed: count,
  total_sla_breaches: count,
  total_rejected: count,
  escalation_budget_remaining: count,
  backlog_pressure: unit,
  sla_risk_score: unit,
  fairness_index: unit,
  resource_utilization: unit,
  digital_intake_ratio: unit,
  blocked_cases_missing_docs: count,
  blocked_cases_enrichment: count,
  field_verification_load: unit,
  active_events: z.array(z.enum(EVENT_TYPES)),
  last_action_valid: z.boolean(),
  last_action_message: z.string(),
  last_action_explanation: z.string(),
  pending_doc_resolutions: count,
  pending_enrichment_lookups: count,
  pending_officer_reallocations: count,
});
export type GovObservation = z.infer<typeof GovObservationSchema>;

const N_SERVICES = SERVICES.length;
const N_STAGES = STAGES.length;

/**
 * Per-service queue statistics, indexed by position in SERVICES (disabled services stay 0), and the
 * reference's compressed signals. Reused across steps: tally() and computeSignals() overwrite them.
 */
export class QueueStats {
  readonly pending = new Int32Array(N_SERVICES);
  /** stageCounts[s·5 + stage] */
  readonly stageCounts = new Int32Array(N_SERVICES * N_STAGES);
  readonly completed = new Int32Array(N_SERVICES);
  readonly slaBreached = new Int32Array(N_SERVICES);
  readonly urgent = new Int32Array(N_SERVICES);
  readonly blockedMissingDocs = new Int32Array(N_SERVICES);
  readonly fieldVerificationPending = new Int32Array(N_SERVICES);
  readonly oldestCaseAgeDays = new Int32Array(N_SERVICES);
  /** round(mean waiting days, 2), as reported. */
  readonly avgWaitingDays = new Float64Array(N_SERVICES);
  /** round(min(1, mean sla risk), 3), as reported. */
  readonly currentSlaRisk = new Float64Array(N_SERVICES);
  totalPending = 0;
  todaysArrivals = 0;
  todaysDigitalArrivals = 0;
  pendingDocResolutions = 0;
  backlogPressure = 0;
  slaRiskScore = 0;
  fairnessIndex = 1;
  resourceUtilization = 0;
  digitalIntakeRatio = 0.5;
  blockedCasesMissingDocs = 0;
  fieldVerificationLoad = 0;

  /**
   * Walks every active case once and tallies the per-service statistics. With `closeDay` the walk is
   * also the end of `day` (reference step 8): every active case ages a day (its sla_risk is refreshed
   * for current_day = day) and cases whose deadline was yesterday are newly breached; the number of
   * new breaches is returned. The end of a day touches every active case and so do the statistics,
   * so one walk does both.
   *
   * Call it after the day's completed cases have left the active lists.
   */
  tally(table: CaseTable, serviceIndices: readonly number[], day: number, closeDay: boolean): number {
    this.pending.fill(0);
    this.stageCounts.fill(0);
    this.slaBreached.fill(0);
    this.urgent.fill(0);
    this.blockedMissingDocs.fill(0);
    this.fieldVerificationPending.fill(0);
    this.oldestCaseAgeDays.fill(0);
    this.avgWaitingDays.fill(0);
    this.currentSlaRisk.fill(0);
    if (closeDay) table.agedThrough = day;
    let newBreaches = 0;
    let todays = 0;
    let todaysDigital = 0;
    let pendingDocs = 0;
    let totalPending = 0;

    // Counts by substate, stage and urgency are kept by the table; the walk computes what changes
    // with the day itself: sla_risk (refreshed at the end of a day), breaches and waiting times.
    const { slaRiskCache, arrivalDay, deadlineDay, digital } = table;
    const yesterday = day - 1;
    for (const s of serviceIndices) {
      const rows = table.activeRows[s] as Int32Array;
      const n = table.activeCount[s] as number;
      let breached = 0;
      let arrivalSum = 0;
      let riskSum = 0.0; // summed in active-list order, as the reference does
      for (let r = 0; r < n; r++) {
        const row = rows[r] as number;
        const arrival = arrivalDay[row] as number;
        const deadline = deadlineDay[row] as number;
        if (closeDay) {
          slaRiskCache[row] = slaRiskAt(arrival, deadline, day);
          newBreaches += deadline === yesterday ? 1 : 0;
        }
        breached += deadline < day ? 1 : 0;
        arrivalSum += arrival;
        riskSum += slaRiskCache[row] as number;
      }
      // Today's arrivals are the tail of each list (appended in arrival order).
      for (let r = n - 1; r >= 0 && arrivalDay[rows[r] as number] === day; r--) {
        todays++;
        todaysDigital += digital[rows[r] as number] as number;
      }
      this.stageCounts.set(table.stageCount.subarray(s * N_STAGES, (s + 1) * N_STAGES), s * N_STAGES);
      this.pending[s] = n;
      this.slaBreached[s] = breached;
      this.urgent[s] = table.urgentCount[s] as number;
      this.blockedMissingDocs[s] = table.substateCount[s * N_SUBSTATES + Substate.BlockedMissingDocs] as number;
      this.fieldVerificationPending[s] = table.substateCount[
        s * N_SUBSTATES + Substate.FieldVerificationPending
      ] as number;
      if (n > 0) {
        // waiting_days = day − arrival + 1 for every active case; the oldest is the first in the list.
        this.oldestCaseAgeDays[s] = day - (arrivalDay[rows[0] as number] as number) + 1;
        this.avgWaitingDays[s] = pyRound((n * (day + 1) - arrivalSum) / n, 2);
        this.currentSlaRisk[s] = pyRound(Math.min(1.0, riskSum / n), 3);
      }
      totalPending += n;
    }
    // Blocked cases with a resolution day are exactly the document watch list.
    pendingDocs = table.documentWatch.length;
    this.totalPending = totalPending;
    this.todaysArrivals = todays;
    this.todaysDigitalArrivals = todaysDigital;
    this.pendingDocResolutions = pendingDocs;
    return newBreaches;
  }

  /**
   * Reference `SignalComputer.compute` (capacity = max(1, available officers)), from the tallied
   * queues, the cumulative completions and the current allocation.
   */
  computeSignals(
    serviceIndices: readonly number[],
    completedByService: Int32Array,
    allocated: Int32Array,
    availableOfficers: number,
  ): void {
    for (const s of serviceIndices) this.completed[s] = completedByService[s] as number;
    const total = this.totalPending;
    const capacity = Math.max(1.0, availableOfficers);
    this.backlogPressure = Math.min(1.0, total / Math.max(1.0, capacity * 5.0));
    const denom = Math.max(1, total);
    let weightedRisk = 0.0;
    let blocked = 0;
    let inField = 0;
    for (const s of serviceIndices) {
      weightedRisk += (this.currentSlaRisk[s] as number) * (this.pending[s] as number);
      blocked += this.blockedMissingDocs[s] as number;
      inField += this.fieldVerificationPending[s] as number;
    }
    this.slaRiskScore = Math.min(1.0, Math.max(0.0, weightedRisk / denom));

    if (serviceIndices.length < 2) {
      this.fairnessIndex = 1.0;
    } else {
      let sum = 0.0;
      const rates: number[] = [];
      for (const s of serviceIndices) {
        const t = (this.pending[s] as number) + (this.completed[s] as number);
        const rate = t > 0 ? (this.completed[s] as number) / Math.max(1, t) : 0.0;
        rates.push(rate);
        sum += rate;
      }
      const mean = sum / rates.length;
      if (mean > 0) {
        let sq = 0.0;
        for (const r of rates) sq += (r - mean) ** 2;
        const cv = Math.sqrt(sq / rates.length) / mean;
        this.fairnessIndex = Math.max(0.0, 1.0 - Math.min(1.0, cv));
      } else {
        this.fairnessIndex = 1.0;
      }
    }

    let allocatedSum = 0;
    for (const n of allocated) allocatedSum += n;
    this.resourceUtilization = Math.min(1.0, allocatedSum / Math.max(1, availableOfficers));
    this.digitalIntakeRatio =
      this.todaysArrivals > 0 ? Math.min(1.0, this.todaysDigitalArrivals / this.todaysArrivals) : 0.5;
    this.blockedCasesMissingDocs = blocked;
    this.fieldVerificationLoad = inField / denom;
  }
}

export interface ObservationContext {
  taskId: string;
  episodeId: string;
  day: number;
  maxDays: number;
  scenarioMode: ScenarioMode;
  enabledServices: readonly Service[];
  serviceIndices: readonly number[];
  totalOfficers: number;
  availableOfficers: number;
  allocated: Int32Array;
  totalBacklog: number;
  totalCompleted: number;
  totalSlaBreaches: number;
  escalationBudgetRemaining: number;
  activeEvents: readonly EventType[];
  lastActionValid: boolean;
  lastActionMessage: string;
  lastActionExplanation: string;
}

export function allocationRecord(enabled: readonly Service[], allocated: Int32Array): Partial<Record<Service, number>> {
  const out: Partial<Record<Service, number>> = {};
  enabled.forEach((svc, i) => {
    out[svc] = allocated[i] as number;
  });
  return out;
}

/** The reference's JSON observation, built from precomputed statistics. */
export function buildObservation(ctx: ObservationContext, stats: QueueStats): GovObservation {
  const queueSnapshots: Partial<Record<Service, QueueSnapshot>> = {};
  ctx.enabledServices.forEach((svc, i) => {
    const s = ctx.serviceIndices[i] as number;
    const base = s * N_STAGES;
    queueSnapshots[svc] = {
      service_type: svc,
      public_stage_counts: {
        submission: stats.stageCounts[base] as number,
        document_verification: stats.stageCounts[base + 1] as number,
        field_verification: stats.stageCounts[base + 2] as number,
        approval: stats.stageCounts[base + 3] as number,
        issuance: stats.stageCounts[base + 4] as number,
      },
      total_pending: stats.pending[s] as number,
      total_completed_today: stats.completed[s] as number,
      total_sla_breached: stats.slaBreached[s] as number,
      urgent_pending: stats.urgent[s] as number,
      blocked_missing_docs: stats.blockedMissingDocs[s] as number,
      blocked_enrichment: 0,
      field_verification_pending: stats.fieldVerificationPending[s] as number,
      oldest_case_age_days: stats.oldestCaseAgeDays[s] as number,
      avg_waiting_days: stats.avgWaitingDays[s] as number,
      current_sla_risk: stats.currentSlaRisk[s] as number,
    };
  });
  return {
    task_id: ctx.taskId,
    episode_id: ctx.episodeId,
    day: ctx.day,
    max_days: ctx.maxDays,
    scenario_mode: ctx.scenarioMode,
    officer_pool: {
      total_officers: ctx.totalOfficers,
      available_officers: ctx.availableOfficers,
      allocated: allocationRecord(ctx.enabledServices, ctx.allocated),
      pending_reallocation: {},
    },
    queue_snapshots: queueSnapshots,
    total_backlog: ctx.totalBacklog,
    total_completed: ctx.totalCompleted,
    total_sla_breaches: ctx.totalSlaBreaches,
    total_rejected: 0,
    escalation_budget_remaining: ctx.escalationBudgetRemaining,
    backlog_pressure: stats.backlogPressure,
    sla_risk_score: stats.slaRiskScore,
    fairness_index: stats.fairnessIndex,
    resource_utilization: stats.resourceUtilization,
    digital_intake_ratio: stats.digitalIntakeRatio,
    blocked_cases_missing_docs: stats.blockedCasesMissingDocs,
    blocked_cases_enrichment: 0,
    field_verification_load: stats.fieldVerificationLoad,
    active_events: [...ctx.activeEvents],
    last_action_valid: ctx.lastActionValid,
    last_action_message: ctx.lastActionMessage,
    last_action_explanation: ctx.lastActionExplanation,
    pending_doc_resolutions: stats.pendingDocResolutions,
    pending_enrichment_lookups: 0,
    pending_officer_reallocations: 0,
  };
}
