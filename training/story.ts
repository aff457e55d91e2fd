/**
 * The Gov Workflow "training story": the CSV and JSON files the reference app's `/training/*`
 * endpoints serve, written from a story CSV or from a queue-rl run, byte-identical to the
 * reference's `scripts/convert_grpo_csv.py` on valid input. The conversion rule by rule and the
 * deliberate differences: docs/grpo.md#training-story-export.
 */
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import { pyFixed, pyRound } from '../envs/core/py-round.js';
import { writeFileAtomic } from './run-io.js';

// ---------------------------------------------------------------------------------------------
// Rows

export interface StoryRow {
  /** The training step (GRPO logging step, PPO iteration); becomes `episodes[].episode`. */
  step: number;
  reward: number;
  fn1_valid: number;
  fn2_no_halluc: number;
  fn3_env_score: number;
}

export const STORY_CSV_COLUMNS = ['step', 'reward', 'fn1_valid', 'fn2_no_halluc', 'fn3_env_score'] as const;

/** A value from a parsed CSV (string) or from an in-memory metrics row (number or null). */
type Cell = number | string | null | undefined;
type CellRecord = Readonly<Record<string, Cell>>;

interface ColumnNames {
  step: readonly string[];
  reward: readonly string[];
  fn1: readonly string[];
  fn2: readonly string[];
  fn3: readonly string[];
}

