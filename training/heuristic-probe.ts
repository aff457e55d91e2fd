/**
 * How much room there is above the heuristic without knowing the future: the heuristic with one
 * rule changed against the unchanged heuristic on the same seeds, the paired difference ± its
 * standard error per task (docs/ppo.md#what-each-lever-measured). `npm run probe:heuristic`.
 */
import type { HeuristicOptions } from '../agents/gov-rules.js';
import { HeuristicAgent } from '../agents/gov-rules.js';
import { runGovEpisode } from '../agents/run-episode.js';
import type { EpisodeRecord } from '../agents/types.js';
import type { PairedDifference } from './comparison.js';
import { pairedDifference } from './comparison.js';

export interface HeuristicVariant {
  label: string;
  options: HeuristicOptions;
}

/** The one-rule changes the docs report. */
export const HEURISTIC_VARIANTS: readonly HeuristicVariant[] = [
  { label: 'priority mode oldest_first', options: { priorityMode: 'oldest_first' } },
  { label: 'priority mode backlog_clearance', options: { priorityMode: 'backlog_clearance' } },
  { label: 'priority mode balanced', options: { priorityMode: 'balanced' } },
  { label: 'no document requests in the last day', options: { noDocRequestsInLastDays: 1 } },
  { label: 'no document requests in the last 2 days', options: { noDocRequestsInLastDays: 2 } },
  { label: 'no document requests in the last 5 days', options: { noDocRequestsInLastDays: 5 } },
];

export interface ProbeRow {
  task: string;
  variant: string;
  /** Mean score of the changed heuristic. */
  score: number;
  /** Changed − unchanged, paired by seed. */
  difference: PairedDifference;
}

export async function probeHeuristic(
  tasks: readonly string[],
  seeds: readonly number[],
  variants: readonly HeuristicVariant[] = HEURISTIC_VARIANTS,
): Promise<ProbeRow[]> {
  const rows: ProbeRow[] = [];
  for (const task of tasks) {
    const play = async (label: string, options: HeuristicOptions): Promise<EpisodeRecord[]> => {
      const out: EpisodeRecord[] = [];
      for (const seed of seeds) {
        const record = await runGovEpisode(new HeuristicAgent(options), { taskId: task, seed });
        out.push({ ...record, agent: label });
      }
      return out;
    };
    const base = await play('heuristic', {});
    for (const v of variants) {
      const changed = await play(v.label, v.options);
      const score = changed.reduce((s, r) => s + r.score, 0) / Math.max(1, changed.length);
      rows.push({
        task,
        variant: v.label,
        score,
        difference: pairedDifference([...base, ...changed], task, v.label, 'heuristic'),
      });
    }
  }
  return rows;
}
