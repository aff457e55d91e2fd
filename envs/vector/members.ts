/** The vector-env members of queue-rl's envs (see member.ts). */
import { GovWorkflowRlEnv } from '../gov-workflow/adapter/rl-env.js';
import type { GovRlEnvConfig, GovRlSnapshot } from '../gov-workflow/adapter/rl-env.js';
import type { HelixConfigInput } from '../helixdesk/config.js';
import { HelixDeskEnv } from '../helixdesk/env.js';
import type { HelixSnapshot } from '../helixdesk/env.js';
import { HELIX_TASK_PARTS, HelixTaskScorer, taskStepLimit } from '../helixdesk/graders.js';
import type { HelixScorerState, HelixTaskId } from '../helixdesk/graders.js';
import { REWARD_EVENT_TYPES } from '../helixdesk/reward.js';
import type { MemberStep, VecEnvMember } from './member.js';
import { isRecord, isTypedArray } from './snapshot.js';

/** Episode metrics of a Gov Workflow member: the grader's metrics and the env's totals. */
export const GOV_MEMBER_METRICS = [
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
  'avg_waiting_days',
  'total_invalid_actions',
  'total_backlog',
  'days',
] as const;

/** The grader's score of a Gov Workflow episode; its metrics written in GOV_MEMBER_METRICS order. */
export function summarizeGov(env: GovWorkflowRlEnv, metrics: Float64Array): number {
  const grade = env.grade();
  const state = env.inner.state();
  const values: Record<string, number> = {
    ...grade.metrics,
    total_invalid_actions: state.total_invalid_actions,
    total_backlog: state.total_backlog,
    days: state.day,
  };
  GOV_MEMBER_METRICS.forEach((name, k) => {
    metrics[k] = values[name] ?? Number.NaN;
  });
  return grade.score;
}

export class GovMember implements VecEnvMember {
  private readonly env: GovWorkflowRlEnv;
  private readonly out: MemberStep = { reward: 0, terminated: false, truncated: false };

  constructor(taskId: string, config: GovRlEnvConfig) {
    this.env = new GovWorkflowRlEnv({ ...config, taskId });
  }

  reset(seed: number | undefined, observation: Float32Array, mask: Uint8Array): void {
    this.env.reset(seed === undefined ? {} : { seed });
    this.env.observe(observation);
    this.env.actionMasksInto(mask);
  }

  step(action: Int32Array, observation: Float32Array, mask: Uint8Array): MemberStep {
    const r = this.env.step(action[0] as number, observation);
    this.env.actionMasksInto(mask);
    this.out.reward = r.reward;
    this.out.terminated = r.terminated;
    this.out.truncated = r.truncated;
    return this.out;
  }

  summarize(metrics: Float64Array): number {
    return summarizeGov(this.env, metrics);
  }

  /** `{ env }`: the adapter's snapshot (episode, RNG, seed continuation, streak trace). */
  snapshot(): GovMemberState {
    return { env: this.env.snapshot() };
  }

  restore(state: unknown): void {
    if (!isRecord(state) || !isRecord(state.env) || !isRecord(state.env.env) || !isRecord(state.env.trace)) {
      throw new TypeError('GovMember.restore: expected { env: { env, trace } } from GovMember.snapshot()');
    }
    this.env.restore(state.env as unknown as GovRlSnapshot);
  }
}

/** A Gov Workflow member's snapshot. */
export interface GovMemberState {
  env: GovRlSnapshot;
}

/** A HelixDesk member's snapshot: the env's, the task scorer's counters, the event counts and the step count of the episode. */
export interface HelixMemberState {
  env: HelixSnapshot;
  scorer: HelixScorerState;
  events: Float64Array;
  steps: number;
}

/** Episode metrics of a HelixDesk member: the task's score parts, then the count of each reward event. */
export function helixMemberMetrics(task: HelixTaskId): readonly string[] {
  return [...HELIX_TASK_PARTS[task], ...REWARD_EVENT_TYPES.map((t) => `events_${t}`)];
}

export class HelixMember implements VecEnvMember {
  private readonly env: HelixDeskEnv;
  private readonly scorer: HelixTaskScorer;
  private readonly limit: number;
  private readonly events = new Float64Array(REWARD_EVENT_TYPES.length);
  private readonly out: MemberStep = { reward: 0, terminated: false, truncated: false };
  private steps = 0;

  constructor(
    private readonly task: HelixTaskId,
    config: HelixConfigInput,
  ) {
    this.env = new HelixDeskEnv(config);
    this.scorer = new HelixTaskScorer(task, this.env.config.env.n_employees);
    this.limit = taskStepLimit(task);
  }

  reset(seed: number | undefined, observation: Float32Array, mask: Uint8Array): void {
    this.env.reset(seed === undefined ? {} : { seed });
    this.env.observeInto(observation);
    mask.fill(1); // every action is allowed
    this.scorer.reset();
    this.events.fill(0);
    this.steps = 0;
  }

  step(action: Int32Array, observation: Float32Array, mask: Uint8Array): MemberStep {
    const flagged = (observation[1] as number) > 0.5; // the observation the action was chosen on
    const r = this.env.step(action, observation);
    this.steps++;
    this.scorer.record(flagged, action, r.info);
    for (const e of r.info.reward_breakdown) {
      const k = REWARD_EVENT_TYPES.indexOf(e.type);
      this.events[k] = (this.events[k] as number) + 1;
    }
    mask.fill(1);
    this.out.reward = r.reward;
    this.out.terminated = r.terminated;
    // The task's own length (20 emails for easy) is a time limit, not a terminal state.
    this.out.truncated = !r.terminated && this.steps >= this.limit;
    return this.out;
  }

  summarize(metrics: Float64Array): number {
    const { score, parts } = this.scorer.result();
    const names = HELIX_TASK_PARTS[this.task];
    names.forEach((name, k) => {
      metrics[k] = parts[name] ?? Number.NaN;
    });
    metrics.set(this.events, names.length);
    return score;
  }

  snapshot(): HelixMemberState {
    return { env: this.env.snapshot(), scorer: this.scorer.save(), events: this.events.slice(), steps: this.steps };
  }

  restore(state: unknown): void {
    if (
      !isRecord(state) ||
      !isRecord(state.env) ||
      !isRecord(state.scorer) ||
      !isTypedArray(state.events, 'Float64Array') ||
      (state.events as Float64Array).length !== this.events.length ||
      typeof state.steps !== 'number' ||
      !Number.isInteger(state.steps)
    ) {
      throw new TypeError(
        `HelixMember.restore: expected { env, scorer, events: Float64Array(${this.events.length}), steps } from HelixMember.snapshot()`,
      );
    }
    // The scorer first: it checks its counters, and the env's restore is the last thing that can fail.
    this.scorer.load(state.scorer as unknown as HelixScorerState);
    this.env.restore(state.env as unknown as HelixSnapshot);
    this.events.set(state.events as Float64Array);
    this.steps = state.steps;
  }
}
