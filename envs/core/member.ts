/**
 * What a vector env needs from each of its envs: reset and step writing straight into the batch
 * buffers (no observation objects), when an episode ends, its score and metrics, and an exact
 * snapshot of its state for checkpoints.
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
  /**
   * After a step that ended the episode: the grader's score (NaN when the task has none); metrics in the spec's order.
   */
  summarize(metrics: Float64Array): number;
  /**
   * The member's whole state (the env mid-episode, its seed continuation for later autoresets, and
   * anything it accumulates for summarize()), as plain data: objects, arrays, numbers, strings,
   * booleans, null and typed arrays, so it survives structured clone (postMessage) and
   * `v8.serialize`. It may share parts that are never mutated with the live state: the vector env
   * clones what it hands out and what it takes in.
   */
  snapshot(): unknown;
  /**
   * Puts a snapshot() of a member of the same env id and options back: stepping then continues
   * exactly as the snapshotted member would have. Must not rely on prototypes (the state may have
   * been cloned or deserialised). Throws on a state of the wrong shape.
   */
  restore(state: unknown): void;
}
