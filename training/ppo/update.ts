/**
 * The PPO update (SB3 `PPO.train`): n_epochs over the rollout in shuffled minibatches, each one a
 * GradientStep (gradient-step.ts); SB3's target_kl early stop ends the epochs.
 */
import type { RandomStream } from '../../envs/core/random/streams.js';
import type { Minibatch } from './gradient-step.js';
import type { MinibatchStats } from './losses.js';
import type { RolloutBuffer } from './rollout-buffer.js';
import type { PpoRun } from './run.js';
import { KlAnchor } from './warm-start.js';

export interface UpdateStats {
  learningRate: number;
  policyLoss: number;
  valueLoss: number;
  entropyLoss: number;
  approxKl: number;
  clipFraction: number;
  gradNorm: number;
  /** The last minibatch's total loss (SB3 train/loss). */
  loss: number | null;
  /** Mean KL(π_warm ‖ π) over the minibatches and the penalty's coefficient (init_kl), when the run has one. */
  klToAnchor: number | null;
  klCoef: number;
}

export interface UpdateHooks {
  /** After each minibatch's loss, before its step (tests and diagnostics). */
  onMinibatch?: (info: { iteration: number; epoch: number; index: number; stats: MinibatchStats }) => void;
  /** Lets the event loop run now and then (SIGINT). */
  breathe: () => Promise<void>;
}

/** n_epochs of shuffled minibatch steps over the run's buffer. */
export async function updatePolicy(run: PpoRun, permutation: Int32Array, hooks: UpdateHooks): Promise<UpdateStats> {
  const { config, buffer, state } = run;
  const B = config.batch_size;
  const progressRemaining = 1 - state.numTimesteps / config.total_timesteps;
  const lr =
    config.lr_schedule === 'linear' ? config.learning_rate * Math.max(progressRemaining, 0) : config.learning_rate;
  const sums = { pg: 0, value: 0, entropy: 0, kl: 0, clip: 0, count: 0, gradNorm: 0, anchorKl: 0 };
  const klCoef = run.anchor ? KlAnchor.coefficient(config, state.numTimesteps / config.total_timesteps) : 0;
  run.anchor?.computeLogits(buffer);
  const { actor, critic } = run.policy.engine;
  const transpose = actor.needsTransposedInput || critic.needsTransposedInput;
  let last: MinibatchStats | null = null;
  let stopped = false;
  for (let epoch = 0; epoch < config.n_epochs && !stopped; epoch++) {
    shuffle(permutation, state.minibatchRng);
    for (let start = 0, index = 0; start < buffer.size; start += B, index++) {
      const size = Math.min(B, buffer.size - start);
      gatherMinibatch(buffer, permutation, start, size, run.minibatch, run.anchor?.logits ?? null, transpose);
      const step = run.gradientStep.run(run.minibatch, size, lr, klCoef);
      hooks.onMinibatch?.({ iteration: state.iteration, epoch, index, stats: step.stats });
      sums.pg += step.stats.policyLoss;
      sums.value += step.stats.valueLoss;
      sums.entropy += step.stats.entropyLoss;
      sums.kl += step.stats.approxKl;
      sums.clip += step.stats.clipFraction;
      sums.anchorKl += step.stats.klToAnchor ?? 0;
      sums.count++;
      last = step.stats;
      if (!step.stepped) {
        stopped = true;
        run.log(
          `[ppo] early stop at epoch ${epoch} (approx_kl ${step.stats.approxKl.toFixed(4)} > 1.5 × target_kl ` +
            `${config.target_kl})`,
        );
        break;
      }
      sums.gradNorm += step.gradNorm;
      run.timing.samplesUpdated += size;
      await hooks.breathe();
    }
    state.nUpdates++;
  }
  run.finishUpdate();
  const n = sums.count;
  return {
    learningRate: lr,
    policyLoss: sums.pg / n,
    valueLoss: sums.value / n,
    entropyLoss: sums.entropy / n,
    approxKl: sums.kl / n,
    clipFraction: sums.clip / n,
    gradNorm: sums.gradNorm / Math.max(n, 1),
    loss: last ? last.loss : null,
    klToAnchor: run.anchor ? sums.anchorKl / n : null,
    klCoef,
  };
}

function shuffle(perm: Int32Array, rng: RandomStream): void {
  for (let i = 0; i < perm.length; i++) perm[i] = i;
  for (let i = perm.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = perm[i] as number;
    perm[i] = perm[j] as number;
    perm[j] = t;
  }
}

/** Rows perm[start…start+size) of the buffer into the minibatch arrays (and the observations transposed if asked). */
function gatherMinibatch(
  buffer: RolloutBuffer,
  perm: Int32Array,
  start: number,
  size: number,
  mb: Minibatch,
  anchorLogits: Float32Array | null,
  transpose: boolean,
): void {
  const { observationSize: O, maskLength: M, actionDims: D } = buffer;
  for (let r = 0; r < size; r++) {
    const k = perm[start + r] as number;
    mb.obs.set(buffer.observations.subarray(k * O, (k + 1) * O), r * O);
    if (transpose) for (let j = 0; j < O; j++) mb.obsT[j * size + r] = buffer.observations[k * O + j] as number;
    mb.masks.set(buffer.masks.subarray(k * M, (k + 1) * M), r * M);
    mb.actions.set(buffer.actions.subarray(k * D, (k + 1) * D), r * D);
    mb.oldLogProbs[r] = buffer.logProbs[k] as number;
    mb.oldValues[r] = buffer.values[k] as number;
    mb.advantages[r] = buffer.advantages[k] as number;
    mb.returns[r] = buffer.returns[k] as number;
    if (anchorLogits) mb.anchorLogits.set(anchorLogits.subarray(k * M, (k + 1) * M), r * M);
  }
}