/** The reference converter's names: the canonical column first, then its alias. */
const STORY_CSV_NAMES: ColumnNames = {
  step: ['step'],
  reward: ['reward', 'total_reward'],
  fn1: ['fn1_valid', 'valid_action_rate'],
  fn2: ['fn2_no_halluc', 'hallucination_free'],
  fn3: ['fn3_env_score', 'env_score'],
};

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A non-empty cell as a finite number, or undefined for an empty/missing one; throws for anything else. */
function cellNumber(value: Cell, where: () => string): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${where()}: ${value} is not a finite number`);
    return value;
  }
  const text = value.trim();
  if (text === '') return undefined;
  if (!DECIMAL.test(text)) throw new Error(`${where()}: '${value}' is not a number`);
  const n = Number(text);
  if (!Number.isFinite(n)) throw new Error(`${where()}: '${value}' is not a finite number`);
  return n;
}

/** The first of `names` whose cell is non-empty, as a number; undefined when none is. */
function pick(record: CellRecord, names: readonly string[], where: (column: string) => string): number | undefined {
  for (const name of names) {
    const n = cellNumber(record[name], () => where(name));
    if (n !== undefined) return n;
  }
  return undefined;
}

/** Min–max normalisation with the reference's "range 0 → 1" rule. */
function minMax(values: readonly number[]): { min: number; range: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (values.length === 0) return { min: 0, range: 1 };
  return { min, range: max - min || 1 };
}

interface RecordsToRowsOptions {
  /** Drop records whose reward cells are all empty instead of defaulting their reward to 0. */
  skipWithoutReward: boolean;
  /** How to name record i (0-based) in an error. */
  describe: (index: number) => string;
}

/** The converter's reading rules over records, with the given column names. */
function recordsToRows(records: readonly CellRecord[], names: ColumnNames, opts: RecordsToRowsOptions): StoryRow[] {
  const kept: { index: number; record: CellRecord; reward: number }[] = [];
  records.forEach((record, index) => {
    const where = (column: string): string => `${opts.describe(index)}, column '${column}'`;
    const reward = pick(record, names.reward, where);
    if (reward === undefined && opts.skipWithoutReward) return;
    kept.push({ index, record, reward: reward ?? 0 });
  });
  const { min: rMin, range: rRange } = minMax(kept.map((k) => k.reward));
  return kept.map(({ index, record, reward }) => {
    const where = (column: string): string => `${opts.describe(index)}, column '${column}'`;
    const step = pick(record, names.step, where);
    return {
      step: step === undefined ? index + 1 : Math.trunc(step),
      reward,
      fn1_valid: pick(record, names.fn1, where) ?? 1.0,
      fn2_no_halluc: pick(record, names.fn2, where) ?? 1.0,
      fn3_env_score: pick(record, names.fn3, where) ?? (reward - rMin) / rRange,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// CSV text

export interface ParsedCsv {
  header: string[];
  /** Data records (blank lines skipped), each with the 1-based line it starts on. */
  records: { line: number; cells: string[] }[];
}

/**
 * RFC 4180 CSV: comma separators, CRLF/LF/CR line ends, double-quoted fields with `""` escapes and
 * embedded line breaks. A leading UTF-8 BOM is dropped; empty lines are skipped (as Python's
 * csv.DictReader does). Throws on an unterminated quote or text after a closing quote.
 */
export function parseCsv(text: string): ParsedCsv {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const rows: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let field = '';
  let line = 1;
  let rowLine = 1;
  let i = 0;
  let fieldStarted = false; // whether the current record has any content yet
  const endRecord = (): void => {
    if (fieldStarted || cells.length > 0 || field !== '') {
      cells.push(field);
      rows.push({ line: rowLine, cells });
    }
    cells = [];
    field = '';
    fieldStarted = false;
  };
  while (i < src.length) {
    const c = src[i] as string;
    if (c === '"' && field === '') {
      // A quoted field.
      const startLine = line;
      i++;
      let closed = false;
      while (i < src.length) {
        const d = src[i] as string;
        if (d === '"') {
          if (src[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        if (d === '\n' || (d === '\r' && src[i + 1] !== '\n')) line++;
        field += d;
        i++;
      }
      if (!closed) throw new Error(`CSV line ${startLine}: unterminated quoted field`);
      const next = src[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        throw new Error(`CSV line ${line}: unexpected '${next}' after a closing quote`);
      }
      fieldStarted = true;
      continue;
    }
    if (c === ',') {
      cells.push(field);
      field = '';
      fieldStarted = true;
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') {
      endRecord();
      i += c === '\r' && src[i + 1] === '\n' ? 2 : 1;
      line++;
      rowLine = line;
      continue;
    }
    field += c;
    fieldStarted = true;
    i++;
  }
  endRecord();
  const [head, ...records] = rows;
  if (!head) throw new Error('CSV is empty (no header line)');
  return { header: head.cells.map((h) => h.trim()), records };
}

/** Header + records → one object per record (missing cells undefined; a repeated column: the last wins). */
function csvRecords(parsed: ParsedCsv): CellRecord[] {
  return parsed.records.map(({ cells }) => {
    const record: Record<string, Cell> = {};
    parsed.header.forEach((name, k) => {
      record[name] = cells[k];
    });
    return record;
  });
}

export interface StoryCsvReadOptions {
  /**
   * false (default): every row has the header's number of fields, and all five columns (or their
   * aliases) are there with a number in every cell — anything else is an error naming the column
   * or row. true: the reference converter's defaults (a missing column or empty cell takes its
   * default, an empty reward is 0).
   */
  lenient?: boolean;
}

/** Reads a story CSV (`step,reward,fn1_valid,fn2_no_halluc,fn3_env_score`, or the aliases). */
export function readStoryCsv(text: string, options: StoryCsvReadOptions = {}): StoryRow[] {
  const parsed = parseCsv(text);
  const describe = (i: number): string => `story CSV row ${i + 1} (line ${parsed.records[i]?.line ?? '?'})`;
  if (!options.lenient) {
    checkRowWidths(parsed, 'story CSV');
    const columns = (Object.entries(STORY_CSV_NAMES) as [keyof ColumnNames, readonly string[]][]).map(
      ([key, names]) => {
        const present = names.filter((n) => parsed.header.includes(n));
        if (present.length === 0) {
          throw new Error(
            `story CSV: no '${names[0]}' ` +
              `column${names.length > 1 ? ` (nor its alias '${names.slice(1).join("', '")}')` : ''}; columns: ` +
              `${parsed.header.join(', ') || '(none)'}. ` +
              `A story CSV has ${STORY_CSV_COLUMNS.join(', ')}; --lenient fills missing ones with the reference ` +
              `converter's defaults`,
          );
        }
        return { key, present };
      },
    );
    parsed.records.forEach(({ cells }, i) => {
      for (const { key, present } of columns) {
        if (present.every((n) => (cells[parsed.header.indexOf(n)] ?? '').trim() === '')) {
          throw new Error(
            `${describe(i)}, column '${present[0]}': empty (${key === 'step' ? 'a step number' : 'a number'} is ` +
              `needed; --lenient takes the reference converter's default)`,
          );
        }
      }
    });
  }
  const rows = recordsToRows(csvRecords(parsed), STORY_CSV_NAMES, { skipWithoutReward: false, describe });
  if (rows.length === 0) throw new Error('story CSV has a header but no rows');
  return rows;
}

