/**
 * PPO with invalid-action masking (sb3-contrib MaskablePPO semantics), readable top to bottom:
 *
 *   setup      backend → vector env → policy (fresh, warm-started or resumed) → Adam → buffer
 *   iterate    collect n_steps × n_envs transitions (masks stored, truncations bootstrapped from
 *              the final observation) → GAE(λ) → n_epochs of shuffled minibatch updates →
 *              metrics row → evaluation on held-out seeds (best checkpoint) → periodic checkpoint
 *   finish     final checkpoint and evaluation
 *
 * Data flow: env → vector env (envs/vector) → rollout buffer (rollout-buffer.ts) → update
 * (distributions.ts loss, engine.ts backward, adam.ts) → checkpoint (checkpoint.ts) → evaluation
 * (../evaluation.ts) → results (metrics.csv, eval.csv; plots and tables by the callers).
 *
 * Determinism: with the same config, seed and backend, runs are identical — actions come from the
 * 'ppo/actions' stream, minibatch order from 'ppo/minibatches', initial weights from 'ppo/init'
 * (all `queue-rl/<seed>/…`), env seeds from the vector env's documented scheme. The worker count
 * does not matter. A checkpoint holds all of it, so resuming continues the same run bit for bit.
 *
 * Metrics follow SB3's names. One row per iteration holds the rollout statistics and the update's
 * statistics of that iteration (SB3 prints the update's on the next dump).
 */
import { readdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { EpisodeRecord } from '../../agents/types.js';
import { createStream, restoreStream } from '../../envs/core/random/streams.js';
import type { RandomStream } from '../../envs/core/random/streams.js';
import { resolveEnv } from '../../envs/registry.js';
import type { EnvOptions, EnvSpec } from '../../envs/registry.js';
import { SyncVectorEnv } from '../../envs/vector/sync.js';
import type { CompletedEpisode, VectorEnv } from '../../envs/vector/vector-env.js';
import { WorkerVectorEnv } from '../../envs/vector/workers.js';
import { describeBackend, initBackend } from '../../agents/policy/backend.js';
import type { BackendInfo, BackendPreference } from '../../agents/policy/backend.js';
import { evaluatePolicy, meanOf, stdOf } from '../evaluation.js';
import { packageVersion, removeStaleTemporaries, writeFileAtomic } from '../results-io.js';
import { Adam, clipScale, sumOfSquares } from './adam.js';
import { allocateSharedUpdateBuffers, CriticWorker } from './critic-worker.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import type { CheckpointState } from './checkpoint.js';
import type { PpoConfig } from './config.js';
import { trainingTasks } from './config.js';
import { policyLossGrad, valueLossGrad } from './losses.js';
import type { MinibatchData, MinibatchStats } from './losses.js';
import { ActorCriticPolicy } from '../../agents/policy/policy.js';
import type { PolicySpec } from '../../agents/policy/policy.js';
import { RewardNormalizer } from './reward-normalizer.js';
import { ParameterLayout } from '../../agents/policy/parameters.js';
import { explainedVariance, RolloutBuffer } from './rollout-buffer.js';

const PACKAGE_VERSION = packageVersion();

export type MetricRow = Record<string, number | string | null>;

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
  /** Stop after this many env steps even if total_timesteps is not reached (checkpointed as 'interrupted'; for tests and time-boxed jobs). */
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
  /** Seconds spent collecting rollouts (env + forward) and in updates, over this process's iterations. */
  timing: {
    rolloutSeconds: number;
    updateSeconds: number;
    evalSeconds: number;
    wallSeconds: number;
    samplesUpdated: number;
  };
  /** The final policy's parameters (a copy). */
  parameters: Float32Array;
}

