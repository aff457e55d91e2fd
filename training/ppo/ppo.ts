/**
 * PPO with invalid-action masking (sb3-contrib MaskablePPO semantics). The loop, like CleanRL's
 * `ppo.py`: collect a rollout (rollout.ts) → GAE → update the policy (update.ts, one GradientStep
 * per minibatch) → log the iteration → the callbacks (evaluation and best model, periodic
 * checkpoints; callbacks.ts). Setup, warm start and resume are run.ts; docs/ppo.md has the details,
 * the metrics and the determinism rules (same config, seed and backend: the same run, bit for bit).
 */
import { join } from 'node:path';
import type { BackendInfo } from '../../agents/policy/backend.js';
import type { ActorCriticPolicy } from '../../agents/policy/policy.js';
import type { CompletedEpisode } from '../../envs/vector/vector-env.js';
import type { MetricRow } from '../logger.js';
import { consoleWriter, csvWriter, fmt, Logger } from '../logger.js';
import { packageVersion, removeStaleTemporaries, writeJsonAtomic } from '../run-io.js';
import type { SaveCheckpoint } from './callbacks.js';
import { CheckpointCallback, EvalCallback, stepName } from './callbacks.js';
import type { CheckpointState } from './checkpoint.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import type { PpoConfig } from './config.js';
import type { MinibatchStats } from './losses.js';
import { collectRollout, computeAdvantages, rolloutScratch } from './rollout.js';
import type { RolloutBuffer } from './rollout-buffer.js';
import { explainedVariance } from './rollout-buffer.js';
import type { PpoTiming } from './run.js';
import { PpoRun } from './run.js';
import type { UpdateStats } from './update.js';
import { updatePolicy } from './update.js';

export type { MetricRow } from '../logger.js';
export { evaluationEnvIds } from './callbacks.js';
export { policySpecFor, trainingEnv } from './run.js';

export interface TrainPpoOptions {
  config: PpoConfig;
  /** Where metrics.csv, eval.csv and config.json go (created). */
  resultsDir: string;
  /** Where this phase's checkpoints go (created): <dir>/step-<n>, best, final, and the `latest` pointer. */
  checkpointDir: string;
  /** Continue from this checkpoint (a checkpoint directory or a directory with `latest`). */
  resume?: string | null;
  /** Aborting (SIGINT) finishes the current iteration, saves a checkpoint and returns. */
  signal?: AbortSignal;
  /** Progress and summary lines (default: stderr). */
  log?: (line: string) => void;
  /** Stop after this many env steps even if total_timesteps is not reached (checkpointed as 'interrupted'). */
  stopAt?: number;
  /** Called after each iteration's metrics row. */
  onIteration?: (row: MetricRow) => void;
  /** Called with each full rollout, after GAE and before the update (tests and diagnostics). */
  onRollout?: (info: { iteration: number; buffer: RolloutBuffer; policy: ActorCriticPolicy }) => void;
  /** Called after each minibatch's loss (before its gradient step). */
  onMinibatch?: (info: { iteration: number; epoch: number; index: number; stats: MinibatchStats }) => void;
}

export interface TrainPpoResult {
  numTimesteps: number;
  iterations: number;
  interrupted: boolean;
  backend: BackendInfo;
  finalCheckpoint: string;
  bestCheckpoint: string | null;
  bestScore: number | null;
  metrics: MetricRow[];
  evaluations: MetricRow[];
  /** Seconds spent collecting rollouts, in updates and evaluations, over this process's iterations. */
  timing: PpoTiming;
  /** The final policy's parameters (a copy). */
  parameters: Float32Array;
}

/**
 * Trains one PPO config: rollout → GAE → update → log → callbacks, until total_timesteps (or
 * `stopAt`, or SIGINT through `signal`), then a final (or interrupted) checkpoint. Resumes exactly
 * from a checkpoint with `resume`. Everything the run opens is closed whatever fails.
 */
