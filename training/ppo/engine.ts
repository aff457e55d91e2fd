/**
 * The actor-critic's arithmetic on TensorFlow.js: forward passes for acting and for the update, and
 * a hand-written backward pass. tfjs does what it is fast at (matrix products, elementwise ops on
 * the active backend: wasm SIMD, native TF or CUDA); the loss, its gradient with respect to the
 * logits and value (distributions.ts), global-norm clipping and Adam (adam.ts) run in JS on
 * Float32Arrays, where they cost microseconds and are exact and backend-independent.
 *
 * Why not tf.variableGrads: on wasm its generic autodiff costs ~3× more per minibatch (many small
 * kernels, transposed matMuls that are slow on XNNPACK; platform-notes §2.2). The backward pass of
 * an MLP is short: for each layer z = h·W + b, a = act(z):
 *   dz = da ⊙ act'(a)     (tanh: 1 − a²; relu: a > 0)
 *   dW = hᵀ·dz,  db = Σ_rows dz,  dh = dz·Wᵀ
 * Its correctness is tested against tf.variableGrads on the same loss (engine.test.ts).
 *
 * Every call runs in tf.tidy; the only tensors alive between calls are the uploaded parameters and,
 * between forwardTrain and backward, the saved activations (tensor counts stay flat: tested).
 */
import * as tf from '@tensorflow/tfjs';
import type { Activation, ParameterLayout } from './parameters.js';

interface Dense {
  kernel: tf.Tensor2D;
  /** Kernel transposed, for dh = dz·Wᵀ as a plain matMul (transposed operands are slow on wasm). */
  kernelT: tf.Tensor2D | null;
  bias: tf.Tensor1D;
}

interface SavedActivations {
  /** Input transposed [obs, B] (uploaded from JS). */
  xT: tf.Tensor2D;
  /** Activations of the actor's and critic's hidden layers, first to last. */
  pi: tf.Tensor2D[];
  vf: tf.Tensor2D[];
  batch: number;
}

export class PolicyEngine {
  private input: Dense | null = null;
  private piLayers: Dense[] = [];
  private action: Dense | null = null;
  private vfLayers: Dense[] = [];
  private value: Dense | null = null;
  private saved: SavedActivations | null = null;
  private readonly pi0: number;
  private readonly vf0: number;
  private transposeScratch = new Float32Array(0);
  /** tanh as 2·sigmoid(2z) − 1 on wasm, where its tanh kernel is ~4× slower than sigmoid (not SIMD). */
  private readonly tanhViaSigmoid: boolean;
  private readonly singleDownload: boolean;
  /** Whether the backend copies the arrays tensors are made from (wasm: into its heap; tensorflow: into TF tensors). */
  private readonly backendCopies: boolean;

  constructor(
    readonly layout: ParameterLayout,
    readonly activation: Activation,
  ) {
    this.pi0 = layout.arch.pi[0] as number;
    this.vf0 = layout.arch.vf[0] as number;
    this.tanhViaSigmoid = tf.getBackend() === 'wasm';
    this.singleDownload = tf.getBackend() !== 'wasm' && tf.getBackend() !== 'cpu';
    this.backendCopies = tf.getBackend() === 'wasm' || tf.getBackend() === 'tensorflow';
  }

  /** Uploads the parameters (after every optimiser step). */
  setParameters(theta: Float32Array): void {
    if (theta.length !== this.layout.size) throw new Error(`setParameters: expected ${this.layout.size} values, got ${theta.length}`);
    this.disposeParameters();
    const dense = (name: string, withT: boolean): Dense => {
      const e = this.layout.entry(`${name}/kernel`);
      const k = this.layout.view(theta, `${name}/kernel`);
      const b = this.layout.view(theta, `${name}/bias`);
      let kernelT: tf.Tensor2D | null = null;
      if (withT) {
        // Transposed in JS: tf.transpose of a 256×256 kernel costs ~200 µs on wasm, this ~20 µs.
        if (this.transposeScratch.length < k.length || !this.backendCopies) this.transposeScratch = new Float32Array(k.length);
        const t = this.transposeScratch;
        for (let r = 0; r < e.rows; r++) for (let c = 0; c < e.cols; c++) t[c * e.rows + r] = k[r * e.cols + c] as number;
        kernelT = tf.tensor2d(t.subarray(0, k.length), [e.cols, e.rows]);
      }
      // The cpu backend keeps the array it is given: hand it copies, since Adam updates theta in place.
      const own = (a: Float32Array): Float32Array => (this.backendCopies ? a : a.slice());
      return { kernel: tf.tensor2d(own(k), [e.rows, e.cols]), kernelT, bias: tf.tensor1d(own(b)) };
    };
    this.input = dense('input', false);
    this.piLayers = [];
    for (let k = 1; k < this.layout.arch.pi.length; k++) this.piLayers.push(dense(`pi_${k}`, true));
    this.action = dense('action', true);
    this.vfLayers = [];
    for (let k = 1; k < this.layout.arch.vf.length; k++) this.vfLayers.push(dense(`vf_${k}`, true));
    this.value = dense('value', true);
  }

