/**
 * The Gov Workflow feature vector the RL adapter feeds to policies: 163 values in [0, 1] covering all
 * eight services (8 service blocks of 16, then 35 globals), counts squashed as x / (x + c) so nothing
 * saturates. The layout, value by value: docs/envs.md#feature-layout.
 */
import type { GovWorkflowEnv } from '../env.js';
import { EVENT_TYPES, PRIORITY_MODES, SCENARIO_MODES, SERVICES, STAGES } from '../types.js';
import type { GovAdapterVersion } from './action-table.js';
import type { AdapterTrace } from './trace.js';

export type { AdapterTrace } from './trace.js';

export const SERVICE_BLOCK = 16;
export const N_GLOBALS = 35;
export const GLOBALS_OFFSET = SERVICES.length * SERVICE_BLOCK; // 128
export const N_FEATURES = GLOBALS_OFFSET + N_GLOBALS; // 163 (v1)
/** v2 (and v3) append three recency features: days since the last document request, reallocation, escalation. */
export const N_FEATURES_V2 = N_FEATURES + 3; // 166

/** The feature count of an adapter version. */
export function govFeatureSize(version: GovAdapterVersion = 'v1'): number {
  return version === 'v1' ? N_FEATURES : N_FEATURES_V2;
}

const sq = (x: number, c: number): number => x / (x + c);
// biome-ignore lint/complexity/useMathMinMax: Math.max(-0, 0) is +0; the features keep −0 as computed
const clip01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);
/** Days since `day` (−1 = never), scaled to [0, 1] over 10 days; never reads as 1. */
const recency = (today: number, day: number): number => (day < 0 ? 1 : Math.min(today - day, 10) / 10);

export function buildFeatures(
  env: GovWorkflowEnv,
  trace: Readonly<AdapterTrace>,
  out: Float32Array = new Float32Array(N_FEATURES),
): Float32Array {
  if (out.length !== N_FEATURES && out.length !== N_FEATURES_V2)
    throw new RangeError(
      `buildFeatures: output must have ${N_FEATURES} (v1) or ${N_FEATURES_V2} (v2) values (got ${out.length})`,
    );
  out.fill(0);
  const stats = env.queueStats();
  const ep = env.current;
  const c = ep.counters;
  const task = ep.task;
  const totalOfficers = Math.max(1, ep.totalOfficers);

  ep.serviceIndices.forEach((s, pos) => {
    const base = s * SERVICE_BLOCK;
    const pending = stats.pending[s] as number;
    const perPending = 1 / Math.max(1, pending);
    out[base] = 1;
    out[base + 1] = sq(pending, 100);
    out[base + 2] = sq(stats.avgWaitingDays[s] as number, 15);
    out[base + 3] = sq(stats.oldestCaseAgeDays[s] as number, 15);
    out[base + 4] = sq(stats.urgent[s] as number, 10);
    out[base + 5] = sq(stats.blockedMissingDocs[s] as number, 20);
    out[base + 6] = sq(stats.fieldVerificationPending[s] as number, 20);
    out[base + 7] = (stats.slaBreached[s] as number) * perPending;
    out[base + 8] = stats.currentSlaRisk[s] as number;
    out[base + 9] = clip01((ep.allocated[pos] as number) / totalOfficers);
    out[base + 10] = sq(stats.completed[s] as number, 100);
    for (let k = 0; k < STAGES.length; k++)
      out[base + 11 + k] = (stats.stageCounts[s * STAGES.length + k] as number) * perPending;
  });

  const g = GLOBALS_OFFSET;
  const backlog = stats.totalPending;
  let idle = ep.availableOfficers;
  for (const n of ep.allocated) idle -= n;
  let urgentTotal = 0;
  for (const s of ep.serviceIndices) urgentTotal += stats.urgent[s] as number;
  out[g] = clip01(c.day / task.maxDays);
  out[g + 1] = sq(backlog, 200);
  out[g + 2] = sq(c.totalCompleted, 200);
  out[g + 3] = sq(c.totalSlaBreaches, 200);
  out[g + 4] = clip01(stats.fairnessIndex);
  out[g + 5] = clip01(ep.fairnessGap());
  out[g + 6] = task.escalationBudget > 0 ? clip01(c.escalationBudgetRemaining / task.escalationBudget) : 0;
  out[g + 7] = c.lastActionValid ? 1 : 0;
  out[g + 8 + trace.lastActionType] = 1;
  out[g + 14 + PRIORITY_MODES.indexOf(c.priorityMode)] = 1;
  out[g + 18] = stats.backlogPressure;
  out[g + 19] = stats.slaRiskScore;
  out[g + 20] = stats.resourceUtilization;
  out[g + 21] = stats.digitalIntakeRatio;
  out[g + 22] = clip01(stats.fieldVerificationLoad);
  out[g + 23] = sq(stats.pendingDocResolutions, 20);
  out[g + 24] = clip01(idle / totalOfficers);
  out[g + 25] = urgentTotal / Math.max(1, backlog);
  out[g + 26] = clip01(trace.nonAdvanceStreak / Math.max(1, trace.maxNonAdvanceStreak));
  for (const e of c.lastActiveEvents) {
    const k = EVENT_TYPES.indexOf(e);
    if (k >= 0 && k < 5) out[g + 27 + k] = 1;
  }
  out[g + 32 + SCENARIO_MODES.indexOf(task.scenarioMode)] = 1;
  if (out.length === N_FEATURES_V2) {
    out[N_FEATURES] = recency(c.day, trace.lastDocRequestDay);
    out[N_FEATURES + 1] = recency(c.day, trace.lastReallocationDay);
    out[N_FEATURES + 2] = recency(c.day, trace.lastEscalationDay);
  }
  return out;
}
