/**
 * GRPO over an OpenAI-compatible endpoint. Each iteration: every walker's state (walkers.ts) becomes
 * a prompt; G completions per prompt are sampled and scored from restored snapshots with
 * group-relative advantages (groups.ts); the learner takes the groups (learners.ts: tfjs updates the
 * policy and pushes the weights to the server; export and http hand them to an external trainer);
 * each walker moves on with its group's first completion; a metrics row; a checkpoint every
 * checkpoint_every iterations (run.ts). A group whose requests keep failing is skipped and counted;
 * a learner error stops the run with the last checkpoint intact. Same config, seed and backend → the
 * same run. docs/grpo.md has the contracts and the metrics.
 */
import { join } from 'node:path';
import type { BackendInfo } from '../../agents/policy/backend.js';
import type { MetricRow } from '../logger.js';
import { consoleWriter, csvWriter, fmt, Logger } from '../logger.js';
import { writeLineChart } from '../plots.js';
import { packageVersion, removeStaleTemporaries, writeJsonAtomic } from '../run-io.js';
import type { GrpoConfig } from './config.js';
import type { ScoredIteration } from './groups.js';
import { sampleGroups, scoreGroups } from './groups.js';
import type { LearnerStep } from './learners.js';
import { GrpoRun } from './run.js';
import { advanceWalker, walkerPrompt } from './walkers.js';

export { resolveGrpoCheckpoint } from './run.js';

export type GrpoMetricRow = MetricRow;

export interface TrainGrpoOptions {
  config: GrpoConfig;
  resultsDir: string;
  checkpointDir: string;
  /** Continue from a GRPO checkpoint (a checkpoint directory or a directory with `latest`). */
  resume?: string | null;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Called after each iteration's row. */
  onIteration?: (row: GrpoMetricRow) => void;
}

export interface TrainGrpoResult {
  iterations: number;
  metrics: GrpoMetricRow[];
  finalCheckpoint: string;
  /** The trained policy (tfjs learner): a directory the policy server and `evaluate` can load. */
  policyDir: string | null;
  backend: BackendInfo;
  interrupted: boolean;
  timing: {
    samplingSeconds: number;
    scoringSeconds: number;
    learningSeconds: number;
    wallSeconds: number;
    completions: number;
  };
}

/**
 * Runs GRPO iterations until config.iterations (or SIGINT through `signal`): sample → score →
 * learn → walk → log → checkpoint; then the curves. Resumes from a checkpoint with `resume`.
 */
export async function trainGrpo(opts: TrainGrpoOptions): Promise<TrainGrpoResult> {
  const { config, resultsDir, checkpointDir } = opts;
  const log =
    opts.log ??
    ((line: string) =>
      process.stderr.write(`${line}
`));
  const wallStart = performance.now();
  removeStaleTemporaries([checkpointDir, join(checkpointDir, 'policies'), resultsDir, join(resultsDir, 'groups')], {
    log,
  });
  const run = await GrpoRun.create(config, { checkpointDir, resultsDir }, opts.resume ?? null, log);
  try {
    const timing = { samplingSeconds: 0, scoringSeconds: 0, learningSeconds: 0, wallSeconds: 0, completions: 0 };
    const metrics = metricsLogger(run, resultsDir, log);
    writeJsonAtomic(join(resultsDir, 'config.json'), {
      ...config,
      backend: run.backend,
      packageVersion: packageVersion(),
    });
    let interrupted = false;
    while (run.iteration < config.iterations) {
      run.iteration++;
      const t0 = performance.now();
      const prompts = run.walkers.map(walkerPrompt);
      const tokensBefore = run.sampler.usage.promptTokens + run.sampler.usage.completionTokens;
      const groups = await sampleGroups(run.sampler, prompts, config, run.iteration, log);
      const t1 = performance.now();
      const scored = scoreGroups(groups, prompts, run.walkers, run.scratch, config, run.iteration);
      timing.completions += scored.sums.n;
      const t2 = performance.now();
      const learned = scored.sums.groups > 0 ? await learn(run, scored) : null;
      const t3 = performance.now();
      run.walkers.forEach((w, i) => {
        if (groups[i] !== null) advanceWalker(w, scored.firstActions[i] ?? null, config, i);
      });
      const tokens = run.sampler.usage.promptTokens + run.sampler.usage.completionTokens - tokensBefore;
      const row = logIteration(run, metrics, scored, learned, {
        tokens,
        sampling: t1 - t0,
        scoring: t2 - t1,
        learning: t3 - t2,
        iteration: performance.now() - t0,
      });
      timing.samplingSeconds += (t1 - t0) / 1000;
      timing.scoringSeconds += (t2 - t1) / 1000;
      timing.learningSeconds += (t3 - t2) / 1000;
      opts.onIteration?.(row);
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (opts.signal?.aborted) {
        interrupted = true;
        run.save();
        break;
      }
      if (run.iteration % config.checkpoint_every === 0 || run.iteration === config.iterations) run.save();
    }
    if (run.history.length > 0) await drawGrpoCurves(config, run.history, resultsDir);
    timing.wallSeconds = (performance.now() - wallStart) / 1000;
    const policyDir = config.learner.type === 'tfjs' && run.lastCheckpoint ? join(run.lastCheckpoint, 'policy') : null;
    return {
      iterations: run.iteration,
      metrics: run.history,
      finalCheckpoint: run.lastCheckpoint,
      policyDir,
      backend: run.backend,
      interrupted,
      timing,
    };
  } finally {
    await run.close();
  }
}

