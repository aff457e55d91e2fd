/**
 * Milliseconds per PPO minibatch update of queue-rl's own update path (the GradientStep a PpoRun
 * builds: actor and critic forward, loss, backward, global clipping, Adam; 1 or 2 threads), on random
 * minibatches of the run's shapes — the same work scripts/bench/torch_update.py times in PyTorch.
 */

import { createStream } from '../../envs/core/random/streams.js';
import { loadPpoConfig } from '../../training/ppo/config.js';
import { PpoRun } from '../../training/ppo/run.js';

export interface UpdateTiming {
  forwardMs: number;
  backwardOptimizerMs: number;
  updateMs: number;
}

/** Median per-minibatch times over `repeats` blocks of `steps` updates, after `warmup` updates. */
export async function timeOurUpdate(
  net: string,
  threads: '1' | '2',
  backend: string,
  opts = { steps: 200, repeats: 5, warmup: 50 },
): Promise<UpdateTiming> {
  const config = loadPpoConfig('gov-phase1', [
    ['--net-arch', net],
    ['--update-threads', threads],
    ['--backend', backend],
    ['--eval.freq', '0'],
    ['--checkpoint.freq', '0'],
  ]);
  const run = await PpoRun.create(config, null, () => undefined);
  try {
    const mb = run.minibatch;
    const B = config.batch_size;
    const O = run.spec.observationSize;
    const M = run.spec.maskLength;
    const rng = createStream(1, 'bench-update');
    for (let i = 0; i < B; i++) {
      for (let k = 0; k < O; k++) {
        const x = rng.next();
        mb.obs[i * O + k] = x;
        mb.obsT[k * B + i] = x;
      }
      for (let a = 0; a < M; a++) mb.masks[i * M + a] = a === 0 || rng.next() > 0.3 ? 1 : 0;
      let action = 0;
      do action = Math.floor(rng.next() * M);
      while (mb.masks[i * M + action] !== 1);
      mb.actions[i] = action;
      mb.oldLogProbs[i] = -2;
      mb.oldValues[i] = 0;
      mb.advantages[i] = rng.next() * 2 - 1;
      mb.returns[i] = rng.next() * 2 - 1;
    }
    const step = (): void => {
      run.gradientStep.run(mb, B, config.learning_rate as number);
    };
    const engine = run.policy.engine;
    const forward = (): void => {
      engine.actor.forwardTrain(mb.obs, mb.obsT, B, mb.logits);
      engine.critic.forwardTrain(mb.obs, mb.obsT, B, mb.values);
      engine.actor.discardActivations();
      engine.critic.discardActivations();
    };
    for (let i = 0; i < opts.warmup; i++) step();
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const time = (f: () => void): number => {
      const blocks: number[] = [];
      for (let r = 0; r < opts.repeats; r++) {
        const t0 = performance.now();
        for (let i = 0; i < opts.steps; i++) f();
        blocks.push((performance.now() - t0) / opts.steps);
      }
      return median(blocks);
    };
    const updateMs = time(step);
    const forwardMs = time(forward);
    return { forwardMs, backwardOptimizerMs: updateMs - forwardMs, updateMs };
  } finally {
    await run.close();
  }
}
