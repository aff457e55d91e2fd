/**
 * Collecting a rollout (SB3 `collect_rollouts`): n_steps vector steps of the current policy, every
 * transition stored with its action mask; a truncated (not terminated) episode bootstraps its last
 * reward from the value of its true final observation, never from the observation the same-step
 * autoreset put in its place (docs/ppo.md).
 */
import type { CompletedEpisode } from '../../envs/vector/vector-env.js';
import type { PpoRun } from './run.js';

/** Scratch arrays of a rollout (allocated once per run). */
export interface RolloutScratch {
  actions: Int32Array;
  logProbs: Float64Array;
  values: Float32Array;
  observations: Float32Array;
  rewards: Float32Array;
  dones: Uint8Array;
  finalObservations: Float32Array;
  finalValues: Float32Array;
}

export function rolloutScratch(run: PpoRun): RolloutScratch {
  const { numEnvs: N, observationSize: O, actionDims: D } = run.shape;
  return {
    actions: new Int32Array(N * D),
    logProbs: new Float64Array(N),
    values: new Float32Array(N),
    observations: new Float32Array(N * O),
    rewards: new Float32Array(N),
    dones: new Uint8Array(N),
    finalObservations: new Float32Array(N * O),
    finalValues: new Float32Array(N),
  };
}

/** Fills the run's buffer with n_steps vector steps; returns the episodes that ended. */
export async function collectRollout(
  run: PpoRun,
  scratch: RolloutScratch,
  breathe: () => Promise<void>,
): Promise<CompletedEpisode[]> {
  const { policy, buffer, state, config } = run;
  const { numEnvs: N, observationSize: O } = run.shape;
  const s = scratch;
  buffer.reset();
  const completed: CompletedEpisode[] = [];
  for (let t = 0; t < config.n_steps; t++) {
    s.observations.set(policy.prepare(state.observations, N).subarray(0, N * O));
    policy.act(
      { observations: s.observations, masks: state.masks, batch: N, deterministic: false, rng: state.actionRng },
      { actions: s.actions, logProbs: s.logProbs, values: s.values },
    );
    buffer.store(t, s.observations, s.actions, state.masks, state.lastEpisodeStarts, s.values, s.logProbs);
    const r = await run.vec.step(s.actions);
    await breathe();
    state.numTimesteps += N;
    // Truncated (not terminated) episodes: bootstrap from the true final observation.
    let truncatedCount = 0;
    for (let i = 0; i < N; i++) {
      s.dones[i] = r.terminated[i] || r.truncated[i] ? 1 : 0;
      if (r.truncated[i] && !r.terminated[i])
        s.finalObservations.set(r.finalObservations.subarray(i * O, (i + 1) * O), truncatedCount++ * O);
    }
    if (run.rewardNormalizer) run.rewardNormalizer.normalize(r.rewards, s.dones, s.rewards);
    else s.rewards.set(r.rewards);
    if (truncatedCount > 0) {
      const finals = s.finalObservations.subarray(0, truncatedCount * O);
      policy.predictValues(policy.prepare(finals, truncatedCount), truncatedCount, s.finalValues);
      for (let i = 0, k = 0; i < N; i++) {
        if (r.truncated[i] && !r.terminated[i])
          s.rewards[i] = (s.rewards[i] as number) + config.gamma * (s.finalValues[k++] as number);
      }
    }
    buffer.storeRewards(t, s.rewards);
    completed.push(...r.episodes);
    state.lastEpisodeStarts = Uint8Array.from(s.dones);
    state.observations = r.observations;
    state.masks = r.masks;
    policy.normalizer?.update(state.observations, N);
  }
  return completed;
}

/** GAE(λ) over the buffer, bootstrapping from the value of the observations after the last step. */
export function computeAdvantages(run: PpoRun, scratch: RolloutScratch): void {
  const { policy, state, config } = run;
  const N = run.shape.numEnvs;
  policy.predictValues(policy.prepare(state.observations, N), N, scratch.values);
  run.buffer.computeReturnsAndAdvantage(scratch.values, state.lastEpisodeStarts, config.gamma, config.gae_lambda);
}
