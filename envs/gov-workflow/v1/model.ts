/**
 * Gov Workflow v1 (SiddharajShirke/OPENENV_RL @ 1a2660b3, the ruleset behind the seed's published
 * baseline table): its services, stages, priority modes, action model and the shapes of its
 * observation, state, reward and grader result. docs/envs.md#gov-workflow-v1.
 */
import { z } from 'zod';
import type { PriorityMode, Stage } from '../types.js';
import { ACTION_TYPES, PRIORITY_MODES, SERVICES, STAGES } from '../types.js';

/** v1's ServiceType: v2's services in the same order, without aadhaar_card. */
export const V1_SERVICES = SERVICES.filter(
  (s): s is Exclude<(typeof SERVICES)[number], 'aadhaar_card'> => s !== 'aadhaar_card',
);
export type V1Service = (typeof V1_SERVICES)[number];

/** v1's stages, priority modes and action types are v2's, in the same order (stage_counts lists the stages so). */
export const V1_STAGES = STAGES;
export type V1Stage = Stage;
export const V1_PRIORITY_MODES = PRIORITY_MODES;
export type V1PriorityMode = PriorityMode;
export const V1_ACTION_TYPES = ACTION_TYPES;

/** v1's ActionModel (pydantic: unknown keys ignored, officer_delta defaults to 0). */
export const V1ActionSchema = z.object({
  action_type: z.enum(V1_ACTION_TYPES),
  priority_mode: z.enum(V1_PRIORITY_MODES).nullish(),
  service: z.enum(V1_SERVICES).nullish(),
  target_service: z.enum(V1_SERVICES).nullish(),
  case_id: z.string().nullish(),
  officer_delta: z.number().int().default(0),
  notes: z.string().nullish(),
});
export type V1Action = z.infer<typeof V1ActionSchema>;

export interface V1Case {
  case_id: string;
  service: V1Service;
  stage: V1Stage;
  arrival_day: number;
  due_day: number;
  urgency: number;
  has_missing_documents: boolean;
  field_verification_required: boolean;
  escalated: boolean;
  total_days: number;
  days_in_stage: number;
  sla_breached: boolean;
  completed: boolean;
}

export interface V1OfficerPool {
  allocations: Partial<Record<V1Service, number>>;
  reserve_officers: number;
}

export interface V1QueueSnapshot {
  service: V1Service;
  stage_counts: Record<V1Stage, number>;
  active_cases: number;
  missing_docs_cases: number;
  escalated_cases: number;
  urgent_cases: number;
  breached_cases: number;
  avg_age_days: number;
}

export interface V1Observation {
  task_id: string;
  day: number;
  max_days: number;
  priority_mode: V1PriorityMode;
  officer_pool: V1OfficerPool;
  queue_snapshots: V1QueueSnapshot[];
  total_backlog: number;
  total_completed: number;
  total_sla_breaches: number;
  fairness_gap: number;
  escalation_budget_remaining: number;
  last_action_valid: boolean;
  last_action_message: string;
}

/** v1 stores the penalties as positive magnitudes; every term and the total are rounded to 4. */
export interface V1Reward {
  total_reward: number;
  progress_reward: number;
  completion_reward: number;
  waiting_penalty: number;
  sla_penalty: number;
  fairness_penalty: number;
  invalid_action_penalty: number;
  idle_capacity_penalty: number;
}

export interface V1Metrics {
  total_arrived: number;
  total_completed: number;
  total_sla_breaches: number;
  total_invalid_actions: number;
  total_docs_requested: number;
  total_docs_cleared: number;
  total_urgent_arrived: number;
  total_urgent_completed: number;
  total_escalations_used: number;
  total_wasted_escalations: number;
  total_idle_officer_days: number;
  total_capacity_days: number;
}

export function zeroMetrics(): V1Metrics {
  return {
    total_arrived: 0,
    total_completed: 0,
    total_sla_breaches: 0,
    total_invalid_actions: 0,
    total_docs_requested: 0,
    total_docs_cleared: 0,
    total_urgent_arrived: 0,
    total_urgent_completed: 0,
    total_escalations_used: 0,
    total_wasted_escalations: 0,
    total_idle_officer_days: 0,
    total_capacity_days: 0,
  };
}

export interface V1StepInfo {
  reward_breakdown: V1Reward;
  newly_arrived_cases: number;
  newly_completed_cases: number;
  invalid_action: boolean;
  last_action_error: string | null;
  grader_preview_score: null;
  notes: string[];
}

export interface V1State {
  episode_id: string;
  seed: number;
  task_id: string;
  day: number;
  terminated: boolean;
  truncated: boolean;
  total_steps: number;
  total_completed: number;
  total_backlog: number;
  total_sla_breaches: number;
  action_history_count: number;
  fairness_gap: number;
  escalation_budget_remaining: number;
  priority_mode: V1PriorityMode;
  metrics: V1Metrics;
}

export interface V1GradeResult {
  grader_name: 'easy' | 'medium' | 'hard';
  score: number;
  metrics: Record<string, number>;
}