/** Every record must have as many fields as the header (a missing or extra comma shifts every later column). */
export function checkRowWidths(parsed: ParsedCsv, what: string): void {
  for (const r of parsed.records) {
    if (r.cells.length !== parsed.header.length) {
      throw new Error(
        `${what} line ${r.line}: ${r.cells.length} field${r.cells.length === 1 ? '' : 's'}, the header has ` +
          `${parsed.header.length} (a missing or extra field)`,
      );
    }
  }
}

/** The story CSV: header `step,reward,fn1_valid,fn2_no_halluc,fn3_env_score`, numbers at full precision. */
export function storyCsv(rows: readonly StoryRow[]): string {
  return stringify(
    rows.map((r) => STORY_CSV_COLUMNS.map((c) => r[c])),
    { header: true, columns: [...STORY_CSV_COLUMNS] },
  );
}

// ---------------------------------------------------------------------------------------------
// The JSON log

export const STORY_PHASES = ['random', 'exploring', 'learning', 'converged'] as const;
export type StoryPhase = (typeof STORY_PHASES)[number];

export const STORY_DEFAULTS = {
  baseModel: 'Qwen/Qwen2-1.5B-Instruct',
  trainingMethod: 'GRPO',
  loraRank: 16,
} as const;

export const STORY_REWARD_FUNCTIONS = {
  fn1_valid: 'Action validity - legal JSON action output (0->1)',
  fn2_no_halluc: 'No hallucination - stayed on gov workflow topic (0->1)',
  fn3_env_score: 'Environment score - improved gov workflow quality',
} as const;

const finite = z.number().refine(Number.isFinite, 'must be finite');
const count = z.number().int().nonnegative();

export const StoryActionsSchema = z.strictObject({
  valid_action_rate: finite,
  hallucination_free: finite,
  env_score: finite,
});

export const StoryEpisodeSchema = z.strictObject({
  episode: z.number().int(),
  total_reward: finite,
  score: finite,
  fn1_valid: finite,
  fn2_no_halluc: finite,
  fn3_env_score: finite,
  phase: z.enum(STORY_PHASES),
  actions: StoryActionsSchema,
});

export const StorySummarySchema = z.strictObject({
  first_episode_reward: finite,
  last_episode_reward: finite,
  best_episode_reward: finite,
  first_episode_score: finite,
  last_episode_score: finite,
  best_episode_score: finite,
  reward_improvement_pct: finite,
  invalid_action_steps: count,
  hallucination_steps: count,
  avg_fn1_valid: finite,
  avg_fn2_no_halluc: finite,
  avg_fn3_env_score: finite,
});

/** `data/training_logs/<task_id>_training_log.json` as the reference writes it (docs/grpo.md). */
export const StoryJsonSchema = z
  .strictObject({
    task_id: z.string().min(1),
    total_episodes: z.number().int().positive(),
    base_model: z.string(),
    adapter_path: z.string(),
    training_method: z.string(),
    lora_rank: count,
    reward_functions: z.strictObject({ fn1_valid: z.string(), fn2_no_halluc: z.string(), fn3_env_score: z.string() }),
    summary: StorySummarySchema,
    episodes: z.array(StoryEpisodeSchema).min(1),
  })
  .refine((j) => j.episodes.length === j.total_episodes, {
    message: 'total_episodes must equal the number of episodes',
    path: ['total_episodes'],
  });

export type StoryJson = z.infer<typeof StoryJsonSchema>;
export type StoryEpisode = z.infer<typeof StoryEpisodeSchema>;
export type StoryActions = z.infer<typeof StoryActionsSchema>;

export interface StoryOptions {
  baseModel?: string;
  trainingMethod?: string;
  loraRank?: number;
  /** Default: the reference's `artifacts/llm/{task_id.split('_')[1]}/`. */
  adapterPath?: string;
}

/**
 * The reference's adapter_path: `artifacts/llm/{task_id.split('_')[1]}/` (throws when the id has no '_', where Python
 * raises IndexError).
 */
