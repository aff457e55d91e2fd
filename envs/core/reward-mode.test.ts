import { describe, expect, it } from 'vitest';
import { DEFAULT_GRADER_SCALE, RewardSettingsSchema, rewardSettings, shapedReward } from './reward-mode.js';

describe('reward modes', () => {
  it('env pays the env reward unchanged, whatever the scores (negative, zero, −0 included)', () => {
    const env = rewardSettings({ mode: 'env' });
    for (const r of [-1251.04, -0, 0, 3.5]) expect(Object.is(shapedReward(env, r, 0.4, 0.9), r)).toBe(true);
    expect(rewardSettings(undefined)).toEqual(env);
  });

  it('grader pays scale × the score change, negative when the score drops', () => {
    const g = rewardSettings({ mode: 'grader' });
    expect(g.graderScale).toBe(DEFAULT_GRADER_SCALE);
    expect(shapedReward(g, -999, 0.5, 0.75)).toBe(25);
    expect(shapedReward(g, 999, 0.75, 0.5)).toBe(-25);
    expect(shapedReward(g, 999, 0.5, 0.5)).toBe(0);
    expect(shapedReward(rewardSettings({ mode: 'grader', graderScale: 1 }), 0, 0, 0.3)).toBeCloseTo(0.3, 15);
  });

  it('mix adds the weighted env reward', () => {
    const m = rewardSettings({ mode: 'mix', graderScale: 10, envWeight: 0.5 });
    expect(shapedReward(m, -4, 0.1, 0.2)).toBeCloseTo(10 * 0.1 - 2, 12);
    expect(rewardSettings({ mode: 'mix' }).envWeight).toBe(0.01);
  });

  it('rejects bad settings, naming the field', () => {
    for (const bad of [
      { mode: 'score' },
      { mode: 'grader', graderScale: 0 },
      { mode: 'grader', graderScale: -1 },
      { mode: 'grader', graderScale: Number.NaN },
      { mode: 'grader', graderScale: Number.POSITIVE_INFINITY },
      { mode: 'mix', envWeight: -0.1 },
      { mode: 'env', extra: 1 },
    ]) {
      expect(RewardSettingsSchema.safeParse(bad).success).toBe(false);
    }
    expect(RewardSettingsSchema.safeParse({ mode: 'mix', envWeight: 0 }).success).toBe(true);
  });
});
