/**
 * Adam on one flat Float32Array of parameters, torch.optim.Adam's formula (SB3 sets eps 1e-5):
 *   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²
 *   θ ← θ − (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + eps)
 * plus torch's clip_grad_norm_ (global L2 norm over all gradients, coefficient max/(norm + 1e-6)
 * applied when below 1). Float32 arithmetic, as torch's: the step's constants are computed in float64
 * and rounded, every element operation is rounded to float32 (Math.fround: a float64 operation rounded
 * to float32 is the float32 operation). The state (t, m, v) is plain typed arrays: checkpoints save it
 * exactly. The element loop runs in the native addon when it is built (the same operations in the same
 * order, no fused multiply-add: bit-identical to adamStepJs, tested), in JS otherwise.
 */
import { loadNativeAddon } from '../../agents/policy/native-engine.js';

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
    if (this.step === 0) throw new Error('Adam.apply before beginStep()');
    const c = adamConstants(this.settings, this.step, lr, gradScale);
    const native = loadNativeAddon();
    if ('addon' in native) {
      const { beta1, beta2, eps } = this.settings;
      native.addon.adam(theta, grad, this.m, this.v, from, to, c.stepSize, c.invBc2Sqrt, c.c1, c.c2, beta1, beta2, eps);
    } else adamStepJs(this.settings, c, theta, grad, this.m, this.v, from, to);
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

export interface AdamStepConstants {
  stepSize: number;
  invBc2Sqrt: number;
  c1: number;
  c2: number;
}

/** The step's scalars (bias corrections, the clip scale folded into the moments): float64, rounded to float32. */
export function adamConstants(s: AdamSettings, step: number, lr: number, gradScale: number): AdamStepConstants {
  const f = Math.fround;
  return {
    stepSize: f(lr / (1 - s.beta1 ** step)),
    invBc2Sqrt: f(1 / Math.sqrt(1 - s.beta2 ** step)),
    c1: f((1 - s.beta1) * gradScale),
    c2: f((1 - s.beta2) * gradScale * gradScale),
  };
}

/** Adam's element loop in JS (the reference the native loop equals bit for bit). */
export function adamStepJs(
  s: AdamSettings,
  c: AdamStepConstants,
  theta: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  from: number,
  to: number,
): void {
  const f = Math.fround;
  const [beta1, beta2, eps] = [f(s.beta1), f(s.beta2), f(s.eps)];
  const { stepSize, invBc2Sqrt, c1, c2 } = c;
  for (let i = from; i < to; i++) {
    const g = grad[i] as number;
    const mi = f(f(beta1 * (m[i] as number)) + f(c1 * g));
    const vi = f(f(beta2 * (v[i] as number)) + f(f(c2 * g) * g));
    m[i] = mi;
    v[i] = vi;
    theta[i] = (theta[i] as number) - f(f(stepSize * mi) / f(f(f(Math.sqrt(vi)) * invBc2Sqrt) + eps));
  }
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
