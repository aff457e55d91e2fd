/**
 * Masked categorical distributions over logits, in JS (sb3-contrib MaskableCategorical /
 * MaskableMultiCategoricalDistribution):
 *   - a masked entry's logit is replaced by −1e8 (not −∞, so p·log p stays finite);
 *   - MultiDiscrete: one segment of the logits and of the flat mask per dimension; log-probs and
 *     entropies are summed over dimensions;
 *   - entropy leaves masked entries out (their p·log p is set to 0).
 * Sampling uses the run's seeded stream (one uniform per dimension, inverse CDF), so a run's actions
 * depend on its seed and not on the tfjs backend's RNG. Per-row log-probabilities and their
 * gradients (rowLogProb, rowGradient) serve the PPO and GRPO losses (training/); masked logits get
 * exactly zero gradient.
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
  /** Actions (batch × dims) sampled from `rng` or the most likely allowed ones, with their log-probabilities. */
  act(
    request: {
      logits: Float32Array;
      masks: Uint8Array;
      batch: number;
      deterministic: boolean;
      rng: RandomStream | null;
    },
    out: { actions: Int32Array; logProbs: Float64Array },
  ): void {
    const { logits, masks, batch, deterministic, rng } = request;
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
        out.actions[i * this.dims + d] = choice;
        logp += (logits[start + choice] as number) - lse;
      }
      out.logProbs[i] = logp;
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
          `policy logits are NaN (row ${row}): a weight or an input feature is not finite (after an update: the run ` +
            `diverged; try a lower learning_rate or normalize_reward)`,
        );
      throw new Error(`action mask of row ${row}, dimension ${dim} allows no action: the env must allow at least one`);
    }
    let sum = 0;
    for (let k = 0; k < n; k++) if (masks[start + k] === 1) sum += Math.exp((logits[start + k] as number) - max);
    return max + Math.log(sum);
  }
}
