/** Builds vector-env results from the batch buffers (shared by both implementations). */
import type { VecBuffers } from './buffers.js';
import type { CompletedEpisode, VecStepResult } from './vector-env.js';

export function completedEpisodes(
  buf: VecBuffers,
  metricNames: readonly string[],
  graded: boolean,
): CompletedEpisode[] {
  const out: CompletedEpisode[] = [];
  const stride = buf.episodeStride;
  for (let i = 0; i < buf.shape.numEnvs; i++) {
    if (buf.terminated[i] !== 1 && buf.truncated[i] !== 1) continue;
    const row = i * stride;
    const metrics: Record<string, number> = {};
    metricNames.forEach((name, k) => {
      metrics[name] = buf.episodes[row + 3 + k] as number;
    });
    const score = buf.episodes[row + 2] as number;
    out.push({
      envIndex: i,
      return: buf.episodes[row] as number,
      length: buf.episodes[row + 1] as number,
      score: graded && !Number.isNaN(score) ? score : null,
      metrics,
    });
  }
  return out;
}

export function stepResult(buf: VecBuffers, metricNames: readonly string[], graded: boolean): VecStepResult {
  return {
    observations: buf.observations,
    masks: buf.masks,
    rewards: buf.rewards,
    terminated: buf.terminated,
    truncated: buf.truncated,
    finalObservations: buf.finalObservations,
    episodes: completedEpisodes(buf, metricNames, graded),
  };
}

/** Copies caller actions into the action buffer after checking their count. */
export function loadActions(target: Int32Array, actions: ArrayLike<number> | undefined, actionDims: number): void {
  if (actions === undefined) return;
  if (actions.length !== target.length) {
    throw new RangeError(
      `step: expected ${target.length} action integers (${target.length / actionDims} envs × ${actionDims}), got ` +
        `${actions.length}`,
    );
  }
  for (let k = 0; k < target.length; k++) target[k] = actions[k] as number;
}
