import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RandomStream } from '../../envs/core/random/streams.js';
import { createStream } from '../../envs/core/random/streams.js';
import { initBackend } from './backend.js';
import { MaskedDistribution } from './distributions.js';
import { PolicyEngine } from './engine.js';
import { orthogonal } from './orthogonal.js';
import type { Activation, NetArch } from './parameters.js';
import { ParameterLayout } from './parameters.js';

interface Case {
  obs: number;
  nvec: number[];
  arch: NetArch;
  activation: Activation;
}

const CASES: Case[] = [{ obs: 7, nvec: [3, 4, 2], arch: { pi: [6, 5], vf: [4] }, activation: 'tanh' }];

/** B random observations in [−1, 1] and their transpose (what forwardTrain takes). */
function randomMinibatch(c: Case, B: number, rng: RandomStream): { x: Float32Array; xT: Float32Array } {
  const x = new Float32Array(B * c.obs).map(() => rng.next() * 2 - 1);
  const xT = new Float32Array(B * c.obs);
  for (let i = 0; i < B; i++) for (let j = 0; j < c.obs; j++) xT[j * B + i] = x[i * c.obs + j] as number;
  return { x, xT };
}

for (const backend of ['cpu', 'wasm', 'native'] as const) {
  describe(`PolicyEngine (${backend})`, () => {
    beforeAll(async () => {
      await initBackend(backend);
    });

    const sees = backend === 'native' ? 'reads the parameters in place' : 'works on its own copy of the parameters';
    it(`${sees}: after a change, setParameters makes it count`, () => {
      const c = CASES[0] as Case;
      const layout = new ParameterLayout({ observationSize: c.obs, nvec: c.nvec }, c.arch);
      const rng = createStream(4, 'alias');
      const theta = layout.initialize(rng, true);
      const engine = new PolicyEngine(layout, c.activation);
      engine.setParameters(theta);
      const B = 4;
      const { x, xT } = randomMinibatch(c, B, rng);
      const first = { logits: new Float32Array(B * layout.actionSize), values: new Float32Array(B) };
      engine.forward(x, B, first.logits, first.values);
      theta.fill(0.5);
      const grad1 = new Float32Array(layout.size);
      const grad2 = new Float32Array(layout.size);
      const again = { logits: new Float32Array(B * layout.actionSize), values: new Float32Array(B) };
      engine.forwardTrain(x, xT, B, again.logits, again.values);
      engine.backward(new Float32Array(B * layout.actionSize).fill(0.1), new Float32Array(B).fill(0.1), grad1);
      // tfjs uploaded a copy: the change does not count yet; the native engine reads theta where it is.
      if (backend === 'native') expect(again.logits).not.toEqual(first.logits);
      else {
        expect(again.logits).toEqual(first.logits);
        expect(again.values).toEqual(first.values);
      }
      engine.setParameters(theta);
      engine.forwardTrain(x, xT, B, again.logits, again.values);
      engine.backward(new Float32Array(B * layout.actionSize).fill(0.1), new Float32Array(B).fill(0.1), grad2);
      expect(again.logits).not.toEqual(first.logits);
      if (backend === 'native')
        expect(grad2).toEqual(grad1); // both passes saw the changed theta
      else expect(grad2).not.toEqual(grad1);
      engine.dispose();
    });

    it('keeps tensor counts flat across forward/backward cycles', () => {
      const c = CASES[0] as Case;
      const layout = new ParameterLayout({ observationSize: c.obs, nvec: c.nvec }, c.arch);
      const rng = createStream(3, 'flat');
      const theta = layout.initialize(rng, true);
      const engine = new PolicyEngine(layout, c.activation);
      engine.setParameters(theta);
      const B = 8;
      const { x, xT } = randomMinibatch(c, B, rng);
      const logits = new Float32Array(B * layout.actionSize);
      const values = new Float32Array(B);
      const grad = new Float32Array(layout.size);
      const cycle = (): void => {
        engine.forward(x, B, logits, values);
        engine.values(x, B, values);
        engine.forwardTrain(x, xT, B, logits, values);
        engine.backward(new Float32Array(B * layout.actionSize).fill(0.1), new Float32Array(B).fill(0.1), grad);
        engine.setParameters(theta);
      };
      cycle();
      const before = tf.memory().numTensors;
      for (let k = 0; k < 20; k++) cycle();
      expect(tf.memory().numTensors).toBe(before);
      engine.dispose();
      // tfjs engines free their uploaded parameters; the native one never had tensors.
      if (backend === 'native') expect(tf.memory().numTensors).toBe(before);
      else expect(tf.memory().numTensors).toBeLessThan(before);
    });
  });
}

