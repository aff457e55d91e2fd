/**
 * How a trained policy compares with an agent on the same episodes (docs/ppo.md#the-verdict): both
 * play the same seeds, so the per-seed differences are paired; their mean, standard deviation
 * (sample, n − 1) and standard error sd/√n say whether a gap is more than seed-to-seed noise.
 */
import type { EpisodeRecord } from '../agents/types.js';

export interface PairedDifference {
  /** Seeds both played. */
  n: number;
  mean: number;
  sd: number;
  se: number;
}

/** Per-seed differences a − b of the score on `task` (seeds only one of them played are left out). */
export function pairedDifference(
  records: readonly EpisodeRecord[],
  task: string,
  a: string,
  b: string,
  get: (r: EpisodeRecord) => number = (r) => r.score,
): PairedDifference {
  const bySeed = new Map<number, number>();
  for (const r of records) if (r.task === task && r.agent === b) bySeed.set(r.seed, get(r));
  const diffs: number[] = [];
  for (const r of records) {
    if (r.task !== task || r.agent !== a) continue;
    const other = bySeed.get(r.seed);
    if (other !== undefined) diffs.push(get(r) - other);
  }
  const n = diffs.length;
  if (n === 0) return { n, mean: Number.NaN, sd: Number.NaN, se: Number.NaN };
  const mean = diffs.reduce((s, d) => s + d, 0) / n;
  const sd = n > 1 ? Math.sqrt(diffs.reduce((s, d) => s + (d - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, mean, sd, se: sd / Math.sqrt(n) };
}

/** Mean and sample standard deviation of `agent`'s scores on `task`. */
export function scoreStats(
  records: readonly EpisodeRecord[],
  task: string,
  agent: string,
): { mean: number; sd: number; n: number } {
  const xs = records.filter((r) => r.task === task && r.agent === agent).map((r) => r.score);
  const n = xs.length;
  if (n === 0) return { mean: Number.NaN, sd: Number.NaN, n };
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, n };
}

/** The agent among `agents` with the highest mean score on `task` (first on ties). */
export function bestAgent(records: readonly EpisodeRecord[], task: string, agents: readonly string[]): string {
  let best = agents[0] as string;
  for (const a of agents) if (scoreStats(records, task, a).mean > scoreStats(records, task, best).mean) best = a;
  return best;
}

/** `+0.0123 ± 0.0004`: a signed difference and its standard error. */
export function formatDifference(d: PairedDifference, digits = 4): string {
  if (Number.isNaN(d.mean)) return 'n/a';
  const sign = d.mean > 0 || (d.mean === 0 && !Object.is(d.mean, -0)) ? '+' : '−';
  return `${sign}${Math.abs(d.mean).toFixed(digits)} ± ${d.se.toFixed(digits)}`;
}
