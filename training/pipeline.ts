/**
 * The jobs users run, built from the pieces: train one config (PPO, then curves with the baselines
 * as reference lines) and evaluate checkpoints next to every baseline agent. The main job that
 * strings them together is main-job.ts.
 *
 * Layout of a run:
 *   results/<run-id>/<phase>/{config.json, metrics.csv, eval.csv, reward.svg|png, score.svg|png, baselines.csv}
 *   results/<run-id>/{evaluation.csv, evaluation.md, episodes.csv, summary.md}
 *   checkpoints/<run-id>/<phase>/{step-…, best, final, latest}
 */
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { LlmPolicyOptions } from '../agents/llm/llm-episodes.js';
import type { BackendInfo } from '../agents/policy/backend.js';
import { initBackend } from '../agents/policy/backend.js';
import { loadPolicyCheckpoint } from '../agents/policy/checkpoint.js';
import { ActorCriticPolicy } from '../agents/policy/policy.js';
import type { EpisodeRecord } from '../agents/types.js';
import type { RewardSettingsInput } from '../envs/core/reward-mode.js';
import { rewardSettings, shapedReward } from '../envs/core/reward-mode.js';
import type { EnvOptions } from '../envs/registry.js';
import { resolveEnv } from '../envs/registry.js';
import type { Quantity } from './baseline-table.js';
import {
  formatCsv,
  formatMarkdown,
  formatText,
  GOV_QUANTITIES,
  HELIX_QUANTITIES,
  summarise,
} from './baseline-table.js';
import type { BaselineFamily } from './baselines.js';
import { BASELINE_FAMILIES, baselineAgentNames, baselineRunOptions, runBaselines } from './baselines.js';
import { evaluatePolicy, meanOf } from './evaluation.js';
import type { PlotSeries, ReferenceLine } from './plots.js';
import { writeLineChart } from './plots.js';
import type { PpoConfig } from './ppo/config.js';
import { trainingTasks } from './ppo/config.js';
import type { MetricRow, TrainPpoResult } from './ppo/ppo.js';
import { trainPpo } from './ppo/ppo.js';
import { writeFileAtomic } from './run-io.js';

export interface RunTrainingOptions {
  config: PpoConfig;
  runId: string;
  resultsRoot: string;
  checkpointsRoot: string;
  resume?: string | null;
  signal?: AbortSignal;
  log?: (line: string) => void;
  stopAt?: number;
}

export interface RunTrainingResult extends TrainPpoResult {
  resultsDir: string;
  checkpointDir: string;
  plots: string[];
}

/** Trains one config and draws its curves. */
export async function runTraining(opts: RunTrainingOptions): Promise<RunTrainingResult> {
  const resultsDir = join(opts.resultsRoot, opts.runId, opts.config.phase);
  const checkpointDir = join(opts.checkpointsRoot, opts.runId, opts.config.phase);
  const result = await trainPpo({
    config: opts.config,
    resultsDir,
    checkpointDir,
    resume: opts.resume ?? null,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.stopAt !== undefined ? { stopAt: opts.stopAt } : {}),
  });
  const plots = await drawTrainingCurves(opts.config, result.metrics, result.evaluations, resultsDir);
  return { ...result, resultsDir, checkpointDir, plots };
}

/** Mean score and reward of each baseline agent on each of the config's evaluation tasks (its eval seeds). */
export async function baselineReference(
  config: PpoConfig,
): Promise<{ task: string; agent: string; score: number; reward: number }[]> {
  const family = config.env.id.split('/')[0] as string;
  if (!(BASELINE_FAMILIES as readonly string[]).includes(family)) return [];
  const tasks = config.eval.tasks.length > 0 ? config.eval.tasks : trainingTasks(config);
  // The search agent (the upper reference) plans by simulation: on a handful of seeds only.
  const planners = family === 'gov-workflow' && config.eval.seeds.length <= 10 ? ['search'] : [];
  const agents = [...baselineAgentNames(family as BaselineFamily), ...planners];
  const records = await runBaselines(
    family as BaselineFamily,
    tasks,
    agents,
    config.eval.seeds,
    baselineRunOptions(family, config.env.options),
  );
  return tasks.flatMap((task) =>
    agents.map((agent) => {
      const mine = records.filter((r) => r.agent === agent && r.task === task);
      return { task, agent, score: meanOf(mine, (r) => r.score), reward: meanOf(mine, (r) => r.reward) };
    }),
  );
}

