/**
 * The PPO loss of a minibatch (SB3 `PPO.train`) and its gradient with respect to the logits and
 * values, which the engine back-propagates through the MLPs (agents/policy/engine.ts).
 */
import type { MaskedDistribution } from '../../agents/policy/distributions.js';

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
  /** KL(π_warm ‖ π) of the minibatch before its step (init_kl), or null. */
  klToAnchor?: number | null;
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

/**
 * The value loss (SB3: mean squared error, optionally against clipped values) and vf_coef × its gradient with respect
 * to the values.
 */
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

/**
 * coef × KL(π_anchor ‖ π) summed over the action dimensions, averaged over the minibatch, and its
 * gradient coef/B × (p − p_anchor) per masked-in logit, added into dLogits. Returns the mean KL.
 */
export function anchorKlGrad(
  nvec: readonly number[],
  logits: Float32Array,
  anchorLogits: Float32Array,
  masks: Uint8Array,
  batch: number,
  coef: number,
  dLogits: Float32Array,
): number {
  const A = nvec.reduce((a, b) => a + b, 0);
  let kl = 0;
  for (let i = 0; i < batch; i++) {
    let offset = 0;
    for (const n of nvec) {
      const start = i * A + offset;
      const lse = maskedLogSumExp(logits, masks, start, n);
      const lseAnchor = maskedLogSumExp(anchorLogits, masks, start, n);
      for (let k = 0; k < n; k++) {
        if (masks[start + k] !== 1) continue;
        const lp = (logits[start + k] as number) - lse;
        const lq = (anchorLogits[start + k] as number) - lseAnchor;
        const q = Math.exp(lq);
        kl += q * (lq - lp);
        dLogits[start + k] = (dLogits[start + k] as number) + (coef / batch) * (Math.exp(lp) - q);
      }
      offset += n;
    }
  }
  return kl / batch;
}

function maskedLogSumExp(logits: Float32Array, masks: Uint8Array, start: number, n: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < n; k++)
    if (masks[start + k] === 1 && (logits[start + k] as number) > max) max = logits[start + k] as number;
  let sum = 0;
  for (let k = 0; k < n; k++) if (masks[start + k] === 1) sum += Math.exp((logits[start + k] as number) - max);
  return max + Math.log(sum);
}
