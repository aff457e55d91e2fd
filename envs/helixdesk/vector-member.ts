/** The HelixDesk task env (task-env.ts) as a vector-env member (envs/core/member.ts). */
import type { MemberStep, VecEnvMember } from '../core/member.js';
import type { RewardSettingsInput } from '../core/reward-mode.js';
import type { HelixConfigInput } from './config.js';
import type { HelixTaskId } from './graders.js';
import type { HelixTaskSnapshot } from './task-env.js';
import { HelixTaskEnv } from './task-env.js';

export class HelixMember implements VecEnvMember {
  /** The task env (the env server reads it). */
  readonly env: HelixTaskEnv;
  private readonly out: MemberStep = { reward: 0, terminated: false, truncated: false };

  constructor(task: HelixTaskId, config: HelixConfigInput, reward?: RewardSettingsInput) {
    this.env = new HelixTaskEnv(task, config, reward);
  }

  reset(seed: number | undefined, observation: Float32Array, mask: Uint8Array): void {
    this.env.reset(seed === undefined ? {} : { seed }, observation);
    mask.fill(1); // every action is allowed
  }

  step(action: Int32Array, observation: Float32Array, mask: Uint8Array): MemberStep {
    const r = this.env.step(action, observation);
    mask.fill(1);
    this.out.reward = r.reward;
    this.out.terminated = r.terminated;
    this.out.truncated = r.truncated;
    return this.out;
  }

  summarize(metrics: Float64Array): number {
    return this.env.summarizeInto(metrics);
  }

  snapshot(): HelixTaskSnapshot {
    return this.env.snapshot();
  }

  restore(state: unknown): void {
    this.env.restore(state as HelixTaskSnapshot);
  }
}
