/**
 * What an ended Gov Workflow episode is summarised as, everywhere (baseline tables, evaluation,
 * vector-env episodes, LLM runs): the task grader's score, its metrics (reference names, e.g.
 * `total_sla_breached`) and the env's own totals.
 */
import type { GovWorkflowEnv } from './env.js';

/** Metric names of a Gov Workflow episode, in the order vector-env members write them. */
export const GOV_EPISODE_METRICS = [
  'completion_rate',
  'sla_compliance_rate',
  'idle_efficiency',
  'document_rework_quality',
  'urgent_served_rate',
  'fairness_score',
  'escalation_discipline',
  'fairness_gap',
  'total_cases_arrived',
  'total_completed',
  'total_sla_breached',
  'total_rejected',
  'avg_waiting_days',
  'total_invalid_actions',
  'invalid_action_rate',
  'total_backlog',
  'days',
] as const;

export type GovEpisodeMetric = (typeof GOV_EPISODE_METRICS)[number];

/** The grader's score and the metrics of the episode the env holds (ended or stopped). */
export function govEpisodeSummary(env: GovWorkflowEnv): { score: number; metrics: Record<GovEpisodeMetric, number> } {
  const grade = env.grade();
  const state = env.state();
  return {
    score: grade.score,
    metrics: {
      ...grade.metrics,
      total_invalid_actions: state.total_invalid_actions,
      invalid_action_rate: state.total_invalid_actions / Math.max(state.total_steps, 1),
      total_backlog: state.total_backlog,
      days: state.day,
    },
  };
}
