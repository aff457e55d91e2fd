/**
 * A determinism fingerprint of a vector env: step it with seeded random masked actions (stream
 * `queue-rl/<seed>/rollout/actions`) and hash every batch it returns — observations, masks,
 * rewards, terminated and truncated flags, and the final observations of finished episodes — in
 * order. Same id, options, seed and step count → the same SHA-256, for any number of workers.
 */
import { createHash } from 'node:crypto';
import { createStream } from '../core/random/streams.js';
import { sampleMaskedActions } from './random-actions.js';
import type { CompletedEpisode, VectorEnv } from './vector-env.js';

export interface RolloutFingerprint {
  hash: string;
  envSteps: number;
  episodes: CompletedEpisode[];
  seconds: number;
}

export async function fingerprintRollout(vec: VectorEnv, seed: number, steps: number): Promise<RolloutFingerprint> {
  const h = createHash('sha256');
  const feed = (a: ArrayBufferView): void => {
    h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  };
  const rng = createStream(seed, 'rollout', 'actions');
  const o = vec.spec.observationSize;
  const t0 = performance.now();
  let r = await vec.reset(seed);
  feed(r.observations);
  feed(r.masks);
  const episodes: CompletedEpisode[] = [];
  for (let t = 0; t < steps; t++) {
    sampleMaskedActions(vec.spec, vec.numEnvs, r.masks, rng, vec.actionBuffer);
    const s = await vec.step();
    feed(s.observations);
    feed(s.masks);
    feed(s.rewards);
    feed(s.terminated);
    feed(s.truncated);
    for (const e of s.episodes) {
      feed(s.finalObservations.subarray(e.envIndex * o, (e.envIndex + 1) * o));
      episodes.push(e);
    }
    r = s;
  }
  return { hash: h.digest('hex'), envSteps: steps * vec.numEnvs, episodes, seconds: (performance.now() - t0) / 1000 };
}
