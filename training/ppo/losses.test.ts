/**
 * The PPO loss gradient (losses.ts) back-propagated through the engine's hand-written backward
 * pass equals tf.variableGrads on the same loss written with tfjs ops, on cpu and wasm.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../agents/policy/backend.js';
import { MASKED_LOGIT, MaskedDistribution } from '../../agents/policy/distributions.js';
import { PolicyEngine } from '../../agents/policy/engine.js';
import type { Activation, NetArch } from '../../agents/policy/parameters.js';
import { ParameterLayout } from '../../agents/policy/parameters.js';
import type { RandomStream } from '../../envs/core/random/streams.js';
import { createStream } from '../../envs/core/random/streams.js';
import type { MinibatchData, PpoLossSettings } from './losses.js';
import { ppoMinibatch } from './losses.js';

interface Case {
  name: string;
  obs: number;
  nvec: number[];
  arch: NetArch;
  activation: Activation;
  settings: PpoLossSettings;
}

const CASES: Case[] = [
  {
    name: 'MultiDiscrete, tanh, towers of different depth, value clipping',
    obs: 7,
    nvec: [3, 4, 2],
    arch: { pi: [6, 5], vf: [4] },
    activation: 'tanh',
    settings: { clipRange: 0.2, clipRangeVf: 0.3, entCoef: 0.05, vfCoef: 0.5, normalizeAdvantage: true },
  },
  {
    name: 'Discrete, relu, no normalisation',
    obs: 5,
    nvec: [6],
    arch: { pi: [8, 8], vf: [8, 8] },
    activation: 'relu',
    settings: { clipRange: 0.1, clipRangeVf: null, entCoef: 0.01, vfCoef: 0.7, normalizeAdvantage: false },
  },
];

function randomMinibatch(
  c: Case,
  B: number,
  rng: RandomStream,
): { x: Float32Array; xT: Float32Array; mb: MinibatchData } {
  const A = c.nvec.reduce((a, b) => a + b, 0);
  const x = new Float32Array(B * c.obs).map(() => rng.next() * 2 - 1);
  const xT = new Float32Array(B * c.obs);
  for (let i = 0; i < B; i++) for (let j = 0; j < c.obs; j++) xT[j * B + i] = x[i * c.obs + j] as number;
  const masks = new Uint8Array(B * A);
  const actions = new Int32Array(B * c.nvec.length);
  for (let i = 0; i < B; i++) {
    let off = 0;
    c.nvec.forEach((n, d) => {
      for (let k = 0; k < n; k++) masks[i * A + off + k] = rng.next() < 0.6 ? 1 : 0;
      const forced = rng.int(n);
      masks[i * A + off + forced] = 1;
      if (d === 0) masks[i * A + off + n - 1] = 0; // the last action of dim 0 is never allowed
      if (d === 0 && forced === n - 1) masks[i * A + off] = 1;
      const allowed = [...Array(n).keys()].filter((k) => masks[i * A + off + k] === 1);
      actions[i * c.nvec.length + d] = allowed[rng.int(allowed.length)] as number;
      off += n;
    });
  }
  const mb: MinibatchData = {
    batch: B,
    masks,
    actions,
    oldLogProbs: new Float64Array(B), // filled by the caller from the current policy, plus noise
    oldValues: new Float32Array(B).map(() => rng.next() - 0.5),
    advantages: new Float32Array(B).map(() => rng.next() * 2 - 1),
    returns: new Float32Array(B).map(() => rng.next() * 2 - 1),
  };
  return { x, xT, mb };
}

/**
 * The same loss written with tfjs ops, differentiated by tf.variableGrads: the reference for the hand-written backward
 * pass.
 */
