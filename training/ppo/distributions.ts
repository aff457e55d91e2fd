/**
 * Masked categorical distributions over logits, in JS (sb3-contrib MaskableCategorical /
 * MaskableMultiCategoricalDistribution; rl-reference §1.5):
 *   - a masked entry's logit is replaced by −1e8 (not −∞, so p·log p stays finite);
 *   - MultiDiscrete: one segment of the logits and of the flat mask per dimension; log-probs and
 *     entropies are summed over dimensions;
 *   - entropy leaves masked entries out (their p·log p is set to 0).
 * Sampling uses the run's seeded stream (one uniform per dimension, inverse CDF), so a run's actions
 * depend on its seed and not on the tfjs backend's RNG.
 *
 * `ppoMinibatch` computes the PPO loss of a minibatch (SB3 `PPO.train`) and its gradient with
 * respect to the logits and values, which the engine back-propagates through the MLPs. Masked
 * logits get exactly zero gradient.
 */
import type { RandomStream } from '../../envs/core/random/streams.js';

export const MASKED_LOGIT = -1e8;

export class MaskedDistribution {
  readonly size: number;
  readonly dims: number;
  private readonly offsets: Int32Array;
  /** Scratch: probabilities of one row. */
  private readonly probs: Float64Array;

  constructor(readonly nvec: readonly number[]) {
    this.dims = nvec.length;
    this.offsets = new Int32Array(nvec.length + 1);
    for (let d = 0; d < nvec.length; d++) this.offsets[d + 1] = (this.offsets[d] as number) + (nvec[d] as number);
    this.size = this.offsets[nvec.length] as number;
    this.probs = new Float64Array(this.size);
  }

  /**
   * Samples (or, deterministic, takes the most likely allowed) action of each of `batch` rows into
   * `actionsOut` (batch × dims) and writes the log-probabilities into `logProbOut`.
   */
  act(
    logits: Float32Array,
    masks: Uint8Array,
    batch: number,
    deterministic: boolean,
    rng: RandomStream | null,
    actionsOut: Int32Array,
    logProbOut: Float64Array,
  ): void {
    const A = this.size;
    for (let i = 0; i < batch; i++) {
      let logp = 0;
      for (let d = 0; d < this.dims; d++) {
        const start = i * A + (this.offsets[d] as number);
        const n = this.nvec[d] as number;
        const lse = this.segmentLogSumExp(logits, masks, start, n, i, d);
        let choice = -1;
        if (deterministic) {
          let best = -Infinity;
          for (let k = 0; k < n; k++) {
            const l = masks[start + k] === 1 ? (logits[start + k] as number) : MASKED_LOGIT;
            if (l > best) {
              best = l;
              choice = k;
            }
          }
        } else {
          if (!rng) throw new Error('MaskedDistribution.act: sampling needs a random stream');
          const u = rng.next();
          let cum = 0;
          let lastAllowed = -1;
          for (let k = 0; k < n; k++) {
            if (masks[start + k] !== 1) continue;
            lastAllowed = k;
            cum += Math.exp((logits[start + k] as number) - lse);
            if (u < cum) {
              choice = k;
              break;
            }
          }
          if (choice < 0) choice = lastAllowed; // u beyond the rounded total: the last allowed entry
        }
        actionsOut[i * this.dims + d] = choice;
        logp += (logits[start + choice] as number) - lse;
      }
      logProbOut[i] = logp;
    }
  }

  /** Log-probability of given actions (batch × dims). */
  logProb(logits: Float32Array, masks: Uint8Array, actions: Int32Array, batch: number, out: Float64Array): void {
    for (let i = 0; i < batch; i++) out[i] = this.rowLogProb(logits, masks, actions, i);
  }

  /** Log-probability of row i's action. */
  rowLogProb(logits: Float32Array, masks: Uint8Array, actions: Int32Array, i: number): number {
    const A = this.size;
    let logp = 0;
    for (let d = 0; d < this.dims; d++) {
      const start = i * A + (this.offsets[d] as number);
      const lse = this.segmentLogSumExp(logits, masks, start, this.nvec[d] as number, i, d);
      const a = actions[i * this.dims + d] as number;
      logp += (masks[start + a] === 1 ? (logits[start + a] as number) : MASKED_LOGIT) - lse;
    }
    return logp;
  }

  /** Entropy of each row (masked entries excluded), summed over dimensions. */
  entropy(logits: Float32Array, masks: Uint8Array, batch: number, out: Float64Array): void {
    const A = this.size;
    for (let i = 0; i < batch; i++) {
      let h = 0;
      for (let d = 0; d < this.dims; d++) {
        const start = i * A + (this.offsets[d] as number);
        const n = this.nvec[d] as number;
        const lse = this.segmentLogSumExp(logits, masks, start, n, i, d);
        for (let k = 0; k < n; k++) {
          if (masks[start + k] !== 1) continue;
          const lp = (logits[start + k] as number) - lse;
          h -= Math.exp(lp) * lp;
        }
      }
      out[i] = h;
    }
  }