export function referenceAdapterPath(taskId: string): string {
  const part = taskId.split('_')[1];
  if (part === undefined) {
    throw new Error(
      `task id '${taskId}' has no '_': the reference's adapter_path artifacts/llm/{task_id.split('_')[1]}/ is ` +
        `undefined; pass an adapter path`,
    );
  }
  return `artifacts/llm/${part}/`;
}

/**
 * The phase of row `index` of `n`: the first 25% "random", then "exploring" (< 50%), "learning" (< 75%), "converged".
 */
export function storyPhase(index: number, n: number): StoryPhase {
  if (index < n * 0.25) return 'random';
  if (index < n * 0.5) return 'exploring';
  if (index < n * 0.75) return 'learning';
  return 'converged';
}

const r4 = (x: number): number => pyRound(x, 4);

/** The JSON object `convert_grpo_csv.py` writes for these rows (docs/grpo.md). */
export function storyJson(rows: readonly StoryRow[], taskId: string, options: StoryOptions = {}): StoryJson {
  const n = rows.length;
  if (n === 0) throw new Error('a story needs at least one row');
  if (taskId.length === 0) throw new Error('a story needs a task id');
  const loraRank = options.loraRank ?? STORY_DEFAULTS.loraRank;
  if (!Number.isInteger(loraRank) || loraRank < 0)
    throw new Error(`lora rank must be a non-negative integer (got ${loraRank})`);
  rows.forEach((r, i) => {
    for (const c of STORY_CSV_COLUMNS) {
      if (!Number.isFinite(r[c])) throw new Error(`story row ${i + 1}: ${c} = ${r[c]} is not a finite number`);
    }
    if (!Number.isInteger(r.step)) throw new Error(`story row ${i + 1}: step = ${r.step} is not an integer`);
  });
  const rewards = rows.map((r) => r.reward);
  const { min: fn3Min, range: fn3Range } = minMax(rows.map((r) => r.fn3_env_score));

  const episodes: StoryEpisode[] = rows.map((r, i) => {
    const norm = (r.fn3_env_score - fn3Min) / fn3Range;
    return {
      episode: r.step,
      total_reward: r4(r.reward),
      score: r4(r.fn1_valid * 0.3 + r.fn2_no_halluc * 0.2 + norm * 0.5),
      fn1_valid: r4(r.fn1_valid),
      fn2_no_halluc: r4(r.fn2_no_halluc),
      fn3_env_score: r4(r.fn3_env_score),
      phase: storyPhase(i, n),
      actions: { valid_action_rate: r4(r.fn1_valid), hallucination_free: r4(r.fn2_no_halluc), env_score: r4(norm) },
    };
  });
  const scores = episodes.map((e) => e.score);
  const first = rewards[0] as number;
  const last = rewards[n - 1] as number;
  const sum = (xs: readonly number[]): number => xs.reduce((a, x) => a + x, 0);

  return {
    task_id: taskId,
    total_episodes: n,
    base_model: options.baseModel ?? STORY_DEFAULTS.baseModel,
    adapter_path: options.adapterPath ?? referenceAdapterPath(taskId),
    training_method: options.trainingMethod ?? STORY_DEFAULTS.trainingMethod,
    lora_rank: loraRank,
    reward_functions: { ...STORY_REWARD_FUNCTIONS },
    summary: {
      first_episode_reward: r4(first),
      last_episode_reward: r4(last),
      best_episode_reward: r4(Math.max(...rewards)),
      first_episode_score: r4(scores[0] as number),
      last_episode_score: r4(scores[n - 1] as number),
      best_episode_score: r4(Math.max(...scores)),
      reward_improvement_pct: first !== 0 ? pyRound(((last - first) / Math.abs(first)) * 100, 2) : 0.0,
      invalid_action_steps: rows.filter((r) => r.fn1_valid < 1.0).length,
      hallucination_steps: rows.filter((r) => r.fn2_no_halluc < 1.0).length,
      avg_fn1_valid: r4(sum(rows.map((r) => r.fn1_valid)) / n),
      avg_fn2_no_halluc: r4(sum(rows.map((r) => r.fn2_no_halluc)) / n),
      avg_fn3_env_score: r4(sum(rows.map((r) => r.fn3_env_score)) / n),
    },
    episodes,
  };
}

// ---------------------------------------------------------------------------------------------
// JSON text exactly as Python's json.dump(obj, f, indent=2) writes it

