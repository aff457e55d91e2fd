/**
 * Running observation normalisation, as SB3 VecNormalize does it for observations: RunningMeanStd
 * (count starts at 1e-4; batch updates by the parallel-variance formula), then
 * clip((x − mean) / sqrt(var + 1e-8), ±clip). Statistics update only while training, from every
 * batch of observations the vector env returns; evaluation uses them frozen. Saved in checkpoints.
 */

export interface ObsNormalizerState {
  mean: number[];
  var: number[];
  count: number;
}

export class ObsNormalizer {
  readonly mean: Float64Array;
  readonly var: Float64Array;
  count = 1e-4;
  private readonly batchMean: Float64Array;
  private readonly batchVar: Float64Array;

  constructor(
    readonly size: number,
    readonly clip: number,
  ) {
    this.mean = new Float64Array(size);
    this.var = new Float64Array(size).fill(1);
    this.batchMean = new Float64Array(size);
    this.batchVar = new Float64Array(size);
  }

  /** Folds `rows` observations (row-major) into the statistics. */
  update(observations: Float32Array, rows: number): void {
    const n = this.size;
    this.batchMean.fill(0);
    this.batchVar.fill(0);
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < n; j++)
        this.batchMean[j] = (this.batchMean[j] as number) + (observations[r * n + j] as number);
    for (let j = 0; j < n; j++) this.batchMean[j] = (this.batchMean[j] as number) / rows;
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < n; j++)
        this.batchVar[j] =
          (this.batchVar[j] as number) + ((observations[r * n + j] as number) - (this.batchMean[j] as number)) ** 2;
    const total = this.count + rows;
    for (let j = 0; j < n; j++) {
      const bVar = (this.batchVar[j] as number) / rows;
      const delta = (this.batchMean[j] as number) - (this.mean[j] as number);
      const m2 = (this.var[j] as number) * this.count + bVar * rows + (delta * delta * this.count * rows) / total;
      this.mean[j] = (this.mean[j] as number) + (delta * rows) / total;
      this.var[j] = m2 / total;
    }
    this.count = total;
  }

  /** Writes the normalised `rows` observations into `out` (may be the input). */
  normalize(observations: Float32Array, rows: number, out: Float32Array): Float32Array {
    const n = this.size;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < n; j++) {
        const z =
          ((observations[r * n + j] as number) - (this.mean[j] as number)) / Math.sqrt((this.var[j] as number) + 1e-8);
        out[r * n + j] = Math.min(Math.max(z, -this.clip), this.clip);
      }
    }
    return out;
  }

  state(): ObsNormalizerState {
    return { mean: [...this.mean], var: [...this.var], count: this.count };
  }

  load(s: ObsNormalizerState): void {
    if (s.mean.length !== this.size || s.var.length !== this.size)
      throw new Error(`observation statistics have ${s.mean.length} features, the env has ${this.size}`);
    this.mean.set(s.mean);
    this.var.set(s.var);
    this.count = s.count;
  }
}

export interface RewardNormalizerState {
  /** Running discounted return of each env. */
  returns: number[];
  mean: number;
  var: number;
  count: number;
}

/**
 * Reward scaling as SB3 VecNormalize(norm_reward=True) does it: each env keeps a discounted return
 * G ← γ·G + r (reset to 0 when its episode ends); a running variance of G over all envs scales the
 * rewards the learner sees: clip(r / sqrt(var + 1e-8), ±clip). Episode statistics stay in raw
 * rewards. Saved in checkpoints; evaluation never needs it (it only shapes the learning signal).
 */
export class RewardNormalizer {
  readonly returns: Float64Array;
  mean = 0;
  var = 1;
  count = 1e-4;

  constructor(
    readonly numEnvs: number,
    readonly gamma: number,
    readonly clip: number,
  ) {
    this.returns = new Float64Array(numEnvs);
  }

  /** Updates the statistics with this step's rewards and writes the scaled rewards into `out`; `dones` resets the returns after. */
  normalize(rewards: Float32Array, dones: Uint8Array, out: Float32Array): Float32Array {
    const n = this.numEnvs;
    let batchMean = 0;
    for (let i = 0; i < n; i++) {
      this.returns[i] = (this.returns[i] as number) * this.gamma + (rewards[i] as number);
      batchMean += this.returns[i] as number;
    }
    batchMean /= n;
    let batchVar = 0;
    for (let i = 0; i < n; i++) batchVar += ((this.returns[i] as number) - batchMean) ** 2;
    batchVar /= n;
    const total = this.count + n;
    const delta = batchMean - this.mean;
    const m2 = this.var * this.count + batchVar * n + (delta * delta * this.count * n) / total;
    this.mean += (delta * n) / total;
    this.var = m2 / total;
    this.count = total;
    const scale = 1 / Math.sqrt(this.var + 1e-8);
    for (let i = 0; i < n; i++) {
      out[i] = Math.min(Math.max((rewards[i] as number) * scale, -this.clip), this.clip);
      if (dones[i]) this.returns[i] = 0;
    }
    return out;
  }

  /** The factor rewards are currently multiplied by (before clipping). */
  get scale(): number {
    return 1 / Math.sqrt(this.var + 1e-8);
  }

  state(): RewardNormalizerState {
    return { returns: [...this.returns], mean: this.mean, var: this.var, count: this.count };
  }

  load(s: RewardNormalizerState): void {
    if (s.returns.length !== this.numEnvs)
      throw new Error(`reward statistics for ${s.returns.length} envs, this run has ${this.numEnvs}`);
    this.returns.set(s.returns);
    this.mean = s.mean;
    this.var = s.var;
    this.count = s.count;
  }
}