/**
 * reward.svg/png and score.svg/png of a phase: training and evaluation curves against env steps, baselines as reference
 * lines.
 */
export async function drawTrainingCurves(
  config: PpoConfig,
  metrics: readonly MetricRow[],
  evaluations: readonly MetricRow[],
  resultsDir: string,
): Promise<string[]> {
  const baselines = await baselineReference(config);
  writeFileAtomic(
    join(resultsDir, 'baselines.csv'),
    stringify(baselines, { header: true, columns: ['task', 'agent', 'score', 'reward'] }),
  );
  const points = (rows: readonly MetricRow[], key: string): { x: number; y: number }[] =>
    rows
      .filter((r) => typeof r[key] === 'number')
      .map((r) => ({ x: r['time/total_timesteps'] as number, y: r[key] as number }));
  const evalKeys = evaluations.length > 0 ? Object.keys(evaluations[0] as MetricRow) : [];
  const perTask = (prefix: string): PlotSeries[] =>
    evalKeys
      .filter((k) => k.startsWith(`${prefix}/`))
      .map((k) => ({
        name: `eval: ${k.slice(prefix.length + 1)}, seeds ${describeSeeds(config.eval.seeds)}`,
        points: points(evaluations, k),
      }));
  // Per evaluation task: the best rule baseline on it, the search agent (the upper reference), and
  // the random agent when there is one task.
  const tasks = [...new Set(baselines.map((b) => b.task))];
  const refs = (get: (b: { score: number; reward: number }) => number): ReferenceLine[] =>
    tasks.flatMap((task) => {
      const mine = baselines.filter((b) => b.task === task);
      const rule = mine.filter((b) => b.agent !== 'random' && b.agent !== 'search');
      if (rule.length === 0) return [];
      const bestRule = rule.reduce((a, b) => (get(b) > get(a) ? b : a));
      const random = mine.find((b) => b.agent === 'random');
      const search = mine.find((b) => b.agent === 'search');
      const suffix = tasks.length > 1 ? ` on ${task.split('_').pop() ?? task}` : '';
      return [
        { name: `best rule${suffix}: ${bestRule.agent}`, y: get(bestRule) },
        ...(search ? [{ name: `search agent${suffix}`, y: get(search) }] : []),
        ...(random && tasks.length === 1 ? [{ name: 'random agent', y: get(random) }] : []),
      ];
    });
  // The reward lines in the units the run is paid in (reward modes: the grader's score, scaled).
  const paid = rewardSettings(
    (config.env.options as { reward?: RewardSettingsInput }).reward as RewardSettingsInput | undefined,
  );
  const rewardOf = (b: { score: number; reward: number }): number => shapedReward(paid, b.reward, 0, b.score);
  const title = `${config.name}, ${config.curriculum ? 'curriculum' : (config.env.id.split('/')[1] ?? config.env.id)}`;
  const reward = await writeLineChart(
    {
      title: `Episode reward — ${title}`,
      xLabel: 'environment steps',
      yLabel: 'episode reward',
      series: [
        { name: 'training (rollout/ep_rew_mean)', points: points(metrics, 'rollout/ep_rew_mean') },
        ...perTask('eval/mean_reward'),
      ],
      referenceLines: refs(rewardOf),
      height: 520,
    },
    join(resultsDir, 'reward'),
  );
  const score = await writeLineChart(
    {
      title: `Grader score — ${title}`,
      xLabel: 'environment steps',
      yLabel: 'grader score',
      series: [
        { name: 'training episodes (rollout/ep_score_mean)', points: points(metrics, 'rollout/ep_score_mean') },
        ...perTask('eval/grader_score'),
      ],
      referenceLines: refs((b) => b.score),
      height: 520,
    },
    join(resultsDir, 'score'),
  );
  return [reward.svgPath, reward.pngPath, score.svgPath, score.pngPath];
}

export interface CheckpointEvaluation {
  records: EpisodeRecord[];
  quantities: readonly Quantity[];
  text: string;
  markdown: string;
  csv: string;
}

