/**
 * The baseline table: per (task, agent), the mean ± std over seeds of the grader score, completed
 * cases, SLA breaches and episode reward, as text, CSV and Markdown. std is the population standard
 * deviation (numpy's default, as SB3 reports).
 */
import { stringify } from 'csv-stringify/sync';
import type { EpisodeRecord } from '../agents/run-episode.js';

export interface Stat {
  mean: number;
  std: number;
  min: number;
  max: number;
}

export interface BaselineRow {
  task: string;
  agent: string;
  episodes: number;
  score: Stat;
  completed: Stat;
  slaBreaches: Stat;
  reward: Stat;
}

export function stat(values: readonly number[]): Stat {
  if (values.length === 0) return { mean: Number.NaN, std: Number.NaN, min: Number.NaN, max: Number.NaN };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance), min: Math.min(...values), max: Math.max(...values) };
}

/** Rows in first-seen (task, agent) order. */
export function summarise(records: readonly EpisodeRecord[]): BaselineRow[] {
  const groups = new Map<string, EpisodeRecord[]>();
  for (const r of records) {
    const key = `${r.task}\u0000${r.agent}`;
    const list = groups.get(key);
    if (list) list.push(r);
    else groups.set(key, [r]);
  }
  return [...groups.values()].map((list) => {
    const first = list[0] as EpisodeRecord;
    return {
      task: first.task,
      agent: first.agent,
      episodes: list.length,
      score: stat(list.map((r) => r.score)),
      completed: stat(list.map((r) => r.metrics.total_completed ?? 0)),
      slaBreaches: stat(list.map((r) => r.metrics.total_sla_breaches ?? 0)),
      reward: stat(list.map((r) => r.reward)),
    };
  });
}

const pm = (s: Stat, digits: number): string => `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}`;

const HEADER = ['task', 'agent', 'episodes', 'score', 'completed', 'SLA breaches', 'reward'];

function cells(r: BaselineRow): string[] {
  return [r.task, r.agent, String(r.episodes), pm(r.score, 4), pm(r.completed, 1), pm(r.slaBreaches, 1), pm(r.reward, 2)];
}

export function formatText(rows: readonly BaselineRow[]): string {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, c) => Math.max(...table.map((row) => (row[c] as string).length)));
  const line = (row: string[]): string => row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number))).join('  ');
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => line(cells(r)))].join('\n');
}

export function formatMarkdown(rows: readonly BaselineRow[]): string {
  const align = ['---', '---', '---:', '---:', '---:', '---:', '---:'];
  return [HEADER, align, ...rows.map(cells)].map((row) => `| ${row.join(' | ')} |`).join('\n');
}

/** One CSV row per (task, agent), with mean, std, min and max of each quantity. */
export function formatCsv(rows: readonly BaselineRow[]): string {
  const quantities = ['score', 'completed', 'slaBreaches', 'reward'] as const;
  const names = { score: 'score', completed: 'completed', slaBreaches: 'sla_breaches', reward: 'reward' };
  const columns = ['task', 'agent', 'episodes', ...quantities.flatMap((q) => ['mean', 'std', 'min', 'max'].map((s) => `${names[q]}_${s}`))];
  const data = rows.map((r) => [r.task, r.agent, r.episodes, ...quantities.flatMap((q) => [r[q].mean, r[q].std, r[q].min, r[q].max])]);
  return stringify(data, { header: true, columns });
}

/** Per-episode records as CSV (metrics flattened as metric_<name>). */
export function formatEpisodesCsv(records: readonly EpisodeRecord[]): string {
  const metricNames = [...new Set(records.flatMap((r) => Object.keys(r.metrics)))];
  const columns = ['env', 'task', 'agent', 'seed', 'score', 'reward', 'steps', ...metricNames.map((m) => `metric_${m}`)];
  const data = records.map((r) => [r.env, r.task, r.agent, r.seed, r.score, r.reward, r.steps, ...metricNames.map((m) => r.metrics[m] ?? '')]);
  return stringify(data, { header: true, columns });
}
