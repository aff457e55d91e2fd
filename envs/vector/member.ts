/**
 * What a vector env needs from each of its envs: reset and step writing straight into the batch
 * buffers (no observation objects), and, when an episode ends, its score and metrics.
 */

export interface MemberStep {
  reward: number;
  terminated: boolean;
  truncated: boolean;
}

export interface VecEnvMember {
  /** Start an episode: with a seed, that seed; without, the env's own continuation. */
  reset(seed: number | undefined, observation: Float32Array, mask: Uint8Array): void;
  /** Apply `action` (1 value for Discrete, one per dimension for MultiDiscrete). The returned object is reused. */
  step(action: Int32Array, observation: Float32Array, mask: Uint8Array): MemberStep;
  /** After a step that ended the episode: the grader's score (NaN when the task has none); metrics in the spec's order. */
  summarize(metrics: Float64Array): number;
}