describe('MaskedDistribution', () => {
  const nvec = [3, 4];
  const dist = new MaskedDistribution(nvec);

  it('MultiDiscrete log-prob and entropy are the sums over dimensions', () => {
    const logits = Float32Array.of(0.3, -1.2, 2.0, 0.5, 0.1, -0.7, 1.4);
    const masks = Uint8Array.of(1, 0, 1, 1, 1, 0, 1);
    const actions = Int32Array.of(2, 3);
    const lp = new Float64Array(1);
    dist.logProb(logits, masks, actions, 1, lp);
    const part = (l: number[], m: number[], a: number): { lp: number; h: number } => {
      const d = new MaskedDistribution([l.length]);
      const out = new Float64Array(1);
      d.logProb(Float32Array.from(l), Uint8Array.from(m), Int32Array.of(a), 1, out);
      const h = new Float64Array(1);
      d.entropy(Float32Array.from(l), Uint8Array.from(m), 1, h);
      return { lp: out[0] as number, h: h[0] as number };
    };
    const p0 = part([0.3, -1.2, 2.0], [1, 0, 1], 2);
    const p1 = part([0.5, 0.1, -0.7, 1.4], [1, 1, 0, 1], 3);
    expect(lp[0]).toBeCloseTo(p0.lp + p1.lp, 12);
    // by hand: dim 0 allows {0, 2}
    expect(p0.lp).toBeCloseTo(2.0 - Math.log(Math.exp(0.3) + Math.exp(2.0)), 6);
    const h = new Float64Array(1);
    dist.entropy(logits, masks, 1, h);
    expect(h[0]).toBeCloseTo(p0.h + p1.h, 12);
    const q = [Math.exp(0.3), Math.exp(2.0)].map((e, _, arr) => e / ((arr[0] as number) + (arr[1] as number)));
    expect(p0.h).toBeCloseTo(-q.reduce((a, p) => a + p * Math.log(p), 0), 6);
  });

  it('never samples a masked action, samples allowed ones in proportion, and argmax picks the best allowed', () => {
    const logits = Float32Array.of(5, 0, 1, 0.5, 0.5, 9, 0.5); // the largest logits are masked
    const masks = Uint8Array.of(0, 1, 1, 1, 1, 0, 1);
    const rng = createStream(1, 'sampling');
    const counts0 = [0, 0, 0];
    const counts1 = [0, 0, 0, 0];
    const actions = new Int32Array(2);
    const lp = new Float64Array(1);
    const N = 20000;
    for (let n = 0; n < N; n++) {
      dist.act({ logits, masks, batch: 1, deterministic: false, rng }, { actions, logProbs: lp });
      counts0[actions[0] as number] = (counts0[actions[0] as number] as number) + 1;
      counts1[actions[1] as number] = (counts1[actions[1] as number] as number) + 1;
    }
    expect(counts0[0]).toBe(0);
    expect(counts1[2]).toBe(0);
    const p1 = Math.exp(1) / (1 + Math.exp(1)); // P(action 2 of dim 0)
    expect(Math.abs((counts0[2] as number) / N - p1)).toBeLessThan(4 * Math.sqrt((p1 * (1 - p1)) / N));
    dist.act({ logits, masks, batch: 1, deterministic: true, rng: null }, { actions, logProbs: lp });
    expect([...actions]).toEqual([2, 0]); // dim 1: entries 0, 1, 3 tie at 0.5 → the first
  });

  it('rejects a mask that allows nothing, naming the row and dimension', () => {
    expect(() =>
      dist.act(
        {
          logits: new Float32Array(7),
          masks: Uint8Array.of(1, 1, 1, 0, 0, 0, 0),
          batch: 1,
          deterministic: true,
          rng: null,
        },
        { actions: new Int32Array(2), logProbs: new Float64Array(1) },
      ),
    ).toThrow(/row 0, dimension 1 allows no action/);
  });
});

describe('orthogonal init', () => {
  it('gives orthonormal columns (tall) or rows (wide), scaled by the gain, reproducibly from the seed', () => {
    for (const [rows, cols] of [
      [7, 3],
      [3, 7],
      [5, 5],
    ] as const) {
      const gain = 1.7;
      const w = orthogonal(rows, cols, gain, createStream(9, 'ortho', rows, cols));
      const k = Math.min(rows, cols);
      const vec = (i: number): number[] =>
        rows >= cols
          ? Array.from({ length: rows }, (_, r) => w[r * cols + i] as number)
          : Array.from({ length: cols }, (_, c) => w[i * cols + c] as number);
      for (let a = 0; a < k; a++) {
        for (let b = 0; b < k; b++) {
          const dot = vec(a).reduce((acc, x, t) => acc + x * (vec(b)[t] as number), 0);
          expect(dot).toBeCloseTo(a === b ? gain * gain : 0, 5);
        }
      }
      expect(orthogonal(rows, cols, gain, createStream(9, 'ortho', rows, cols))).toEqual(w);
    }
  });
});