/** The fields Python holds as int; every other number in the log is a float. */
const INT_KEYS = new Set(['total_episodes', 'lora_rank', 'invalid_action_steps', 'hallucination_steps', 'episode']);

/**
 * Python's repr(float): shortest round-trip digits, `.0` on integral values, exponent form below 1e-4 and from 1e16.
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mant = '', expText = '0'] = Math.abs(x).toExponential().split('e');
  const digits = mant.replace('.', '');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

function pyJsonString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function pyJson(value: unknown, key: string | null, indent: string): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return pyJsonString(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number')
    return key !== null && INT_KEYS.has(key) && Number.isInteger(value) ? String(value) : pyFloatRepr(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + pyJson(v, null, inner)).join(',\n')}\n${indent}]`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return '{}';
    const lines = entries.map(([k, v]) => `${inner}${pyJsonString(k)}: ${pyJson(v, k, inner)}`);
    return `{\n${lines.join(',\n')}\n${indent}}`;
  }
  throw new Error(`cannot write ${typeof value} as JSON`);
}

/** The log's text as the reference's json.dump(log, f, indent=2) writes it (no trailing newline). */
export function storyJsonText(json: StoryJson): string {
  return pyJson(json, null, '');
}

// ---------------------------------------------------------------------------------------------
// Files

export interface WrittenStory {
  json: StoryJson;
  /** `<outDir>/<task_id>_training_log.json` */
  jsonPath: string;
  /** `<outDir>/<task_id>_story.csv` */
  csvPath: string;
}

/** Writes `<outDir>/<task_id>_training_log.json` and `<outDir>/<task_id>_story.csv`, each atomically. */
export function writeStory(
  rows: readonly StoryRow[],
  taskId: string,
  outDir: string,
  options: StoryOptions = {},
): WrittenStory {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(taskId))
    throw new Error(`task id '${taskId}' cannot name a file (letters, digits, '.', '_' and '-' only)`);
  const json = storyJson(rows, taskId, options);
  const jsonPath = join(outDir, `${taskId}_training_log.json`);
  const csvPath = join(outDir, `${taskId}_story.csv`);
  writeFileAtomic(csvPath, storyCsv(rows));
  writeFileAtomic(jsonPath, storyJsonText(json));
  return { json, jsonPath, csvPath };
}

// ---------------------------------------------------------------------------------------------
// From queue-rl runs

/** The GRPO metrics columns; TRL's current `rewards/<fn>/mean` names are accepted as aliases. */
const GRPO_NAMES: ColumnNames = {
  step: ['step'],
  reward: ['reward'],
  fn1: ['rewards/fn1_valid', 'rewards/fn1_valid/mean'],
  fn2: ['rewards/fn2_no_halluc', 'rewards/fn2_no_halluc/mean'],
  fn3: ['rewards/fn3_env_score', 'rewards/fn3_env_score/mean'],
};

/**
 * A GRPO run's metrics.csv (one row per iteration) → story rows. The columns are per-iteration
 * group means over every completion sampled in that iteration, as TRL logs them:
 *
 *   step          ← `step` (else the row's index + 1)
 *   reward        ← `reward`: the mean weighted sum of the reward functions
 *   fn1_valid     ← `rewards/fn1_valid` (or `rewards/fn1_valid/mean`), default 1.0
 *   fn2_no_halluc ← `rewards/fn2_no_halluc` (or `…/mean`), default 1.0
 *   fn3_env_score ← `rewards/fn3_env_score` (or `…/mean`), default the min–max-normalised reward
 *
 * Rows with an empty `reward` are left out (the notebook's exporter likewise keeps only log entries
 * that have a reward). A non-numeric cell is an error naming the row and the column.
 */
export function storyRowsFromGrpoMetrics(rows: readonly CellRecord[]): StoryRow[] {
  const out = recordsToRows(rows, GRPO_NAMES, {
    skipWithoutReward: true,
    describe: (i) => `GRPO metrics row ${i + 1}`,
  });
  if (out.length === 0) throw new Error('GRPO metrics: no row has a reward');
  return out;
}

/** Columns that, when a run logs them, give the invalid-action rate of training episodes. */
export const PPO_INVALID_RATE_COLUMNS = ['rollout/invalid_action_rate'] as const;
export const PPO_EVAL_INVALID_RATE_COLUMN = 'eval/invalid_action_rate';

