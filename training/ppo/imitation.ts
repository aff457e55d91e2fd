/**
 * Behaviour cloning, the imitation warm start before PPO (docs/ppo.md#imitation-warm-start): the
 * actor learns the demonstrations' actions by maximum likelihood under the same masked distribution
 * PPO samples from (cross-entropy per action dimension, masked entries excluded), and the critic the
 * demonstrations' discounted returns (its output bias starts at their mean, so large returns need no
 * long climb). Adam over seeded minibatches; the same demonstrations, seed and backend give the same
 * weights.
 */

import type { Demonstrations } from '../../agents/demonstrations.js';
import type { ActorCriticPolicy } from '../../agents/policy/policy.js';
import type { RandomStream } from '../../envs/core/random/streams.js';
import type { MetricRow } from '../logger.js';
import type { AdamSettings } from './adam.js';
import { Adam } from './adam.js';

export interface ImitationSettings {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Fit the critic to the returns too. */
  valuePretrain: boolean;
  /**
   * Maximum-entropy cloning: minimise −log p(a) − entropyCoef × H(π). Keeps the argmax the agent's
   * while leaving the other actions some probability, so PPO still explores from the warm start.
   */
  entropyCoef?: number;
  adam: AdamSettings;
}

/** The metrics of one epoch. */
export interface ImitationEpoch {
  epoch: number;
  loss: number;
  accuracy: number;
  valueLoss: number | null;
}

export function imitationRow(e: ImitationEpoch, samples: number): MetricRow {
  return {
    'imitation/epoch': e.epoch,
    'imitation/samples': samples,
    'imitation/loss': e.loss,
    'imitation/accuracy': e.accuracy,
    'imitation/value_loss': e.valueLoss,
  };
}

/** Trains `policy` in place on `demos`; one entry per epoch. */
export function cloneBehaviour(
  policy: ActorCriticPolicy,
  demos: Demonstrations,
  settings: ImitationSettings,
  rng: RandomStream,
  onEpoch?: (e: ImitationEpoch) => void,
): ImitationEpoch[] {
  if (demos.size === 0) throw new RangeError('behaviour cloning: the demonstrations hold no step');
  const O = demos.observationSize;
  const M = demos.maskLength;
  const D = demos.actionDims;
  if (O !== policy.spec.shape.observationSize || M !== policy.layout.actionSize)
    throw new RangeError(
      `behaviour cloning: demonstrations of ${O} features and ${M} logits, the policy has ` +
        `${policy.spec.shape.observationSize} and ${policy.layout.actionSize}`,
    );
  const observations = normalizedObservations(policy, demos);
  if (settings.valuePretrain) setValueBias(policy, demos.returns);
  const B = Math.min(settings.batchSize, demos.size);
  const mb = {
    obs: new Float32Array(B * O),
    obsT: new Float32Array(B * O),
    masks: new Uint8Array(B * M),
    actions: new Int32Array(B * D),
    returns: new Float32Array(B),
    logits: new Float32Array(B * M),
    dLogits: new Float32Array(B * M),
    values: new Float32Array(B),
    dValues: new Float32Array(B),
  };
  const grad = new Float32Array(policy.layout.size);
  const adam = new Adam(policy.layout.size, settings.adam);
  const order = Int32Array.from({ length: demos.size }, (_, i) => i);
  const epochs: ImitationEpoch[] = [];
  for (let epoch = 1; epoch <= settings.epochs; epoch++) {
    shuffle(order, rng);
    let loss = 0;
    let correct = 0;
    let valueLoss = 0;
    for (let start = 0; start + B <= demos.size; start += B) {
      gather(demos, observations, order, start, B, mb);
      const step = minibatchStep(policy, adam, grad, mb, B, settings);
      loss += step.loss * B;
      correct += step.correct;
      valueLoss += step.valueLoss * B;
    }
    const seen = Math.floor(demos.size / B) * B;
    const e: ImitationEpoch = {
      epoch,
      loss: loss / seen,
      accuracy: correct / seen,
      valueLoss: settings.valuePretrain ? valueLoss / seen : null,
    };
    epochs.push(e);
    onEpoch?.(e);
  }
  return epochs;
}