  /**
   * One row's contribution to the gradient of `gLogp · log p(a) + gEnt · H` with respect to its
   * logits, added into dLogits (row i). log p(a) − per segment: δ_aj − p_j; H: −p_j (log p_j + H_seg).
   * Returns (logp, entropy) of the row.
   */
  rowGradient(
    logits: Float32Array,
    masks: Uint8Array,
    actions: Int32Array,
    i: number,
    gLogp: number,
    gEnt: number,
    dLogits: Float32Array,
  ): { logp: number; entropy: number } {
    const A = this.size;
    let logp = 0;
    let entropy = 0;
    for (let d = 0; d < this.dims; d++) {
      const off = this.offsets[d] as number;
      const start = i * A + off;
      const n = this.nvec[d] as number;
      const lse = this.segmentLogSumExp(logits, masks, start, n, i, d);
      let h = 0;
      for (let k = 0; k < n; k++) {
        if (masks[start + k] !== 1) {
          this.probs[off + k] = 0;
          continue;
        }
        const lp = (logits[start + k] as number) - lse;
        const p = Math.exp(lp);
        this.probs[off + k] = p;
        h -= p * lp;
      }
      const a = actions[i * this.dims + d] as number;
      logp += (masks[start + a] === 1 ? (logits[start + a] as number) : MASKED_LOGIT) - lse;
      entropy += h;
      for (let k = 0; k < n; k++) {
        if (masks[start + k] !== 1) {
          dLogits[start + k] = 0; // a masked logit is a constant: no gradient
          continue;
        }
        const p = this.probs[off + k] as number;
        const lp = (logits[start + k] as number) - lse;
        const g = gLogp * ((k === a ? 1 : 0) - p) + gEnt * -p * (lp + h);
        dLogits[start + k] = g;
      }
    }
    return { logp, entropy };
  }

  private segmentLogSumExp(
    logits: Float32Array,
    masks: Uint8Array,
    start: number,
    n: number,
    row: number,
    dim: number,
  ): number {
    let max = -Infinity;
    for (let k = 0; k < n; k++)
      if (masks[start + k] === 1 && (logits[start + k] as number) > max) max = logits[start + k] as number;
    if (max === -Infinity) {
      if (Number.isNaN(logits[start] as number))
        throw new Error(
          `policy logits are NaN (row ${row}): a weight or an input feature is not finite (after an update: the run diverged; try a lower learning_rate or normalize_reward)`,
        );
      throw new Error(`action mask of row ${row}, dimension ${dim} allows no action: the env must allow at least one`);
    }
    let sum = 0;
    for (let k = 0; k < n; k++) if (masks[start + k] === 1) sum += Math.exp((logits[start + k] as number) - max);
    return max + Math.log(sum);
  }
}

/** Hyperparameters of one PPO loss evaluation. */
export interface PpoLossSettings {
  clipRange: number;
  clipRangeVf: number | null;
  entCoef: number;
  vfCoef: number;
  normalizeAdvantage: boolean;
}

/** A minibatch as the buffer hands it out (rows gathered by index). */
export interface MinibatchData {
  batch: number;
  masks: Uint8Array;
  actions: Int32Array;
  /** Float64: the rollout's log-probabilities exactly as computed, so the first ratio is exactly 1. */
  oldLogProbs: Float64Array;
  oldValues: Float32Array;
  advantages: Float32Array;
  returns: Float32Array;
}

export interface MinibatchStats {
  policyLoss: number;
  valueLoss: number;
  /** −mean entropy (SB3's entropy_loss). */
  entropyLoss: number;
  loss: number;
  /** k3 estimator: mean((r − 1) − log r). */
  approxKl: number;
  clipFraction: number;
  /** Mean and extremes of the ratio (debugging: exactly 1 on the first minibatch). */
  ratioMean: number;
  ratioMaxDeviation: number;
}

/** The policy part of a minibatch's loss (everything but the value loss). */
export interface PolicyLossStats {
  policyLoss: number;
  entropyLoss: number;
  approxKl: number;
  clipFraction: number;
  ratioMean: number;
  ratioMaxDeviation: number;
}

