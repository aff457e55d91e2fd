/**
 * The training-story export: the reference converter's reading rules and JSON (hand-computed values,
 * the reference's golden numbers from the notebook's embedded 150-row CSV, byte-identical JSON text),
 * the story_router's derived values, the GRPO/PPO mappings, and `export-story` end to end in-process.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pyFixed } from '../envs/core/py-round.js';
import { main } from '../scripts/cli.js';
import type { StoryJson, StoryRow } from './story.js';
import {
  parseCsv,
  pyFloatRepr,
  readStoryCsv,
  referenceAdapterPath,
  StoryJsonSchema,
  storyActions,
  storyCheckpointIndices,
  storyCheckpoints,
  storyComparison,
  storyCsv,
  storyEpisodeDetail,
  storyEpisodeMessage,
  storyJson,
  storyJsonText,
  storyNarrative,
  storyPhase,
  storyQuartiles,
  storyRowsFromGrpoMetrics,
  storyRowsFromPpoMetrics,
  writeStory,
} from './story.js';

const HEADER = 'step,reward,fn1_valid,fn2_no_halluc,fn3_env_score';
const LENIENT = { lenient: true } as const;

/**
 * 8 rows: fn3 spans exactly [0, 1] so norm_fn3 = fn3; fn1 < 1 on rows 2 and 5, fn2 < 1 on rows 3 and 7.
 * Hand-computed scores (0.3·fn1 + 0.2·fn2 + 0.5·norm):
 *   1: 0.3+0.2+0.25 = 0.75     2: 0.15+0.2+0.125 = 0.475   3: 0.3+0+0 = 0.3        4: 0.3+0.2+0.5 = 1.0
 *   5: 0.225+0.2+0.375 = 0.8   6: 0.3+0.2+0.4375 = 0.9375  7: 0.3+0.1+0.3125 = 0.7125  8: 1.0
 */
const EIGHT = `${HEADER}
5,2.0,1.0,1.0,0.5
10,1.0,0.5,1.0,0.25
15,-1.5,1.0,0.0,0.0
20,3.0,1.0,1.0,1.0
25,2.5,0.75,1.0,0.75
30,4.0,1.0,1.0,0.875
35,4.5,1.0,0.5,0.625
40,5.0,1.0,1.0,1.0
`;

/**
 * The notebook's EMBEDDED_CSV (GovWorkflow_RL_ENV.ipynb, the "complete visualization" cell): 150 rows,
 * all equal to the typical row except the seven with fn1 < 1 (rows 3, 4, 8, 22, 36, 42, 113), one of
 * them (row 3) also with fn2 < 1, and row 138 with a slightly lower fn3.
 */
function embeddedCsv(): string {
  const typical = '13.296296296296296,1.0,1.0,11.296296296296296';
  const special = new Map<number, string>([
    [3, '11.878787878787879,0.5,0.25,11.128787878787879'],
    [113, '12.434343434343434,0.25,1.0,11.184343434343434'],
    [138, '13.281144781144781,1.0,1.0,11.281144781144781'],
  ]);
  for (const k of [4, 8, 22, 36, 42]) special.set(k, '12.865168539325842,0.625,1.0,11.240168539325842');
  const lines = [HEADER];
  for (let step = 1; step <= 150; step++) lines.push(`${step},${special.get(step) ?? typical}`);
  return lines.join('\n');
}

const row = (step: number, reward: number, fn1 = 1, fn2 = 1, fn3 = 0): StoryRow => ({
  step,
  reward,
  fn1_valid: fn1,
  fn2_no_halluc: fn2,
  fn3_env_score: fn3,
});
const rowsOf = (n: number): StoryRow[] => Array.from({ length: n }, (_, i) => row(i + 1, i, 1, 1, i));

/**
 * CRLF, a quoted cell, an empty reward (default 0), an empty fn3 (→ normalised reward, here 2.5/1.2e19) and a missing
 * fn2 (→ 1.0), aliases, a huge reward.
 */
const TINY_CSV = [
  'step,total_reward,fn1_valid,env_score',
  '1,-2.5,1,0.1',
  '2,,0.5,',
  '"3","0.00001",1,1e-5',
  '4,12345678901234567890,0.875,0.3333333',
  '',
].join('\r\n');
/**
 * What the reference's convert_grpo_csv.py (Python 3.11) writes for TINY_CSV with --task district_backlog_easy, byte
 * for byte.
 */
const TINY_EXPECTED = `{
  "task_id": "district_backlog_easy",
  "total_episodes": 4,
  "base_model": "Qwen/Qwen2-1.5B-Instruct",
  "adapter_path": "artifacts/llm/backlog/",
  "training_method": "GRPO",
  "lora_rank": 16,
  "reward_functions": {
    "fn1_valid": "Action validity - legal JSON action output (0->1)",
    "fn2_no_halluc": "No hallucination - stayed on gov workflow topic (0->1)",
    "fn3_env_score": "Environment score - improved gov workflow quality"
  },
  "summary": {
    "first_episode_reward": -2.5,
    "last_episode_reward": 1.2345678901234567e+19,
    "best_episode_reward": 1.2345678901234567e+19,
    "first_episode_score": 0.65,
    "last_episode_score": 0.9625,
    "best_episode_score": 0.9625,
    "reward_improvement_pct": 4.9382715604938274e+20,
    "invalid_action_steps": 2,
    "hallucination_steps": 0,
    "avg_fn1_valid": 0.8438,
    "avg_fn2_no_halluc": 1.0,
    "avg_fn3_env_score": 0.1083
  },
  "episodes": [
    {
      "episode": 1,
      "total_reward": -2.5,
      "score": 0.65,
      "fn1_valid": 1.0,
      "fn2_no_halluc": 1.0,
      "fn3_env_score": 0.1,
      "phase": "random",
      "actions": {
        "valid_action_rate": 1.0,
        "hallucination_free": 1.0,
        "env_score": 0.3
      }
    },
    {
      "episode": 2,
      "total_reward": 0.0,
      "score": 0.35,
      "fn1_valid": 0.5,
      "fn2_no_halluc": 1.0,
      "fn3_env_score": 0.0,
      "phase": "exploring",
      "actions": {
        "valid_action_rate": 0.5,
        "hallucination_free": 1.0,
        "env_score": 0.0
      }
    },
    {
      "episode": 3,
      "total_reward": 0.0,
      "score": 0.5,
      "fn1_valid": 1.0,
      "fn2_no_halluc": 1.0,
      "fn3_env_score": 0.0,
      "phase": "learning",
      "actions": {
        "valid_action_rate": 1.0,
        "hallucination_free": 1.0,
        "env_score": 0.0
      }
    },
    {
      "episode": 4,
      "total_reward": 1.2345678901234567e+19,
      "score": 0.9625,
      "fn1_valid": 0.875,
      "fn2_no_halluc": 1.0,
      "fn3_env_score": 0.3333,
      "phase": "converged",
      "actions": {
        "valid_action_rate": 0.875,
        "hallucination_free": 1.0,
        "env_score": 1.0
      }
    }
  ]
}`;

