/**
 * The actor-critic's parameters: separate actor and critic MLPs (SB3 MlpPolicy with
 * net_arch = {pi, vf}), every weight in one Float32Array. Adam, gradient clipping and checkpoints
 * work on that one vector; the tfjs engine (engine.ts) uploads views of it.
 *
 * Layout, in this order (row-major kernels [in, out]):
 *   input/kernel   [obs, pi[0] + vf[0]]   the first layers of both towers side by side (one matMul
 *   input/bias     [pi[0] + vf[0]]          per forward and one per backward instead of two)
 *   pi_<k>/kernel, pi_<k>/bias             actor hidden layers k = 1 … len(pi) − 1
 *   action/kernel  [pi_last, Σ nvec], action/bias
 *   vf_<k>/kernel, vf_<k>/bias             critic hidden layers k = 1 … len(vf) − 1
 *   value/kernel   [vf_last, 1], value/bias
 * Checkpoints split `input` back into `pi_0` and `vf_0` (a plain two-tower tfjs model).
 *
 * Initialisation (SB3 ortho_init): orthogonal, gain √2 for hidden layers, 0.01 for the action
 * head, 1 for the value head, biases 0; drawn from the run's 'init' stream in the order
 * pi_0, pi_1 …, action, vf_0, vf_1 …, value. Without ortho_init: uniform(±1/√in) like torch's Linear.
 */
import type { RandomStream } from '../../envs/core/random/streams.js';
import { orthogonal } from './init.js';

export interface NetArch {
  readonly pi: readonly number[];
  readonly vf: readonly number[];
}

export type Activation = 'tanh' | 'relu';

export interface PolicyShape {
  readonly observationSize: number;
  /** Action sizes: [n] for Discrete, nvec for MultiDiscrete. */
  readonly nvec: readonly number[];
}

export interface ParameterEntry {
  readonly name: string;
  readonly rows: number;
  /** 0 for a bias (a vector of `rows` values). */
  readonly cols: number;
  readonly offset: number;
  readonly size: number;
}

/** One dense layer of the actor or critic tower, as checkpoints store it. */
export interface TowerLayer {
  name: string;
  rows: number;
  cols: number;
  kernel: Float32Array;
  bias: Float32Array;
}

export class ParameterLayout {
  readonly entries: readonly ParameterEntry[];
  readonly size: number;
  readonly actionSize: number;

  constructor(
    readonly shape: PolicyShape,
    readonly arch: NetArch,
  ) {
    this.actionSize = shape.nvec.reduce((a, b) => a + b, 0);
    const entries: ParameterEntry[] = [];
    let offset = 0;
    const add = (name: string, rows: number, cols: number): void => {
      const size = cols === 0 ? rows : rows * cols;
      entries.push({ name, rows, cols, offset, size });
      offset += size;
    };
    const pi0 = arch.pi[0] as number;
    const vf0 = arch.vf[0] as number;
    add('input/kernel', shape.observationSize, pi0 + vf0);
    add('input/bias', pi0 + vf0, 0);
    for (let k = 1; k < arch.pi.length; k++) {
      add(`pi_${k}/kernel`, arch.pi[k - 1] as number, arch.pi[k] as number);
      add(`pi_${k}/bias`, arch.pi[k] as number, 0);
    }
    add('action/kernel', arch.pi[arch.pi.length - 1] as number, this.actionSize);
    add('action/bias', this.actionSize, 0);
    for (let k = 1; k < arch.vf.length; k++) {
      add(`vf_${k}/kernel`, arch.vf[k - 1] as number, arch.vf[k] as number);
      add(`vf_${k}/bias`, arch.vf[k] as number, 0);
    }
    add('value/kernel', arch.vf[arch.vf.length - 1] as number, 1);
    add('value/bias', 1, 0);
    this.entries = entries;
    this.size = offset;
  }

  entry(name: string): ParameterEntry {
    const e = this.entries.find((x) => x.name === name);
    if (!e) throw new Error(`no parameter '${name}'`);
    return e;
  }

  view(theta: Float32Array, name: string): Float32Array {
    const e = this.entry(name);
    return theta.subarray(e.offset, e.offset + e.size);
  }

