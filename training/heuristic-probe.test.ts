import { describe, expect, it } from 'vitest';
import { HeuristicAgent } from '../agents/gov-rules.js';
import { runGovEpisode } from '../agents/run-episode.js';
import { probeHeuristic } from './heuristic-probe.js';

describe('probe:heuristic', () => {
  it('pairs each changed heuristic with the unchanged one on the same seeds', async () => {
    const rows = await probeHeuristic(
      ['district_backlog_easy'],
      [1000, 1001, 1002],
      [
        { label: 'unchanged', options: {} },
        { label: 'oldest', options: { priorityMode: 'oldest_first' } },
      ],
    );
    expect(rows.map((r) => r.variant)).toEqual(['unchanged', 'oldest']);
    expect(rows[0]?.difference).toEqual({ n: 3, mean: 0, sd: 0, se: 0 });
    const oldest = await Promise.all(
      [1000, 1001, 1002].map(async (seed) => ({
        changed: (
          await runGovEpisode(new HeuristicAgent({ priorityMode: 'oldest_first' }), {
            taskId: 'district_backlog_easy',
            seed,
          })
        ).score,
        base: (await runGovEpisode(new HeuristicAgent(), { taskId: 'district_backlog_easy', seed })).score,
      })),
    );
    const mean = oldest.reduce((s, x) => s + x.changed - x.base, 0) / 3;
    expect(rows[1]?.difference.n).toBe(3);
    expect(rows[1]?.difference.mean).toBeCloseTo(mean, 12);
    expect(rows[1]?.difference.mean).toBeGreaterThan(0);
  });
});
