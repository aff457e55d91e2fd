import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../core/errors.js';
import { createStream } from '../core/random/streams.js';
import type { EnvOptions } from '../registry.js';
import { resolveEnv } from '../registry.js';
import { sampleMaskedActions } from '../vector/random-actions.js';
import { SyncVectorEnv } from '../vector/sync.js';
import type { CompletedEpisode } from '../vector/vector-env.js';
import type { CurriculumSpec } from './curriculum-member.js';
import { curriculumTasks, drawCurriculumTask } from './curriculum-member.js';

const EASY = 'district_backlog_easy';
const MEDIUM = 'mixed_urgency_medium';
const HARD = 'cross_department_hard';

/** The reference's Phase 2 curriculum. */
function phase2(totalTimesteps: number, numEnvs: number): CurriculumSpec {
  return {
    stages: [
      { until: 0.3, weights: { [EASY]: 1 } },
      { until: 0.7, weights: { [EASY]: 1, [MEDIUM]: 1 } },
      { until: 1, weights: { [EASY]: 0.2, [MEDIUM]: 0.4, [HARD]: 0.4 } },
    ],
    totalTimesteps,
    numEnvs,
  };
}

describe('Gov Workflow curriculum', () => {
  it('draws tasks with each stage’s weights', () => {
    const spec = phase2(1000, 1);
    const rng = createStream(3, 'curriculum-test');
    const count = (progress: number, n: number): Record<string, number> => {
      const c: Record<string, number> = {};
      for (let i = 0; i < n; i++) {
        const t = drawCurriculumTask(spec, progress, rng);
        c[t] = (c[t] ?? 0) + 1;
      }
      return c;
    };
    expect(count(0.1, 500)).toEqual({ [EASY]: 500 });
    const mid = count(0.5, 4000);
    expect(Object.keys(mid).sort()).toEqual([EASY, MEDIUM]);
    expect(Math.abs((mid[EASY] as number) / 4000 - 0.5)).toBeLessThan(4 * Math.sqrt(0.25 / 4000));
    const late = count(0.9, 5000);
    for (const [task, p] of [
      [EASY, 0.2],
      [MEDIUM, 0.4],
      [HARD, 0.4],
    ] as const) {
      expect(Math.abs((late[task] as number) / 5000 - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / 5000));
    }
    expect(drawCurriculumTask(spec, 1.5, rng)).not.toBe(undefined); // past the end: the last stage
    expect(curriculumTasks(spec)).toEqual([EASY, MEDIUM, HARD]);
  });

  it(
    'a vector env of gov-workflow/curriculum runs the stages in order of the global step count, and restores ' +
      'exactly',
    async () => {
      const numEnvs = 3;
      const total = 900; // 300 vector steps: easy only until step 90, easy/medium until 210, then easy/medium/hard
      const options = { curriculum: phase2(total, numEnvs) } as EnvOptions;
      const vec = new SyncVectorEnv('gov-workflow/curriculum', numEnvs, options);
      const rng = createStream(1, 'curriculum-vec');
      let masks = (await vec.reset(11)).masks;
      const ended: (CompletedEpisode & { step: number })[] = [];
      const startOf = new Map<number, number>(); // env → vector step its current episode started at
      for (let i = 0; i < numEnvs; i++) startOf.set(i, 0);
      let snapAt: Awaited<ReturnType<typeof vec.snapshot>> | null = null;
      const actionsAfter: Int32Array[] = [];
      const afterOriginal: { rewards: Float32Array; observations: Float32Array }[] = [];
      for (let t = 0; t < 600; t++) {
        if (t === 250) snapAt = await vec.snapshot();
        const a = sampleMaskedActions(vec.spec, numEnvs, masks, rng, vec.actionBuffer);
        if (t >= 250 && t < 400) actionsAfter.push(a.slice());
        const r = await vec.step(a);
        masks = r.masks;
        if (t >= 250 && t < 400)
          afterOriginal.push({ rewards: r.rewards.slice(), observations: r.observations.slice() });
        for (const e of r.episodes) {
          ended.push({ ...e, step: startOf.get(e.envIndex) as number });
          startOf.set(e.envIndex, t + 1);
        }
      }
      const tasks = curriculumTasks(phase2(total, numEnvs));
      expect(vec.spec.metricNames).toContain('task_index');
      expect(ended.length).toBeGreaterThan(6);
      const seen = new Set<string>();
      for (const e of ended) {
        const progress = (e.step * numEnvs) / total;
        const task = tasks[e.metrics.task_index as number] as string;
        seen.add(task);
        if (progress < 0.3) expect(task).toBe(EASY);
        else if (progress < 0.7) expect([EASY, MEDIUM]).toContain(task);
        expect(e.score).toBeGreaterThan(0);
      }
      expect(seen.size).toBe(3);
      // A fresh env restored from the snapshot at step 250 continues exactly as the original did.
      const vec2 = new SyncVectorEnv('gov-workflow/curriculum', numEnvs, options);
      await vec2.restore(snapAt as NonNullable<typeof snapAt>);
      for (let t = 0; t < actionsAfter.length; t++) {
        const r2 = await vec2.step(actionsAfter[t] as Int32Array);
        expect(r2.rewards).toEqual((afterOriginal[t] as { rewards: Float32Array }).rewards);
        expect(r2.observations).toEqual((afterOriginal[t] as { observations: Float32Array }).observations);
      }
    },
  );

  it('is only reachable as gov-workflow/curriculum with options.curriculum, with errors naming the field', () => {
    expect(() => resolveEnv('gov-workflow/curriculum')).toThrow(InvalidConfigError);
    expect(() => resolveEnv('gov-workflow/curriculum')).toThrow(/options\.curriculum.*is missing/);
    expect(() => resolveEnv(`gov-workflow/${EASY}`, { curriculum: phase2(10, 1) } as EnvOptions)).toThrow(
      /needs the id gov-workflow\/curriculum/,
    );
    expect(() =>
      resolveEnv('gov-workflow/curriculum', {
        curriculum: { stages: [{ until: 1, weights: { nope: 1 } }], totalTimesteps: 1, numEnvs: 1 },
      } as unknown as EnvOptions),
    ).toThrow(/curriculum/);
  });
});