  /** The two-tower layers of a checkpoint: name, kernel [in, out] and bias, split out of `input`. */
  towerLayers(theta: Float32Array): TowerLayer[] {
    const pi0 = this.arch.pi[0] as number;
    const vf0 = this.arch.vf[0] as number;
    const obs = this.shape.observationSize;
    const inputKernel = this.view(theta, 'input/kernel');
    const inputBias = this.view(theta, 'input/bias');
    const split = (from: number, width: number): Float32Array => {
      const k = new Float32Array(obs * width);
      for (let r = 0; r < obs; r++) k.set(inputKernel.subarray(r * (pi0 + vf0) + from, r * (pi0 + vf0) + from + width), r * width);
      return k;
    };
    const layers: TowerLayer[] = [{ name: 'pi_0', rows: obs, cols: pi0, kernel: split(0, pi0), bias: inputBias.slice(0, pi0) }];
    const plain = (name: string): TowerLayer => {
      const e = this.entry(`${name}/kernel`);
      return { name, rows: e.rows, cols: e.cols, kernel: this.view(theta, `${name}/kernel`).slice(), bias: this.view(theta, `${name}/bias`).slice() };
    };
    for (let k = 1; k < this.arch.pi.length; k++) layers.push(plain(`pi_${k}`));
    layers.push(plain('action'));
    layers.push({ name: 'vf_0', rows: obs, cols: vf0, kernel: split(pi0, vf0), bias: inputBias.slice(pi0, pi0 + vf0) });
    for (let k = 1; k < this.arch.vf.length; k++) layers.push(plain(`vf_${k}`));
    layers.push(plain('value'));
    return layers;
  }

  /** Inverse of towerLayers: writes the layers (by name) into a parameter vector. */
  fromTowerLayers(layers: ReadonlyArray<{ name: string; kernel: Float32Array; bias: Float32Array }>, theta: Float32Array): Float32Array {
    const pi0 = this.arch.pi[0] as number;
    const vf0 = this.arch.vf[0] as number;
    const obs = this.shape.observationSize;
    const byName = new Map(layers.map((l) => [l.name, l]));
    const get = (name: string, kernelSize: number, biasSize: number): { kernel: Float32Array; bias: Float32Array } => {
      const l = byName.get(name);
      if (!l) throw new Error(`checkpoint weights lack layer '${name}'`);
      if (l.kernel.length !== kernelSize || l.bias.length !== biasSize) {
        throw new Error(`checkpoint layer '${name}' has ${l.kernel.length}+${l.bias.length} weights, this network needs ${kernelSize}+${biasSize} (different net_arch or env?)`);
      }
      return l;
    };
    const inputKernel = this.view(theta, 'input/kernel');
    const inputBias = this.view(theta, 'input/bias');
    const p0 = get('pi_0', obs * pi0, pi0);
    const v0 = get('vf_0', obs * vf0, vf0);
    for (let r = 0; r < obs; r++) {
      inputKernel.set(p0.kernel.subarray(r * pi0, (r + 1) * pi0), r * (pi0 + vf0));
      inputKernel.set(v0.kernel.subarray(r * vf0, (r + 1) * vf0), r * (pi0 + vf0) + pi0);
    }
    inputBias.set(p0.bias, 0);
    inputBias.set(v0.bias, pi0);
    for (const e of this.entries) {
      if (e.name.startsWith('input/') || !e.name.endsWith('/kernel')) continue;
      const name = e.name.slice(0, -'/kernel'.length);
      const l = get(name, e.size, this.entry(`${name}/bias`).size);
      this.view(theta, `${name}/kernel`).set(l.kernel);
      this.view(theta, `${name}/bias`).set(l.bias);
    }
    return theta;
  }

  /** Initial parameters (see the file comment). */
  initialize(rng: RandomStream, orthoInit: boolean): Float32Array {
    const theta = new Float32Array(this.size);
    const layers = this.towerLayers(theta); // zeros, with the right shapes
    const gains: Record<string, number> = { action: 0.01, value: 1 };
    for (const l of layers) {
      const gain = gains[l.name] ?? Math.SQRT2;
      if (orthoInit) l.kernel.set(orthogonal(l.rows, l.cols, gain, rng));
      else {
        const bound = 1 / Math.sqrt(l.rows);
        for (let i = 0; i < l.kernel.length; i++) l.kernel[i] = (rng.next() * 2 - 1) * bound;
        for (let i = 0; i < l.bias.length; i++) l.bias[i] = (rng.next() * 2 - 1) * bound;
      }
    }
    return this.fromTowerLayers(layers, theta);
  }
}