export async function trainPpo(opts: TrainPpoOptions): Promise<TrainPpoResult> {
  const { config, checkpointDir } = opts;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const wallStart = performance.now();
  removeStaleTemporaries([checkpointDir, opts.resultsDir], { log });
  const resumed = opts.resume ? loadCheckpoint(opts.resume) : null;
  if (resumed) checkResumable(resumed.state, config);
  const run = await PpoRun.create(config, resumed, log);
  try {
    writeJsonAtomic(join(opts.resultsDir, 'config.json'), {
      ...config,
      resolved_env: run.env,
      backend: run.backend,
      packageVersion: packageVersion(),
    });
    const metrics = metricsLogger(run, opts.resultsDir, log, resumed?.state.history.metrics ?? []);
    const evaluation = new EvalCallback(config, opts.resultsDir, checkpointDir, resumed?.state ?? null);
    const checkpoints = new CheckpointCallback(config, checkpointDir, resumed?.state ?? null);
    const save: SaveCheckpoint = (name, kind, updateLatest) =>
      saveRun(run, join(checkpointDir, name), kind, updateLatest, metrics, evaluation, checkpoints);
    if (run.imitation) {
      const rows = run.imitation.rows;
      csvWriter(join(opts.resultsDir, 'imitation.csv')).write(rows[rows.length - 1] as MetricRow, rows);
      await save('warm-start', 'warm-start', false);
    }
    const scratch = rolloutScratch(run);
    const permutation = new Int32Array(run.buffer.size);
    const startTimesteps = run.state.numTimesteps;
    const limit = Math.min(config.total_timesteps, opts.stopAt ?? Number.POSITIVE_INFINITY);
    let interrupted = false;
    while (run.state.numTimesteps < limit) {
      const t0 = performance.now();
      const episodes = await collectRollout(run, scratch, breathe);
      computeAdvantages(run, scratch);
      recordEpisodes(run, episodes);
      run.state.iteration++;
      opts.onRollout?.({ iteration: run.state.iteration, buffer: run.buffer, policy: run.policy });
      const t1 = performance.now();
      const update = await updatePolicy(run, permutation, {
        breathe,
        ...(opts.onMinibatch ? { onMinibatch: opts.onMinibatch } : {}),
      });
      const t2 = performance.now();
      run.timing.rolloutSeconds += (t1 - t0) / 1000;
      run.timing.updateSeconds += (t2 - t1) / 1000;
      logIteration(run, metrics, episodes, update, {
        wallStart,
        startTimesteps,
        rolloutMs: t1 - t0,
        updateMs: t2 - t1,
      });
      opts.onIteration?.(metrics.history[metrics.history.length - 1] as MetricRow);
      const finishing = run.state.numTimesteps >= limit;
      await evaluation.onIterationEnd(run, finishing, save, log);
      await breathe(true);
      if (opts.signal?.aborted) {
        interrupted = true;
        break;
      }
      await checkpoints.onIterationEnd(run, finishing, save);
    }
    const steps = run.state.numTimesteps;
    const complete = steps >= config.total_timesteps;
    const finalCheckpoint = complete
      ? await save('final', 'final', true)
      : await save(stepName(steps), 'interrupted', true);
    if (!complete) log(`[ppo] stopped at ${steps} steps; resume with --resume ${finalCheckpoint}`);
    run.timing.wallSeconds = (performance.now() - wallStart) / 1000;
    return {
      numTimesteps: steps,
      iterations: run.state.iteration,
      interrupted: interrupted || !complete,
      backend: run.backend,
      finalCheckpoint,
      bestCheckpoint: evaluation.bestDir,
      bestScore: evaluation.best ? evaluation.best.score : null,
      metrics: metrics.history,
      evaluations: evaluation.rows.history,
      timing: run.timing,
      parameters: run.policy.parameters.slice(),
    };
  } finally {
    await run.close();
  }
}

/** The finished episodes go into the rollout/ep_* window (SB3 ep_info_buffer). */
function recordEpisodes(run: PpoRun, episodes: readonly CompletedEpisode[]): void {
  const window = run.state.episodeWindow;
  for (const e of episodes) {
    window.push({ return: e.return, length: e.length, score: e.score });
    if (window.length > run.config.stats_window_size) window.shift();
  }
}

/** metrics.csv and the console line of each iteration (SB3 names). */
function metricsLogger(run: PpoRun, resultsDir: string, log: (line: string) => void, history: MetricRow[]): Logger {
  const line = (row: MetricRow): string =>
    `[ppo] it ${row['time/iterations']} steps ${row['time/total_timesteps']}/${run.config.total_timesteps} fps ` +
    `${row['time/fps']} ` +
    `ep_rew ${fmt(row['rollout/ep_rew_mean'])} score ${fmt(row['rollout/ep_score_mean'])} kl ` +
    `${fmt(row['train/approx_kl'], 4)} ` +
    `clip ${fmt(row['train/clip_fraction'], 3)} ev ${fmt(row['train/explained_variance'], 3)} (rollout ` +
    `${row['time/rollout_seconds']} s, update ${row['time/update_seconds']} s)`;
  return new Logger([csvWriter(join(resultsDir, 'metrics.csv')), consoleWriter(log, line)], history);
}

