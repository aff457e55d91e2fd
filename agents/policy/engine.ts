/**
 * The actor-critic's arithmetic on TensorFlow.js: forward passes for acting and for the update, and
 * a hand-written backward pass. tfjs does what it is fast at (matrix products, elementwise ops on
 * the active backend: wasm SIMD, native TF or CUDA); the loss, its gradient with respect to the
 * logits and value (distributions.ts), global-norm clipping and Adam (adam.ts) run in JS on
 * Float32Arrays, where they cost microseconds and are exact and backend-independent.
 *
 * Why not tf.variableGrads: on wasm its generic autodiff costs ~3× more per minibatch (many small
 * kernels, transposed matMuls that are slow on XNNPACK; docs/benchmarks.md). The backward pass of
 * an MLP is short: for each layer z = h·W + b, a = act(z):
 *   dz = da ⊙ act'(a)     (tanh: 1 − a²; relu: a > 0)
 *   dW = hᵀ·dz,  db = Σ_rows dz,  dh = dz·Wᵀ
 * Its correctness is tested against tf.variableGrads on the same loss (engine.test.ts).
 *
 * A TowerEngine is one MLP (the actor's or the critic's); PolicyEngine holds both. The towers share
 * nothing, so the critic can live on another thread (critic-worker.ts) with the same results.
 * Every call runs in tf.tidy; the only tensors alive between calls are the uploaded parameters and,
 * between forwardTrain and backward, the saved activations (tensor counts stay flat: tested).
 */
import * as tf from '@tensorflow/tfjs';
import { activeBackend } from './backend.js';
import { NativeTowerEngine } from './native-engine.js';
import type { Activation, ParameterLayout } from './parameters.js';
import type { Tower } from './tower.js';

export type { Tower } from './tower.js';

/** A tower on the active backend: the native engine when `--backend native` (or auto) chose it, tfjs otherwise. */
export function createTower(layout: ParameterLayout, tower: 'actor' | 'critic', activation: Activation): Tower {
  return activeBackend() === 'native'
    ? new NativeTowerEngine(layout, tower, activation)
    : new TowerEngine(layout, tower, activation);
}

interface Dense {
  kernel: tf.Tensor2D;
  /** Kernel transposed, for dh = dz·Wᵀ as a plain matMul (transposed operands are slow on wasm). */
  kernelT: tf.Tensor2D | null;
  bias: tf.Tensor1D;
}

interface SavedActivations {
  /** Input transposed [obs, B] (uploaded from JS). */
  xT: tf.Tensor2D;
  /** Outputs of the hidden layers, first to last. */
  hidden: tf.Tensor2D[];
  batch: number;
}

/** Backend traits the engines adapt to, read once. */
function backendTraits(): { tanhViaSigmoid: boolean; singleDownload: boolean; backendCopies: boolean } {
  const b = tf.getBackend();
  return {
    // tanh as 2·sigmoid(2z) − 1 on wasm, where its tanh kernel is ~4× slower than sigmoid (not SIMD).
    tanhViaSigmoid: b === 'wasm',
    // On CPU backends a download is a copy: no need to concatenate gradients for a single sync.
    singleDownload: b !== 'wasm' && b !== 'cpu',
    // wasm copies into its heap and tensorflow into TF tensors; the cpu backend keeps the array.
    backendCopies: b === 'wasm' || b === 'tensorflow',
  };
}

/** One MLP on tfjs: hidden layers with the activation, then a linear head; parameters in a layout's block. */
export class TowerEngine implements Tower {
  readonly needsTransposedInput = true;
  private layers: Dense[] = [];
  private saved: SavedActivations | null = null;
  private readonly names: string[];
  private readonly traits = backendTraits();
  private readonly transposeScratch = new Map<string, Float32Array>();
  readonly outputSize: number;
  /** This tower's block of the parameter vector. */
  readonly offset: number;
  readonly size: number;

  constructor(
    readonly layout: ParameterLayout,
    readonly tower: 'actor' | 'critic',
    readonly activation: Activation,
  ) {
    this.names = layout.towerNames(tower);
    this.outputSize = tower === 'actor' ? layout.actionSize : 1;
    this.offset = tower === 'actor' ? 0 : layout.actorSize;
    this.size = tower === 'actor' ? layout.actorSize : layout.size - layout.actorSize;
  }

