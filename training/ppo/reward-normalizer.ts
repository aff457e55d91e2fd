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

  /**
   * Updates the statistics with this step's rewards and writes the scaled rewards into `out`; `dones` resets the
   * returns after.
   */
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
