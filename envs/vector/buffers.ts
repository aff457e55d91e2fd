/**
 * The batch buffers of a vector env: one typed array per quantity, env i owning a fixed slice of
 * each. On plain ArrayBuffers for SyncVectorEnv, on SharedArrayBuffers for WorkerVectorEnv (workers
 * write their envs' slices in place; nothing is copied or serialised per step).
 */

export interface BufferShape {
  numEnvs: number;
  observationSize: number;
  maskLength: number;
  actionDims: number;
  metricCount: number;
}

/** Per ended episode: return, length, score (NaN if ungraded), then the metrics. */
export const EPISODE_FIELDS = 3;

export interface RawBuffers {
  readonly observations: ArrayBufferLike;
  readonly finalObservations: ArrayBufferLike;
  readonly masks: ArrayBufferLike;
  readonly rewards: ArrayBufferLike;
  readonly terminated: ArrayBufferLike;
  readonly truncated: ArrayBufferLike;
  readonly actions: ArrayBufferLike;
  readonly episodes: ArrayBufferLike;
}

export class VecBuffers {
  readonly observations: Float32Array;
  /** Row i holds env i's last observation when its episode ended on this step. */
  readonly finalObservations: Float32Array;
  /** Masks for the returned observations (after autoreset: for the new episode's first). */
  readonly masks: Uint8Array;
  readonly rewards: Float32Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  readonly actions: Int32Array;
  /** Row i: the episode env i finished on this step (see EPISODE_FIELDS). */
  readonly episodes: Float64Array;

  constructor(
    readonly shape: BufferShape,
    readonly raw: RawBuffers,
  ) {
    this.observations = new Float32Array(raw.observations);
    this.finalObservations = new Float32Array(raw.finalObservations);
    this.masks = new Uint8Array(raw.masks);
    this.rewards = new Float32Array(raw.rewards);
    this.terminated = new Uint8Array(raw.terminated);
    this.truncated = new Uint8Array(raw.truncated);
    this.actions = new Int32Array(raw.actions);
    this.episodes = new Float64Array(raw.episodes);
  }

  static allocate(shape: BufferShape, shared: boolean): VecBuffers {
    const make = (bytes: number): ArrayBufferLike => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
    const n = shape.numEnvs;
    return new VecBuffers(shape, {
      observations: make(4 * n * shape.observationSize),
      finalObservations: make(4 * n * shape.observationSize),
      masks: make(n * shape.maskLength),
      rewards: make(4 * n),
      terminated: make(n),
      truncated: make(n),
      actions: make(4 * n * shape.actionDims),
      episodes: make(8 * n * (EPISODE_FIELDS + shape.metricCount)),
    });
  }

  get episodeStride(): number {
    return EPISODE_FIELDS + this.shape.metricCount;
  }
}
