/**
 * The vector-env contract: N envs of one id stepped together, batched in typed arrays, with
 * same-step autoreset (the SB3 convention; rl-reference §1.6): an env whose episode ends on a step
 * is reset inside that step, the returned observation and mask are the new episode's first, and the
 * true last observation is in `finalObservations`. `terminated` and `truncated` are kept apart so the
 * learner bootstraps truncated episodes from the final observation (and never from the reset one).
 *
 * The arrays returned are views of the env's buffers, valid until the next call: copy what you keep.
 */
import type { EnvSpec } from '../registry.js';

export interface CompletedEpisode {
  /** Which env of the batch. */
  readonly envIndex: number;
  /** Sum of the episode's rewards (accumulated in float64). */
  readonly return: number;
  readonly length: number;
  /** The task's grader score, or null when the env has none. */
  readonly score: number | null;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface VecResetResult {
  /** numEnvs × observationSize, row-major. */
  readonly observations: Float32Array;
  /** numEnvs × maskLength (1 = allowed). */
  readonly masks: Uint8Array;
}

export interface VecStepResult extends VecResetResult {
  readonly rewards: Float32Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  /** Row i is env i's last observation where terminated[i] or truncated[i]; other rows are stale. */
  readonly finalObservations: Float32Array;
  /** Episodes that ended on this step, by env index. */
  readonly episodes: readonly CompletedEpisode[];
}

export interface VectorEnv {
  readonly spec: EnvSpec;
  readonly numEnvs: number;
  /** Seeds member i with deriveSeed(seed, 'vector-member', i); see slice.ts. */
  reset(seed: number): Promise<VecResetResult>;
  /**
   * `actions`: numEnvs × actionDims integers (row-major). Writing straight into `actionBuffer` and
   * calling step() without an argument avoids the copy.
   */
  step(actions?: ArrayLike<number>): Promise<VecStepResult>;
  /** The env's own action buffer (numEnvs × actionDims). */
  readonly actionBuffer: Int32Array;
  /** Ends workers and frees resources; safe to call more than once. */
  close(): Promise<void>;
}

/** An env of the batch failed: which one, of which id, and the original error with its stack. */
export class VectorEnvError extends Error {
  override readonly name = 'VectorEnvError';
  constructor(
    readonly envIndex: number,
    readonly envId: string,
    readonly originalMessage: string,
    readonly originalStack: string,
  ) {
    super(`env ${envIndex} (${envId}) failed: ${originalMessage}\n--- original stack ---\n${originalStack}`);
  }
}