  /**
   * Logits [batch, Σ nvec] and values [batch] for `batch` observations (row-major), written into
   * the given arrays. Nothing is kept.
   */
  forward(observations: Float32Array, batch: number, logitsOut: Float32Array, valuesOut: Float32Array): void {
    tf.tidy(() => {
      const x = tf.tensor2d(observations.subarray(0, batch * this.layout.shape.observationSize), [batch, this.layout.shape.observationSize]);
      const { logits, values } = this.run(x, null);
      logitsOut.set(logits.dataSync());
      valuesOut.set(values.dataSync());
    });
  }

  /** Values only (truncation bootstraps, the last value of a rollout). */
  values(observations: Float32Array, batch: number, valuesOut: Float32Array): void {
    tf.tidy(() => {
      const x = tf.tensor2d(observations.subarray(0, batch * this.layout.shape.observationSize), [batch, this.layout.shape.observationSize]);
      const h0 = this.first(x);
      let h = tf.slice(h0, [0, this.pi0], [batch, this.vf0]) as tf.Tensor2D;
      for (const l of this.vfLayers) h = this.dense(h, l, true);
      valuesOut.set(this.dense(h, this.value as Dense, false).dataSync());
    });
  }

  /**
   * Forward for an update: like forward(), and keeps the activations for backward(). `xT` is the
   * minibatch transposed ([obs, batch], row-major), which the caller builds in JS for free.
   */
  forwardTrain(observations: Float32Array, observationsT: Float32Array, batch: number, logitsOut: Float32Array, valuesOut: Float32Array): void {
    this.releaseSaved();
    const obs = this.layout.shape.observationSize;
    const kept: SavedActivations = { xT: tf.tensor2d(observationsT.subarray(0, batch * obs), [obs, batch]), pi: [], vf: [], batch };
    tf.tidy(() => {
      const x = tf.tensor2d(observations.subarray(0, batch * obs), [batch, obs]);
      const { logits, values } = this.run(x, kept);
      logitsOut.set(logits.dataSync());
      valuesOut.set(values.dataSync());
      for (const t of [...kept.pi, ...kept.vf]) tf.keep(t);
    });
    this.saved = kept;
  }