/** The env id and options the config trains on (a curriculum becomes gov-workflow/curriculum). */
export function trainingEnv(config: PpoConfig): { id: string; options: EnvOptions } {
  if (!config.curriculum) return { id: config.env.id, options: config.env.options };
  if (!config.env.id.startsWith('gov-workflow/'))
    throw new Error(`curriculum: only gov-workflow envs have one (env.id is ${config.env.id})`);
  return {
    id: 'gov-workflow/curriculum',
    options: {
      ...config.env.options,
      curriculum: {
        stages: config.curriculum.map((s) => ({ until: s.until, weights: s.weights })),
        totalTimesteps: config.total_timesteps,
        numEnvs: config.n_envs,
      },
    } as EnvOptions,
  };
}

export function policySpecFor(config: PpoConfig, spec: EnvSpec): PolicySpec {
  const space = spec.actionSpace;
  return {
    shape: { observationSize: spec.observationSize, nvec: 'nvec' in space ? [...space.nvec] : [space.n] },
    arch: config.net_arch,
    activation: config.activation_fn,
    normalizeObservations: config.normalize_observations ? { clip: config.clip_observations } : null,
  };
}

/** Env ids evaluated during training: eval.tasks, or the trained task(s), in the config's env family. */
export function evaluationEnvIds(config: PpoConfig): string[] {
  const family = config.env.id.split('/')[0] as string;
  const tasks = config.eval.tasks.length > 0 ? config.eval.tasks : trainingTasks(config);
  return tasks.map((t) => `${family}/${t}`);
}

