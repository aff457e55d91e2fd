/** The Gov Workflow env as a vector-env member (envs/core/member.ts): the RL adapter writing into the batch buffers. */
import type { MemberStep, VecEnvMember } from '../core/member.js';
import { isRecord } from '../core/plain-data.js';
import type { GovRlEnvConfig, GovRlSnapshot } from './adapter/rl-env.js';
import { GovWorkflowRlEnv } from './adapter/rl-env.js';
import { GOV_EPISODE_METRICS, govEpisodeSummary } from './episode-summary.js';

/** The grader's score of the env's episode; its metrics written in GOV_EPISODE_METRICS order. */
export function summarizeGov(env: GovWorkflowRlEnv, metrics: Float64Array): number {
  const summary = govEpisodeSummary(env.inner);
  GOV_EPISODE_METRICS.forEach((name, k) => {
    metrics[k] = summary.metrics[name];
  });
  return summary.score;
}

export class GovMember implements VecEnvMember {
  /** The adapter (the env server reads its JSON observation and steps JSON actions through it). */
  readonly env: GovWorkflowRlEnv;
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