/**
 * A PPO run's metrics.csv (SB3 names, one row per iteration), optionally with its eval.csv → story rows:
 *
 *   step          ← `time/iterations` (else the row's index + 1)
 *   reward        ← `rollout/ep_rew_mean`, the mean return of the last `stats_window_size` finished
 *                   episodes; iterations where it is empty (no episode had finished yet) are left out
 *   fn1_valid     ← 1 − invalid-action rate when the run logs one: the row's `rollout/invalid_action_rate`,
 *                   else the latest `eval/invalid_action_rate` of eval.csv at or before the row's
 *                   `time/total_timesteps`; otherwise 1.0. Masked PPO only samples actions its mask
 *                   allows, so its training actions are always valid and 1.0 is the true value.
 *   fn2_no_halluc ← 1.0: the policy emits action indices, not text, so nothing can be hallucinated
 *   fn3_env_score ← `rollout/ep_score_mean`, the mean grader score (0–1) of the same episodes, when
 *                   every kept row has one; otherwise `rollout/ep_rew_mean` for every row (an env
 *                   without a grader). Scores and returns are never mixed in one column, which would
 *                   wreck the story's min–max normalisation.
 *
 * The story's score is then 0.3·fn1 + 0.2·fn2 + 0.5·(min–max-normalised grader score over the run).
 */
export function storyRowsFromPpoMetrics(
  metrics: readonly CellRecord[],
  evalRows: readonly CellRecord[] = [],
): StoryRow[] {
  const where = (i: number, column: string): string => `PPO metrics row ${i + 1}, column '${column}'`;
  const evalRates: { at: number; rate: number }[] = [];
  evalRows.forEach((row, i) => {
    const w = (column: string): string => `PPO eval row ${i + 1}, column '${column}'`;
    const rate = cellNumber(row[PPO_EVAL_INVALID_RATE_COLUMN], () => w(PPO_EVAL_INVALID_RATE_COLUMN));
    const at = cellNumber(row['time/total_timesteps'], () => w('time/total_timesteps'));
    if (rate !== undefined && at !== undefined) evalRates.push({ at, rate });
  });
  evalRates.sort((a, b) => a.at - b.at);

  const kept: { step: number; reward: number; fn1: number; score: number | undefined }[] = [];
  metrics.forEach((row, i) => {
    const reward = cellNumber(row['rollout/ep_rew_mean'], () => where(i, 'rollout/ep_rew_mean'));
    if (reward === undefined) return;
    const step = cellNumber(row['time/iterations'], () => where(i, 'time/iterations'));
    let rate = pick(row, PPO_INVALID_RATE_COLUMNS, (c) => where(i, c));
    if (rate === undefined && evalRates.length > 0) {
      const t = cellNumber(row['time/total_timesteps'], () => where(i, 'time/total_timesteps'));
      if (t !== undefined) {
        for (const e of evalRates) if (e.at <= t) rate = e.rate;
      }
    }
    kept.push({
      step: step === undefined ? i + 1 : Math.trunc(step),
      reward,
      fn1: rate === undefined ? 1.0 : Math.min(1, Math.max(0, 1 - rate)),
      score: cellNumber(row['rollout/ep_score_mean'], () => where(i, 'rollout/ep_score_mean')),
    });
  });
  if (kept.length === 0) throw new Error('PPO metrics: no iteration has rollout/ep_rew_mean (no episode finished)');
  const useScores = kept.every((k) => k.score !== undefined);
  return kept.map((k) => ({
    step: k.step,
    reward: k.reward,
    fn1_valid: k.fn1,
    fn2_no_halluc: 1.0,
    fn3_env_score: useScores ? (k.score as number) : k.reward,
  }));
}

/** Which mapping a metrics.csv header calls for: PPO (SB3 names), GRPO (`reward`, `rewards/<fn>`), or neither. */
export function metricsKind(header: readonly string[]): 'ppo' | 'grpo' | null {
  if (header.includes('rollout/ep_rew_mean')) return 'ppo';
  if (header.includes('reward')) return 'grpo';
  return null;
}

// ---------------------------------------------------------------------------------------------
// What the reference's story_router derives from the log (so the app's numbers can be predicted)