export async function trainPpo(opts: TrainPpoOptions): Promise<TrainPpoResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const wallStart = performance.now();

  // ---- setup -------------------------------------------------------------------------------
  removeStaleTemporaries([opts.checkpointDir, opts.resultsDir], { log });
  const resumed = opts.resume ? loadCheckpoint(opts.resume) : null;
  const config = opts.config;
  if (resumed) checkResumable(resumed.state, config);
  const backend = await initBackend(config.backend);
  log(`[ppo] ${config.name} (${config.phase}): ${describeBackend(backend)}`);
  const env = trainingEnv(config);
  const spec = resolveEnv(env.id, env.options);
  const vec: VectorEnv =
    config.workers > 0
      ? await WorkerVectorEnv.create(env.id, config.n_envs, { workers: config.workers, envOptions: env.options })
      : new SyncVectorEnv(env.id, config.n_envs, env.options);
  // Everything after the vector env exists is cleaned up in `finally`, whatever fails.
  let criticWorkerRef: CriticWorker | null = null;
  let policyRef: ActorCriticPolicy | null = null;
  try {
    const N = config.n_envs;
    const O = spec.observationSize;
    const B = config.batch_size;
    const policySpec = policySpecFor(config, spec);
    // Parameters, Adam moments, gradients and the minibatch live in SharedArrayBuffers, so the critic's
    // half of the update can run on a second thread (critic-worker.ts) on the same memory.
    const paramCount = new ParameterLayout(policySpec.shape, policySpec.arch).size;
    const shared = allocateSharedUpdateBuffers(paramCount, B, O);
    const policy = new ActorCriticPolicy(policySpec, undefined, shared.theta);
    policyRef = policy;
    const engine = policy.engine;
    const actorSize = policy.layout.actorSize;
    const adam = new Adam(paramCount, config.adam, { m: shared.m, v: shared.v });
    const lossSettings = {
      clipRange: config.clip_range,
      clipRangeVf: config.clip_range_vf,
      entCoef: config.ent_coef,
      vfCoef: config.vf_coef,
      normalizeAdvantage: config.normalize_advantage,
    };
    // 'auto': the critic thread pays off when each minibatch is long enough to hide its two meetings
    // (bench:ppo: +42 % at [256, 256], −10…25 % at [64, 64] on 2 cores).
    const widest = Math.max(...config.net_arch.pi, ...config.net_arch.vf);
    const updateThreads =
      config.update_threads === 'auto' ? (availableParallelism() >= 2 && widest >= 128 ? 2 : 1) : config.update_threads;
    const rewardNormalizer = config.normalize_reward ? new RewardNormalizer(N, config.gamma, config.clip_reward) : null;
    const criticWorker =
      updateThreads === 2
        ? await CriticWorker.create({
            shape: policySpec.shape,
            arch: policySpec.arch,
            activation: policySpec.activation,
            backend: backend.backend as BackendPreference,
            adam: config.adam,
            clipRangeVf: config.clip_range_vf,
            vfCoef: config.vf_coef,
            buffers: shared,
          })
        : null;
    criticWorkerRef = criticWorker;
    const M = spec.maskLength;
    const D = spec.actionDims;
    const buffer = new RolloutBuffer(config.n_steps, N, O, D, M);

    let actionRng: RandomStream = createStream(config.seed, 'ppo', 'actions');
    let minibatchRng: RandomStream = createStream(config.seed, 'ppo', 'minibatches');
    let numTimesteps = 0;
    let iteration = 0;
    let nUpdates = 0;
    let lastEpisodeStarts = new Uint8Array(N).fill(1);
    let episodeWindow: { return: number; length: number; score: number | null }[] = [];
    let metricsHistory: MetricRow[] = [];
    let evalHistory: MetricRow[] = [];
    let best: { score: number; numTimesteps: number } | null = null;
    let nextEvalAt = config.eval.freq > 0 ? config.eval.freq : Number.POSITIVE_INFINITY;
    let nextCheckpointAt = config.checkpoint.freq > 0 ? config.checkpoint.freq : Number.POSITIVE_INFINITY;
    let observations: Float32Array; // the vector env's current observations (raw)
    let masks: Uint8Array;

    if (resumed) {
      policy.parameters.set(resumed.parameters);
      policy.sync();
      adam.load(resumed.adam);
      if (policy.normalizer && resumed.state.obsNormalizer) policy.normalizer.load(resumed.state.obsNormalizer);
      if (rewardNormalizer && resumed.state.rewardNormalizer) rewardNormalizer.load(resumed.state.rewardNormalizer);
      actionRng = restoreStream(resumed.state.rng.actions);
      minibatchRng = restoreStream(resumed.state.rng.minibatches);
      ({ numTimesteps, iteration, nUpdates, best } = resumed.state);
      nextEvalAt = resumed.state.nextEvalAt ?? Number.POSITIVE_INFINITY;
      nextCheckpointAt = resumed.state.nextCheckpointAt ?? Number.POSITIVE_INFINITY;
      lastEpisodeStarts = Uint8Array.from(resumed.state.lastEpisodeStarts);
      episodeWindow = resumed.state.episodeWindow.map((e) => ({ ...e }));
      metricsHistory = resumed.state.history.metrics;
      evalHistory = resumed.state.history.eval;
      if (!resumed.envSnapshot)
        throw new Error(
          `${resumed.dir}: has no env-state.bin, so it cannot be resumed exactly (warm-start from it with init_from instead)`,
        );
      ({ observations, masks } = await vec.restore(resumed.envSnapshot));
      log(`[ppo] resumed from ${resumed.dir} at ${numTimesteps} steps (iteration ${iteration})`);
    } else {
      if (config.init_from) {
        const warm = loadCheckpoint(config.init_from);
        if (warm.parameters.length !== policy.layout.size)
          throw new Error(
            `init_from ${warm.dir}: ${warm.parameters.length} parameters, this policy has ${policy.layout.size} (same net_arch and env spaces needed)`,
          );
        policy.parameters.set(warm.parameters);
        if (policy.normalizer && warm.state.obsNormalizer) policy.normalizer.load(warm.state.obsNormalizer);
        log(`[ppo] warm start from ${warm.dir} (${warm.state.phase}, ${warm.state.numTimesteps} steps)`);
      } else {
        policy.parameters.set(policy.layout.initialize(createStream(config.seed, 'ppo', 'init'), config.ortho_init));
      }
      policy.sync();
      ({ observations, masks } = await vec.reset(config.seed));
      policy.normalizer?.update(observations, N);
    }
    criticWorker?.sync(adam.step);
    log(
      `[ppo] update on ${updateThreads === 2 ? '2 threads (critic on a worker)' : '1 thread'}; ${config.workers > 0 ? `${config.workers} env worker(s)` : 'envs in-process'}`,
    );
    writeFileAtomic(
      join(opts.resultsDir, 'config.json'),
      `${JSON.stringify({ ...config, resolved_env: env, backend, packageVersion: PACKAGE_VERSION }, null, 2)}\n`,
    );

    // Scratch arrays for the rollout and the update (no allocation in the loops).
    const stepActions = new Int32Array(N * D);
    const stepLogProbs = new Float64Array(N);
    const stepValues = new Float32Array(N);
    const stepObs = new Float32Array(N * O);
    const rewards = new Float32Array(N);
    const dones = new Uint8Array(N);
    const finalObs = new Float32Array(N * O);
    const finalValues = new Float32Array(N);
    const mb = {
      obs: shared.obs,
      obsT: shared.obsT,
      masks: new Uint8Array(B * M),
      actions: new Int32Array(B * D),
      oldLogProbs: new Float64Array(B),
      oldValues: shared.oldValues,
      advantages: new Float32Array(B),
      returns: shared.returns,
      logits: new Float32Array(B * M),
      values: new Float32Array(B),
      dLogits: new Float32Array(B * M),
      dValues: new Float32Array(B),
    };
    const grad = shared.grad;
    const permutation = new Int32Array(buffer.size);
    const evalEnvIds = evaluationEnvIds(config);
    const timing = { rolloutSeconds: 0, updateSeconds: 0, evalSeconds: 0, wallSeconds: 0, samplesUpdated: 0 };
    let interrupted = false;
    let bestDir: string | null = best ? join(opts.checkpointDir, 'best') : null;
    const startTimesteps = numTimesteps;
    const limit = Math.min(config.total_timesteps, opts.stopAt ?? Number.POSITIVE_INFINITY);

    const checkpointState = (kind: CheckpointState['kind']): CheckpointState => ({
      format: 'queue-rl/ppo-checkpoint',
      version: 1,
      packageVersion: PACKAGE_VERSION,
      createdAt: new Date().toISOString(),
      kind,
      phase: config.phase,
      config,
      numTimesteps,
      iteration,
      nUpdates,
      policy: {
        observationSize: O,
        nvec: policy.spec.shape.nvec as number[],
        netArch: { pi: [...config.net_arch.pi], vf: [...config.net_arch.vf] },
        activation: config.activation_fn,
        parameterCount: policy.layout.size,
        normalizeObservations: policy.spec.normalizeObservations,
      },
      obsNormalizer: policy.normalizer ? policy.normalizer.state() : null,
      rewardNormalizer: rewardNormalizer ? rewardNormalizer.state() : null,
      adam: { step: adam.step, ...config.adam },
      rng: { actions: actionRng.state(), minibatches: minibatchRng.state() },
      env: { id: env.id, options: env.options as Record<string, unknown>, numEnvs: N, seed: config.seed },
      lastEpisodeStarts: [...lastEpisodeStarts],
      episodeWindow,
      history: { metrics: metricsHistory, eval: evalHistory },
      best,
      nextEvalAt: Number.isFinite(nextEvalAt) ? nextEvalAt : null,
      nextCheckpointAt: Number.isFinite(nextCheckpointAt) ? nextCheckpointAt : null,
      backend: { ...backend },
    });
    const save = async (name: string, kind: CheckpointState['kind'], updateLatest: boolean): Promise<string> => {
      const dir = join(opts.checkpointDir, name);
      saveCheckpoint(
        dir,
        {
          state: checkpointState(kind),
          parameters: policy.parameters,
          adam: adam.state(),
          envSnapshot: await vec.snapshot(),
        },
        { updateLatest },
      );
      return dir;
    };

    // ---- iterate -----------------------------------------------------------------------------
    while (numTimesteps < limit) {
      // 1. Collect a rollout (SB3 collect_rollouts).
      const t0 = performance.now();
      buffer.reset();
      const completed: CompletedEpisode[] = [];
      for (let t = 0; t < config.n_steps; t++) {
        const prepared = policy.prepare(observations, N);
        stepObs.set(prepared.subarray(0, N * O));
        policy.act(
          { observations: stepObs, masks, batch: N, deterministic: false, rng: actionRng },
          { actions: stepActions, logProbs: stepLogProbs, values: stepValues },
        );
        buffer.store(t, stepObs, stepActions, masks, lastEpisodeStarts, stepValues, stepLogProbs);
        const r = await vec.step(stepActions);
        await breathe();
        numTimesteps += N;
        // Truncated (not terminated) episodes: bootstrap from the true final observation.
        let nTrunc = 0;
        for (let i = 0; i < N; i++) {
          dones[i] = r.terminated[i] || r.truncated[i] ? 1 : 0;
          if (r.truncated[i] && !r.terminated[i])
            finalObs.set(r.finalObservations.subarray(i * O, (i + 1) * O), nTrunc++ * O);
        }
        if (rewardNormalizer) rewardNormalizer.normalize(r.rewards, dones, rewards);
        else rewards.set(r.rewards);
        if (nTrunc > 0) {
          policy.predictValues(policy.prepare(finalObs.subarray(0, nTrunc * O), nTrunc), nTrunc, finalValues);
          for (let i = 0, k = 0; i < N; i++)
            if (r.truncated[i] && !r.terminated[i])
              rewards[i] = (rewards[i] as number) + config.gamma * (finalValues[k++] as number);
        }
        buffer.storeRewards(t, rewards);
        for (const e of r.episodes) completed.push(e);
        lastEpisodeStarts = Uint8Array.from(dones);
        observations = r.observations;
        masks = r.masks;
        policy.normalizer?.update(observations, N);
      }
      policy.predictValues(policy.prepare(observations, N), N, stepValues);
      buffer.computeReturnsAndAdvantage(stepValues, lastEpisodeStarts, config.gamma, config.gae_lambda);
      for (const e of completed) {
        episodeWindow.push({ return: e.return, length: e.length, score: e.score });
        if (episodeWindow.length > config.stats_window_size) episodeWindow.shift();
      }
      iteration++;
      opts.onRollout?.({ iteration, buffer, policy });
      const t1 = performance.now();

      // 2. Update (SB3 PPO.train): n_epochs over shuffled minibatches, masks re-applied.
      const progressRemaining = 1 - numTimesteps / config.total_timesteps;
      const lr =
        config.lr_schedule === 'linear' ? config.learning_rate * Math.max(progressRemaining, 0) : config.learning_rate;
      const sums = { pg: 0, value: 0, entropy: 0, kl: 0, clip: 0, count: 0, gradNorm: 0 };
      let lastStats: MinibatchStats | null = null;
      let continueTraining = true;
      for (let epoch = 0; epoch < config.n_epochs && continueTraining; epoch++) {
        shuffle(permutation, minibatchRng);
        for (let start = 0, index = 0; start < buffer.size; start += B, index++) {
          const size = Math.min(B, buffer.size - start);
          gatherMinibatch(buffer, permutation, start, size, O, M, D, mb);
          const data: MinibatchData = {
            batch: size,
            masks: mb.masks,
            actions: mb.actions,
            oldLogProbs: mb.oldLogProbs,
            oldValues: mb.oldValues,
            advantages: mb.advantages,
            returns: mb.returns,
          };
          // The critic's half (forward, value-loss gradient, backward) — on its thread when there is one.
          criticWorker?.startGrad(size);
          engine.actor.forwardTrain(mb.obs, mb.obsT, size, mb.logits);
          const policyStats = policyLossGrad(policy.distribution, mb.logits, data, lossSettings, mb.dLogits);
          let valueLoss = 0;
          if (!criticWorker) {
            engine.critic.forwardTrain(mb.obs, mb.obsT, size, mb.values);
            valueLoss = valueLossGrad(mb.values, data, lossSettings, mb.dValues);
          }
          // SB3: stop the epochs at the first minibatch whose approx_kl exceeds 1.5 × target_kl, before its step.
          const stop = config.target_kl !== null && policyStats.approxKl > 1.5 * config.target_kl;
          let criticSumSq = 0;
          if (stop) {
            engine.actor.discardActivations();
            if (criticWorker) valueLoss = criticWorker.wait().valueLoss;
            else engine.critic.discardActivations();
          } else {
            engine.actor.backward(mb.dLogits, grad);
            if (criticWorker) ({ valueLoss, sumOfSquares: criticSumSq } = criticWorker.wait());
            else {
              engine.critic.backward(mb.dValues, grad);
              criticSumSq = sumOfSquares(grad, actorSize, paramCount);
            }
          }
          const stats: MinibatchStats = {
            ...policyStats,
            valueLoss,
            loss: policyStats.policyLoss + config.ent_coef * policyStats.entropyLoss + config.vf_coef * valueLoss,
          };
          opts.onMinibatch?.({ iteration, epoch, index, stats });
          sums.pg += stats.policyLoss;
          sums.value += stats.valueLoss;
          sums.entropy += stats.entropyLoss;
          sums.kl += stats.approxKl;
          sums.clip += stats.clipFraction;
          sums.count++;
          lastStats = stats;
          if (stop) {
            continueTraining = false;
            log(
              `[ppo] early stop at epoch ${epoch} (approx_kl ${stats.approxKl.toFixed(4)} > 1.5 × target_kl ${config.target_kl})`,
            );
            break;
          }
          // Global-norm clipping over both towers (actor block + critic block), then Adam on each block.
          const clip = clipScale([sumOfSquares(grad, 0, actorSize), criticSumSq], config.max_grad_norm);
          sums.gradNorm += clip.norm;
          adam.beginStep();
          criticWorker?.startApply(lr, clip.scale);
          adam.apply(policy.parameters, grad, lr, clip.scale, 0, actorSize);
          if (!criticWorker) adam.apply(policy.parameters, grad, lr, clip.scale, actorSize, paramCount);
          engine.actor.setParameters(policy.parameters);
          if (criticWorker) criticWorker.wait();
          else engine.critic.setParameters(policy.parameters);
          timing.samplesUpdated += size;
          await breathe();
        }
        nUpdates++;
      }
      // The rollout's values come from the main thread's critic: bring it up to date once per update.
      if (criticWorker) engine.critic.setParameters(policy.parameters);
      const t2 = performance.now();
      timing.rolloutSeconds += (t1 - t0) / 1000;
      timing.updateSeconds += (t2 - t1) / 1000;

      // 3. Log (SB3 names).
      const elapsed = (performance.now() - wallStart) / 1000;
      const scores = episodeWindow.map((e) => e.score).filter((s): s is number => s !== null);
      const row: MetricRow = {
        'time/iterations': iteration,
        'time/total_timesteps': numTimesteps,
        'time/fps': Math.round((numTimesteps - startTimesteps) / elapsed),
        'time/time_elapsed': round(elapsed, 3),
        'time/rollout_seconds': round((t1 - t0) / 1000, 4),
        'time/update_seconds': round((t2 - t1) / 1000, 4),
        'rollout/ep_rew_mean': episodeWindow.length > 0 ? mean(episodeWindow.map((e) => e.return)) : null,
        'rollout/ep_len_mean': episodeWindow.length > 0 ? mean(episodeWindow.map((e) => e.length)) : null,
        'rollout/ep_score_mean': scores.length > 0 ? mean(scores) : null,
        'rollout/episodes': completed.length,
        'train/approx_kl': sums.kl / sums.count,
        'train/clip_fraction': sums.clip / sums.count,
        'train/clip_range': config.clip_range,
        'train/entropy_loss': sums.entropy / sums.count,
        'train/explained_variance': nanToNull(explainedVariance(buffer.values, buffer.returns)),
        'train/grad_norm': sums.gradNorm / Math.max(sums.count, 1),
        'train/learning_rate': lr,
        'train/loss': lastStats ? lastStats.loss : null,
        'train/n_updates': nUpdates,
        'train/policy_gradient_loss': sums.pg / sums.count,
        'train/value_loss': sums.value / sums.count,
      };
      sanitize(row);
      metricsHistory.push(row);
      writeFileAtomic(
        join(opts.resultsDir, 'metrics.csv'),
        stringify(metricsHistory, { header: true, columns: Object.keys(row) }),
      );
      opts.onIteration?.(row);
      log(
        `[ppo] it ${iteration} steps ${numTimesteps}/${config.total_timesteps} fps ${row['time/fps']} ` +
          `ep_rew ${fmt(row['rollout/ep_rew_mean'])} score ${fmt(row['rollout/ep_score_mean'])} kl ${fmt(row['train/approx_kl'], 4)} ` +
          `clip ${fmt(row['train/clip_fraction'], 3)} ev ${fmt(row['train/explained_variance'], 3)} (rollout ${row['time/rollout_seconds']} s, update ${row['time/update_seconds']} s)`,
      );

      // 4. Evaluate on held-out seeds; keep the best by grader score.
      const finishing = numTimesteps >= limit;
      if (numTimesteps >= nextEvalAt || (finishing && numTimesteps >= config.total_timesteps)) {
        while (nextEvalAt <= numTimesteps)
          nextEvalAt += config.eval.freq > 0 ? config.eval.freq : Number.POSITIVE_INFINITY;
        const te = performance.now();
        const evalRow = await evaluateRow(policy, config, evalEnvIds, env.options, numTimesteps);
        timing.evalSeconds += (performance.now() - te) / 1000;
        evalHistory.push(evalRow);
        writeFileAtomic(
          join(opts.resultsDir, 'eval.csv'),
          stringify(evalHistory, { header: true, columns: Object.keys(evalRow) }),
        );
        // Best by grader score; by mean reward for envs without a grader.
        const score = (evalRow['eval/grader_score'] ?? evalRow['eval/mean_reward']) as number;
        log(
          `[ppo] eval at ${numTimesteps}: grader_score ${fmt(evalRow['eval/grader_score'], 4)} mean_reward ${fmt(evalRow['eval/mean_reward'])}${best === null || score > best.score ? ' (best)' : ''}`,
        );
        if (best === null || score > best.score) {
          best = { score, numTimesteps };
          bestDir = await save('best', 'best', false);
        }
      }

      // 5. Checkpoint periodically, and on SIGINT.
      await breathe(true);
      if (opts.signal?.aborted) {
        interrupted = true;
        break;
      }
      if (numTimesteps >= nextCheckpointAt && !finishing) {
        while (nextCheckpointAt <= numTimesteps) nextCheckpointAt += config.checkpoint.freq;
        await save(stepName(numTimesteps), 'periodic', true);
        pruneCheckpoints(opts.checkpointDir, config.checkpoint.keep_last);
      }
    }

    // ---- finish ------------------------------------------------------------------------------
    const complete = numTimesteps >= config.total_timesteps;
    const finalDir = complete
      ? await save('final', 'final', true)
      : await save(stepName(numTimesteps), 'interrupted', true);
    if (!complete) log(`[ppo] stopped at ${numTimesteps} steps; resume with --resume ${finalDir}`);
    timing.wallSeconds = (performance.now() - wallStart) / 1000;
    return {
      numTimesteps,
      iterations: iteration,
      interrupted: interrupted || !complete,
      backend,
      finalCheckpoint: finalDir,
      bestCheckpoint: bestDir,
      bestScore: best ? best.score : null,
      metrics: metricsHistory,
      evaluations: evalHistory,
      timing,
      parameters: policy.parameters.slice(),
    };
  } finally {
    await vec.close();
    await criticWorkerRef?.close();
    policyRef?.dispose();
  }
}