  /** Uploads this tower's parameters from the whole parameter vector (after every optimiser step). */
  setParameters(theta: Float32Array): void {
    if (theta.length !== this.layout.size)
      throw new Error(`setParameters: expected ${this.layout.size} values, got ${theta.length}`);
    this.disposeParameters();
    const own = (a: Float32Array): Float32Array => (this.traits.backendCopies ? a : a.slice());
    this.layers = this.names.map((name, k) => {
      const e = this.layout.entry(`${name}/kernel`);
      const w = this.layout.view(theta, `${name}/kernel`);
      let kernelT: tf.Tensor2D | null = null;
      if (k > 0) {
        // The first layer needs no dh. Transposed in JS: tf.transpose of a 256×256 kernel costs ~200 µs on wasm, this
        // ~20 µs.
        let t = this.transposeScratch.get(name);
        if (!t || !this.traits.backendCopies) {
          t = new Float32Array(w.length);
          this.transposeScratch.set(name, t);
        }
        for (let r = 0; r < e.rows; r++)
          for (let c = 0; c < e.cols; c++) t[c * e.rows + r] = w[r * e.cols + c] as number;
        kernelT = tf.tensor2d(t, [e.cols, e.rows]);
      }
      return {
        kernel: tf.tensor2d(own(w), [e.rows, e.cols]),
        kernelT,
        bias: tf.tensor1d(own(this.layout.view(theta, `${name}/bias`))),
      };
    });
  }

  /** Outputs [batch, outputSize] of `batch` observations, written into `out`. Nothing is kept. */
  forward(observations: Float32Array, batch: number, out: Float32Array): void {
    tf.tidy(() => {
      const O = this.layout.shape.observationSize;
      out.set(this.run(tf.tensor2d(observations.subarray(0, batch * O), [batch, O]), null).dataSync());
    });
  }

  /**
   * Forward for an update, keeping the activations for backward(). `observationsT` is the minibatch transposed ([obs,
   * batch]).
   */
  forwardTrain(observations: Float32Array, observationsT: Float32Array, batch: number, out: Float32Array): void {
    this.releaseSaved();
    const O = this.layout.shape.observationSize;
    const kept: SavedActivations = {
      xT: tf.tensor2d(observationsT.subarray(0, batch * O), [O, batch]),
      hidden: [],
      batch,
    };
    tf.tidy(() => {
      out.set(this.run(tf.tensor2d(observations.subarray(0, batch * O), [batch, O]), kept).dataSync());
      for (const t of kept.hidden) tf.keep(t);
    });
    this.saved = kept;
  }

  /**
   * Gradients of the loss with respect to this tower's parameters, given its gradient with respect
   * to the outputs of the last forwardTrain ([batch, outputSize]); written into `gradOut` (the whole
   * parameter vector's layout, this tower's block). Releases the saved activations.
   */
  backward(dOut: Float32Array, gradOut: Float32Array): number {
    const saved = this.saved;
    if (!saved) throw new Error('backward() needs a forwardTrain() first');
    const B = saved.batch;
    tf.tidy(() => {
      const grads: tf.Tensor[] = [];
      const acts = saved.hidden;
      const L = this.layers.length; // hidden layers + head
      let dz: tf.Tensor2D = tf.tensor2d(dOut.subarray(0, B * this.outputSize), [B, this.outputSize]);
      for (let k = L - 1; k >= 0; k--) {
        const below = k === 0 ? null : (acts[k - 1] as tf.Tensor2D);
        grads.unshift(tf.sum(dz, 0));
        grads.unshift(below ? tf.matMul(tf.transpose(below), dz) : tf.matMul(saved.xT, dz));
        if (below) dz = this.activationGrad(tf.matMul(dz, (this.layers[k] as Dense).kernelT as tf.Tensor2D), below);
      }
      if (this.traits.singleDownload) {
        gradOut.set(tf.concat(grads.map((t) => tf.reshape(t, [-1]))).dataSync(), this.offset);
      } else {
        let offset = this.offset;
        for (const t of grads) {
          gradOut.set(t.dataSync() as Float32Array, offset);
          offset += t.size;
        }
      }
    });
    this.releaseSaved();
    let sumSq = 0; // in index order (one thread or two add the same numbers)
    for (let i = this.offset; i < this.offset + this.size; i++)
      sumSq += (gradOut[i] as number) * (gradOut[i] as number);
    return sumSq;
  }

