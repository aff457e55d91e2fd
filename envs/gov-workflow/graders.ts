/**
 * Deterministic episode graders (reference `app/graders.py`). Pure functions of the episode state.
 *
 *   easy   0.45·completion + 0.35·SLA + 0.20·idle_efficiency                 (easy, easy_extreme)
 *   medium 0.35·completion + 0.30·SLA + 0.20·doc_rework + 0.15·urgent_served
 *   hard   0.28·completion + 0.24·SLA + 0.16·doc_rework + 0.16·fairness + 0.16·escalation_discipline
 *
 * Every metric is clamped to [0, 1]; the score is the weighted sum of the unrounded metrics, clamped;
 * the reported rates (and fairness_gap) are rounded to 4 decimals, avg_waiting_days to 2.
 */
import type { GradeResult } from '../core/env.js';
import { pyRound } from '../core/py-round.js';
import type { GraderName } from './tasks.js';

/** The state fields the graders read (names as in the reference EpisodeStateModel). */
export interface GraderInputs {
  total_arrived: number;
  total_completed: number;
  total_sla_breaches: number;
  total_rejected: number;
  total_docs_requested: number;
  total_docs_cleared: number;
  total_urgent_arrived: number;
  total_urgent_completed: number;
  total_idle_officer_days: number;
  total_capacity_days: number;
  total_escalations_used: number;
  total_wasted_escalations: number;
  /** Already rounded to 4 decimals by state(). */
  fairness_gap: number;
  avg_waiting_days: number;
}

export interface GovGraderMetrics {
  completion_rate: number;
  sla_compliance_rate: number;
  idle_efficiency: number;
  document_rework_quality: number;
  urgent_served_rate: number;
  fairness_score: number;
  escalation_discipline: number;
  fairness_gap: number;
  total_cases_arrived: number;
  total_completed: number;
  total_sla_breached: number;
  total_rejected: number;
  avg_waiting_days: number;
}

export interface GovGradeResult extends GradeResult {
  grader_name: GraderName;
  metrics: GovGraderMetrics & Record<string, number>;
}

const clamp01 = (x: number): number => Math.max(0.0, Math.min(1.0, x));

/** Reference `_safe_ratio`: `fallback` when den ≤ 0, else num/den clamped to [0, 1]. */
function safeRatio(num: number, den: number, fallback: number): number {
  if (den <= 0) return clamp01(fallback);
  return clamp01(num / den);
}

interface RawMetrics {
  completion: number;
  sla: number;
  docRework: number;
  urgentServed: number;
  fairness: number;
  escalationDiscipline: number;
  idleEfficiency: number;
}

function rawMetrics(s: GraderInputs): RawMetrics {
  const arrived = Math.max(1, s.total_arrived);
  return {
    completion: clamp01(safeRatio(s.total_completed, arrived, 0.0)),
    sla: clamp01(1.0 - safeRatio(s.total_sla_breaches, arrived, 0.0)),
    docRework: clamp01(safeRatio(s.total_docs_cleared, s.total_docs_requested, 1.0)),
    urgentServed: clamp01(safeRatio(s.total_urgent_completed, s.total_urgent_arrived, 1.0)),
    fairness: clamp01(1.0 - s.fairness_gap),
    escalationDiscipline: clamp01(
      1.0 - safeRatio(s.total_wasted_escalations, Math.max(1.0, s.total_escalations_used), 0.0),
    ),
    idleEfficiency: clamp01(1.0 - safeRatio(s.total_idle_officer_days, Math.max(1.0, s.total_capacity_days), 0.0)),
  };
}

function weightedScore(grader: GraderName, m: RawMetrics): number {
  switch (grader) {
    case 'easy':
      return 0.45 * m.completion + 0.35 * m.sla + 0.2 * m.idleEfficiency;
    case 'medium':
      return 0.35 * m.completion + 0.3 * m.sla + 0.2 * m.docRework + 0.15 * m.urgentServed;
    case 'hard':
      return (
        0.28 * m.completion + 0.24 * m.sla + 0.16 * m.docRework + 0.16 * m.fairness + 0.16 * m.escalationDiscipline
      );
  }
}

export function gradeEpisode(grader: GraderName, s: GraderInputs): GovGradeResult {
  const m = rawMetrics(s);
  const r4 = (x: number): number => pyRound(x, 4);
  return {
    grader_name: grader,
    score: clamp01(weightedScore(grader, m)),
    metrics: {
      completion_rate: r4(m.completion),
      sla_compliance_rate: r4(m.sla),
      idle_efficiency: r4(m.idleEfficiency),
      document_rework_quality: r4(m.docRework),
      urgent_served_rate: r4(m.urgentServed),
      fairness_score: r4(m.fairness),
      escalation_discipline: r4(m.escalationDiscipline),
      fairness_gap: r4(s.fairness_gap),
      total_cases_arrived: Math.max(0, s.total_arrived),
      total_completed: s.total_completed,
      total_sla_breached: s.total_sla_breaches,
      total_rejected: s.total_rejected,
      avg_waiting_days: pyRound(s.avg_waiting_days, 2),
    },
  };
}