/** One metrics row: the rollout's statistics and the update's, under SB3's names. */
function logIteration(
  run: PpoRun,
  metrics: Logger,
  episodes: readonly CompletedEpisode[],
  u: UpdateStats,
  t: { wallStart: number; startTimesteps: number; rolloutMs: number; updateMs: number },
): void {
  const { state, config } = run;
  const elapsed = (performance.now() - t.wallStart) / 1000;
  const window = state.episodeWindow;
  const scores = window.map((e) => e.score).filter((s): s is number => s !== null);
  const ev = explainedVariance(run.buffer.values, run.buffer.returns);
  metrics.recordAll({
    'time/iterations': state.iteration,
    'time/total_timesteps': state.numTimesteps,
    'time/fps': Math.round((state.numTimesteps - t.startTimesteps) / elapsed),
    'time/time_elapsed': round(elapsed, 3),
    'time/rollout_seconds': round(t.rolloutMs / 1000, 4),
    'time/update_seconds': round(t.updateMs / 1000, 4),
    'rollout/ep_rew_mean': window.length > 0 ? mean(window.map((e) => e.return)) : null,
    'rollout/ep_len_mean': window.length > 0 ? mean(window.map((e) => e.length)) : null,
    'rollout/ep_score_mean': scores.length > 0 ? mean(scores) : null,
    'rollout/episodes': episodes.length,
    'train/approx_kl': u.approxKl,
    'train/clip_fraction': u.clipFraction,
    'train/clip_range': config.clip_range,
    'train/entropy_loss': u.entropyLoss,
    'train/explained_variance': Number.isFinite(ev) ? ev : null,
    'train/grad_norm': u.gradNorm,
    'train/learning_rate': u.learningRate,
    'train/loss': u.loss,
    'train/n_updates': state.nUpdates,
    'train/policy_gradient_loss': u.policyLoss,
    'train/value_loss': u.valueLoss,
    ...(run.anchor ? { 'train/kl_to_warm_start': u.klToAnchor, 'train/kl_coef': u.klCoef } : {}),
  });
  metrics.dump();
}

/** Writes checkpoint `dir` with the run's whole state and the callbacks'. */
async function saveRun(
  run: PpoRun,
  dir: string,
  kind: CheckpointState['kind'],
  updateLatest: boolean,
  metrics: Logger,
  evaluation: EvalCallback,
  checkpoints: CheckpointCallback,
): Promise<string> {
  const { config, state, policy } = run;
  const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
  const contents = {
    state: {
      format: 'queue-rl/ppo-checkpoint' as const,
      version: 1 as const,
      packageVersion: packageVersion(),
      createdAt: new Date().toISOString(),
      kind,
      phase: config.phase,
      config,
      numTimesteps: state.numTimesteps,
      iteration: state.iteration,
      nUpdates: state.nUpdates,
      policy: {
        observationSize: run.shape.observationSize,
        nvec: policy.spec.shape.nvec as number[],
        netArch: { pi: [...config.net_arch.pi], vf: [...config.net_arch.vf] },
        activation: config.activation_fn,
        parameterCount: policy.layout.size,
        normalizeObservations: policy.spec.normalizeObservations,
      },
      obsNormalizer: policy.normalizer ? policy.normalizer.state() : null,
      rewardNormalizer: run.rewardNormalizer ? run.rewardNormalizer.state() : null,
      adam: { step: run.adam.step, ...config.adam },
      rng: { actions: state.actionRng.state(), minibatches: state.minibatchRng.state() },
      env: { id: run.env.id, options: { ...run.env.options }, numEnvs: config.n_envs, seed: config.seed },
      lastEpisodeStarts: [...state.lastEpisodeStarts],
      episodeWindow: state.episodeWindow,
      history: { metrics: metrics.history, eval: evaluation.rows.history },
      best: evaluation.best,
      nextEvalAt: finite(evaluation.nextEvalAt),
      nextCheckpointAt: finite(checkpoints.nextCheckpointAt),
      backend: { ...run.backend },
    },
    parameters: policy.parameters,
    adam: run.adam.state(),
    envSnapshot: await run.vec.snapshot(),
    anchor: run.anchor ? run.anchor.parameters : null,
  };
  saveCheckpoint(dir, contents, { updateLatest });
  return dir;
}

/**
 * Resuming may change the budget, evaluation, checkpoints, workers, threads and backend — nothing that shapes the
 * training.
 */
function checkResumable(state: CheckpointState, config: PpoConfig): void {
  const mayChange = new Set(['total_timesteps', 'eval', 'checkpoint', 'workers', 'backend', 'update_threads']);
  for (const key of Object.keys(state.config) as (keyof PpoConfig)[]) {
    if (mayChange.has(key)) continue;
    if (JSON.stringify(state.config[key]) !== JSON.stringify(config[key])) {
      throw new Error(
        `--resume: the checkpoint was trained with ${key} = ${JSON.stringify(state.config[key])}, this run asks for ` +
          `${JSON.stringify(config[key])}; only total_timesteps, eval, checkpoint, workers, update_threads and ` +
          `backend may change on resume`,
      );
    }
  }
}

let lastBreath = 0;
/**
 * Lets the event loop run (SIGINT handlers, timers, IPC with tsx's parent) at least every 10 ms:
 * with in-process envs the training loop is otherwise one unbroken chain of microtasks, and a
 * SIGINT would only be seen when training ends. Changes nothing in the computation.
 */
async function breathe(force = false): Promise<void> {
  const now = performance.now();
  if (!force && now - lastBreath < 10) return;
  lastBreath = now;
  await new Promise<void>((resolve) => setImmediate(resolve));
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
