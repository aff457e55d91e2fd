/**
 * Uniform random actions among the allowed ones, for every env of a batch: per action dimension, a
 * uniform choice among the entries its mask segment allows (an all-masked segment gives 0).
 * Used by the rollout tool, the benchmarks and the random baselines of vector runs.
 */
import type { RandomStream } from '../core/random/streams.js';
import type { EnvSpec } from '../core/registry.js';

export function actionSizes(spec: EnvSpec): readonly number[] {
  const space = spec.actionSpace;
  return 'nvec' in space ? space.nvec : [space.n];
}

/** Writes numEnvs × actionDims actions into `out`. */
export function sampleMaskedActions(
  spec: EnvSpec,
  numEnvs: number,
  masks: Uint8Array,
  rng: RandomStream,
  out: Int32Array,
): Int32Array {
  const sizes = actionSizes(spec);
  const dims = spec.actionDims;
  const maskLength = spec.maskLength;
  for (let i = 0; i < numEnvs; i++) {
    let offset = i * maskLength;
    for (let d = 0; d < sizes.length; d++) {
      const n = sizes[d] as number;
      let allowed = 0;
      for (let k = 0; k < n; k++) allowed += masks[offset + k] as number;
      let choice = 0;
      if (allowed > 0) {
        let pick = rng.int(allowed);
        for (let k = 0; k < n; k++) {
          if (masks[offset + k] === 1 && pick-- === 0) {
            choice = k;
            break;
          }
        }
      }
      out[i * dims + d] = choice;
      offset += n;
    }
  }
  return out;
}
