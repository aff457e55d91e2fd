/**
 * The towers on queue-rl's own native kernels (agents/policy/native/, a Node-API addon that `npm ci`
 * builds with node-gyp): a whole layer's matrix product, bias and activation per call, the backward
 * pass with Σ g² of the block, and Adam — register-tiled AVX2/FMA kernels, or portable ones on
 * other CPUs. Why and how fast: docs/ppo.md "Native learner".
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Activation, ParameterLayout } from './parameters.js';
import type { Tower } from './tower.js';

export interface NativeAddon {
  /** Which kernel set the CPU runs: 'avx2+fma' or 'generic'. */
  readonly kernels: string;
  forward(
    theta: Float32Array,
    dims: Int32Array,
    activation: number,
    x: Float32Array,
    batch: number,
    out: Float32Array,
    acts: Float32Array,
  ): void;
  backward(
    theta: Float32Array,
    dims: Int32Array,
    activation: number,
    x: Float32Array,
    batch: number,
    acts: Float32Array,
    dOut: Float32Array,
    grad: Float32Array,
    scratch: Float32Array,
  ): number;
  adam(
    theta: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    from: number,
    to: number,
    stepSize: number,
    invBc2Sqrt: number,
    c1: number,
    c2: number,
    beta1: number,
    beta2: number,
    eps: number,
  ): void;
}

/** Where node-gyp puts the addon, from the sources (tsx) or from dist/ (compiled benches). */
const CANDIDATES = [
  './native/build/Release/queue_rl_native.node',
  '../../../agents/policy/native/build/Release/queue_rl_native.node',
].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));

let loaded: { addon: NativeAddon } | { error: string } | null = null;

/** Where the built addon is (the first candidate that exists), or the source tree's build path. */
export function nativeAddonPath(): string {
  return CANDIDATES.find((p) => existsSync(p)) ?? (CANDIDATES[0] as string);
}

/** The addon, or why it is not there (not built: `npm run build:native`). Loaded once per thread. */
export function loadNativeAddon(): { addon: NativeAddon } | { error: string } {
  if (loaded) return loaded;
  const path = nativeAddonPath();
  if (!existsSync(path)) {
    loaded = { error: 'the native addon is not built (npm ci builds it with node-gyp; or run npm run build:native)' };
    return loaded;
  }
  try {
    loaded = { addon: createRequire(import.meta.url)(path) as NativeAddon };
  } catch (err) {
    loaded = { error: `the native addon did not load: ${String((err as Error).message).split('\n')[0]}` };
  }
  return loaded;
}

/** The addon, or an error saying why it is missing. */
export function nativeAddon(): NativeAddon {
  const r = loadNativeAddon();
  if ('error' in r) throw new Error(r.error);
  return r.addon;
}

const ACTIVATION_CODE: Record<Activation, number> = { tanh: 0, relu: 1 };

/** One MLP on the native kernels (the Tower contract of engine.ts). */
export class NativeTowerEngine implements Tower {
  private readonly addon = nativeAddon();
  private readonly dims: Int32Array;
  /** This tower's block of the last setParameters() vector (a view: no copy). */
  private params: Float32Array = new Float32Array(0);
  private theta: Float32Array | null = null;
  /** This tower's block of the last gradient vector backward() wrote (a view, made once per vector). */
  private gradView: Float32Array = new Float32Array(0);
  private gradOut: Float32Array | null = null;
  readonly needsTransposedInput = false;
  private readonly activationCode: number;
  private readonly inputSize: number;
  private readonly hiddenPerRow: number;
  private readonly maxHidden: number;
  private readonly parameterCount: number;
  /** forward()'s hidden outputs, apart from what forwardTrain keeps for backward. */
  private forwardActs = new Float32Array(0);
  /** Inputs and hidden outputs of the last forwardTrain (rows [0, savedBatch)); savedBatch 0: none kept. */
  private x = new Float32Array(0);
  private acts = new Float32Array(0);
  private scratch = new Float32Array(0);
  private savedBatch = 0;
  readonly outputSize: number;
  readonly offset: number;
  readonly size: number;

  constructor(layout: ParameterLayout, tower: 'actor' | 'critic', activation: Activation) {
    const hidden = tower === 'actor' ? layout.arch.pi : layout.arch.vf;
    this.outputSize = tower === 'actor' ? layout.actionSize : 1;
    this.offset = tower === 'actor' ? 0 : layout.actorSize;
    this.size = tower === 'actor' ? layout.actorSize : layout.size - layout.actorSize;
    this.inputSize = layout.shape.observationSize;
    this.dims = Int32Array.from([this.inputSize, ...hidden, this.outputSize]);
    this.activationCode = ACTIVATION_CODE[activation];
    this.hiddenPerRow = hidden.reduce((a, b) => a + b, 0);
    this.maxHidden = Math.max(0, ...hidden);
    this.parameterCount = layout.size;
  }

  setParameters(theta: Float32Array): void {
    if (theta.length !== this.parameterCount)
      throw new Error(`setParameters: expected ${this.parameterCount} values, got ${theta.length}`);
    if (theta === this.theta) return;
    this.theta = theta;
    this.params = theta.subarray(this.offset, this.offset + this.size);
  }

  forward(observations: Float32Array, batch: number, out: Float32Array): void {
    if (this.forwardActs.length < batch * this.hiddenPerRow)
      this.forwardActs = new Float32Array(batch * this.hiddenPerRow);
    this.addon.forward(this.params, this.dims, this.activationCode, observations, batch, out, this.forwardActs);
  }

  forwardTrain(observations: Float32Array, _observationsT: Float32Array, batch: number, out: Float32Array): void {
    this.reserve(batch);
    this.x.set(observations.subarray(0, batch * this.inputSize));
    this.addon.forward(this.params, this.dims, this.activationCode, this.x, batch, out, this.acts);
    this.savedBatch = batch;
  }

  backward(dOut: Float32Array, gradOut: Float32Array): number {
    const batch = this.savedBatch;
    if (batch === 0) throw new Error('backward() needs a forwardTrain() first');
    this.savedBatch = 0;
    if (gradOut !== this.gradOut) {
      this.gradOut = gradOut;
      this.gradView = gradOut.subarray(this.offset, this.offset + this.size);
    }
    return this.addon.backward(
      this.params,
      this.dims,
      this.activationCode,
      this.x,
      batch,
      this.acts,
      dOut,
      this.gradView,
      this.scratch,
    );
  }

  discardActivations(): void {
    this.savedBatch = 0;
  }

  dispose(): void {
    this.savedBatch = 0;
  }

  /** Grows forwardTrain's buffers to `batch` rows (kept across calls: no allocation per step). */
  private reserve(batch: number): void {
    if (this.x.length >= batch * this.inputSize && this.acts.length >= batch * this.hiddenPerRow) return;
    this.x = new Float32Array(batch * this.inputSize);
    this.acts = new Float32Array(batch * this.hiddenPerRow);
    this.scratch = new Float32Array(2 * batch * this.maxHidden);
  }
}
