/**
 * The per-step reward (reference `app/reward.py`, as the v2 env calls it). Pure function.
 *
 *   R = 0.7·advances + 4.0·completions + 1.5·unblocked_docs + stability
 *       − 0.04·backlog − 1.5·new_breaches − 2.0·max(0, gap − tol) − 1.5·[invalid]
 *       − 0.05·idle_officer_days − 0.15·[oscillation]
 *
 * As in the reference env: stability (0.1) is paid only on a valid advance_time step with no new
 * breach; the env never feeds unblocked documents or oscillation (both terms stay 0); the waiting
 * penalty applies on every step; tol = the task's fairness threshold, or 0 when it has none.
 * Every component is rounded to 4 decimals with Python's round(); the total is the rounded
 * *unrounded* sum, summed left to right; penalties are reported as negative numbers.
 */
import { pyRound } from '../core/py-round.js';

export const REWARD_COEFFICIENTS = {
  progress: 0.7,
  completion: 4.0,
  recovery: 1.5,
  stability: 0.1,
  waiting: 0.04,
  sla: 1.5,
  fairness: 2.0,
  invalid: 1.5,
  idle: 0.05,
  oscillation: 0.15,
} as const;

export interface RewardInputs {
  stageAdvances: number;
  completions: number;
  activeBacklog: number;
  newSlaBreaches: number;
  /** Unrounded completion-rate gap between services. */
  fairnessGap: number;
  fairnessTolerance: number;
  invalidAction: boolean;
  idleOfficerDays: number;
  /** Whether this step may earn the stability bonus (the reference: only advance_time steps). */
  stabilityEligible: boolean;
  newlyUnblockedDocs?: number;
  oscillationDetected?: boolean;
}

/** The reward breakdown with the reference's 11 RewardModel field names. */
export interface RewardBreakdown {
  total_reward: number;
  progress_reward: number;
  completion_reward: number;
  recovery_reward: number;
  stability_bonus: number;
  waiting_penalty: number;
  sla_penalty: number;
  fairness_penalty: number;
  invalid_action_penalty: number;
  idle_capacity_penalty: number;
  oscillation_penalty: number;
}

export const REWARD_FIELDS: readonly (keyof RewardBreakdown)[] = [
  'total_reward',
  'progress_reward',
  'completion_reward',
  'recovery_reward',
  'stability_bonus',
  'waiting_penalty',
  'sla_penalty',
  'fairness_penalty',
  'invalid_action_penalty',
  'idle_capacity_penalty',
  'oscillation_penalty',
];

export function zeroReward(): RewardBreakdown {
  return {
    total_reward: 0,
    progress_reward: 0,
    completion_reward: 0,
    recovery_reward: 0,
    stability_bonus: 0,
    waiting_penalty: 0,
    sla_penalty: 0,
    fairness_penalty: 0,
    invalid_action_penalty: 0,
    idle_capacity_penalty: 0,
    oscillation_penalty: 0,
  };
}

/** Python's round() can return -0.0 for an empty penalty; report it as 0. */
function round4(x: number): number {
  const r = pyRound(x, 4);
  return r === 0 ? 0 : r;
}

export function computeReward(inputs: RewardInputs): RewardBreakdown {
  const c = REWARD_COEFFICIENTS;
  const progress = c.progress * inputs.stageAdvances;
  const completion = c.completion * inputs.completions;
  const recovery = c.recovery * (inputs.newlyUnblockedDocs ?? 0);
  const stability =
    inputs.stabilityEligible && inputs.newSlaBreaches === 0 && !inputs.invalidAction ? c.stability : 0.0;
  const waiting = c.waiting * inputs.activeBacklog;
  const sla = c.sla * inputs.newSlaBreaches;
  const fairness = c.fairness * Math.max(0.0, inputs.fairnessGap - inputs.fairnessTolerance);
  const invalid = inputs.invalidAction ? c.invalid : 0.0;
  const idle = c.idle * inputs.idleOfficerDays;
  const oscillation = inputs.oscillationDetected ? c.oscillation : 0.0;
  const total = progress + completion + recovery + stability - waiting - sla - fairness - invalid - idle - oscillation;
  return {
    total_reward: round4(total),
    progress_reward: round4(progress),
    completion_reward: round4(completion),
    recovery_reward: round4(recovery),
    stability_bonus: round4(stability),
    waiting_penalty: round4(-waiting),
    sla_penalty: round4(-sla),
    fairness_penalty: round4(-fairness),
    invalid_action_penalty: round4(-invalid),
    idle_capacity_penalty: round4(-idle),
    oscillation_penalty: round4(-oscillation),
  };
}

/**
 * The reference env's fairness gap: over all enabled services, rate = completed / max(1, arrived);
 * gap = max − min; 0 with fewer than two services.
 */
export function completionFairnessGap(arrived: ArrayLike<number>, completed: ArrayLike<number>): number {
  const n = arrived.length;
  if (n < 2) return 0.0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const rate = (completed[i] as number) / Math.max(1, arrived[i] as number);
    if (rate < lo) lo = rate;
    if (rate > hi) hi = rate;
  }
  return hi - lo;
}
