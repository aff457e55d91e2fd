/**
 * v1's pure rules (app/reward.py, app/graders.py, app/utils.py, app/state_machine.py): the reward,
 * the graders, the stage machine, the queue orders and the fairness gap. Python's round() is pyRound.
 */
import { pyRound } from '../../core/py-round.js';
import type { V1Case, V1GradeResult, V1Metrics, V1PriorityMode, V1Reward, V1Service, V1Stage } from './model.js';

export function v1Reward(p: {
  stageAdvances: number;
  completions: number;
  activeBacklog: number;
  newSlaBreaches: number;
  fairnessGap: number;
  fairnessThreshold: number | null;
  invalidAction: boolean;
  idleCapacity: number;
}): V1Reward {
  const progress = 0.7 * p.stageAdvances;
  const completion = 4.0 * p.completions;
  const waiting = 0.04 * p.activeBacklog;
  const sla = 1.5 * p.newSlaBreaches;
  // `max(0, gap − (threshold or 0.0)) if threshold is not None else max(0, gap − 0.4)`
  const excess =
    p.fairnessThreshold !== null
      ? Math.max(0, p.fairnessGap - (p.fairnessThreshold || 0))
      : Math.max(0, p.fairnessGap - 0.4);
  const fairness = 2.0 * excess;
  const invalid = p.invalidAction ? 1.5 : 0;
  const idle = 0.05 * p.idleCapacity;
  const total = progress + completion - waiting - sla - fairness - invalid - idle;
  return {
    total_reward: pyRound(total, 4),
    progress_reward: pyRound(progress, 4),
    completion_reward: pyRound(completion, 4),
    waiting_penalty: pyRound(waiting, 4),
    sla_penalty: pyRound(sla, 4),
    fairness_penalty: pyRound(fairness, 4),
    invalid_action_penalty: pyRound(invalid, 4),
    idle_capacity_penalty: pyRound(idle, 4),
  };
}

export function boundedScore(x: number): number {
  return pyRound(Math.max(0, Math.min(1, x)), 4);
}

function ratio(num: number, den: number, fallback: number): number {
  return den <= 0 ? fallback : num / den;
}

/** v1's graders: easy, medium and hard by task id (any other id is graded as hard, as v1 does). */
export function v1Grade(taskId: string, m: V1Metrics, fairnessGap: number): V1GradeResult {
  const metrics = {
    completion_rate: boundedScore(ratio(m.total_completed, m.total_arrived, 0)),
    sla_compliance: boundedScore(1 - ratio(m.total_sla_breaches, m.total_arrived, 0)),
    document_rework_quality: boundedScore(ratio(m.total_docs_cleared, m.total_docs_requested, 1)),
    urgent_served_rate: boundedScore(ratio(m.total_urgent_completed, m.total_urgent_arrived, 1)),
    fairness_score: boundedScore(1 - fairnessGap),
    escalation_discipline: boundedScore(1 - ratio(m.total_wasted_escalations, m.total_escalations_used, 0)),
    idle_efficiency: boundedScore(1 - ratio(m.total_idle_officer_days, m.total_capacity_days, 0)),
    fairness_gap: pyRound(fairnessGap, 4),
  };
  if (taskId === 'district_backlog_easy') {
    const score = 0.45 * metrics.completion_rate + 0.35 * metrics.sla_compliance + 0.2 * metrics.idle_efficiency;
    return { grader_name: 'easy', score: boundedScore(score), metrics };
  }
  if (taskId === 'mixed_urgency_medium') {
    const score =
      0.35 * metrics.completion_rate +
      0.3 * metrics.sla_compliance +
      0.2 * metrics.document_rework_quality +
      0.15 * metrics.urgent_served_rate;
    return { grader_name: 'medium', score: boundedScore(score), metrics };
  }
  const score =
    0.28 * metrics.completion_rate +
    0.24 * metrics.sla_compliance +
    0.16 * metrics.document_rework_quality +
    0.16 * metrics.fairness_score +
    0.16 * metrics.escalation_discipline;
  return { grader_name: 'hard', score: boundedScore(score), metrics };
}

function nextStage(stage: V1Stage, fieldVerification: boolean): V1Stage {
  if (stage === 'submission') return 'document_verification';
  if (stage === 'document_verification') return fieldVerification ? 'field_verification' : 'approval';
  if (stage === 'field_verification') return 'approval';
  return 'issuance';
}

/** One day of work on a case: [progressed, completed] (missing documents block the first two stages). */
export function advanceCase(c: V1Case): [boolean, boolean] {
  if (c.completed) return [false, false];
  if (c.has_missing_documents && (c.stage === 'submission' || c.stage === 'document_verification'))
    return [false, false];
  if (c.stage === 'issuance') {
    c.completed = true;
    return [true, true];
  }
  c.stage = nextStage(c.stage, c.field_verification_required);
  c.days_in_stage = 0;
  return [true, false];
}

type Key = (number | string)[];

/** Python's tuple order: element by element, numbers with numbers and strings with strings. */
export function compareKeys(a: Key, b: Key): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number | string;
    const y = b[i] as number | string;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}

/** v1's priority_key: the order in which a service's officers take its cases. */
export function priorityKey(c: V1Case, mode: V1PriorityMode, day: number): Key {
  const remaining = c.due_day - day;
  const esc = -Number(c.escalated);
  if (mode === 'urgent_first') return [esc, -c.urgency, remaining, -c.total_days, c.case_id];
  if (mode === 'oldest_first') return [esc, -c.total_days, remaining, -c.urgency, c.case_id];
  if (mode === 'backlog_clearance') return [esc, c.stage, remaining, -c.total_days, c.case_id];
  return [esc, remaining, -c.urgency, -c.total_days, c.case_id];
}

/** max − min of the per-service completion rates over services with arrivals, rounded to 4 (0 for < 2). */
export function completionFairnessGap(
  arrived: ReadonlyMap<V1Service, number>,
  completed: ReadonlyMap<V1Service, number>,
): number {
  const rates: number[] = [];
  for (const [service, total] of arrived) if (total > 0) rates.push((completed.get(service) ?? 0) / total);
  if (rates.length < 2) return 0;
  return pyRound(Math.max(...rates) - Math.min(...rates), 4);
}
