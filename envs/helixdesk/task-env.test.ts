import { describe, expect, it } from 'vitest';
import { createStream } from '../core/random/streams.js';
import { HELIX_TASK_IDS } from './graders.js';
import { HelixTaskEnv } from './task-env.js';

type Reward = ConstructorParameters<typeof HelixTaskEnv>[2];

/** A seeded random episode of the task; Σ reward, Σ env reward, final score. */
function play(task: string, reward: Reward, seed = 8) {
  const env = new HelixTaskEnv(task, {}, reward);
  const rng = createStream(5, 'helix-reward', task);
  env.reset({ seed });
  let total = 0;
  let envTotal = 0;
  let negative = 0;
  for (;;) {
    const a = Int32Array.of(rng.int(3), rng.int(4), rng.int(6), rng.int(3));
    const r = env.step(a);
    total += r.reward;
    envTotal += r.info.env_reward as number;
    if (r.reward < 0) negative++;
    if (r.terminated || r.truncated) return { total, envTotal, negative, score: env.grade().score };
  }
}

describe('HelixDesk task env reward modes', () => {
  it.each(HELIX_TASK_IDS)(
    '%s: a grader episode returns scale × its score; mix adds the weighted env return',
    (task) => {
      const env = play(task, undefined);
      expect(env.total).toBe(env.envTotal);
      const grader = play(task, { mode: 'grader', graderScale: 10 });
      expect(grader.score).toBe(env.score);
      expect(grader.total).toBeCloseTo(10 * grader.score, 9);
      const mix = play(task, { mode: 'mix', graderScale: 10, envWeight: 0.5 });
      expect(mix.total).toBeCloseTo(10 * env.score + 0.5 * env.envTotal, 9);
    },
  );

  it('the score can fall within an episode, so grader rewards can be negative', () => {
    let negatives = 0;
    for (let seed = 0; seed < 5; seed++) negatives += play('medium', { mode: 'grader' }, seed).negative;
    expect(negatives).toBeGreaterThan(0);
  });

  it('a snapshot carries the score the next step is measured from', () => {
    const env = new HelixTaskEnv('medium', {}, { mode: 'grader' });
    env.reset({ seed: 3 });
    const a = Int32Array.of(1, 0, 2, 2);
    for (let i = 0; i < 10; i++) env.step(a);
    const snap = env.snapshot();
    const next = env.step(a).reward;
    env.reset({ seed: 4 });
    env.restore(snap);
    expect(env.step(a).reward).toBe(next);
  });
});