  /**
   * Gradients of the loss with respect to every parameter, given its gradients with respect to the
   * logits [batch, Σ nvec] and values [batch] of the last forwardTrain; written into `gradOut` in
   * the layout's order. Releases the saved activations.
   */
  backward(dLogits: Float32Array, dValues: Float32Array, gradOut: Float32Array): void {
    const saved = this.saved;
    if (!saved) throw new Error('backward() needs a forwardTrain() first');
    const B = saved.batch;
    const A = this.layout.actionSize;
    tf.tidy(() => {
      const grads: tf.Tensor[] = [];
      const tower = (layers: Dense[], head: Dense, acts: tf.Tensor2D[], dOut: tf.Tensor2D): { dz0: tf.Tensor2D; grads: tf.Tensor[] } => {
        // acts[0] is the first hidden layer's output (part of the fused input layer), acts[k] of layer k.
        const g: tf.Tensor[] = [];
        const last = acts[acts.length - 1] as tf.Tensor2D;
        g.unshift(tf.sum(dOut, 0)); // head bias
        g.unshift(tf.matMul(tf.transpose(last), dOut)); // head kernel
        let dh: tf.Tensor2D = tf.matMul(dOut, head.kernelT as tf.Tensor2D);
        for (let k = layers.length; k >= 1; k--) {
          const a = acts[k] as tf.Tensor2D;
          const dz = this.activationGrad(dh, a);
          const below = acts[k - 1] as tf.Tensor2D;
          g.unshift(tf.sum(dz, 0));
          g.unshift(tf.matMul(tf.transpose(below), dz));
          dh = tf.matMul(dz, (layers[k - 1] as Dense).kernelT as tf.Tensor2D);
        }
        return { dz0: this.activationGrad(dh, acts[0] as tf.Tensor2D), grads: g };
      };
      const pi = tower(this.piLayers, this.action as Dense, saved.pi, tf.tensor2d(dLogits.subarray(0, B * A), [B, A]));
      const vf = tower(this.vfLayers, this.value as Dense, saved.vf, tf.tensor2d(dValues.subarray(0, B), [B, 1]));
      const dz0 = tf.concat([pi.dz0, vf.dz0], 1);
      grads.push(tf.matMul(saved.xT, dz0), tf.sum(dz0, 0), ...pi.grads, ...vf.grads);
      if (this.singleDownload) {
        // One download for all gradients: one device sync on GPU backends.
        gradOut.set(tf.concat(grads.map((t) => tf.reshape(t, [-1]))).dataSync());
      } else {
        // On CPU backends a download is a copy: skip the concat.
        let offset = 0;
        for (const t of grads) {
          gradOut.set(t.dataSync() as Float32Array, offset);
          offset += t.size;
        }
      }
    });
    this.releaseSaved();
  }

  /** Drops the activations a forwardTrain() kept, without a backward pass (e.g. PPO's target_kl early stop). */
  discardActivations(): void {
    this.releaseSaved();
  }

  /** Tensors this engine holds (parameters, and saved activations between forwardTrain and backward). */
  dispose(): void {
    this.releaseSaved();
    this.disposeParameters();
  }

  private run(x: tf.Tensor2D, keep: SavedActivations | null): { logits: tf.Tensor2D; values: tf.Tensor2D } {
    const batch = x.shape[0];
    const h0 = this.first(x);
    let hp = tf.slice(h0, [0, 0], [batch, this.pi0]) as tf.Tensor2D;
    let hv = tf.slice(h0, [0, this.pi0], [batch, this.vf0]) as tf.Tensor2D;
    keep?.pi.push(hp);
    keep?.vf.push(hv);
    for (const l of this.piLayers) {
      hp = this.dense(hp, l, true);
      keep?.pi.push(hp);
    }
    for (const l of this.vfLayers) {
      hv = this.dense(hv, l, true);
      keep?.vf.push(hv);
    }
    return { logits: this.dense(hp, this.action as Dense, false), values: this.dense(hv, this.value as Dense, false) };
  }

  private first(x: tf.Tensor2D): tf.Tensor2D {
    return this.dense(x, this.input as Dense, true);
  }

  private dense(h: tf.Tensor2D, l: Dense, activate: boolean): tf.Tensor2D {
    // matMul + add, not tf.fused.matMul: on wasm the fused kernel with a bias costs ~4× more here.
    const z = tf.add(tf.matMul(h, l.kernel), l.bias) as tf.Tensor2D;
    if (!activate) return z;
    if (this.activation === 'relu') return tf.relu(z);
    return (this.tanhViaSigmoid ? tf.sub(tf.mul(tf.sigmoid(tf.mul(z, 2)), 2), 1) : tf.tanh(z)) as tf.Tensor2D;
  }

  private activationGrad(da: tf.Tensor2D, a: tf.Tensor2D): tf.Tensor2D {
    if (this.activation === 'tanh') return tf.mul(da, tf.sub(1, tf.square(a))) as tf.Tensor2D;
    return tf.mul(da, tf.step(a)) as tf.Tensor2D;
  }

  private releaseSaved(): void {
    if (!this.saved) return;
    tf.dispose([this.saved.xT, ...this.saved.pi, ...this.saved.vf]);
    this.saved = null;
  }

  private disposeParameters(): void {
    for (const d of [this.input, ...this.piLayers, this.action, ...this.vfLayers, this.value]) {
      if (d) tf.dispose([d.kernel, d.bias, ...(d.kernelT ? [d.kernelT] : [])]);
    }
    this.input = null;
    this.action = null;
    this.value = null;
    this.piLayers = [];
    this.vfLayers = [];
  }
}
