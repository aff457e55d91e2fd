import { describe, expect, it } from 'vitest';
import { UnknownIdError } from '../envs/core/errors.js';
import { HELIX_TASK_IDS } from '../envs/helixdesk/graders.js';
import { HelixRandomAgent } from './helixdesk-random.js';
import { HelixRuleAgent } from './helixdesk-rule.js';
import { runHelixTask } from './run-helixdesk.js';

describe('HelixDesk graded tasks', () => {
  it('return scores in [0, 1] with their parts, deterministic per seed', async () => {
    for (const task of HELIX_TASK_IDS) {
      for (const agent of [new HelixRuleAgent(), new HelixRandomAgent()]) {
        for (const seed of [0, 42, 2026]) {
          const g = await runHelixTask(agent, task, seed);
          expect(g.score).toBeGreaterThanOrEqual(0);
          expect(g.score).toBeLessThanOrEqual(1);
          expect(Object.keys(g.metrics).length).toBeGreaterThan(0);
          expect(await runHelixTask(agent, task, seed)).toEqual(g);
        }
      }
    }
  });

  it('easy: the rule agent handles every flagged email; the score is correct / flagged', async () => {
    for (let seed = 0; seed < 40; seed++)
      expect((await runHelixTask(new HelixRuleAgent(), 'easy', seed)).score).toBe(1);
    // A seed with flagged emails in the first 20, for the random agent: score = correct / flagged.
    const all = await Promise.all(
      Array.from({ length: 40 }, (_, s) => runHelixTask(new HelixRandomAgent(), 'easy', s)),
    );
    const graded = all.filter((g) => (g.metrics.flagged ?? 0) > 0);
    expect(graded.length).toBeGreaterThan(5);
    for (const g of graded)
      expect(g.score).toBeCloseTo((g.metrics.correct as number) / (g.metrics.flagged as number), 12);
    expect((await runHelixTask(new HelixRuleAgent(), 'easy', 1)).steps).toBe(20);
  });

  it('the parts combine as documented', async () => {
    const hard = await runHelixTask(new HelixRandomAgent(), 'hard', 5);
    const p = hard.metrics;
    expect(hard.score).toBeCloseTo(
      Math.min(1, ((p.trend as number) + (p.csat as number) + (p.overdue as number)) / 3),
      12,
    );
    const expert = await runHelixTask(new HelixRuleAgent(), 'expert', 5);
    const q = expert.metrics;
    expect(expert.score).toBeCloseTo(
      Math.sqrt((q.keyword as number) * (q.classify as number) * (q.review as number)),
      12,
    );
    const medium = await runHelixTask(new HelixRuleAgent(), 'medium', 5);
    expect(medium.score).toBeCloseTo(
      (medium.metrics.resolving_steps as number) / (medium.metrics.assigning_steps as number),
      12,
    );
  });

  it('separate the rule agent from the random one on average', async () => {
    const mean = async (task: string, make: () => HelixRuleAgent | HelixRandomAgent): Promise<number> => {
      const records = await Promise.all(Array.from({ length: 20 }, (_, s) => runHelixTask(make(), task, s)));
      return records.reduce((a, r) => a + r.score, 0) / 20;
    };
    for (const task of ['medium', 'hard', 'expert']) {
      expect(await mean(task, () => new HelixRuleAgent())).toBeGreaterThan(
        await mean(task, () => new HelixRandomAgent()),
      );
    }
  });

  it('an unknown task lists the tasks', () => {
    expect(() => runHelixTask(new HelixRuleAgent(), 'legendary', 0)).toThrow(UnknownIdError);
    expect(() => runHelixTask(new HelixRuleAgent(), 'legendary', 0)).toThrow(/known tasks: easy, medium, hard, expert/);
  });
});
