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
