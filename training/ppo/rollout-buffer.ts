/**
 * The rollout buffer (SB3 MaskableRolloutBuffer) on typed arrays: n_steps × n_envs transitions of
 * observation, action, action mask (stored and re-applied in the update, so the ratio is exactly 1
 * on the first minibatch), reward, episode start, value and log-probability; then GAE(λ).
 *
 * Truncation: the collector adds γ·V(final observation) to the reward of a step whose episode was
 * truncated (and not terminated), and the step then counts as an episode end here — SB3's trick
 * (docs/ppo.md). The bootstrap never uses the reset observation that same-step autoreset puts
 * in the batch.
 */

export class RolloutBuffer {
  readonly size: number;
  readonly observations: Float32Array;
  readonly actions: Int32Array;
  readonly masks: Uint8Array;
  readonly rewards: Float32Array;
  /** 1 where the observation is the first of an episode (SB3 episode_starts). */
  readonly episodeStarts: Uint8Array;
  readonly values: Float32Array;
  /** Float64 so the update's recomputed log-probability matches bit for bit (ratio exactly 1). */
  readonly logProbs: Float64Array;
  readonly advantages: Float32Array;
  readonly returns: Float32Array;
  private pos = 0;

  constructor(
    readonly nSteps: number,
    readonly nEnvs: number,
    readonly observationSize: number,
    readonly actionDims: number,
    readonly maskLength: number,
  ) {
    this.size = nSteps * nEnvs;
    this.observations = new Float32Array(this.size * observationSize);
    this.actions = new Int32Array(this.size * actionDims);
    this.masks = new Uint8Array(this.size * maskLength);
    this.rewards = new Float32Array(this.size);
    this.episodeStarts = new Uint8Array(this.size);
    this.values = new Float32Array(this.size);
    this.logProbs = new Float64Array(this.size);
    this.advantages = new Float32Array(this.size);
    this.returns = new Float32Array(this.size);
  }

  get full(): boolean {
    return this.pos === this.nSteps;
  }

  get step(): number {
    return this.pos;
  }

  reset(): void {
    this.pos = 0;
  }

  /**
   * Stores vector step t's observations (as the policy saw them), actions, masks, episode starts, values and log-probs.
   */
  store(
    t: number,
    observations: Float32Array,
    actions: Int32Array,
    masks: Uint8Array,
    episodeStarts: Uint8Array,
    values: Float32Array,
    logProbs: Float64Array,
  ): void {
    if (t !== this.pos || t >= this.nSteps)
      throw new Error(`rollout buffer: step ${t} stored out of order (next is ${this.pos} of ${this.nSteps})`);
    const n = this.nEnvs;
    this.observations.set(observations.subarray(0, n * this.observationSize), t * n * this.observationSize);
    this.actions.set(actions.subarray(0, n * this.actionDims), t * n * this.actionDims);
    this.masks.set(masks.subarray(0, n * this.maskLength), t * n * this.maskLength);
    this.episodeStarts.set(episodeStarts.subarray(0, n), t * n);
    this.values.set(values.subarray(0, n), t * n);
    this.logProbs.set(logProbs.subarray(0, n), t * n);
    this.pos++;
  }

  /** Step t's rewards (after the step; truncation bootstraps already added). */
  storeRewards(t: number, rewards: Float32Array): void {
    if (t >= this.pos) throw new Error(`rollout buffer: rewards of step ${t} before its observations`);
    this.rewards.set(rewards.subarray(0, this.nEnvs), t * this.nEnvs);
  }

  /**
   * GAE(λ) (SB3 compute_returns_and_advantage): `lastValues` = V of the observations after the last
   * step, `dones` = whether each env's episode ended on the last step.
   *   δ_t = r_t + γ·V_{t+1}·(1 − done_t) − V_t,   A_t = δ_t + γλ·(1 − done_t)·A_{t+1},   R_t = A_t + V_t
   */
  computeReturnsAndAdvantage(lastValues: Float32Array, dones: Uint8Array, gamma: number, lambda: number): void {
    if (!this.full) throw new Error(`GAE needs a full buffer (${this.pos}/${this.nSteps} steps)`);
    const n = this.nEnvs;
    for (let e = 0; e < n; e++) {
      let lastGae = 0;
      for (let t = this.nSteps - 1; t >= 0; t--) {
        let nextNonTerminal: number;
        let nextValue: number;
        if (t === this.nSteps - 1) {
          nextNonTerminal = 1 - (dones[e] as number);
          nextValue = lastValues[e] as number;
        } else {
          nextNonTerminal = 1 - (this.episodeStarts[(t + 1) * n + e] as number);
          nextValue = this.values[(t + 1) * n + e] as number;
        }
        const k = t * n + e;
        const delta = (this.rewards[k] as number) + gamma * nextValue * nextNonTerminal - (this.values[k] as number);
        lastGae = delta + gamma * lambda * nextNonTerminal * lastGae;
        this.advantages[k] = lastGae;
        this.returns[k] = lastGae + (this.values[k] as number);
      }
    }
  }
}

/** Explained variance of predictions (SB3 explained_variance): 1 − Var(y − ŷ)/Var(y); NaN when Var(y) = 0. */
export function explainedVariance(predicted: Float32Array, target: Float32Array): number {
  const n = target.length;
  let my = 0;
  let md = 0;
  for (let i = 0; i < n; i++) {
    my += target[i] as number;
    md += (target[i] as number) - (predicted[i] as number);
  }
  my /= n;
  md /= n;
  let vy = 0;
  let vd = 0;
  for (let i = 0; i < n; i++) {
    vy += ((target[i] as number) - my) ** 2;
    vd += ((target[i] as number) - (predicted[i] as number) - md) ** 2;
  }
  return vy === 0 ? Number.NaN : 1 - vd / vy;
}