/** Evaluates the policy on every evaluation env id over config.eval.seeds: one eval.csv row. */
async function evaluateRow(
  policy: ActorCriticPolicy,
  config: PpoConfig,
  envIds: readonly string[],
  trainingOptions: EnvOptions,
  numTimesteps: number,
): Promise<MetricRow> {
  const { curriculum: _curriculum, ...options } = trainingOptions;
  void _curriculum;
  const all: EpisodeRecord[] = [];
  const row: MetricRow = { 'time/total_timesteps': numTimesteps };
  const perTask: number[] = [];
  for (const id of envIds) {
    const records = await evaluatePolicy(policy, id, options, config.eval.seeds, {
      deterministic: config.eval.deterministic,
    });
    all.push(...records);
    const task = id.split('/')[1] as string;
    const score = meanOf(records, (r) => r.score);
    perTask.push(score);
    row[`eval/grader_score/${task}`] = score;
    row[`eval/mean_reward/${task}`] = meanOf(records, (r) => r.reward);
  }
  row['eval/grader_score'] = mean(perTask);
  row['eval/mean_reward'] = meanOf(all, (r) => r.reward);
  row['eval/std_reward'] = stdOf(all, (r) => r.reward);
  row['eval/mean_ep_length'] = meanOf(all, (r) => r.steps);
  return sanitize(row);
}