/** The observations as the policy reads them (after its normaliser, whose statistics the demonstrations set). */
function normalizedObservations(policy: ActorCriticPolicy, demos: Demonstrations): Float32Array {
  if (!policy.normalizer) return demos.observations;
  policy.normalizer.update(demos.observations, demos.size);
  return policy.normalizer.normalize(demos.observations, demos.size, new Float32Array(demos.observations.length));
}

/** The value head's bias = the mean return: the critic then fits only the spread around it. */
function setValueBias(policy: ActorCriticPolicy, returns: Float32Array): void {
  let sum = 0;
  for (const r of returns) sum += r;
  policy.layout.view(policy.parameters, 'value/bias')[0] = sum / returns.length;
  policy.sync();
}

function shuffle(order: Int32Array, rng: RandomStream): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
}

interface BcMinibatch {
  obs: Float32Array;
  obsT: Float32Array;
  masks: Uint8Array;
  actions: Int32Array;
  returns: Float32Array;
  logits: Float32Array;
  dLogits: Float32Array;
  values: Float32Array;
  dValues: Float32Array;
}

function gather(
  demos: Demonstrations,
  observations: Float32Array,
  order: Int32Array,
  start: number,
  B: number,
  mb: BcMinibatch,
): void {
  const O = demos.observationSize;
  const M = demos.maskLength;
  const D = demos.actionDims;
  for (let r = 0; r < B; r++) {
    const i = order[start + r] as number;
    mb.obs.set(observations.subarray(i * O, (i + 1) * O), r * O);
    for (let k = 0; k < O; k++) mb.obsT[k * B + r] = observations[i * O + k] as number;
    mb.masks.set(demos.masks.subarray(i * M, (i + 1) * M), r * M);
    mb.actions.set(demos.actions.subarray(i * D, (i + 1) * D), r * D);
    mb.returns[r] = demos.returns[i] as number;
  }
}

/** One Adam step on the cross-entropy (and the value error); the minibatch's loss and correct argmaxes. */
function minibatchStep(
  policy: ActorCriticPolicy,
  adam: Adam,
  grad: Float32Array,
  mb: BcMinibatch,
  B: number,
  settings: ImitationSettings,
): { loss: number; correct: number; valueLoss: number } {
  const { engine, distribution, layout, parameters } = policy;
  engine.actor.forwardTrain(mb.obs, mb.obsT, B, mb.logits);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < B; i++) {
    // d(−log p(a))/d logits = p − onehot(a), per dimension; masked logits get no gradient.
    const gEnt = -(settings.entropyCoef ?? 0) / B;
    const { logp } = distribution.rowGradient(mb.logits, mb.masks, mb.actions, i, -1 / B, gEnt, mb.dLogits);
    loss -= logp;
    if (argmaxMatches(distribution.nvec, mb.logits, mb.masks, mb.actions, i, layout.actionSize)) correct++;
  }
  engine.actor.backward(mb.dLogits, grad);
  let valueLoss = 0;
  if (settings.valuePretrain) {
    engine.critic.forwardTrain(mb.obs, mb.obsT, B, mb.values);
    for (let i = 0; i < B; i++) {
      const err = (mb.values[i] as number) - (mb.returns[i] as number);
      valueLoss += err * err;
      mb.dValues[i] = (2 * err) / B;
    }
    engine.critic.backward(mb.dValues, grad);
  }
  adam.beginStep();
  adam.apply(parameters, grad, settings.learningRate, 1, 0, layout.actorSize);
  if (settings.valuePretrain) adam.apply(parameters, grad, settings.learningRate, 1, layout.actorSize, layout.size);
  policy.sync();
  return { loss: loss / B, correct, valueLoss: valueLoss / B };
}

/** Whether the masked argmax of every action dimension of row i is the demonstrated action. */
function argmaxMatches(
  nvec: readonly number[],
  logits: Float32Array,
  masks: Uint8Array,
  actions: Int32Array,
  i: number,
  actionSize: number,
): boolean {
  let offset = 0;
  for (let d = 0; d < nvec.length; d++) {
    const n = nvec[d] as number;
    const start = i * actionSize + offset;
    let best = -1;
    for (let k = 0; k < n; k++)
      if (masks[start + k] === 1 && (best < 0 || (logits[start + k] as number) > (logits[start + best] as number)))
        best = k;
    if (best !== actions[i * nvec.length + d]) return false;
    offset += n;
  }
  return true;
}