/** Quarter boundaries of `/training/summary`: [n//4, n//2, 3n//4]. */
export function storyQuartiles(n: number): [number, number, number] {
  return [Math.floor(n / 4), Math.floor(n / 2), Math.floor((3 * n) / 4)];
}

/** Episode indices of the five `/training/actions` checkpoints: [0, n//4, n//2, 3n//4, n−1]. */
export function storyCheckpointIndices(n: number): [number, number, number, number, number] {
  const [q1, q2, q3] = storyQuartiles(n);
  return [0, q1, q2, q3, n - 1];
}

export interface StoryCheckpoint {
  episode: number;
  phase: StoryPhase;
  actions: StoryActions;
  reward: number;
  score: number;
}

/** `/training/actions` checkpoints. */
export function storyCheckpoints(json: StoryJson): StoryCheckpoint[] {
  return storyCheckpointIndices(json.episodes.length).map((i) => {
    const ep = json.episodes[i] as StoryEpisode;
    return { episode: ep.episode, phase: ep.phase, actions: ep.actions, reward: ep.total_reward, score: ep.score };
  });
}

/** Python's format(x, '.{d}%'). */
export function pyPercent(x: number, digits: number): string {
  return `${pyFixed(x * 100, digits)}%`;
}

const sumOf = (xs: readonly number[]): number => xs.reduce((a, x) => a + x, 0);

/** `/training/actions` in full: checkpoints and the fn1 insight (first quarter vs last quarter). */
export function storyActions(json: StoryJson): { task_id: string; checkpoints: StoryCheckpoint[]; insight: string } {
  const eps = json.episodes;
  const n = eps.length;
  const [q1, , q3] = storyQuartiles(n);
  const start = sumOf(eps.slice(0, q1).map((e) => e.fn1_valid)) / Math.max(q1, 1);
  const end = sumOf(eps.slice(q3).map((e) => e.fn1_valid)) / Math.max(n - q3, 1);
  return {
    task_id: json.task_id,
    checkpoints: storyCheckpoints(json),
    insight:
      `Action validity improved from ${pyPercent(start, 1)} (early) to ${pyPercent(end, 1)} (final). LLM ` +
      `learned to output valid government workflow JSON consistently.`,
  };
}

/** The `actions` key with the largest summed value over these episodes (first on ties); "advance_time" for none. */
export function storyDominantAction(episodes: readonly StoryEpisode[]): string {
  const totals = new Map<string, number>();
  for (const ep of episodes) for (const [k, v] of Object.entries(ep.actions)) totals.set(k, (totals.get(k) ?? 0) + v);
  let best: string | null = null;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (const [k, v] of totals) {
    if (v > bestValue) {
      best = k;
      bestValue = v;
    }
  }
  return best ?? 'advance_time';
}

/** `/training/summary` narrative: one line per quarter. */
export function storyNarrative(json: StoryJson): {
  phase_1: string;
  phase_2: string;
  phase_3: string;
  phase_4: string;
} {
  const eps = json.episodes;
  const n = eps.length;
  const [q1, q2, q3] = storyQuartiles(n);
  const avgP1 = sumOf(eps.slice(0, q1).map((e) => e.total_reward)) / Math.max(q1, 1);
  const avgP4 = sumOf(eps.slice(q3).map((e) => e.total_reward)) / Math.max(n - q3, 1);
  return {
    phase_1:
      `Steps 1-${q1}: LLM chose '${storyDominantAction(eps.slice(0, q1))}' most often. Avg reward ` +
      `${pyFixed(avgP1, 2)}. Still exploring randomly.`,
    phase_2:
      `Steps ${q1}-${q2}: LLM discovered '${storyDominantAction(eps.slice(q1, q2))}'. Reward started ` +
      `improving as valid patterns emerged.`,
    phase_3:
      `Steps ${q2}-${q3}: LLM reinforced '${storyDominantAction(eps.slice(q2, q3))}'. Action validity ` +
      `reaching near-perfect levels.`,
    phase_4:
      `Steps ${q3}-${n}: LLM converged on '${storyDominantAction(eps.slice(q3))}'. Avg reward ` +
      `${pyFixed(avgP4, 2)}. Final score ${pyPercent(json.summary.last_episode_score, 1)}.`,
  };
}

const PHASE_WORDS: Record<StoryPhase, string> = {
  random: 'LLM is exploring.',
  exploring: 'LLM finding patterns.',
  learning: 'LLM reinforcing good actions.',
  converged: 'LLM converged.',
};

