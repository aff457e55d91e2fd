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

  constructor(
    readonly size: number,
    readonly settings: AdamSettings,
  ) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  /** Applies one update to `theta` in place, with the gradient scaled by `gradScale` (the clipping coefficient). */
  apply(theta: Float32Array, grad: Float32Array, lr: number, gradScale = 1): void {
    const { beta1, beta2, eps } = this.settings;
    this.step++;
    const stepSize = lr / (1 - beta1 ** this.step);
    const invBc2Sqrt = 1 / Math.sqrt(1 - beta2 ** this.step);
    const c1 = (1 - beta1) * gradScale;
    const c2 = (1 - beta2) * gradScale * gradScale;
    const m = this.m;
    const v = this.v;
    const n = theta.length;
    for (let i = 0; i < n; i++) {
      const g = grad[i]!;
      const mi = beta1 * m[i]! + c1 * g;
      const vi = beta2 * v[i]! + c2 * g * g;
      m[i] = mi;
      v[i] = vi;
      theta[i] = theta[i]! - (stepSize * mi) / (Math.sqrt(vi) * invBc2Sqrt + eps);
    }
  }

  state(): AdamState {
    return { step: this.step, m: this.m.slice(), v: this.v.slice() };
  }

  load(state: AdamState): void {
    if (state.m.length !== this.size || state.v.length !== this.size) throw new Error(`optimizer state has ${state.m.length} moments, the network has ${this.size} parameters`);
    this.step = state.step;
    this.m.set(state.m);
    this.v.set(state.v);
  }
}

/**
 * torch clip_grad_norm_: the global L2 norm of `grad` and the coefficient max/(norm + 1e-6) to scale
 * it by (1 when the norm is within bounds). The scaling itself happens inside Adam.apply.
 */
export function gradNormClip(grad: Float32Array, maxNorm: number): { norm: number; scale: number } {
  let sq = 0;
  for (let i = 0; i < grad.length; i++) sq += grad[i]! * grad[i]!;
  const norm = Math.sqrt(sq);
  const coef = maxNorm / (norm + 1e-6);
  return { norm, scale: coef < 1 ? coef : 1 };
}
