/**
 * One minibatch step of the PPO update (SB3 `PPO.train`'s inner loop): the actor's loss and
 * gradient, the critic's, SB3's target_kl early stop, global-norm clipping over both towers, Adam.
 * The actor's half runs here; the critic's half is an `CriticHalf` — on this thread, or on a worker
 * thread (critic-worker.ts, `update_threads: 2`) that shares parameters, Adam moments, gradients and
 * the minibatch through SharedArrayBuffers. Both give the same numbers bit for bit, so the update
 * loop (update.ts) reads the same with one thread or two.
 */
import type { PolicyEngine } from '../../agents/policy/engine.js';
import type { ActorCriticPolicy } from '../../agents/policy/policy.js';
import type { Adam } from './adam.js';
import { clipScale } from './adam.js';
import type { CriticWorker } from './critic-worker.js';
import type { MinibatchData, MinibatchStats, PpoLossSettings } from './losses.js';
import { anchorKlGrad, policyLossGrad, valueLossGrad } from './losses.js';

/** A minibatch's arrays (the parts the critic thread reads live in shared memory). */
export interface Minibatch extends Omit<MinibatchData, 'batch'> {
  obs: Float32Array;
  /** The observations transposed (observation-major), what the backward pass multiplies by. */
  obsT: Float32Array;
  logits: Float32Array;
  values: Float32Array;
  dLogits: Float32Array;
  dValues: Float32Array;
  /** The warm start's logits of the same rows (init_kl); empty when the run has no anchor. */
  anchorLogits: Float32Array;
}

/** The critic's half of a minibatch step. */
export interface CriticHalf {
  /** Starts on the minibatch already in the buffers (the threaded half begins at once). */
  startGradient(size: number): void;
  /** The value loss and the critic block's Σg²; `keep` false (early stop) drops the gradient. */
  finishGradient(size: number, data: MinibatchData, keep: boolean): { valueLoss: number; sumOfSquares: number };
  /** Adam on the critic block (after adam.beginStep()), with the clip scale. */
  startApply(lr: number, scale: number): void;
  finishApply(): void;
  /** After an update: the main thread's critic, which computes the rollout's values, up to date. */
  finishUpdate(): void;
  close(): Promise<void>;
}

export interface StepOutcome {
  stats: MinibatchStats;
  /** False when target_kl stopped the epochs before this minibatch's step. */
  stepped: boolean;
  gradNorm: number;
}

export class GradientStep {
  private readonly engine: PolicyEngine;
  private readonly actorSize: number;

  constructor(
    private readonly policy: ActorCriticPolicy,
    private readonly adam: Adam,
    private readonly grad: Float32Array,
    private readonly critic: CriticHalf,
    private readonly settings: PpoLossSettings & { maxGradNorm: number; targetKl: number | null },
  ) {
    this.engine = policy.engine;
    this.actorSize = policy.layout.actorSize;
  }

  /** One minibatch step; `klCoef` > 0 adds klCoef × KL(π_warm ‖ π) to the policy loss (init_kl). */
  run(mb: Minibatch, size: number, lr: number, klCoef = 0): StepOutcome {
    const s = this.settings;
    const data: MinibatchData = {
      batch: size,
      masks: mb.masks,
      actions: mb.actions,
      oldLogProbs: mb.oldLogProbs,
      oldValues: mb.oldValues,
      advantages: mb.advantages,
      returns: mb.returns,
    };
    this.critic.startGradient(size);
    this.engine.actor.forwardTrain(mb.obs, mb.obsT, size, mb.logits);
    const policyStats = policyLossGrad(this.policy.distribution, mb.logits, data, s, mb.dLogits);
    const klToAnchor =
      mb.anchorLogits.length > 0
        ? anchorKlGrad(this.policy.distribution.nvec, mb.logits, mb.anchorLogits, mb.masks, size, klCoef, mb.dLogits)
        : null;
    // SB3: stop the epochs at the first minibatch whose approx_kl exceeds 1.5 × target_kl, before its step.
    const stop = s.targetKl !== null && policyStats.approxKl > 1.5 * s.targetKl;
    let actorSumOfSquares = 0;
    if (stop) this.engine.actor.discardActivations();
    else actorSumOfSquares = this.engine.actor.backward(mb.dLogits, this.grad);
    const critic = this.critic.finishGradient(size, data, !stop);
    const stats: MinibatchStats = {
      ...policyStats,
      klToAnchor,
      valueLoss: critic.valueLoss,
      loss: policyStats.policyLoss + s.entCoef * policyStats.entropyLoss + s.vfCoef * critic.valueLoss,
    };
    if (stop) return { stats, stepped: false, gradNorm: 0 };
    // Global-norm clipping over both towers (actor block + critic block), then Adam on each block.
    const clip = clipScale([actorSumOfSquares, critic.sumOfSquares], s.maxGradNorm);
    this.adam.beginStep();
    this.critic.startApply(lr, clip.scale);
    this.adam.apply(this.policy.parameters, this.grad, lr, clip.scale, 0, this.actorSize);
    this.engine.actor.setParameters(this.policy.parameters);
    this.critic.finishApply();
    return { stats, stepped: true, gradNorm: clip.norm };
  }
}

/** The critic's half on this thread. */
export function inlineCritic(
  policy: ActorCriticPolicy,
  adam: Adam,
  grad: Float32Array,
  mb: Minibatch,
  settings: Pick<PpoLossSettings, 'clipRangeVf' | 'vfCoef'>,
): CriticHalf {
  const critic = policy.engine.critic;
  const { actorSize, size } = policy.layout;
  return {
    startGradient: () => undefined,
    finishGradient(batch, data, keep) {
      critic.forwardTrain(mb.obs, mb.obsT, batch, mb.values);
      const valueLoss = valueLossGrad(mb.values, data, settings, mb.dValues);
      if (!keep) {
        critic.discardActivations();
        return { valueLoss, sumOfSquares: 0 };
      }
      return { valueLoss, sumOfSquares: critic.backward(mb.dValues, grad) };
    },
    startApply(lr, scale) {
      adam.apply(policy.parameters, grad, lr, scale, actorSize, size);
      critic.setParameters(policy.parameters);
    },
    finishApply: () => undefined,
    finishUpdate: () => undefined,
    close: async () => undefined,
  };
}

/** The critic's half on a worker thread (it holds its own critic engine on the shared parameters). */
export function threadedCritic(policy: ActorCriticPolicy, worker: CriticWorker): CriticHalf {
  return {
    startGradient: (size) => worker.startGrad(size),
    finishGradient: () => worker.wait(),
    startApply: (lr, scale) => worker.startApply(lr, scale),
    finishApply: () => void worker.wait(),
    finishUpdate: () => policy.engine.critic.setParameters(policy.parameters),
    close: () => worker.close(),
  };
}
