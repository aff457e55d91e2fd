/**
 * Baseline tables: per (task, agent), mean ± std over seeds (optionally with [min, max]) of chosen
 * quantities of the episode records, as text, CSV and Markdown. std is the population standard
 * deviation (numpy's default, as SB3 reports).
 */
import { stringify } from 'csv-stringify/sync';
import type { EpisodeRecord } from '../agents/types.js';

export interface Stat {
  mean: number;
  std: number;
  min: number;
  max: number;
}

/** A column of the table. */
export interface Quantity {
  /** CSV column prefix, e.g. `score` → score_mean, score_std, score_min, score_max. */
  key: string;
  label: string;
  digits: number;
  /** Show [min, max] after mean ± std in the text and Markdown tables. */
  range?: boolean;
  get(record: EpisodeRecord): number;
}

export const GOV_QUANTITIES: readonly Quantity[] = [
  { key: 'score', label: 'score', digits: 4, get: (r) => r.score },
  { key: 'completed', label: 'completed', digits: 1, get: (r) => r.metrics.total_completed ?? 0 },
  { key: 'sla_breaches', label: 'SLA breaches', digits: 1, get: (r) => r.metrics.total_sla_breached ?? 0 },
  { key: 'reward', label: 'reward', digits: 2, get: (r) => r.reward },
];

/** The v1 ruleset's table: the columns of the seed document's published one. */
export const GOV_V1_QUANTITIES: readonly Quantity[] = [
  { key: 'score', label: 'score', digits: 4, get: (r) => r.score },
  { key: 'steps', label: 'steps', digits: 0, get: (r) => r.steps },
  { key: 'completed', label: 'completed', digits: 0, get: (r) => r.metrics.total_completed ?? 0 },
  { key: 'backlog', label: 'backlog', digits: 0, get: (r) => r.metrics.total_backlog ?? 0 },
  { key: 'reward', label: 'reward', digits: 2, get: (r) => r.reward },
];

export const HELIX_QUANTITIES: readonly Quantity[] = [
  { key: 'score', label: 'score', digits: 3, range: true, get: (r) => r.score },
  { key: 'reward', label: 'episode reward', digits: 2, range: true, get: (r) => r.reward },
];

export interface BaselineRow {
  task: string;
  agent: string;
  episodes: number;
  stats: Record<string, Stat>;
}

export function stat(values: readonly number[]): Stat {
  if (values.length === 0) return { mean: Number.NaN, std: Number.NaN, min: Number.NaN, max: Number.NaN };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance), min: Math.min(...values), max: Math.max(...values) };
}

/** Rows in first-seen (task, agent) order. */
export function summarise(records: readonly EpisodeRecord[], quantities: readonly Quantity[]): BaselineRow[] {
  const groups = new Map<string, EpisodeRecord[]>();
  for (const r of records) {
    const key = `${r.task}\u0000${r.agent}`;
    const list = groups.get(key);
    if (list) list.push(r);
    else groups.set(key, [r]);
  }
  return [...groups.values()].map((list) => {
    const first = list[0] as EpisodeRecord;
    const stats: Record<string, Stat> = {};
    for (const q of quantities) stats[q.key] = stat(list.map(q.get));
    return { task: first.task, agent: first.agent, episodes: list.length, stats };
  });
}

function cell(s: Stat, q: Quantity): string {
  const text = `${s.mean.toFixed(q.digits)} ± ${s.std.toFixed(q.digits)}`;
  return q.range ? `${text} [${s.min.toFixed(q.digits)}, ${s.max.toFixed(q.digits)}]` : text;
}

function header(quantities: readonly Quantity[]): string[] {
  return ['task', 'agent', 'episodes', ...quantities.map((q) => q.label)];
}

function cells(r: BaselineRow, quantities: readonly Quantity[]): string[] {
  return [r.task, r.agent, String(r.episodes), ...quantities.map((q) => cell(r.stats[q.key] as Stat, q))];
}

export function formatText(rows: readonly BaselineRow[], quantities: readonly Quantity[]): string {
  const head = header(quantities);
  const table = [head, ...rows.map((r) => cells(r, quantities))];
  const widths = head.map((_, c) => Math.max(...table.map((row) => (row[c] as string).length)));
  const line = (row: string[]): string =>
    row.map((text, c) => (c < 2 ? text.padEnd(widths[c] as number) : text.padStart(widths[c] as number))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => line(cells(r, quantities)))].join(
    '\n',
  );
}

export function formatMarkdown(rows: readonly BaselineRow[], quantities: readonly Quantity[]): string {
  const align = ['---', '---', '---:', ...quantities.map(() => '---:')];
  return [header(quantities), align, ...rows.map((r) => cells(r, quantities))]
    .map((row) => `| ${row.join(' | ')} |`)
    .join('\n');
}

/** One CSV row per (task, agent), with mean, std, min and max of each quantity. */
export function formatCsv(rows: readonly BaselineRow[], quantities: readonly Quantity[]): string {
  const columns = [
    'task',
    'agent',
    'episodes',
    ...quantities.flatMap((q) => ['mean', 'std', 'min', 'max'].map((s) => `${q.key}_${s}`)),
  ];
  const data = rows.map((r) => [
    r.task,
    r.agent,
    r.episodes,
    ...quantities.flatMap((q) => {
      const s = r.stats[q.key] as Stat;
      return [s.mean, s.std, s.min, s.max];
    }),
  ]);
  return stringify(data, { header: true, columns });
}

/** Per-episode records as CSV (metrics flattened as metric_<name>). */
export function formatEpisodesCsv(records: readonly EpisodeRecord[]): string {
  const metricNames = [...new Set(records.flatMap((r) => Object.keys(r.metrics)))];
  const columns = [
    'env',
    'task',
    'agent',
    'seed',
    'score',
    'reward',
    'steps',
    ...metricNames.map((m) => `metric_${m}`),
  ];
  const data = records.map((r) => [
    r.env,
    r.task,
    r.agent,
    r.seed,
    r.score,
    r.reward,
    r.steps,
    ...metricNames.map((m) => r.metrics[m] ?? ''),
  ]);
  return stringify(data, { header: true, columns });
}
