/**
 * The vector-env contract: N envs of one id stepped together, batched in typed arrays, with
 * same-step autoreset (the SB3 convention; docs/vector-envs.md): an env whose episode ends on a step
 * is reset inside that step, the returned observation and mask are the new episode's first, and the
 * true last observation is in `finalObservations`. `terminated` and `truncated` are kept apart so the
 * learner bootstraps truncated episodes from the final observation (and never from the reset one).
 *
 * The arrays returned are views of the env's buffers, valid until the next call: copy what you keep.
 */
import type { EnvOptions, EnvSpec } from '../core/registry.js';

/** Largest vector env: 4,096 Gov Workflow hard envs hold about 1 GB (docs/limits.md). */
export const MAX_NUM_ENVS = 4096;
/** Most worker threads of one WorkerVectorEnv. */
export const MAX_WORKERS = 64;

/** Checks a vector env's size (and worker count) before anything is allocated. */
export function checkVectorSize(numEnvs: number, workers?: number): void {
  if (!Number.isInteger(numEnvs) || numEnvs < 1 || numEnvs > MAX_NUM_ENVS)
    throw new RangeError(`numEnvs must be an integer in 1…${MAX_NUM_ENVS} (got ${numEnvs})`);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS))
    throw new RangeError(`workers must be an integer in 1…${MAX_WORKERS} (got ${workers})`);
}

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

/** One env's part of a VectorEnvSnapshot. */
export interface VecMemberSnapshot {
  /** The member's own state (VecEnvMember.snapshot(): plain data, env-specific). */
  readonly state: unknown;
  /** The running return of the episode in progress (float64, as the vector env accumulates it). */
  readonly episodeReturn: number;
  /** Steps of the episode in progress so far. */
  readonly episodeLength: number;
}

/**
 * The exact state of a whole vector env, for checkpoints: restoring it into a vector env of the same
 * id, options and size continues bit for bit — episodes in progress, later autoresets (each env's
 * own seed continuation), running returns and lengths, task scorers. It depends only on the envs,
 * never on how they are split over workers: a snapshot of a 2-worker env restores into a
 * SyncVectorEnv or a WorkerVectorEnv with any worker count.
 *
 * Plain data (objects, arrays, numbers, strings, typed arrays): it survives structured clone and
 * `v8.serialize`; see serializeVectorEnvSnapshot / deserializeVectorEnvSnapshot (snapshot.ts).
 * Owned by the caller: the vector env keeps no reference to it, and it can be restored many times.
 */
export interface VectorEnvSnapshot {
  readonly format: 'queue-rl/vector-env-snapshot';
  readonly version: 1;
  readonly envId: string;
  /** The env options as resolved (restore requires the same, compared as canonical JSON). */
  readonly options: EnvOptions;
  readonly numEnvs: number;
  /** One per env, in env-index order. */
  readonly members: readonly VecMemberSnapshot[];
  /** The current observations the learner acts on (numEnvs × observationSize, row-major). */
  readonly observations: Float32Array;
  /** Their masks (numEnvs × maskLength). */
  readonly masks: Uint8Array;
}

/**
 * N envs of one id stepped together (Gymnasium's VectorEnv, SB3's autoreset): reset(seed) and
 * step(actions) return typed-array batches; an env whose episode ends is reset inside that step,
 * its true last observation kept in `finalObservations` and its summary in `episodes`. Knows no
 * specific env: ids resolve through envs/core/registry.ts. docs/vector-envs.md.
 */
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
  /** The exact state of every env (after reset() or restore(); not while another call is in progress). */
  snapshot(): Promise<VectorEnvSnapshot>;
  /**
   * Puts a snapshot back (taken from any vector env of the same id, options and numEnvs, whatever its
   * worker count) and returns the snapshotted current observations and masks, as reset() does; the
   * next step() continues exactly where the snapshotted env would have. A snapshot of another env
   * id, options or size is refused with a VectorEnvSnapshotError naming the field, before anything
   * changes; an env that fails to restore fails the vector env, as a failed step does.
   */
  restore(snapshot: VectorEnvSnapshot): Promise<VecResetResult>;
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

/** A snapshot that does not fit: malformed, or of another env id, options or size. `field` names the culprit. */
export class VectorEnvSnapshotError extends Error {
  override readonly name = 'VectorEnvSnapshotError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
