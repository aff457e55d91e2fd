/**
 * The actor-critic's parameters: separate actor and critic MLPs (SB3 MlpPolicy with
 * net_arch = {pi, vf}), every weight in one Float32Array. Adam, gradient clipping and checkpoints
 * work on that one vector; the tfjs engine (engine.ts) uploads views of it.
 *
 * Layout, in this order (row-major kernels [in, out]) — the actor's block, then the critic's:
 *   pi_<k>/kernel, pi_<k>/bias     actor hidden layers k = 0 … len(pi) − 1
 *   action/kernel  [pi_last, Σ nvec], action/bias
 *   vf_<k>/kernel, vf_<k>/bias     critic hidden layers
 *   value/kernel   [vf_last, 1], value/bias
 * The towers share nothing, so their forward and backward passes (and Adam steps) are independent:
 * the update can run the critic on a second thread (critic-worker.ts) with bit-identical results.
 *
 * Initialisation (SB3 ortho_init): orthogonal, gain √2 for hidden layers, 0.01 for the action
 * head, 1 for the value head, biases 0; drawn from the run's 'init' stream in layout order. Without
 * ortho_init: uniform(±1/√in) like torch's Linear.
 */
import type { RandomStream } from '../../envs/core/random/streams.js';
import { orthogonal } from './orthogonal.js';

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

  /** Parameters [0, actorSize) are the actor's, [actorSize, size) the critic's. */
  readonly actorSize: number;

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
    const tower = (prefix: 'pi' | 'vf', sizes: readonly number[], head: string, units: number): void => {
      let input = shape.observationSize;
      sizes.forEach((n, k) => {
        add(`${prefix}_${k}/kernel`, input, n);
        add(`${prefix}_${k}/bias`, n, 0);
        input = n;
      });
      add(`${head}/kernel`, input, units);
      add(`${head}/bias`, units, 0);
    };
    tower('pi', arch.pi, 'action', this.actionSize);
    this.actorSize = offset;
    tower('vf', arch.vf, 'value', 1);
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

  /** Layer names of a tower, input to head. */
  towerNames(tower: 'actor' | 'critic'): string[] {
    const sizes = tower === 'actor' ? this.arch.pi : this.arch.vf;
    const prefix = tower === 'actor' ? 'pi' : 'vf';
    return [...sizes.map((_, k) => `${prefix}_${k}`), tower === 'actor' ? 'action' : 'value'];
  }

  /** The dense layers of both towers (actor first), as checkpoints store them: copies of kernel [in, out] and bias. */
  towerLayers(theta: Float32Array): TowerLayer[] {
    return [...this.towerNames('actor'), ...this.towerNames('critic')].map((name) => {
      const e = this.entry(`${name}/kernel`);
      return {
        name,
        rows: e.rows,
        cols: e.cols,
        kernel: this.view(theta, `${name}/kernel`).slice(),
        bias: this.view(theta, `${name}/bias`).slice(),
      };
    });
  }

  /** Inverse of towerLayers: writes the layers (by name) into a parameter vector. */
  fromTowerLayers(
    layers: ReadonlyArray<{ name: string; kernel: Float32Array; bias: Float32Array }>,
    theta: Float32Array,
  ): Float32Array {
    const byName = new Map(layers.map((l) => [l.name, l]));
    for (const name of [...this.towerNames('actor'), ...this.towerNames('critic')]) {
      const l = byName.get(name);
      if (!l) throw new Error(`checkpoint weights lack layer '${name}'`);
      const k = this.entry(`${name}/kernel`);
      const b = this.entry(`${name}/bias`);
      if (l.kernel.length !== k.size || l.bias.length !== b.size) {
        throw new Error(
          `checkpoint layer '${name}' has ${l.kernel.length}+${l.bias.length} weights, this network needs ` +
            `${k.size}+${b.size} (different net_arch or env?)`,
        );
      }
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