/**
 * SB3's loss for one minibatch, and its gradient with respect to the logits and values:
 *   A  = advantages, normalised per minibatch (mean, std with Bessel's correction, +1e-8) when asked
 *   r  = exp(log p(a) − old log p(a))
 *   policy_loss  = −mean(min(A·r, A·clip(r, 1−ε, 1+ε)))
 *   value_loss   = mean((R − V')²), V' = V or oldV + clip(V − oldV, ±ε_vf)      (no ½, as SB3)
 *   entropy_loss = −mean(H)
 *   loss = policy_loss + ent_coef·entropy_loss + vf_coef·value_loss
 * Gradient conventions follow torch: min() passes the gradient to the smaller term (half to each on
 * a tie, which sums to the full gradient), clamp passes it inside its closed range.
 * The policy part (policyLossGrad, actor) and the value part (valueLossGrad, critic) are
 * independent; the critic's may run on another thread.
 */
export function ppoMinibatch(
  dist: MaskedDistribution,
  logits: Float32Array,
  values: Float32Array,
  mb: MinibatchData,
  s: PpoLossSettings,
  dLogits: Float32Array,
  dValues: Float32Array,
): MinibatchStats {
  const p = policyLossGrad(dist, logits, mb, s, dLogits);
  const valueLoss = valueLossGrad(values, mb, s, dValues);
  return { ...p, valueLoss, loss: p.policyLoss + s.entCoef * p.entropyLoss + s.vfCoef * valueLoss };
}

/** The policy and entropy terms and their gradient with respect to the logits (see ppoMinibatch). */
export function policyLossGrad(
  dist: MaskedDistribution,
  logits: Float32Array,
  mb: MinibatchData,
  s: PpoLossSettings,
  dLogits: Float32Array,
): PolicyLossStats {
  const B = mb.batch;
  let advMean = 0;
  let advStd = 1;
  if (s.normalizeAdvantage && B > 1) {
    for (let i = 0; i < B; i++) advMean += mb.advantages[i] as number;
    advMean /= B;
    let v = 0;
    for (let i = 0; i < B; i++) v += ((mb.advantages[i] as number) - advMean) ** 2;
    advStd = Math.sqrt(v / (B - 1)) + 1e-8;
  }
  let policyLoss = 0;
  let entropySum = 0;
  let kl = 0;
  let clipped = 0;
  let ratioSum = 0;
  let ratioDev = 0;
  const lo = 1 - s.clipRange;
  const hi = 1 + s.clipRange;
  for (let i = 0; i < B; i++) {
    const adv =
      s.normalizeAdvantage && B > 1 ? ((mb.advantages[i] as number) - advMean) / advStd : (mb.advantages[i] as number);
    // The row's log-prob first (to form the ratio); rowGradient recomputes it along with the gradient.
    const logp = dist.rowLogProb(logits, mb.masks, mb.actions, i);
    const logRatio = logp - (mb.oldLogProbs[i] as number);
    const ratio = Math.exp(logRatio);
    const surr1 = adv * ratio;
    const surr2 = adv * Math.min(Math.max(ratio, lo), hi);
    policyLoss -= Math.min(surr1, surr2);
    // d(−min(surr1, surr2))/d logp: the clipped term is constant outside [lo, hi]
    const clippedActive = (adv > 0 && ratio > hi) || (adv < 0 && ratio < lo);
    const gLogp = clippedActive ? 0 : (-adv * ratio) / B;
    const { entropy } = dist.rowGradient(logits, mb.masks, mb.actions, i, gLogp, -s.entCoef / B, dLogits);
    entropySum += entropy;
    kl += ratio - 1 - logRatio;
    if (Math.abs(ratio - 1) > s.clipRange) clipped++;
    ratioSum += ratio;
    ratioDev = Math.max(ratioDev, Math.abs(ratio - 1));
  }
  return {
    policyLoss: policyLoss / B,
    entropyLoss: -entropySum / B,
    approxKl: kl / B,
    clipFraction: clipped / B,
    ratioMean: ratioSum / B,
    ratioMaxDeviation: ratioDev,
  };
}

/** The value loss (SB3: mean squared error, optionally against clipped values) and vf_coef × its gradient with respect to the values. */
export function valueLossGrad(
  values: Float32Array,
  mb: Pick<MinibatchData, 'batch' | 'oldValues' | 'returns'>,
  s: Pick<PpoLossSettings, 'clipRangeVf' | 'vfCoef'>,
  dValues: Float32Array,
): number {
  const B = mb.batch;
  let valueLoss = 0;
  for (let i = 0; i < B; i++) {
    const v = values[i] as number;
    const oldV = mb.oldValues[i] as number;
    let vPred = v;
    let passes = 1;
    if (s.clipRangeVf !== null) {
      const delta = v - oldV;
      if (delta > s.clipRangeVf || delta < -s.clipRangeVf) passes = 0;
      vPred = oldV + Math.min(Math.max(delta, -s.clipRangeVf), s.clipRangeVf);
    }
    const err = vPred - (mb.returns[i] as number);
    valueLoss += err * err;
    dValues[i] = (s.vfCoef * 2 * err * passes) / B;
  }
  return valueLoss / B;
}