  /** Drops the activations a forwardTrain() kept, without a backward pass (PPO's target_kl early stop). */
  discardActivations(): void {
    this.releaseSaved();
  }

  dispose(): void {
    this.releaseSaved();
    this.disposeParameters();
  }

  private run(x: tf.Tensor2D, keep: SavedActivations | null): tf.Tensor2D {
    let h = x;
    this.layers.forEach((l, k) => {
      const last = k === this.layers.length - 1;
      // matMul + add, not tf.fused.matMul: on wasm the fused kernel with a bias costs ~4× more here.
      const z = tf.add(tf.matMul(h, l.kernel), l.bias) as tf.Tensor2D;
      h = last ? z : this.activate(z);
      if (!last) keep?.hidden.push(h);
    });
    return h;
  }

  private activate(z: tf.Tensor2D): tf.Tensor2D {
    if (this.activation === 'relu') return tf.relu(z);
    return (this.traits.tanhViaSigmoid ? tf.sub(tf.mul(tf.sigmoid(tf.mul(z, 2)), 2), 1) : tf.tanh(z)) as tf.Tensor2D;
  }

  private activationGrad(da: tf.Tensor2D, a: tf.Tensor2D): tf.Tensor2D {
    if (this.activation === 'tanh') return tf.mul(da, tf.sub(1, tf.square(a))) as tf.Tensor2D;
    return tf.mul(da, tf.step(a)) as tf.Tensor2D;
  }

  private releaseSaved(): void {
    if (!this.saved) return;
    tf.dispose([this.saved.xT, ...this.saved.hidden]);
    this.saved = null;
  }

  private disposeParameters(): void {
    for (const d of this.layers) tf.dispose([d.kernel, d.bias, ...(d.kernelT ? [d.kernelT] : [])]);
    this.layers = [];
  }
}

/** Both towers: logits from the actor, values from the critic. */
export class PolicyEngine {
  readonly actor: Tower;
  readonly critic: Tower;

  constructor(
    readonly layout: ParameterLayout,
    readonly activation: Activation,
  ) {
    this.actor = createTower(layout, 'actor', activation);
    this.critic = createTower(layout, 'critic', activation);
  }

  setParameters(theta: Float32Array): void {
    this.actor.setParameters(theta);
    this.critic.setParameters(theta);
  }

  /** Logits [batch, Σ nvec] and values [batch] of `batch` observations (row-major). */
  forward(observations: Float32Array, batch: number, logitsOut: Float32Array, valuesOut: Float32Array): void {
    this.actor.forward(observations, batch, logitsOut);
    this.critic.forward(observations, batch, valuesOut);
  }

  /** Values only (truncation bootstraps, the last value of a rollout). */
  values(observations: Float32Array, batch: number, valuesOut: Float32Array): void {
    this.critic.forward(observations, batch, valuesOut);
  }

  forwardTrain(
    observations: Float32Array,
    observationsT: Float32Array,
    batch: number,
    logitsOut: Float32Array,
    valuesOut: Float32Array,
  ): void {
    this.actor.forwardTrain(observations, observationsT, batch, logitsOut);
    this.critic.forwardTrain(observations, observationsT, batch, valuesOut);
  }

  /** Gradients of both towers into `gradOut` (the layout's order). */
  backward(dLogits: Float32Array, dValues: Float32Array, gradOut: Float32Array): void {
    this.actor.backward(dLogits, gradOut);
    this.critic.backward(dValues, gradOut);
  }

  discardActivations(): void {
    this.actor.discardActivations();
    this.critic.discardActivations();
  }

  dispose(): void {
    this.actor.dispose();
    this.critic.dispose();
  }
}
