/**
 * The four graded HelixDesk tasks, with the seed README's semantics as the reference v1 graders
 * compute them (DECISIONS; the v2 "hardened" graders crash or are trivially gamed and are not
 * ported). Each grader runs an agent through the public env API on a given seed and returns a score
 * in [0, 1] with its parts.
 *
 *   easy    20 emails: the share of keyword-flagged emails (read from the observation before acting)
 *           classified complaint + critical; 1.0 when none was flagged
 *   medium  one episode: steps with a resolve_on_time event / steps whose raw action assigns an
 *           employee (assign < n_employees, whatever the classification)
 *   hard    one episode: min(1, mean of three parts) —
 *             trend   = surge steps on which the GM was alerted / steps with a surge active
 *             csat    = min(1, mean CSAT of the steps that resolved a ticket / 4.5)
 *             overdue = max(0, 1 − Σ per-step overdue counts / max(0.10 × steps, 1))
 *   expert  one episode: sqrt(keyword × classify × review) —
 *             keyword  = 1 with no keyword_flag_missed event, else 0 (the reference divides the misses
 *                        by themselves: max(0, 1 − 4·missed/missed))
 *             classify = min(1, correct / max(0.95 · (correct + misclassified), 1))
 *             review   = max(0, 1 − flag-for-review actions / max(0.05 × steps, 1))
 *
 * The reference read events from a dict keyed by event type, so a step counts once however many
 * tickets it resolved; medium and hard keep that (the README leaves the counting open, and this keeps
 * scores comparable with the published ones).
 */
import type { HelixAgent } from '../../agents/types.js';
import { UnknownIdError } from '../core/errors.js';
import type { HelixConfig, HelixConfigInput } from './config.js';
import { HelixDeskEnv } from './env.js';
import type { HelixStepInfo } from './env.js';

export const HELIX_TASK_IDS = ['easy', 'medium', 'hard', 'expert'] as const;
export type HelixTaskId = (typeof HELIX_TASK_IDS)[number];

export const HELIX_TASKS: Readonly<Record<HelixTaskId, { difficulty: string; description: string; steps: number | 'episode' }>> = {
  easy: { difficulty: 'easy', description: 'keyword-flagged emails classified complaint + critical (20 emails)', steps: 20 },
  medium: { difficulty: 'medium', description: 'assigned complaints resolved within SLA (one episode)', steps: 'episode' },
  hard: { difficulty: 'hard', description: 'trend alerts, CSAT and overdue control (one episode)', steps: 'episode' },
  expert: { difficulty: 'expert', description: 'keyword handling × classification accuracy × review restraint (one episode)', steps: 'episode' },
};

export interface HelixGradeResult {
  task: HelixTaskId;
  /** In [0, 1]. */
  score: number;
  /** The quantities the score is made of. */
  parts: Record<string, number>;
  /** Episode reward of the graded run. */
  reward: number;
  steps: number;
  /** Reward events counted over the run. */
  events: Record<string, number>;
}

export function isHelixTask(id: string): id is HelixTaskId {
  return (HELIX_TASK_IDS as readonly string[]).includes(id);
}

const clamp01 = (x: number): number => Math.max(0, Math.min(1, x));

interface Run {
  steps: number;
  reward: number;
  events: Record<string, number>;
  infos: HelixStepInfo[];
  actions: Int32Array[];
  flaggedBeforeAct: boolean[];
}

function run(env: HelixDeskEnv, agent: HelixAgent, seed: number, maxSteps: number): Run {
  let { observation } = env.reset({ seed });
  agent.reset(seed);
  const out: Run = { steps: 0, reward: 0, events: {}, infos: [], actions: [], flaggedBeforeAct: [] };
  while (out.steps < maxSteps) {
    out.flaggedBeforeAct.push((observation[1] as number) > 0.5);
    const action = env.parseAction(agent.act(observation, env));
    const r = env.step(action);
    out.steps++;
    out.reward += r.reward;
    out.actions.push(action);
    out.infos.push(r.info);
    for (const e of r.info.reward_breakdown) out.events[e.type] = (out.events[e.type] ?? 0) + 1;
    observation = r.observation;
    if (r.terminated || r.truncated) break;
  }
  return out;
}

export function gradeHelixTask(task: string, agent: HelixAgent, seed: number, config: HelixConfigInput | HelixConfig = {}): HelixGradeResult {
  if (!isHelixTask(task)) throw new UnknownIdError('task', task, HELIX_TASK_IDS);
  const env = new HelixDeskEnv(config);
  const r = run(env, agent, seed, task === 'easy' ? 20 : Number.POSITIVE_INFINITY);
  const count = (type: string): number => r.events[type] ?? 0;
  let score: number;
  let parts: Record<string, number>;
  switch (task) {
    case 'easy': {
      let flagged = 0;
      let correct = 0;
      r.actions.forEach((a, i) => {
        if (!r.flaggedBeforeAct[i]) return;
        flagged++;
        if (a[0] === 1 && a[1] === 0) correct++;
      });
      score = flagged === 0 ? 1.0 : correct / flagged;
      parts = { flagged, correct };
      break;
    }
    case 'medium': {
      const n = env.config.env.n_employees;
      const assigning = r.actions.filter((a) => (a[2] as number) < n).length;
      const resolvingSteps = r.infos.filter((i) => i.reward_breakdown.some((e) => e.type === 'resolve_on_time')).length;
      score = clamp01(resolvingSteps / Math.max(assigning, 1));
      parts = { resolving_steps: resolvingSteps, assigning_steps: assigning, resolve_on_time_events: count('resolve_on_time') };
      break;
    }
    case 'hard': {
      let surgeSteps = 0;
      let alerted = 0;
      let overdueSum = 0;
      r.infos.forEach((info, i) => {
        if (info.trend_alerts_active > 0) {
          surgeSteps++;
          if ((r.actions[i] as Int32Array)[3] === 1) alerted++;
        }
        overdueSum += info.overdue_count;
      });
      const csatScores = r.infos.filter((i) => i.csat_score !== null).map((i) => i.csat_score as number);
      const trend = surgeSteps === 0 ? 1.0 : alerted / surgeSteps;
      const csatPart = Math.min(1, csatScores.reduce((a, b) => a + b, 0) / Math.max(csatScores.length, 1) / 4.5);
      const overdue = Math.max(0, 1 - overdueSum / Math.max(0.1 * r.steps, 1));
      score = clamp01((trend + csatPart + overdue) / 3);
      parts = { trend, csat: csatPart, overdue, surge_steps: surgeSteps, alerted_surge_steps: alerted, overdue_sum: overdueSum };
      break;
    }
    case 'expert': {
      const flaggedEmails = r.infos.filter((i) => i.keyword_flag).length;
      const missed = count('keyword_flag_missed');
      const keyword = missed === 0 ? 1.0 : 0.0;
      const correct = count('correct_classification');
      const wrong = count('misclassification');
      const classify = Math.min(1, correct / Math.max(0.95 * (correct + wrong), 1));
      const reviews = r.actions.filter((a) => a[0] === 2).length;
      const review = Math.max(0, 1 - reviews / Math.max(0.05 * r.steps, 1));
      score = clamp01(Math.sqrt(keyword * classify * review));
      parts = { keyword, classify, review, flagged_emails: flaggedEmails, keyword_missed: missed, review_flags: reviews };
      break;
    }
  }
  return { task, score, parts, reward: r.reward, steps: r.steps, events: r.events };
}