function referenceGradients(
  c: Case,
  layout: ParameterLayout,
  theta: Float32Array,
  x: Float32Array,
  mb: MinibatchData,
): { loss: number; grad: Float32Array } {
  const B = mb.batch;
  const A = layout.actionSize;
  const layers = layout.towerLayers(theta);
  const vars = new Map(
    layers.map((l) => [
      l.name,
      { kernel: tf.variable(tf.tensor2d(l.kernel, [l.rows, l.cols])), bias: tf.variable(tf.tensor1d(l.bias)) },
    ]),
  );
  const act = (t: tf.Tensor): tf.Tensor => (c.activation === 'tanh' ? tf.tanh(t) : tf.relu(t));
  const tower = (prefix: string, depth: number, head: string, input: tf.Tensor): tf.Tensor => {
    let h = input;
    for (let k = 0; k < depth; k++) {
      const v = vars.get(`${prefix}_${k}`);
      if (!v) throw new Error('missing layer');
      h = act(tf.add(tf.matMul(h as tf.Tensor2D, v.kernel), v.bias));
    }
    const v = vars.get(head);
    if (!v) throw new Error('missing head');
    return tf.add(tf.matMul(h as tf.Tensor2D, v.kernel), v.bias);
  };
  const result = tf.tidy(() => {
    const xs = tf.tensor2d(x, [B, c.obs]);
    const mask = tf.tensor2d(mb.masks, [B, A], 'bool');
    const { value, grads } = tf.variableGrads(() => {
      const logits = tf.where(mask, tower('pi', c.arch.pi.length, 'action', xs), tf.fill([B, A], MASKED_LOGIT));
      const values = tf.reshape(tower('vf', c.arch.vf.length, 'value', xs), [B]);
      let logp: tf.Tensor = tf.zeros([B]);
      let entropy: tf.Tensor = tf.zeros([B]);
      let off = 0;
      c.nvec.forEach((n, d) => {
        const seg = tf.slice(logits, [0, off], [B, n]);
        const segMask = tf.slice(tf.cast(mask, 'float32'), [0, off], [B, n]);
        const lsm = tf.logSoftmax(seg);
        const oneHot = tf.oneHot(
          tf.tensor1d(
            Array.from({ length: B }, (_, i) => mb.actions[i * c.nvec.length + d] as number),
            'int32',
          ),
          n,
        );
        logp = tf.add(logp, tf.sum(tf.mul(oneHot, lsm), 1));
        entropy = tf.sub(entropy, tf.sum(tf.mul(tf.mul(tf.exp(lsm), lsm), segMask), 1));
        off += n;
      });
      let adv = tf.tensor1d(mb.advantages);
      if (c.settings.normalizeAdvantage) {
        const { mean, variance } = tf.moments(adv);
        adv = tf.div(tf.sub(adv, mean), tf.add(tf.sqrt(tf.mul(variance, B / (B - 1))), 1e-8));
      }
      const ratio = tf.exp(tf.sub(logp, tf.tensor1d(Float32Array.from(mb.oldLogProbs))));
      const s1 = tf.mul(adv, ratio);
      const s2 = tf.mul(adv, tf.clipByValue(ratio, 1 - c.settings.clipRange, 1 + c.settings.clipRange));
      const policyLoss = tf.neg(tf.mean(tf.minimum(s1, s2)));
      const oldV = tf.tensor1d(mb.oldValues);
      const vPred =
        c.settings.clipRangeVf === null
          ? values
          : tf.add(oldV, tf.clipByValue(tf.sub(values, oldV), -c.settings.clipRangeVf, c.settings.clipRangeVf));
      const valueLoss = tf.mean(tf.square(tf.sub(tf.tensor1d(mb.returns), vPred)));
      return tf.add(
        tf.add(policyLoss, tf.mul(c.settings.entCoef, tf.neg(tf.mean(entropy)))),
        tf.mul(c.settings.vfCoef, valueLoss),
      ) as tf.Scalar;
    });
    const gradLayers = layers.map((l) => {
      const v = vars.get(l.name);
      if (!v) throw new Error('missing');
      const kernelName = Object.keys(grads).find((k) => k === v.kernel.name) as string;
      const biasName = Object.keys(grads).find((k) => k === v.bias.name) as string;
      return {
        name: l.name,
        kernel: (grads[kernelName] as tf.Tensor).dataSync() as Float32Array,
        bias: (grads[biasName] as tf.Tensor).dataSync() as Float32Array,
      };
    });
    return {
      loss: value.dataSync()[0] as number,
      grad: layout.fromTowerLayers(gradLayers, new Float32Array(layout.size)),
    };
  });
  for (const v of vars.values()) tf.dispose([v.kernel, v.bias]);
  return result;
}

for (const backend of ['cpu', 'wasm', 'native'] as const) {
  describe(`PPO loss through PolicyEngine.backward (${backend})`, () => {
    beforeAll(async () => {
      await initBackend(backend);
    });

    for (const c of CASES) {
      it(`matches tf.variableGrads on the PPO loss: ${c.name}`, () => {
        const rng = createStream(7, 'engine-test', c.name);
        const layout = new ParameterLayout({ observationSize: c.obs, nvec: c.nvec }, c.arch);
        const theta = layout.initialize(rng, true);
        // Non-zero biases, a larger head.
        for (let i = 0; i < theta.length; i++) theta[i] = (theta[i] as number) + (rng.next() - 0.5) * 0.4;
        const engine = new PolicyEngine(layout, c.activation);
        engine.setParameters(theta);
        const B = 11;
        const { x, xT, mb } = randomMinibatch(c, B, rng);
        const dist = new MaskedDistribution(c.nvec);
        const logits = new Float32Array(B * layout.actionSize);
        const values = new Float32Array(B);
        engine.forwardTrain(x, xT, B, logits, values);
        const logp = new Float64Array(B);
        dist.logProb(logits, mb.masks, mb.actions, B, logp);
        // old log-probs off by up to ±0.4 so some ratios are clipped on each side
        for (let i = 0; i < B; i++) mb.oldLogProbs[i] = (logp[i] as number) + (rng.next() - 0.5) * 0.8;
        const dLogits = new Float32Array(B * layout.actionSize);
        const dValues = new Float32Array(B);
        const stats = ppoMinibatch(dist, logits, values, mb, c.settings, dLogits, dValues);
        expect(stats.clipFraction).toBeGreaterThan(0);
        const grad = new Float32Array(layout.size);
        engine.backward(dLogits, dValues, grad);

        const ref = referenceGradients(c, layout, theta, x, mb);
        expect(stats.loss).toBeCloseTo(ref.loss, 5);
        let maxRef = 0;
        let maxDiff = 0;
        for (let i = 0; i < grad.length; i++) {
          maxRef = Math.max(maxRef, Math.abs(ref.grad[i] as number));
          maxDiff = Math.max(maxDiff, Math.abs((grad[i] as number) - (ref.grad[i] as number)));
        }
        expect(maxRef).toBeGreaterThan(1e-3);
        expect(maxDiff / maxRef).toBeLessThan(2e-5);

        // Masked logits get exactly zero gradient; the action never allowed (last of dim 0) gets none in the head bias.
        for (let k = 0; k < dLogits.length; k++) if (mb.masks[k] === 0) expect(dLogits[k]).toBe(0);
        const headBias = layout.view(grad, 'action/bias');
        expect(headBias[(c.nvec[0] as number) - 1]).toBe(0);
        engine.dispose();
      });
    }
  });
}
