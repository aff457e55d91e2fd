/** The HelixDesk env as a vector-env member (envs/core/member.ts): one graded task per episode. */
import type { MemberStep, VecEnvMember } from '../core/member.js';
import { isRecord, isTypedArray } from '../core/plain-data.js';
import type { HelixConfigInput } from './config.js';
import { HelixDeskEnv } from './env.js';
import type { HelixSnapshot } from './env.js';
import { HELIX_TASK_PARTS, HelixTaskScorer, taskStepLimit } from './graders.js';
import type { HelixScorerState, HelixTaskId } from './graders.js';
import { REWARD_EVENT_TYPES } from './reward.js';

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
