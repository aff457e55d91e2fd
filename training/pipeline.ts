/**
 * The jobs users run, built from the pieces: train one config (PPO, then curves with the baselines
 * as reference lines), evaluate a checkpoint next to every baseline agent, and the main job
 * (`npm start`): a short Phase 1 and Phase 2 on Gov Workflow, evaluation of the final and best
 * checkpoints against the baselines, and results/<run-id>/summary.md.
 *
 * Layout of a run:
 *   results/<run-id>/<phase>/{config.json, metrics.csv, eval.csv, reward.svg|png, score.svg|png, baselines.csv}
 *   results/<run-id>/{evaluation.csv, evaluation.md, episodes.csv, summary.md}
 *   checkpoints/<run-id>/<phase>/{step-…, best, final, latest}
 */
import { join, relative } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { LlmPolicyOptions } from '../agents/llm/llm-episodes.js';
import type { BackendInfo } from '../agents/policy/backend.js';
import { describeBackend, initBackend } from '../agents/policy/backend.js';
import { loadPolicyCheckpoint } from '../agents/policy/checkpoint.js';
import { ActorCriticPolicy } from '../agents/policy/policy.js';
import type { EpisodeRecord } from '../agents/types.js';
import type { EnvOptions } from '../envs/registry.js';
import { govEnvOptions, resolveEnv } from '../envs/registry.js';
import type { Quantity } from './baseline-table.js';
import {
  formatCsv,
  formatEpisodesCsv,
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
  const agents = baselineAgentNames(family as BaselineFamily);
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
  // Per evaluation task: the best rule baseline on it (and the random agent when there is one task).
  const tasks = [...new Set(baselines.map((b) => b.task))];
  const refs = (get: (b: { score: number; reward: number }) => number): ReferenceLine[] =>
    tasks.flatMap((task) => {
      const mine = baselines.filter((b) => b.task === task);
      const rule = mine.filter((b) => b.agent !== 'random');
      if (rule.length === 0) return [];
      const bestRule = rule.reduce((a, b) => (get(b) > get(a) ? b : a));
      const random = mine.find((b) => b.agent === 'random');
      const suffix = tasks.length > 1 ? ` on ${task.split('_').pop() ?? task}` : '';
      return [
        { name: `best rule${suffix}: ${bestRule.agent}`, y: get(bestRule) },
        ...(random && tasks.length === 1 ? [{ name: 'random agent', y: get(random) }] : []),
      ];
    });
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
      referenceLines: refs((b) => b.reward),
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

export interface PipelineOptions {
  phase1: PpoConfig;
  phase2: PpoConfig;
  runId: string;
  resultsRoot: string;
  checkpointsRoot: string;
  evalSeeds: readonly number[];
  evalTasks: readonly string[];
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface PipelineResult {
  summaryPath: string;
  interrupted: boolean;
  evaluation: CheckpointEvaluation | null;
}

/** The main job: Phase 1 → Phase 2 (warm start) → evaluation of final and best → summary.md. */
export async function runPipeline(opts: PipelineOptions): Promise<PipelineResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = performance.now();
  const runDir = join(opts.resultsRoot, opts.runId);
  const p1 = await runTraining({
    config: opts.phase1,
    runId: opts.runId,
    resultsRoot: opts.resultsRoot,
    checkpointsRoot: opts.checkpointsRoot,
    ...(opts.signal ? { signal: opts.signal } : {}),
    log,
  });
  if (p1.interrupted) return { summaryPath: '', interrupted: true, evaluation: null };
  const phase2 = { ...opts.phase2, init_from: p1.finalCheckpoint };
  const p2 = await runTraining({
    config: phase2,
    runId: opts.runId,
    resultsRoot: opts.resultsRoot,
    checkpointsRoot: opts.checkpointsRoot,
    ...(opts.signal ? { signal: opts.signal } : {}),
    log,
  });
  if (p2.interrupted) return { summaryPath: '', interrupted: true, evaluation: null };

  log(
    `[pipeline] evaluating final and best checkpoints against the baselines on ${opts.evalTasks.join(', ')}, seeds ` +
      `${describeSeeds(opts.evalSeeds)}`,
  );
  const checkpoints = [
    { label: 'ppo-phase2-final', dir: p2.finalCheckpoint },
    ...(p2.bestCheckpoint ? [{ label: 'ppo-phase2-best', dir: p2.bestCheckpoint }] : []),
    { label: 'ppo-phase1-final', dir: p1.finalCheckpoint },
  ];
  const evaluation = await evaluateCheckpoints({
    checkpoints,
    family: 'gov-workflow',
    tasks: opts.evalTasks,
    seeds: opts.evalSeeds,
    envOptions: { variant: govEnvOptions(opts.phase1.env.options).variant ?? 'corrected' },
  });
  writeFileAtomic(join(runDir, 'evaluation.csv'), evaluation.csv);
  writeFileAtomic(join(runDir, 'evaluation.md'), `${evaluation.markdown}\n`);
  writeFileAtomic(join(runDir, 'episodes.csv'), formatEpisodesCsv(evaluation.records));

  const minutes = (performance.now() - started) / 60000;
  const summaryPath = join(runDir, 'summary.md');
  writeFileAtomic(summaryPath, pipelineSummary(opts, runDir, p1, p2, evaluation, minutes));
  return { summaryPath, interrupted: false, evaluation };
}

/** summary.md of the main job: what ran, the verdict table, every agent, the curves and the files. */
function pipelineSummary(
  opts: PipelineOptions,
  runDir: string,
  p1: RunTrainingResult,
  p2: RunTrainingResult,
  evaluation: CheckpointEvaluation,
  minutes: number,
): string {
  const rel = (p: string): string => relative(runDir, p);
  const verdict = opts.evalTasks.map((task) => {
    const mine = evaluation.records.filter((r) => r.task === task);
    const score = (agent: string): number =>
      meanOf(
        mine.filter((r) => r.agent === agent),
        (r) => r.score,
      );
    const rules = baselineAgentNames('gov-workflow').filter((a) => a !== 'random');
    const bestRule = rules.reduce((a, b) => (score(b) > score(a) ? b : a), rules[0] as string);
    const final = score('ppo-phase2-final');
    const best = p2.bestCheckpoint ? score('ppo-phase2-best') : Number.NaN;
    const beats = (x: number): string => (Number.isNaN(x) ? 'n/a' : x > score(bestRule) ? 'yes' : 'no');
    return (
      `| ${task} | ${final.toFixed(4)} | ${Number.isNaN(best) ? 'n/a' : best.toFixed(4)} | ${bestRule} ` +
      `${score(bestRule).toFixed(4)} | ${score('random').toFixed(4)} | ${beats(final)} / ${beats(best)} |`
    );
  });
  return [
    `# queue-rl run ${opts.runId}`,
    '',
    `Gov Workflow (${govEnvOptions(opts.phase1.env.options).variant ?? 'corrected'} variant): PPO Phase 1 ` +
      `(\`${opts.phase1.name}\`, ${p1.numTimesteps} steps on ${opts.phase1.env.id}) then Phase 2 ` +
      `(\`${opts.phase2.name}\`, ${p2.numTimesteps} steps, curriculum ${trainingTasks(opts.phase2).join(' → ')}), ` +
      `warm-started from Phase 1.`,
    `Backend: ${describeBackend(p1.backend)}. Wall time ${minutes.toFixed(1)} min (Phase 1 ` +
      `${p1.timing.wallSeconds.toFixed(0)} s, Phase 2 ${p2.timing.wallSeconds.toFixed(0)} s).`,
    '',
    `## Final policy against the baselines (seeds ${describeSeeds(opts.evalSeeds)}, deterministic policy)`,
    '',
    '| task | PPO phase 2 final | PPO phase 2 best | best rule baseline | random | beats the best rule baseline ' +
      '(final / best) |',
    '|---|---:|---:|---|---:|---|',
    ...verdict,
    '',
    '## Every agent',
    '',
    evaluation.markdown,
    '',
    '## Curves',
    '',
    `Phase 1: ![reward](${rel(join(p1.resultsDir, 'reward.png'))}) ![score](${rel(join(p1.resultsDir, 'score.png'))})`,
    '',
    `Phase 2: ![reward](${rel(join(p2.resultsDir, 'reward.png'))}) ![score](${rel(join(p2.resultsDir, 'score.png'))})`,
    '',
    '## Files',
    '',
    `- metrics and evaluation curves: \`${rel(join(p1.resultsDir, 'metrics.csv'))}\`, ` +
      `\`${rel(join(p1.resultsDir, 'eval.csv'))}\`, \`${rel(join(p2.resultsDir, 'metrics.csv'))}\`, ` +
      `\`${rel(join(p2.resultsDir, 'eval.csv'))}\``,
    `- plots (SVG and PNG): ${[...p1.plots, ...p2.plots].map((p) => `\`${rel(p)}\``).join(', ')}`,
    `- evaluation table: \`evaluation.md\`, \`evaluation.csv\`; every episode: \`episodes.csv\``,
    `- checkpoints: \`${p1.finalCheckpoint}\`, ` +
      `\`${p2.finalCheckpoint}\`${p2.bestCheckpoint ? `, best \`${p2.bestCheckpoint}\`` : ''}`,
    '',
  ].join('\n');
}