function checkResumable(state: CheckpointState, config: PpoConfig): void {
  const {
    total_timesteps: _a,
    eval: _b,
    checkpoint: _c,
    workers: _d,
    backend: _e,
    update_threads: _k,
    ...saved
  } = state.config;
  const {
    total_timesteps: _f,
    eval: _g,
    checkpoint: _h,
    workers: _i,
    backend: _j,
    update_threads: _l,
    ...wanted
  } = config;
  void [_a, _b, _c, _d, _e, _f, _g, _h, _i, _j, _k, _l];
  for (const key of Object.keys(saved) as (keyof typeof saved)[]) {
    if (JSON.stringify(saved[key]) !== JSON.stringify(wanted[key])) {
      throw new Error(
        `--resume: the checkpoint was trained with ${key} = ${JSON.stringify(saved[key])}, this run asks for ${JSON.stringify(wanted[key])}; only total_timesteps, eval, checkpoint, workers, update_threads and backend may change on resume`,
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

function shuffle(perm: Int32Array, rng: RandomStream): void {
  for (let i = 0; i < perm.length; i++) perm[i] = i;
  for (let i = perm.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = perm[i] as number;
    perm[i] = perm[j] as number;
    perm[j] = t;
  }
}

/** A minibatch's arrays: MinibatchData's, plus the observations and their transpose. */
interface MinibatchScratch extends Omit<MinibatchData, 'batch'> {
  obs: Float32Array;
  obsT: Float32Array;
}

function gatherMinibatch(
  buffer: RolloutBuffer,
  perm: Int32Array,
  start: number,
  size: number,
  O: number,
  M: number,
  D: number,
  mb: MinibatchScratch,
): void {
  for (let r = 0; r < size; r++) {
    const k = perm[start + r] as number;
    mb.obs.set(buffer.observations.subarray(k * O, (k + 1) * O), r * O);
    for (let j = 0; j < O; j++) mb.obsT[j * size + r] = buffer.observations[k * O + j] as number;
    mb.masks.set(buffer.masks.subarray(k * M, (k + 1) * M), r * M);
    mb.actions.set(buffer.actions.subarray(k * D, (k + 1) * D), r * D);
    mb.oldLogProbs[r] = buffer.logProbs[k] as number;
    mb.oldValues[r] = buffer.values[k] as number;
    mb.advantages[r] = buffer.advantages[k] as number;
    mb.returns[r] = buffer.returns[k] as number;
  }
}

function stepName(steps: number): string {
  return `step-${String(steps).padStart(9, '0')}`;
}

function pruneCheckpoints(dir: string, keep: number): void {
  const steps = readdirSync(dir)
    .filter((n) => /^step-\d{9}$/.test(n))
    .sort();
  for (const name of steps.slice(0, Math.max(0, steps.length - keep)))
    rmSync(join(dir, name), { recursive: true, force: true });
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Non-finite numbers (an ungraded env's score) become null: CSV and JSON stay well-formed. */
function sanitize(row: MetricRow): MetricRow {
  for (const [k, v] of Object.entries(row)) if (typeof v === 'number' && !Number.isFinite(v)) row[k] = null;
  return row;
}

function nanToNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function fmt(x: number | string | null | undefined, digits = 2): string {
  return typeof x === 'number' ? x.toFixed(digits) : 'n/a';
}