describe('readStoryCsv', () => {
  it('reads the canonical columns', () => {
    const rows = readStoryCsv(EIGHT);
    expect(rows).toHaveLength(8);
    expect(rows[1]).toEqual({ step: 10, reward: 1, fn1_valid: 0.5, fn2_no_halluc: 1, fn3_env_score: 0.25 });
    expect(rows.map((r) => r.step)).toEqual([5, 10, 15, 20, 25, 30, 35, 40]);
  });

  it('reads the aliases, and numbers the rows when step is missing', () => {
    const rows = readStoryCsv(
      'total_reward,valid_action_rate,hallucination_free,env_score\n3.5,0.5,0.25,7\n-1,1,1,9\n',
      LENIENT,
    );
    expect(rows).toEqual([
      { step: 1, reward: 3.5, fn1_valid: 0.5, fn2_no_halluc: 0.25, fn3_env_score: 7 },
      { step: 2, reward: -1, fn1_valid: 1, fn2_no_halluc: 1, fn3_env_score: 9 },
    ]);
  });

  it('prefers the canonical column and falls back to the alias when its cell is empty', () => {
    const rows = readStoryCsv('reward,total_reward\n1,100\n,200\n', LENIENT);
    expect(rows.map((r) => r.reward)).toEqual([1, 200]);
  });

  it('defaults fn1 and fn2 to 1.0 and a missing fn3 to the min-max-normalised reward', () => {
    const rows = readStoryCsv('step,reward\n1,-2\n2,0\n3,2\n4,6\n', LENIENT);
    expect(rows.map((r) => [r.fn1_valid, r.fn2_no_halluc])).toEqual([
      [1, 1],
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
    expect(rows.map((r) => r.fn3_env_score)).toEqual([0, 0.25, 0.5, 1]);
  });

  it('fills an empty fn3 cell row by row (the other rows keep theirs), and an empty reward is 0', () => {
    const rows = readStoryCsv(`${HEADER}\n1,10,1,1,5\n2,,1,1,\n3,20,1,1,7\n`, LENIENT);
    expect(rows.map((r) => r.reward)).toEqual([10, 0, 20]);
    expect(rows.map((r) => r.fn3_env_score)).toEqual([5, 0, 7]); // (0 - 0) / 20
  });

  it('equal rewards normalise to 0 (range 0 → 1)', () => {
    expect(readStoryCsv('reward\n3\n3\n', LENIENT).map((r) => r.fn3_env_score)).toEqual([0, 0]);
  });

  it('truncates a fractional step like int(float(s)), skips blank lines, drops a BOM and trims header names', () => {
    const rows = readStoryCsv('\ufeff step , reward\n\n2.9,1\n\n-3.5,2\n', LENIENT);
    expect(rows.map((r) => r.step)).toEqual([2, -3]);
  });

  it('names the row, line and column of a bad number', () => {
    expect(() => readStoryCsv(`${HEADER}\n1,1,1,1,1\n2,abc,1,1,1\n`)).toThrow(
      "story CSV row 2 (line 3), column 'reward': 'abc' is not a number",
    );
    expect(() => readStoryCsv('total_reward,env_score\n1,nan\n', LENIENT)).toThrow(
      "story CSV row 1 (line 2), column 'env_score': 'nan' is not a number",
    );
    expect(() => readStoryCsv('step,reward\nx,1\n', LENIENT)).toThrow("column 'step'");
    expect(() => readStoryCsv('reward\n1e999\n', LENIENT)).toThrow("'1e999' is not a finite number");
    expect(() => readStoryCsv(`${HEADER}\n`)).toThrow('no rows');
    expect(() => readStoryCsv('')).toThrow('empty');
  });

  it('strict by default: every column (or alias), a number in every cell, as many fields as the header', () => {
    expect(() => readStoryCsv('a,b\n1,2\n')).toThrow(
      "story CSV: no 'step' column; columns: a, b. A story CSV has step, reward, fn1_valid, fn2_no_halluc, " +
        'fn3_env_score; --lenient',
    );
    expect(() => readStoryCsv('step,total_reward,fn1_valid,env_score\n1,2,1,0\n')).toThrow(
      "no 'fn2_no_halluc' column (nor its alias 'hallucination_free')",
    );
    expect(() => readStoryCsv(`${HEADER}\n1,10,1,1,5\n2,,1,1,3\n`)).toThrow(
      "story CSV row 2 (line 3), column 'reward': empty",
    );
    expect(() => readStoryCsv(`${HEADER}\n1,10,1,1,5\n2,11,1,1\n`)).toThrow(
      'story CSV line 3: 4 fields, the header has 5 (a missing or extra field)',
    );
    expect(() => readStoryCsv(`${HEADER}\n1,10,1,1,5,9\n`)).toThrow('story CSV line 2: 6 fields, the header has 5');
    expect(readStoryCsv('step,total_reward,valid_action_rate,hallucination_free,env_score\n1,-2.5,1,1,0\n')).toEqual([
      { step: 1, reward: -2.5, fn1_valid: 1, fn2_no_halluc: 1, fn3_env_score: 0 },
    ]);
    // What --lenient reads of the same broken inputs: the reference converter's defaults.
    expect(readStoryCsv('a,b\n1,2\n', LENIENT)).toEqual([
      { step: 1, reward: 0, fn1_valid: 1, fn2_no_halluc: 1, fn3_env_score: 0 },
    ]);
  });

  it('parses RFC 4180 quoting', () => {
    const p = parseCsv('a,"b ""q""",c\r\n"1\n2",,"x,y"\n');
    expect(p.header).toEqual(['a', 'b "q"', 'c']);
    expect(p.records).toEqual([{ line: 2, cells: ['1\n2', '', 'x,y'] }]);
    expect(() => parseCsv('a\n"open')).toThrow('CSV line 2: unterminated quoted field');
    expect(() => parseCsv('a\n"x"y\n')).toThrow("unexpected 'y'");
  });
});

describe('storyJson (hand-computed)', () => {
  const json = storyJson(readStoryCsv(EIGHT), 'mixed_urgency_medium');

  it('has the documented shape and the reference constants', () => {
    expect(StoryJsonSchema.parse(json)).toEqual(json);
    expect(Object.keys(json)).toEqual([
      'task_id',
      'total_episodes',
      'base_model',
      'adapter_path',
      'training_method',
      'lora_rank',
      'reward_functions',
      'summary',
      'episodes',
    ]);
    expect(json.total_episodes).toBe(8);
    expect(json.base_model).toBe('Qwen/Qwen2-1.5B-Instruct');
    expect(json.adapter_path).toBe('artifacts/llm/urgency/');
    expect(json.training_method).toBe('GRPO');
    expect(json.lora_rank).toBe(16);
    expect(json.reward_functions).toEqual({
      fn1_valid: 'Action validity - legal JSON action output (0->1)',
      fn2_no_halluc: 'No hallucination - stayed on gov workflow topic (0->1)',
      fn3_env_score: 'Environment score - improved gov workflow quality',
    });
  });

  it('scores every episode and assigns the phases', () => {
    expect(json.episodes.map((e) => e.score)).toEqual([0.75, 0.475, 0.3, 1, 0.8, 0.9375, 0.7125, 1]);
    expect(json.episodes.map((e) => e.phase)).toEqual([
      'random',
      'random',
      'exploring',
      'exploring',
      'learning',
      'learning',
      'converged',
      'converged',
    ]);
    expect(json.episodes[1]).toEqual({
      episode: 10,
      total_reward: 1,
      score: 0.475,
      fn1_valid: 0.5,
      fn2_no_halluc: 1,
      fn3_env_score: 0.25,
      phase: 'random',
      actions: { valid_action_rate: 0.5, hallucination_free: 1, env_score: 0.25 },
    });
  });

  it('summarises with Python rounding (0.90625 → 0.9062, half to even)', () => {
    expect(json.summary).toEqual({
      first_episode_reward: 2,
      last_episode_reward: 5,
      best_episode_reward: 5,
      first_episode_score: 0.75,
      last_episode_score: 1,
      best_episode_score: 1,
      reward_improvement_pct: 150,
      invalid_action_steps: 2,
      hallucination_steps: 2,
      avg_fn1_valid: 0.9062,
      avg_fn2_no_halluc: 0.8125,
      avg_fn3_env_score: 0.625,
    });
  });

  it('normalises fn3 by its range (here [10, 30]) and reports norm_fn3 as actions.env_score', () => {
    const j = storyJson([row(1, 0, 1, 1, 10), row(2, 0, 1, 1, 15), row(3, 0, 1, 1, 30)], 'a_b');
    expect(j.episodes.map((e) => e.actions.env_score)).toEqual([0, 0.25, 1]);
    expect(j.episodes.map((e) => e.fn3_env_score)).toEqual([10, 15, 30]);
    expect(j.episodes.map((e) => e.score)).toEqual([0.5, 0.625, 1]);
    expect(j.summary.avg_fn3_env_score).toBe(18.3333);
  });

  it('a constant fn3 gives norm 0 everywhere (range 0 → 1), so score = 0.3·fn1 + 0.2·fn2', () => {
    const j = storyJson([row(1, 1, 1, 1, 4), row(2, 1, 0.5, 0, 4)], 'a_b');
    expect(j.episodes.map((e) => e.actions.env_score)).toEqual([0, 0]);
    expect(j.episodes.map((e) => e.score)).toEqual([0.5, 0.15]);
  });

  it('reward_improvement_pct: 2 decimals, |first| in the denominator, 0 when first is 0', () => {
    expect(storyJson([row(1, 3), row(2, 3.5)], 'a_b').summary.reward_improvement_pct).toBe(16.67);
    expect(storyJson([row(1, -2), row(2, -1)], 'a_b').summary.reward_improvement_pct).toBe(50);
    expect(storyJson([row(1, -2), row(2, -3)], 'a_b').summary.reward_improvement_pct).toBe(-50);
    expect(storyJson([row(1, 0), row(2, 7)], 'a_b').summary.reward_improvement_pct).toBe(0);
    expect(storyJson([row(1, 1.000049), row(2, 2.123456789)], 'a_b').summary.first_episode_reward).toBe(1);
  });

  it('phases at n = 5 and n = 7 follow index < 0.25n / 0.5n / 0.75n (not the n//4 quartiles)', () => {
    const phases = (n: number): string[] => storyJson(rowsOf(n), 'a_b').episodes.map((e) => e.phase);
    expect(phases(5)).toEqual(['random', 'random', 'exploring', 'learning', 'converged']);
    expect(phases(7)).toEqual(['random', 'random', 'exploring', 'exploring', 'learning', 'learning', 'converged']);
    expect(phases(4)).toEqual(['random', 'exploring', 'learning', 'converged']);
    expect(phases(1)).toEqual(['random']);
    expect(storyPhase(2, 8)).toBe('exploring');
    expect(storyPhase(1, 8)).toBe('random');
  });

  it('adapter_path is artifacts/llm/{task_id.split("_")[1]}/ unless given', () => {
    expect(referenceAdapterPath('mixed_urgency_medium')).toBe('artifacts/llm/urgency/');
    expect(referenceAdapterPath('district_backlog_easy')).toBe('artifacts/llm/backlog/');
    expect(referenceAdapterPath('cross_department_hard')).toBe('artifacts/llm/department/');
    expect(referenceAdapterPath('district_backlog_easy_extreme')).toBe('artifacts/llm/backlog/');
    expect(() => referenceAdapterPath('easy')).toThrow("has no '_'");
    const j = storyJson([row(1, 1)], 'easy', { adapterPath: 'x/', baseModel: 'm', trainingMethod: 'PPO', loraRank: 0 });
    expect([j.adapter_path, j.base_model, j.training_method, j.lora_rank]).toEqual(['x/', 'm', 'PPO', 0]);
    expect(() => storyJson([], 'a_b')).toThrow('at least one row');
    expect(() => storyJson([row(1, Number.NaN)], 'a_b')).toThrow('reward = NaN');
  });

  it('the schema is strict', () => {
    expect(StoryJsonSchema.safeParse({ ...json, extra: 1 }).success).toBe(false);
    expect(StoryJsonSchema.safeParse({ ...json, summary: { ...json.summary, extra: 1 } }).success).toBe(false);
    expect(StoryJsonSchema.safeParse({ ...json, total_episodes: 7 }).success).toBe(false);
    const ep = json.episodes[0] as StoryJson['episodes'][number];
    expect(
      StoryJsonSchema.safeParse({ ...json, episodes: [{ ...ep, phase: 'done' }, ...json.episodes.slice(1)] }).success,
    ).toBe(false);
    expect(
      StoryJsonSchema.safeParse({
        ...json,
        episodes: [{ ...ep, actions: { ...ep.actions, advance_time: 1 } }, ...json.episodes.slice(1)],
      }).success,
    ).toBe(false);
  });
});

describe("the reference's golden values (notebook's embedded 150-row CSV)", () => {
  const json = storyJson(readStoryCsv(embeddedCsv()), 'mixed_urgency_medium');

  it(
    'summary: reward 13.2963 first/last/best, score 1.0, 7 invalid, 1 hallucination, averages 0.9792 / 0.995 / ' +
      '11.2925',
    () => {
      expect(StoryJsonSchema.parse(json).total_episodes).toBe(150);
      expect(json.summary).toEqual({
        first_episode_reward: 13.2963,
        last_episode_reward: 13.2963,
        best_episode_reward: 13.2963,
        first_episode_score: 1,
        last_episode_score: 1,
        best_episode_score: 1,
        reward_improvement_pct: 0,
        invalid_action_steps: 7,
        hallucination_steps: 1,
        avg_fn1_valid: 0.9792,
        avg_fn2_no_halluc: 0.995,
        avg_fn3_env_score: 11.2925,
      });
    },
  );

  it('row 3 (fn1 0.5, fn2 0.25, the lowest fn3) scores 0.15 + 0.05 + 0 = 0.2', () => {
    expect(json.episodes[2]).toMatchObject({
      episode: 3,
      total_reward: 11.8788,
      score: 0.2,
      fn3_env_score: 11.1288,
      phase: 'random',
      actions: { valid_action_rate: 0.5, hallucination_free: 0.25, env_score: 0 },
    });
    // Row 113: norm = (11.18434… − 11.12878…) / (11.29629… − 11.12878…) = 0.33166;
    // 0.075 + 0.2 + 0.16583 = 0.4408.
    expect(json.episodes[112]).toMatchObject({
      episode: 113,
      score: 0.4408,
      phase: 'learning',
      actions: { valid_action_rate: 0.25, env_score: 0.3317 },
    });
  });

  it('quartiles, checkpoints, insight, narrative, episode detail and comparison as story_router derives them', () => {
    expect(storyQuartiles(150)).toEqual([37, 75, 112]);
    expect(storyCheckpointIndices(150)).toEqual([0, 37, 75, 112, 149]);
    const cps = storyCheckpoints(json);
    expect(cps.map((c) => [c.episode, c.phase, c.score])).toEqual([
      [1, 'random', 1],
      [38, 'random', 1],
      [76, 'learning', 1],
      [113, 'learning', 0.4408],
      [150, 'converged', 1],
    ]);
    expect(cps[3]).toEqual({
      episode: 113,
      phase: 'learning',
      actions: { valid_action_rate: 0.25, hallucination_free: 1, env_score: 0.3317 },
      reward: 12.4343,
      score: 0.4408,
    });
    // fn1 over the first 37 rows: (37 − 0.5 − 4·0.375)/37 = 94.6%; over the last 38: (38 − 0.75)/38 = 98.0%.
    expect(storyActions(json).insight).toBe(
      'Action validity improved from 94.6% (early) to 98.0% (final). LLM learned to output valid government workflow ' +
        'JSON consistently.',
    );
    expect(storyNarrative(json)).toEqual({
      // Quarter 1 sums: valid 35, hallucination_free 36.25, env_score 34.6596; avg reward (32·13.2963 + 11.8788 +
      // 4·12.8652)/37.
      phase_1: "Steps 1-37: LLM chose 'hallucination_free' most often. Avg reward 13.21. Still exploring randomly.",
      phase_2: "Steps 37-75: LLM discovered 'hallucination_free'. Reward started improving as valid patterns emerged.",
      // Quarter 3 is all typical rows: a three-way tie, won by the first key (Python's max keeps the first).
      phase_3: "Steps 75-112: LLM reinforced 'valid_action_rate'. Action validity reaching near-perfect levels.",
      phase_4: "Steps 112-150: LLM converged on 'hallucination_free'. Avg reward 13.27. Final score 100.0%.",
    });
    const d = storyEpisodeDetail(json, 3);
    expect(d.running_best_reward).toBe(13.2963);
    expect(d.running_avg_score).toBe(0.7333); // (1 + 1 + 0.2) / 3
    expect(d.message).toBe(
      'Step 3: LLM is exploring. Reward=11.879, Score=0.200. WARNING: Invalid action at step 3. WARNING: ' +
        'Hallucination detected.',
    );
    expect(() => storyEpisodeDetail(json, 151)).toThrow('episode_num must be 1-150. Got 151.');
    expect(storyComparison(json).improvement).toEqual({
      score_delta: 0.546,
      score_pct: 120.3,
      verdict: 'LLM significantly outperforms baseline',
    });
    expect(storyComparison(json).after.label).toBe('GRPO Trained LLM (Qwen/Qwen2-1.5B-Instruct)');
  });

  it('the per-phase messages', () => {
    const ep = json.episodes[140] as StoryJson['episodes'][number];
    expect(storyEpisodeMessage(ep)).toBe('Step 141: LLM converged. Reward=13.296, Score=1.000.');
    expect(storyEpisodeMessage({ ...ep, phase: 'exploring', fn2_no_halluc: 0.5 })).toBe(
      'Step 141: LLM finding patterns. Reward=13.296, Score=1.000. WARNING: Hallucination detected.',
    );
    expect(storyEpisodeMessage({ ...ep, phase: 'learning' })).toMatch(/^Step 141: LLM reinforcing good actions\./);
  });

  it('the JSON text keeps Python floats (1.0) and ints (episode 1)', () => {
    const text = storyJsonText(json);
    expect(text).toContain('\n  "lora_rank": 16,\n');
    expect(text).toContain('\n    "first_episode_score": 1.0,\n');
    expect(text).toContain('\n    "reward_improvement_pct": 0.0,\n');
    expect(text).toContain('\n      "episode": 1,\n      "total_reward": 13.2963,\n      "score": 1.0,\n');
    expect(JSON.parse(text)).toEqual(json);
  });
});

describe('derived-value helpers', () => {
  it('quartile boundaries and checkpoint indices at small n', () => {
    expect(storyQuartiles(8)).toEqual([2, 4, 6]);
    expect(storyQuartiles(7)).toEqual([1, 3, 5]);
    expect(storyQuartiles(5)).toEqual([1, 2, 3]);
    expect(storyQuartiles(3)).toEqual([0, 1, 2]);
    expect(storyCheckpointIndices(8)).toEqual([0, 2, 4, 6, 7]);
    expect(storyCheckpointIndices(7)).toEqual([0, 1, 3, 5, 6]);
    expect(storyCheckpointIndices(5)).toEqual([0, 1, 2, 3, 4]);
    const json = storyJson(readStoryCsv(EIGHT), 'mixed_urgency_medium');
    expect(storyCheckpoints(json).map((c) => [c.episode, c.phase, c.reward, c.score])).toEqual([
      [5, 'random', 2, 0.75],
      [15, 'exploring', -1.5, 0.3],
      [25, 'learning', 2.5, 0.8],
      [35, 'converged', 4.5, 0.7125],
      [40, 'converged', 5, 1],
    ]);
    // first quarter fn1 = (1 + 0.5)/2 = 75.0%; last quarter (rows 7, 8) = 100.0%
    expect(storyActions(json).insight).toMatch(
      /^Action validity improved from 75\.0% \(early\) to 100\.0% \(final\)\./,
    );
    // Dominant action per quarter: the actions key with the largest sum (first on ties); none → advance_time.
    expect(storyNarrative(storyJson(rowsOf(3), 'a_b')).phase_1).toBe(
      "Steps 1-0: LLM chose 'advance_time' most often. Avg reward 0.00. Still exploring randomly.",
    );
    expect(storyComparison(storyJson([row(1, 1, 0, 0, 0)], 'a_b')).improvement).toEqual({
      score_delta: 0,
      score_pct: 0,
      verdict: 'LLM needs more training',
    });
  });

  it("formats like Python's format(): half to even, sign kept on zero", () => {
    expect(pyFixed(0.0625, 3)).toBe('0.062');
    expect(pyFixed(2.675, 2)).toBe('2.67');
    expect(pyFixed(-0.0001, 3)).toBe('-0.000');
    expect(pyFixed(13.2963, 3)).toBe('13.296');
  });

  it("writes floats like Python's repr", () => {
    const cases: [number, string][] = [
      [1, '1.0'],
      [0, '0.0'],
      [-0, '-0.0'],
      [0.0001, '0.0001'],
      [1e-5, '1e-05'],
      [1.5e-7, '1.5e-07'],
      [123.456, '123.456'],
      [-2.5, '-2.5'],
      [1e15, '1000000000000000.0'],
      [1e16, '1e+16'],
      // biome-ignore lint/correctness/noPrecisionLoss: the point of this row is a literal a double cannot hold
      [12345678901234567890, '1.2345678901234567e+19'],
      [0.1 + 0.2, '0.30000000000000004'],
    ];
    for (const [x, s] of cases) expect(pyFloatRepr(x)).toBe(s);
  });
});

describe('files', () => {
  it('the JSON text is byte-identical to what convert_grpo_csv.py writes', () => {
    const out = mkdtempSync(join(tmpdir(), 'queue-rl-story-'));
    const written = writeStory(readStoryCsv(TINY_CSV, LENIENT), 'district_backlog_easy', out);
    expect(written.jsonPath).toBe(join(out, 'district_backlog_easy_training_log.json'));
    expect(readFileSync(written.jsonPath, 'utf8')).toBe(TINY_EXPECTED);
    expect(StoryJsonSchema.parse(JSON.parse(TINY_EXPECTED))).toEqual(written.json);
  });

  it('storyCsv has the five columns at full precision and reads back to the same rows and JSON', () => {
    const rows = readStoryCsv(embeddedCsv());
    const text = storyCsv(rows);
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe(HEADER);
    expect(lines[3]).toBe('3,11.878787878787879,0.5,0.25,11.128787878787879');
    expect(lines).toHaveLength(151);
    expect(readStoryCsv(text)).toEqual(rows);
    expect(storyJson(readStoryCsv(text), 'mixed_urgency_medium')).toEqual(storyJson(rows, 'mixed_urgency_medium'));
  });

  it('writeStory writes both files and refuses a task id that cannot name a file', () => {
    const out = mkdtempSync(join(tmpdir(), 'queue-rl-story-'));
    const w = writeStory(readStoryCsv(EIGHT), 'mixed_urgency_medium', join(out, 'nested'));
    expect(readFileSync(w.csvPath, 'utf8')).toBe(
      `${HEADER}\n5,2,1,1,0.5\n10,1,0.5,1,0.25\n15,-1.5,1,0,0\n20,3,1,1,1\n` +
        `25,2.5,0.75,1,0.75\n30,4,1,1,0.875\n35,4.5,1,0.5,0.625\n40,5,1,1,1\n`,
    );
    expect(JSON.parse(readFileSync(w.jsonPath, 'utf8'))).toEqual(w.json);
    expect(() => writeStory([row(1, 1)], '../x_y', out)).toThrow('cannot name a file');
  });
});

describe('from queue-rl runs', () => {
  it('GRPO metrics: per-iteration group means; rows without a reward are left out; TRL /mean names accepted', () => {
    const rows = storyRowsFromGrpoMetrics([
      {
        step: 1,
        reward: null,
        'rewards/fn1_valid': null,
        'rewards/fn2_no_halluc': null,
        'rewards/fn3_env_score': null,
      },
      { step: 2, reward: 1.5, 'rewards/fn1_valid': 0.75, 'rewards/fn2_no_halluc': 1, 'rewards/fn3_env_score': -0.25 },
      {
        step: '3',
        reward: '2.5',
        'rewards/fn1_valid/mean': '1',
        'rewards/fn2_no_halluc/mean': '0.5',
        'rewards/fn3_env_score/mean': '1',
      },
    ]);
    expect(rows).toEqual([
      { step: 2, reward: 1.5, fn1_valid: 0.75, fn2_no_halluc: 1, fn3_env_score: -0.25 },
      { step: 3, reward: 2.5, fn1_valid: 1, fn2_no_halluc: 0.5, fn3_env_score: 1 },
    ]);
    expect(
      storyRowsFromGrpoMetrics([
        { step: 1, reward: 1 },
        { step: 2, reward: 3 },
      ]).map((r) => [r.fn1_valid, r.fn2_no_halluc, r.fn3_env_score]),
    ).toEqual([
      [1, 1, 0],
      [1, 1, 1],
    ]);
    expect(() => storyRowsFromGrpoMetrics([{ step: 1, reward: 'x' }])).toThrow(
      "GRPO metrics row 1, column 'reward': 'x' is not a number",
    );
    expect(() => storyRowsFromGrpoMetrics([{ step: 1, reward: null }])).toThrow('no row has a reward');
  });

  it(
    'PPO metrics: iteration, ep_rew_mean, 1.0, 1.0, ep_score_mean; iterations without a finished episode ' + 'left out',
    () => {
      const metrics = [
        {
          'time/iterations': 1,
          'time/total_timesteps': 2048,
          'rollout/ep_rew_mean': null,
          'rollout/ep_score_mean': null,
        },
        {
          'time/iterations': 2,
          'time/total_timesteps': 4096,
          'rollout/ep_rew_mean': -200,
          'rollout/ep_score_mean': 0.5,
        },
        {
          'time/iterations': 3,
          'time/total_timesteps': 6144,
          'rollout/ep_rew_mean': -150,
          'rollout/ep_score_mean': 0.55,
        },
      ];
      expect(storyRowsFromPpoMetrics(metrics)).toEqual([row(2, -200, 1, 1, 0.5), row(3, -150, 1, 1, 0.55)]);
      // Without grader scores (or with some missing) fn3 is the reward for every row: never a mix.
      const partial = [
        metrics[1] as (typeof metrics)[number],
        { ...(metrics[2] as (typeof metrics)[number]), 'rollout/ep_score_mean': null },
      ];
      expect(storyRowsFromPpoMetrics(partial).map((r) => r.fn3_env_score)).toEqual([-200, -150]);
      expect(() => storyRowsFromPpoMetrics([metrics[0] as (typeof metrics)[number]])).toThrow(
        'no iteration has rollout/ep_rew_mean',
      );
    },
  );

  it('PPO metrics: fn1 = 1 − the invalid-action rate when logged (rollout column, else the latest eval row)', () => {
    const m = (it: number, ts: number, rate?: number): Record<string, number> => ({
      'time/iterations': it,
      'time/total_timesteps': ts,
      'rollout/ep_rew_mean': it,
      'rollout/ep_score_mean': 0.5,
      ...(rate === undefined ? {} : { 'rollout/invalid_action_rate': rate }),
    });
    expect(storyRowsFromPpoMetrics([m(1, 100, 0.25), m(2, 200)]).map((r) => r.fn1_valid)).toEqual([0.75, 1]);
    const evalRows = [
      { 'time/total_timesteps': '200', 'eval/invalid_action_rate': '0.2' },
      { 'time/total_timesteps': '400', 'eval/invalid_action_rate': '0.1' },
    ];
    expect(
      storyRowsFromPpoMetrics([m(1, 100), m(2, 200), m(3, 300), m(4, 400)], evalRows).map((r) => r.fn1_valid),
    ).toEqual([1, 0.8, 0.8, 0.9]);
  });
});

describe('export-story command (in-process)', () => {
  let out: string[] = [];
  let err: string[] = [];
  beforeEach(() => {
    out = [];
    err = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  });
  afterEach(() => vi.restoreAllMocks());

  const PPO_HEADER = [
    'time/iterations',
    'time/total_timesteps',
    'time/fps',
    'time/time_elapsed',
    'rollout/ep_rew_mean',
    'rollout/ep_len_mean',
    'rollout/ep_score_mean',
    'rollout/episodes',
    'train/approx_kl',
    'train/clip_fraction',
    'train/entropy_loss',
    'train/explained_variance',
    'train/learning_rate',
    'train/loss',
    'train/n_updates',
    'train/policy_gradient_loss',
    'train/value_loss',
  ].join(',');
  const ppoRow = (it: number, rew: string, score: string): string =>
    `${it},${it * 2048},1000,${it},${rew},40,${score},${it * 5},0.01,0.1,-1.3,0.5,0.0003,0.05,${it * 10},-0.01,0.6`;

  function ppoRun(): { root: string; run: string } {
    const root = mkdtempSync(join(tmpdir(), 'queue-rl-story-run-'));
    const run = join(root, 'pipeline-gov-workflow-20261122T000000Z');
    for (const phase of ['phase1', 'phase2']) mkdirSync(join(run, phase), { recursive: true });
    mkdirSync(join(run, 'notes'));
    writeFileSync(join(run, 'phase1', 'metrics.csv'), `${PPO_HEADER}\n${ppoRow(1, '-500', '0.1')}\n`);
    writeFileSync(
      join(run, 'phase2', 'metrics.csv'),
      [
        PPO_HEADER,
        ppoRow(1, '', ''),
        ppoRow(2, '-200', '0.5'),
        ppoRow(3, '-150', '0.55'),
        ppoRow(4, '-100', '0.6'),
        ppoRow(5, '-120', '0.58'),
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(run, 'phase2', 'eval.csv'),
      'time/total_timesteps,eval/grader_score,eval/mean_reward\n8192,0.56,-130\n',
    );
    return { root, run };
  }

  it('a PPO run directory: takes the last phase with a metrics.csv, writes to <phase>/story', async () => {
    const { run } = ppoRun();
    expect(await main(['export-story', '--run', run, '--task', 'mixed_urgency_medium'])).toBe(0);
    const phase = join(run, 'phase2');
    const jsonPath = join(phase, 'story', 'mixed_urgency_medium_training_log.json');
    const csvPath = join(phase, 'story', 'mixed_urgency_medium_story.csv');
    expect(out[0]).toBe(
      `export-story: ${run} is a run directory; using its last phase with a metrics.csv: ${phase} (phases: phase1, ` +
        `phase2)`,
    );
    expect(out[1]).toMatch(/^export-story: PPO metrics .*phase2\/metrics\.csv \(4 iterations; /);
    expect(out[1]).toMatch(/; 1 without a finished episode .*; eval\.csv read\)$/);
    expect(out.slice(-2)).toEqual([`wrote ${jsonPath}`, `wrote ${csvPath}`]);
    expect(readFileSync(csvPath, 'utf8')).toBe(
      `${HEADER}\n2,-200,1,1,0.5\n3,-150,1,1,0.55\n4,-100,1,1,0.6\n5,-120,1,1,0.58\n`,
    );
    const json = StoryJsonSchema.parse(JSON.parse(readFileSync(jsonPath, 'utf8')));
    expect([json.training_method, json.lora_rank, json.adapter_path, json.base_model]).toEqual([
      'PPO',
      0,
      'checkpoints/pipeline-gov-workflow-20261122T000000Z/phase2/',
      'none (queue-rl MaskablePPO MLP policy)',
    ]);
    // norm = (score − 0.5)/0.1 → 0, 0.5, 1, 0.8; score = 0.5 + 0.5·norm.
    expect(json.episodes.map((e) => [e.episode, e.score, e.phase])).toEqual([
      [2, 0.5, 'random'],
      [3, 0.75, 'exploring'],
      [4, 1, 'learning'],
      [5, 0.9, 'converged'],
    ]);
    expect(json.summary).toMatchObject({
      first_episode_reward: -200,
      last_episode_reward: -120,
      best_episode_reward: -100,
      reward_improvement_pct: 40,
      best_episode_score: 1,
      last_episode_score: 0.9,
      invalid_action_steps: 0,
      hallucination_steps: 0,
    });
  });

  it('a phase directory with --out and meta overrides', async () => {
    const { run, root } = ppoRun();
    const dest = join(root, 'story-out');
    expect(
      await main([
        'export-story',
        '--run',
        join(run, 'phase1'),
        '--task',
        'district_backlog_easy',
        '--out',
        dest,
        '--training-method',
        'MaskablePPO',
        '--lora-rank',
        '4',
        '--base-model',
        'mlp',
      ]),
    ).toBe(0);
    const json = StoryJsonSchema.parse(
      JSON.parse(readFileSync(join(dest, 'district_backlog_easy_training_log.json'), 'utf8')),
    );
    expect([json.total_episodes, json.training_method, json.lora_rank, json.base_model, json.adapter_path]).toEqual([
      1,
      'MaskablePPO',
      4,
      'mlp',
      'checkpoints/pipeline-gov-workflow-20261122T000000Z/phase1/',
    ]);
    expect(out[0]).not.toMatch(/run directory/);
  });

  it('a GRPO run directory is told apart by its columns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'queue-rl-story-grpo-'));
    writeFileSync(
      join(dir, 'metrics.csv'),
      'step,reward,reward_std,rewards/fn1_valid,rewards/fn2_no_halluc,rewards/fn3_env_score,invalid_action_rate\n' +
        '1,,,,,,\n2,1.5,0.2,0.5,1,0,0.5\n3,3,0.1,1,1,1,0\n',
    );
    expect(await main(['export-story', '--run', dir, '--task', 'cross_department_hard'])).toBe(0);
    expect(out[0]).toMatch(/^export-story: GRPO metrics .*metrics\.csv \(2 of 3 rows\)$/);
    const json = StoryJsonSchema.parse(
      JSON.parse(readFileSync(join(dir, 'story', 'cross_department_hard_training_log.json'), 'utf8')),
    );
    expect([json.training_method, json.lora_rank, json.adapter_path, json.base_model]).toEqual([
      'GRPO',
      16,
      'artifacts/llm/department/',
      'Qwen/Qwen2-1.5B-Instruct',
    ]);
    expect(json.episodes.map((e) => [e.episode, e.score])).toEqual([
      [2, 0.35],
      [3, 1],
    ]);
  });

  it(
    '--csv --lenient converts a story CSV (here aliases, a missing column and empty cells) like ' +
      'convert_grpo_csv.py',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'queue-rl-story-csv-'));
      const csv = join(dir, 'in.csv');
      writeFileSync(csv, TINY_CSV);
      expect(
        await main([
          'export-story',
          '--csv',
          csv,
          '--task',
          'district_backlog_easy',
          '--out',
          join(dir, 'out'),
          '--lenient',
        ]),
      ).toBe(0);
      expect(out[0]).toBe(`export-story: story CSV ${csv} (4 rows)`);
      expect(readFileSync(join(dir, 'out', 'district_backlog_easy_training_log.json'), 'utf8')).toBe(TINY_EXPECTED);
      expect(readFileSync(join(dir, 'out', 'district_backlog_easy_story.csv'), 'utf8')).toBe(
        `${HEADER}\n1,-2.5,1,1,0.1\n2,0,0.5,1,2.0250000182250003e-19\n` +
          `3,0.00001,1,1,0.00001\n4,12345678901234567000,0.875,1,0.3333333\n`,
      );
    },
  );

  it('usage errors name the option and what it accepts (exit 2); bad data exits 1 naming row and column', async () => {
    const { run, root } = ppoRun();
    const cases: [string[], RegExp][] = [
      [['--run', run], /--task: required; .*mixed_urgency_medium/],
      [['--run', run, '--csv', 'x.csv', '--task', 'a_b'], /exactly one of --run <results dir> or --csv <story\.csv>/],
      [['--task', 'a_b'], /exactly one of --run/],
      [
        ['--run', join(root, 'missing'), '--task', 'a_b'],
        /--run: '.*missing' is not a directory; give results\/<run-id>\/<phase>/,
      ],
      [['--run', join(run, 'notes'), '--task', 'a_b'], /--run: '.*notes' has no metrics\.csv/],
      [['--csv', join(root, 'x.csv'), '--task', 'a_b'], /--out: required with --csv/],
      [['--csv', join(root, 'x.csv'), '--task', 'a_b', '--out', root], /--csv: '.*x\.csv' is not a file/],
      [['--run', run, '--task', 'easy'], /--task: 'easy' has no '_'.*--adapter-path/],
      [['--run', run, '--task', '../a_b'], /--task: '\.\.\/a_b' is not allowed; allowed: a task id of letters/],
      [
        ['--run', run, '--task', 'a_b', '--lora-rank=-1'],
        /--lora-rank: -1 is out of range; allowed: an integer in 0…1,000,000/,
      ],
      [['--run', run, '--task', 'a_b', '--lora-rank', '-1'], /--lora-rank: -1 is out of range/],
      [['--run', run, '--task', 'a_b', '--bogus'], /unknown option --bogus; options: --run, --csv/],
    ];
    for (const [args, message] of cases) {
      err = [];
      expect(await main(['export-story', ...args]), args.join(' ')).toBe(2);
      expect(err.join('\n'), args.join(' ')).toMatch(message);
      expect(err.join('\n')).toContain('usage: npm run cli -- export-story');
    }
    const bad = join(root, 'bad.csv');
    writeFileSync(bad, `${HEADER}\n1,1,1,1,1\n2,1,1,oops,1\n`);
    err = [];
    expect(await main(['export-story', '--csv', bad, '--task', 'a_b', '--out', root])).toBe(1);
    expect(err.join('\n')).toBe("error: story CSV row 2 (line 3), column 'fn2_no_halluc': 'oops' is not a number");
    // Without --lenient, a CSV the reference would fill with defaults is refused, and nothing is written.
    const tiny = join(root, 'tiny.csv');
    writeFileSync(tiny, TINY_CSV);
    err = [];
    expect(await main(['export-story', '--csv', tiny, '--task', 'a_b', '--out', join(root, 'tiny-out')])).toBe(1);
    expect(err.join('\n')).toMatch(
      /^error: story CSV: no 'fn2_no_halluc' column \(nor its alias 'hallucination_free'\); /,
    );
    expect(err.join('\n')).toMatch(/; columns: step, total_reward,/);
    expect(existsSync(join(root, 'tiny-out'))).toBe(false);
    const none = join(root, 'none.csv');
    writeFileSync(none, 'x,y\n1,2\n');
    err = [];
    expect(await main(['export-story', '--csv', none, '--task', 'a_b', '--out', join(root, 'none-out')])).toBe(1);
    expect(err.join('\n')).toMatch(/no 'step' column; columns: x, y/);
    expect(existsSync(join(root, 'none-out'))).toBe(false);
    const ragged = mkdtempSync(join(tmpdir(), 'queue-rl-story-ragged-'));
    writeFileSync(join(ragged, 'metrics.csv'), 'reward,rewards/fn1_valid\n1,1\n2\n');
    err = [];
    expect(await main(['export-story', '--run', ragged, '--task', 'a_b'])).toBe(1);
    expect(err.join('\n')).toMatch(/metrics\.csv line 3: 1 field, the header has 2/);
    expect(existsSync(join(ragged, 'story'))).toBe(false);
    const odd = mkdtempSync(join(tmpdir(), 'queue-rl-story-odd-'));
    writeFileSync(join(odd, 'metrics.csv'), 'a,b\n1,2\n');
    err = [];
    expect(await main(['export-story', '--run', odd, '--task', 'a_b'])).toBe(1);
    expect(err.join('\n')).toMatch(/neither a PPO metrics\.csv \(needs rollout\/ep_rew_mean\) nor a GRPO metrics\.csv/);
    expect(existsSync(join(odd, 'story'))).toBe(false);
  });

  it('is listed in the CLI usage and has --help', async () => {
    expect(await main(['--help'])).toBe(0);
    expect(out.join('\n')).toMatch(/export-story +write the Gov Workflow training-story JSON and CSV/);
    out = [];
    expect(await main(['export-story', '--help'])).toBe(0);
    expect(out.join('\n')).toMatch(/^usage: npm run cli -- export-story --run <results dir> --task <task_id>/);
  });
});
