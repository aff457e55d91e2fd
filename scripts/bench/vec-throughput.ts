/** Median env steps/s of a vector env under random masked actions (bench:vec, bench:remote). */
import { createStream } from '../../envs/core/random/streams.js';
import { sampleMaskedActions } from '../../envs/vector/random-actions.js';
import type { VectorEnv } from '../../envs/vector/vector-env.js';

export interface ThroughputOptions {
  /** Env steps per timed run (the vector steps are this ÷ numEnvs, at least `minSteps`). */
  envSteps: number;
  runs: number;
  minSteps: number;
  /** Vector steps of the warm-up (default: as many as a timed run). */
  warmupSteps?: number;
  /** The random stream's label. */
  label: string;
}

export async function vecThroughput(vec: VectorEnv, o: ThroughputOptions): Promise<number> {
  const steps = Math.max(o.minSteps, Math.round(o.envSteps / vec.numEnvs));
  const rng = createStream(1, o.label);
  let r = await vec.reset(1);
  for (let t = 0; t < (o.warmupSteps ?? steps); t++)
    r = await vec.step(sampleMaskedActions(vec.spec, vec.numEnvs, r.masks, rng, vec.actionBuffer));
  const rates: number[] = [];
  for (let run = 0; run < o.runs; run++) {
    const t0 = performance.now();
    for (let t = 0; t < steps; t++)
      r = await vec.step(sampleMaskedActions(vec.spec, vec.numEnvs, r.masks, rng, vec.actionBuffer));
    rates.push((steps * vec.numEnvs) / ((performance.now() - t0) / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)] as number;
}
