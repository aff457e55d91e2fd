/**
 * Adam on one flat Float32Array of parameters, as torch.optim.Adam computes it (SB3 sets eps 1e-5):
 *   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²
 *   θ ← θ − (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + eps)
 * plus torch's clip_grad_norm_ (global L2 norm over all gradients, coefficient max/(norm + 1e-6)
 * applied when below 1). The moments are kept in float32 as torch does, the arithmetic of one step in
 * float64. The state (t, m, v) is plain typed arrays: checkpoints save it exactly.
 */

export interface AdamSettings {
  beta1: number;
  beta2: number;
  eps: number;
}

export interface AdamState {
  step: number;
  m: Float32Array;
  v: Float32Array;
}

export class Adam {
  step = 0;
  readonly m: Float32Array;
  readonly v: Float32Array;

  /** `moments`: where to keep m and v (e.g. views of SharedArrayBuffers); fresh zeroed arrays by default. */
  constructor(
    readonly size: number,
    readonly settings: AdamSettings,
    moments?: { m: Float32Array; v: Float32Array },
  ) {
    this.m = moments?.m ?? new Float32Array(size);
    this.v = moments?.v ?? new Float32Array(size);
    if (this.m.length !== size || this.v.length !== size)
      throw new Error(`Adam: moments of ${this.m.length} values for ${size} parameters`);
  }

  /** Starts an optimiser step (the bias corrections use the step count); then apply() each block. */
  beginStep(): void {
    this.step++;
  }

  /**
   * Updates theta[from, to) in place with the gradient scaled by `gradScale` (the clipping
   * coefficient). Blocks are independent, so the actor's and the critic's can be updated on
   * different threads over shared moments.
   */
  apply(theta: Float32Array, grad: Float32Array, lr: number, gradScale = 1, from = 0, to = theta.length): void {
    const { beta1, beta2, eps } = this.settings;
    if (this.step === 0) throw new Error('Adam.apply before beginStep()');
    const stepSize = lr / (1 - beta1 ** this.step);
    const invBc2Sqrt = 1 / Math.sqrt(1 - beta2 ** this.step);
    const c1 = (1 - beta1) * gradScale;
    const c2 = (1 - beta2) * gradScale * gradScale;
    const m = this.m;
    const v = this.v;
    for (let i = from; i < to; i++) {
      const g = grad[i] as number;
      const mi = beta1 * (m[i] as number) + c1 * g;
      const vi = beta2 * (v[i] as number) + c2 * g * g;
      m[i] = mi;
      v[i] = vi;
      theta[i] = (theta[i] as number) - (stepSize * mi) / (Math.sqrt(vi) * invBc2Sqrt + eps);
    }
  }

  state(): AdamState {
    return { step: this.step, m: this.m.slice(), v: this.v.slice() };
  }

  load(state: AdamState): void {
    if (state.m.length !== this.size || state.v.length !== this.size)
      throw new Error(`optimizer state has ${state.m.length} moments, the network has ${this.size} parameters`);
    this.step = state.step;
    this.m.set(state.m);
    this.v.set(state.v);
  }
}

/** Σ g² over grad[from, to), in index order. */
export function sumOfSquares(grad: Float32Array, from = 0, to = grad.length): number {
  let sq = 0;
  for (let i = from; i < to; i++) sq += (grad[i] as number) * (grad[i] as number);
  return sq;
}

/**
 * torch clip_grad_norm_: from the blocks' sums of squares (actor + critic, in that order, so one
 * thread or two give the same number), the global L2 norm and the coefficient max/(norm + 1e-6) to
 * scale the gradient by (1 when within bounds). The scaling happens inside Adam.apply.
 */
export function clipScale(sumsOfSquares: readonly number[], maxNorm: number): { norm: number; scale: number } {
  const norm = Math.sqrt(sumsOfSquares.reduce((a, b) => a + b, 0));
  const coef = maxNorm / (norm + 1e-6);
  // biome-ignore lint/complexity/useMathMinMax: a NaN norm must give scale 1 here (Math.min would give NaN)
  return { norm, scale: coef < 1 ? coef : 1 };
}