/** The per-phase `message` of `/training/episode` and the stream's episode events. */
export function storyEpisodeMessage(ep: StoryEpisode): string {
  const validity = ep.fn1_valid >= 1.0 ? '' : ` WARNING: Invalid action at step ${ep.episode}.`;
  const halluc = ep.fn2_no_halluc >= 1.0 ? '' : ' WARNING: Hallucination detected.';
  return (
    `Step ${ep.episode}: ${PHASE_WORDS[ep.phase]} Reward=${pyFixed(ep.total_reward, 3)}, ` +
    `Score=${pyFixed(ep.score, 3)}.${validity}${halluc}`
  );
}

/** `/training/episode/{task}/{k}` (k 1-based): the episode, the running best reward and the running average score. */
export function storyEpisodeDetail(json: StoryJson, k: number): Record<string, unknown> {
  const eps = json.episodes;
  if (!Number.isInteger(k) || k < 1 || k > eps.length)
    throw new RangeError(`episode_num must be 1-${eps.length}. Got ${k}.`);
  const ep = eps[k - 1] as StoryEpisode;
  const soFar = eps.slice(0, k);
  return {
    task_id: json.task_id,
    episode: ep.episode,
    total_episodes: eps.length,
    reward: ep.total_reward,
    score: ep.score,
    fn1_valid: ep.fn1_valid,
    fn2_no_halluc: ep.fn2_no_halluc,
    fn3_env_score: ep.fn3_env_score,
    phase: ep.phase,
    actions: ep.actions,
    running_best_reward: Math.max(...soFar.map((e) => e.total_reward)),
    running_avg_score: pyRound(sumOf(soFar.map((e) => e.score)) / k, 4),
    message: storyEpisodeMessage(ep),
  };
}

/** The story router's hard-coded "before" figures (HEURISTIC_BASELINES). */
export const STORY_HEURISTIC_BASELINES: Readonly<
  Record<string, { score: number; completed: number; breaches: number; reward: number; avg_wait: number }>
> = {
  district_backlog_easy: { score: 0.527, completed: 41, breaches: 184, reward: -79.86, avg_wait: 6.9 },
  mixed_urgency_medium: { score: 0.454, completed: 58, breaches: 34, reward: -684.22, avg_wait: 12.4 },
  cross_department_hard: { score: 0.606, completed: 83, breaches: 723, reward: -2318.78, avg_wait: 15.6 },
};

/** `/training/comparison/{task}`: the hard-coded baseline ("before") against the log's last episode ("after"). */
export function storyComparison(json: StoryJson): {
  task_id: string;
  before: { label: string; score: number; reward: number; completed: number; breaches: number; avg_wait: number };
  after: {
    label: string;
    score: number;
    reward: number;
    avg_fn1_valid: number;
    avg_fn2_no_halluc: number;
    invalid_steps: number;
    hallucination_steps: number;
  };
  improvement: { score_delta: number; score_pct: number; verdict: string };
} {
  const baseline = STORY_HEURISTIC_BASELINES[json.task_id];
  const before = baseline?.score ?? 0.0;
  const s = json.summary;
  const delta = pyRound(s.last_episode_score - before, 4);
  const pct = before ? pyRound((delta / before) * 100, 1) : 0.0;
  const verdict =
    delta > 0.1
      ? 'LLM significantly outperforms baseline'
      : delta > 0.0
        ? 'LLM moderately outperforms baseline'
        : 'LLM needs more training';
  return {
    task_id: json.task_id,
    before: {
      label: 'Heuristic Baseline (no AI)',
      score: before,
      reward: baseline?.reward ?? 0.0,
      completed: baseline?.completed ?? 0,
      breaches: baseline?.breaches ?? 0,
      avg_wait: baseline?.avg_wait ?? 0.0,
    },
    after: {
      label: `GRPO Trained LLM (${json.base_model})`,
      score: s.last_episode_score,
      reward: s.last_episode_reward,
      avg_fn1_valid: s.avg_fn1_valid,
      avg_fn2_no_halluc: s.avg_fn2_no_halluc,
      invalid_steps: s.invalid_action_steps,
      hallucination_steps: s.hallucination_steps,
    },
    improvement: { score_delta: delta, score_pct: pct, verdict },
  };
}
