import { describe, expect, it } from 'vitest';
import type { EpisodeRecord } from '../agents/types.js';
import { bestAgent, formatDifference, pairedDifference, scoreStats } from './comparison.js';

const rec = (agent: string, seed: number, score: number, task = 't'): EpisodeRecord => ({
  env: 'e',
  task,
  agent,
  seed,
  score,
  reward: 0,
  steps: 1,
  metrics: {},
});

describe('paired comparisons', () => {
  it('pairs by seed: mean, sample sd and standard error of the differences', () => {
    const records = [
      rec('p', 1, 0.5),
      rec('p', 2, 0.7),
      rec('p', 3, 0.9),
      rec('r', 3, 0.6),
      rec('r', 1, 0.4),
      rec('r', 2, 0.7),
      rec('r', 4, 0.1), // not played by p: left out
      rec('p', 1, 0.0, 'other'),
    ];
    const d = pairedDifference(records, 't', 'p', 'r');
    expect(d.n).toBe(3);
    expect(d.mean).toBeCloseTo((0.1 + 0 + 0.3) / 3, 12);
    const sd = Math.sqrt(((0.1 - 0.4 / 3) ** 2 + (0 - 0.4 / 3) ** 2 + (0.3 - 0.4 / 3) ** 2) / 2);
    expect(d.sd).toBeCloseTo(sd, 12);
    expect(d.se).toBeCloseTo(sd / Math.sqrt(3), 12);
    expect(scoreStats(records, 't', 'r')).toEqual({ mean: expect.closeTo(0.45, 12), sd: expect.any(Number), n: 4 });
    expect(bestAgent(records, 't', ['r', 'p'])).toBe('p');
  });

  it('edges: no common seed, one seed, equal scores, negative differences', () => {
    expect(pairedDifference([rec('p', 1, 1)], 't', 'p', 'r')).toEqual({ n: 0, mean: NaN, sd: NaN, se: NaN });
    expect(pairedDifference([rec('p', 1, 1), rec('r', 1, 0.25)], 't', 'p', 'r')).toEqual({
      n: 1,
      mean: 0.75,
      sd: 0,
      se: 0,
    });
    const tie = pairedDifference([rec('p', 1, 0.3), rec('r', 1, 0.3)], 't', 'p', 'r');
    expect(formatDifference(tie)).toBe('+0.0000 ± 0.0000');
    const worse = pairedDifference(
      [rec('p', 1, 0.2), rec('r', 1, 0.3), rec('p', 2, 0.1), rec('r', 2, 0.3)],
      't',
      'p',
      'r',
    );
    expect(formatDifference(worse)).toBe('−0.1500 ± 0.0500');
    expect(formatDifference({ n: 0, mean: NaN, sd: NaN, se: NaN })).toBe('n/a');
    expect(formatDifference({ n: 1, mean: -0, sd: 0, se: 0 })).toBe('−0.0000 ± 0.0000');
    expect(scoreStats([], 't', 'p')).toEqual({ mean: NaN, sd: NaN, n: 0 });
  });
});
