/**
 * The Gymnasium-shaped contract every queue-rl env implements.
 *
 *   reset({seed, options}) → {observation, info}
 *   step(action)           → {observation, reward, terminated, truncated, info}
 *
 * `terminated` is an MDP terminal state, `truncated` a time limit; after either, call reset().
 * Seeding follows Gymnasium: an explicit seed re-creates the env's randomness; `reset()` without a
 * seed starts the next episode of the same seeded sequence (each env documents how).
 */
import type { Space } from './spaces.js';

export interface ResetOptions<Opts = Record<string, unknown>> {
  seed?: number;
  options?: Opts;
}

export interface ResetResult<Obs, Info> {
  observation: Obs;
  info: Info;
}

export interface StepResult<Obs, Info> {
  observation: Obs;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: Info;
}

/** A grader's verdict on an episode: a score in [0, 1] and the metrics it was computed from. */
export interface GradeResult {
  grader_name: string;
  score: number;
  metrics: Record<string, number>;
}

export interface Env<
  Obs,
  Act,
  Info = Record<string, unknown>,
  ResetInfo = Record<string, unknown>,
  Opts = Record<string, unknown>,
> {
  /** Registry-style id, e.g. `gov-workflow/mixed_urgency_medium`. */
  readonly id: string;
  readonly observationSpace: Space<Obs>;
  readonly actionSpace: Space<Act>;
  reset(args?: ResetOptions<Opts>): ResetResult<Obs, ResetInfo>;
  step(action: Act): StepResult<Obs, Info>;
  close(): void;
}

/** Envs whose whole state can be copied and put back (GRPO branches groups of actions from one state). */
export interface Snapshotable<Snap> {
  /** A deep copy of the complete state, RNG included; later steps do not affect it. */
  snapshot(): Snap;
  /** Put a snapshot back; the snapshot stays usable for further restores. */
  restore(snapshot: Snap): void;
}

/** Envs with a discrete adapter expose the mask of allowed actions for the current observation. */
export interface Maskable {
  /** 1 = allowed, 0 = masked out; length = n (Discrete) or sum(nvec) (MultiDiscrete). */
  actionMasks(): Uint8Array;
}

export interface Gradable {
  grade(): GradeResult;
}
