import { describe, expect, it } from 'vitest';
import { HelixRandomAgent } from '../../agents/helixdesk-random.js';
import { HelixRuleAgent } from '../../agents/helixdesk-rule.js';
import { UnknownIdError } from '../core/errors.js';
import { gradeHelixTask, HELIX_TASK_IDS } from './graders.js';

describe('HelixDesk graders', () => {
  it('return scores in [0, 1] with their parts, deterministic per seed', () => {
    for (const task of HELIX_TASK_IDS) {
      for (const agent of [new HelixRuleAgent(), new HelixRandomAgent()]) {
        for (const seed of [0, 42, 2026]) {
          const g = gradeHelixTask(task, agent, seed);
          expect(g.score).toBeGreaterThanOrEqual(0);
          expect(g.score).toBeLessThanOrEqual(1);
          expect(Object.keys(g.parts).length).toBeGreaterThan(0);
          expect(gradeHelixTask(task, agent, seed)).toEqual(g);
        }
      }
    }
  });

  it('easy: the rule agent handles every flagged email; the score is correct / flagged', () => {
    for (let seed = 0; seed < 40; seed++) expect(gradeHelixTask('easy', new HelixRuleAgent(), seed).score).toBe(1);
    // A seed with flagged emails in the first 20, for the random agent: score = correct / flagged.
    const graded = Array.from({ length: 40 }, (_, s) => gradeHelixTask('easy', new HelixRandomAgent(), s)).filter(
      (g) => (g.parts.flagged ?? 0) > 0,
    );
    expect(graded.length).toBeGreaterThan(5);
    for (const g of graded) expect(g.score).toBeCloseTo((g.parts.correct as number) / (g.parts.flagged as number), 12);
    expect(gradeHelixTask('easy', new HelixRuleAgent(), 1).steps).toBe(20);
  });

  it('the parts combine as documented', () => {
    const hard = gradeHelixTask('hard', new HelixRandomAgent(), 5);
    const p = hard.parts as Record<string, number>;
    expect(hard.score).toBeCloseTo(
      Math.min(1, ((p.trend as number) + (p.csat as number) + (p.overdue as number)) / 3),
      12,
    );
    const expert = gradeHelixTask('expert', new HelixRuleAgent(), 5);
    const q = expert.parts as Record<string, number>;
    expect(expert.score).toBeCloseTo(
      Math.sqrt((q.keyword as number) * (q.classify as number) * (q.review as number)),
      12,
    );
    const medium = gradeHelixTask('medium', new HelixRuleAgent(), 5);
    expect(medium.score).toBeCloseTo(
      (medium.parts.resolving_steps as number) / (medium.parts.assigning_steps as number),
      12,
    );
  });

  it('separate the rule agent from the random one on average', () => {
    const mean = (task: string, make: () => HelixRuleAgent | HelixRandomAgent): number =>
      Array.from({ length: 20 }, (_, s) => gradeHelixTask(task, make(), s).score).reduce((a, b) => a + b) / 20;
    for (const task of ['medium', 'hard', 'expert']) {
      expect(mean(task, () => new HelixRuleAgent())).toBeGreaterThan(mean(task, () => new HelixRandomAgent()));
    }
  });

  it('an unknown task lists the tasks', () => {
    expect(() => gradeHelixTask('legendary', new HelixRuleAgent(), 0)).toThrow(UnknownIdError);
    expect(() => gradeHelixTask('legendary', new HelixRuleAgent(), 0)).toThrow(
      /known tasks: easy, medium, hard, expert/,
    );
  });
});