export const INVALID_RATE: Quantity = {
  key: 'invalid_action_rate',
  label: 'invalid actions',
  digits: 3,
  get: (r) => r.metrics.invalid_action_rate ?? 0,
};

/**
 * Checkpoints (label → directory) and every baseline agent on the same tasks and seeds: one
 * table (mean ± std of grader score, completed, SLA breaches, invalid-action rate, reward for Gov
 * Workflow; score and reward for HelixDesk).
 */
export async function evaluateCheckpoints(opts: {
  checkpoints: ReadonlyArray<{ label: string; dir: string }>;
  family: BaselineFamily;
  tasks: readonly string[];
  seeds: readonly number[];
  /** Options that replace the checkpoint's own (e.g. the Gov variant); its reward mode never applies. */
  envOptions?: EnvOptions;
  agents?: readonly string[];
  backend?: BackendInfo['backend'] | 'auto';
  deterministic?: boolean;
  /** Add an LLM policy's rows (agent 'llm') through an OpenAI-compatible endpoint. */
  llm?: LlmPolicyOptions;
  /** Play the checkpoints' episodes on these env servers (serve-env); the rule agents stay in-process. */
  servers?: readonly string[];
}): Promise<CheckpointEvaluation> {
  await initBackend((opts.backend ?? 'auto') as 'auto');
  const records: EpisodeRecord[] = [];
  for (const task of opts.tasks) {
    for (const c of opts.checkpoints) {
      const ckpt = loadPolicyCheckpoint(c.dir);
      const envOptions = evaluationOptions(ckpt.envOptions, opts.envOptions);
      const envId = `${opts.family}/${task}`;
      resolveEnv(envId, envOptions); // a clear error for a bad task before any work
      const policy = new ActorCriticPolicy(ckpt.spec, ckpt.parameters);
      if (policy.normalizer && ckpt.obsNormalizer) policy.normalizer.load(ckpt.obsNormalizer);
      records.push(
        ...(await evaluatePolicy(policy, envId, envOptions, opts.seeds, {
          agentName: c.label,
          deterministic: opts.deterministic ?? true,
          ...(opts.servers ? { servers: opts.servers } : {}),
        })),
      );
      policy.dispose();
    }
    const saved = opts.checkpoints[0] ? loadPolicyCheckpoint(opts.checkpoints[0].dir).envOptions : {};
    const runOptions = baselineRunOptions(opts.family, evaluationOptions(saved, opts.envOptions));
    const agents = [
      ...(opts.agents ?? baselineAgentNames(opts.family)).filter((a) => a !== 'llm'),
      ...(opts.llm ? ['llm'] : []),
    ];
    records.push(
      ...(await runBaselines(opts.family, [task], agents, opts.seeds, {
        ...runOptions,
        ...(opts.llm ? { llm: opts.llm } : {}),
      })),
    );
  }
  const quantities =
    opts.family === 'gov-workflow'
      ? [...GOV_QUANTITIES.slice(0, 3), INVALID_RATE, ...GOV_QUANTITIES.slice(3)]
      : HELIX_QUANTITIES;
  const rows = summarise(records, quantities);
  return {
    records,
    quantities,
    text: formatText(rows, quantities),
    markdown: formatMarkdown(rows, quantities),
    csv: formatCsv(rows, quantities),
  };
}

/**
 * The env options an evaluation plays with: the checkpoint's (its adapter, variant, HelixDesk config),
 * then `overrides`; without its curriculum, and paying the env's own reward, so that every row of a
 * table (checkpoints trained on any reward mode, and the baselines) reports the same reward.
 */
function evaluationOptions(saved: EnvOptions, overrides: EnvOptions = {}): EnvOptions {
  const { curriculum: _c, reward: _r, ...rest } = { ...saved, ...overrides };
  void _c;
  void _r;
  return rest;
}

export function describeSeeds(seeds: readonly number[]): string {
  const contiguous = seeds.every((s, i) => i === 0 || s === (seeds[i - 1] as number) + 1);
  return contiguous && seeds.length > 2 ? `${seeds[0]}–${seeds[seeds.length - 1]}` : seeds.join(',');
}