/** The learner takes the iteration's samples; the policy version (and, for the http learner, the model id) moves on. */
async function learn(run: GrpoRun, scored: ScoredIteration): Promise<LearnerStep> {
  const step = await run.learner.update(run.iteration, run.policyVersion, scored.samples);
  run.policyVersion = run.config.learner.type === 'tfjs' ? run.policyVersion + 1 : step.version;
  if (step.model) run.useModel(step.model);
  return step;
}

/** metrics.csv (TRL's log names) and the console line of each iteration. */
function metricsLogger(run: GrpoRun, resultsDir: string, log: (line: string) => void): Logger {
  const line = (row: MetricRow): string => {
    const skipped = row.skipped_groups as number;
    return (
      `[grpo] it ${row.step}/${run.config.iterations} reward ${fmt(row.reward, 3)} ± ${fmt(row.reward_std, 3)} fn1 ` +
      `${fmt(row['rewards/fn1_valid'], 3)} ` +
      `fn2 ${fmt(row['rewards/fn2_no_halluc'], 3)} fn3 ${fmt(row['rewards/fn3_env_score'], 3)} zero-std ` +
      `${fmt(row.frac_reward_zero_std, 3)} v${row.policy_version}${skipped > 0 ? ` (${skipped} groups skipped)` : ''}`
    );
  };
  return new Logger([csvWriter(join(resultsDir, 'metrics.csv')), consoleWriter(log, line)], run.history);
}

function logIteration(
  run: GrpoRun,
  metrics: Logger,
  scored: ScoredIteration,
  learned: LearnerStep | null,
  ms: { tokens: number; sampling: number; scoring: number; learning: number; iteration: number },
): MetricRow {
  const s = scored.sums;
  const mean = (sum: number): number | null => (s.n > 0 ? sum / s.n : null);
  const perGroup = (sum: number): number | null => (s.groups > 0 ? sum / s.groups : null);
  const stats = learned?.stats ?? { kl: null, clip_ratio: null, trained: 0 };
  metrics.recordAll({
    step: run.iteration,
    reward: mean(s.reward),
    reward_std: perGroup(s.std),
    'rewards/fn1_valid': mean(s.fn1),
    'rewards/fn2_no_halluc': mean(s.fn2),
    'rewards/fn3_env_score': mean(s.fn3),
    frac_reward_zero_std: perGroup(s.zeroStd),
    kl: stats.kl,
    clip_ratio: stats.clip_ratio,
    invalid_action_rate: mean(s.invalid),
    tokens: ms.tokens,
    policy_version: run.policyVersion,
    groups: s.groups,
    skipped_groups: run.walkers.length - s.groups,
    samples_trained: stats.trained,
    'time/sampling_s': round(ms.sampling / 1000),
    'time/scoring_s': round(ms.scoring / 1000),
    'time/learning_s': round(ms.learning / 1000),
    'time/iteration_s': round(ms.iteration / 1000),
  });
  return metrics.dump();
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

/**
 * reward.svg|png (mean group reward and its spread) and reward-functions.svg|png (fn1, fn2, fn3) against the iteration.
 */
export async function drawGrpoCurves(
  config: GrpoConfig,
  history: readonly GrpoMetricRow[],
  resultsDir: string,
): Promise<string[]> {
  const pts = (key: string): { x: number; y: number }[] =>
    history.filter((r) => typeof r[key] === 'number').map((r) => ({ x: r.step as number, y: r[key] as number }));
  const a = await writeLineChart(
    {
      title: `GRPO mean group reward — ${config.name}`,
      xLabel: 'iteration',
      yLabel: 'reward (fn1 + fn2 + fn3, weighted)',
      series: [
        { name: 'mean reward', points: pts('reward') },
        { name: 'mean within-group std', points: pts('reward_std') },
      ],
    },
    join(resultsDir, 'reward'),
  );
  const b = await writeLineChart(
    {
      title: `GRPO reward functions — ${config.name}`,
      xLabel: 'iteration',
      yLabel: 'mean over completions',
      series: [
        { name: 'fn1_valid', points: pts('rewards/fn1_valid') },
        { name: 'fn2_no_halluc', points: pts('rewards/fn2_no_halluc') },
        { name: 'fn3_env_score', points: pts('rewards/fn3_env_score') },
      ],
    },
    join(resultsDir, 'reward-functions'),
  );
  return [a.svgPath, a.pngPath, b.svgPath, b.pngPath];
}
