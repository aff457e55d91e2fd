/**
 * Everything a PPO run holds — the env, the policy and its optimizer, the rollout buffer, the random
 * streams, scratch arrays — set up fresh, warm-started or resumed from a checkpoint. The run's
 * resumable state is one object (`PpoRunState`); a checkpoint saves it with the callbacks' own state
 * (callbacks.ts) and restores it bit for bit.
 */
import { availableParallelism } from 'node:os';
import type { BackendInfo, BackendPreference } from '../../agents/policy/backend.js';
import { describeBackend, initBackend } from '../../agents/policy/backend.js';
import { ParameterLayout } from '../../agents/policy/parameters.js';
import type { PolicySpec } from '../../agents/policy/policy.js';
import { ActorCriticPolicy } from '../../agents/policy/policy.js';
import { InvalidConfigError } from '../../envs/core/errors.js';
import type { RandomStream } from '../../envs/core/random/streams.js';
import { createStream, restoreStream } from '../../envs/core/random/streams.js';
import type { EnvOptions, EnvSpec } from '../../envs/registry.js';
import { openVectorEnv } from '../../envs/vector/open.js';
import type { VectorEnv } from '../../envs/vector/vector-env.js';
import { Adam } from './adam.js';
import type { CheckpointContents } from './checkpoint.js';
import { loadCheckpoint } from './checkpoint.js';
import type { PpoConfig } from './config.js';
import type { SharedUpdateBuffers } from './critic-worker.js';
import { allocateSharedUpdateBuffers, CriticWorker } from './critic-worker.js';
import type { CriticHalf, Minibatch } from './gradient-step.js';
import { GradientStep, inlineCritic, threadedCritic } from './gradient-step.js';
import { RewardNormalizer } from './reward-normalizer.js';
import { RolloutBuffer } from './rollout-buffer.js';
import type { ImitationResult } from './warm-start.js';
import { imitateAgent, KlAnchor } from './warm-start.js';

/** One finished episode in the rollout/ep_* window. */
export interface EpisodeStats {
  return: number;
  length: number;
  score: number | null;
}

/** What a run carries from one iteration to the next (besides the network, the optimizer and the envs). */
export interface PpoRunState {
  numTimesteps: number;
  iteration: number;
  /** Epochs run so far (SB3 train/n_updates). */
  nUpdates: number;
  /** Episode starts of the observations the vector env holds (SB3 _last_episode_starts). */
  lastEpisodeStarts: Uint8Array;
  /** The last stats_window_size finished episodes. */
  episodeWindow: EpisodeStats[];
  /** The observations and masks the vector env holds now. */
  observations: Float32Array;
  masks: Uint8Array;
  actionRng: RandomStream;
  minibatchRng: RandomStream;
}

export interface PpoTiming {
  rolloutSeconds: number;
  updateSeconds: number;
  evalSeconds: number;
  wallSeconds: number;
  samplesUpdated: number;
}

/** The env id and options the config trains on (a curriculum becomes gov-workflow/curriculum). */
export function trainingEnv(config: PpoConfig): { id: string; options: EnvOptions } {
  if (!config.curriculum) return { id: config.env.id, options: config.env.options };
  if (!config.env.id.startsWith('gov-workflow/'))
    throw new Error(`curriculum: only gov-workflow envs have one (env.id is ${config.env.id})`);
  const stages = config.curriculum.map((s) => ({ until: s.until, weights: s.weights }));
  return {
    id: 'gov-workflow/curriculum',
    options: {
      ...config.env.options,
      curriculum: { stages, totalTimesteps: config.total_timesteps, numEnvs: config.n_envs },
    },
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

/**
 * 'auto': the critic thread pays off when a minibatch is long enough to hide its two meetings
 * (bench:ppo): on wasm from 128 units; on the native engine at [64, 64] already (0.19 vs 0.23 ms).
 */
function updateThreads(config: PpoConfig, backend: string): 1 | 2 {
  if (config.update_threads !== 'auto') return config.update_threads;
  const widest = Math.max(...config.net_arch.pi, ...config.net_arch.vf);
  return availableParallelism() >= 2 && widest >= (backend === 'native' ? 64 : 128) ? 2 : 1;
}

export class PpoRun {
  readonly shape: {
    numEnvs: number;
    observationSize: number;
    maskLength: number;
    actionDims: number;
    batchSize: number;
  };
  readonly buffer: RolloutBuffer;
  readonly rewardNormalizer: RewardNormalizer | null;
  readonly minibatch: Minibatch;
  readonly timing: PpoTiming = {
    rolloutSeconds: 0,
    updateSeconds: 0,
    evalSeconds: 0,
    wallSeconds: 0,
    samplesUpdated: 0,
  };
  state!: PpoRunState;

  private constructor(
    readonly config: PpoConfig,
    readonly env: { id: string; options: EnvOptions },
    readonly spec: EnvSpec,
    readonly backend: BackendInfo,
    readonly vec: VectorEnv,
    readonly policy: ActorCriticPolicy,
    readonly adam: Adam,
    readonly shared: SharedUpdateBuffers,
    readonly log: (line: string) => void,
  ) {
    const N = config.n_envs;
    this.shape = {
      numEnvs: N,
      observationSize: spec.observationSize,
      maskLength: spec.maskLength,
      actionDims: spec.actionDims,
      batchSize: config.batch_size,
    };
    this.buffer = new RolloutBuffer(config.n_steps, N, spec.observationSize, spec.actionDims, spec.maskLength);
    this.rewardNormalizer = config.normalize_reward ? new RewardNormalizer(N, config.gamma, config.clip_reward) : null;
    const B = config.batch_size;
    const M = spec.maskLength;
    this.minibatch = {
      obs: shared.obs,
      obsT: shared.obsT,
      masks: new Uint8Array(B * M),
      actions: new Int32Array(B * spec.actionDims),
      oldLogProbs: new Float64Array(B),
      oldValues: shared.oldValues,
      advantages: new Float32Array(B),
      returns: shared.returns,
      logits: new Float32Array(B * M),
      values: new Float32Array(B),
      dLogits: new Float32Array(B * M),
      dValues: new Float32Array(B),
      anchorLogits: new Float32Array(config.init_kl.coef > 0 ? B * M : 0),
    };
  }

  /** The gradient step (one or two threads), set by create. */
  gradientStep!: GradientStep;
  /** The behaviour cloning this run started with (fresh runs with init_from_agent). */
  imitation: ImitationResult | null = null;
  /** The warm start the KL penalty pulls toward (init_kl.coef > 0). */
  anchor: KlAnchor | null = null;
  private critic!: CriticHalf;

  /** Sets up a run: fresh, warm-started from config.init_from, or continued from `resumed`. */
  static async create(
    config: PpoConfig,
    resumed: (CheckpointContents & { dir: string }) | null,
    log: (line: string) => void,
  ): Promise<PpoRun> {
    const backend = await initBackend(config.backend);
    log(`[ppo] ${config.name} (${config.phase}): ${describeBackend(backend)}`);
    const env = trainingEnv(config);
    const vec: VectorEnv = await openVectorEnv(env.id, config.n_envs, {
      options: env.options,
      workers: config.workers,
      servers: config.env.servers,
    });
    const spec = vec.spec;
    let run: PpoRun | null = null;
    try {
      const policySpec = policySpecFor(config, spec);
      // Parameters, Adam moments, gradients and the minibatch live in SharedArrayBuffers (the critic thread's memory
      // too).
      const paramCount = new ParameterLayout(policySpec.shape, policySpec.arch).size;
      const shared = allocateSharedUpdateBuffers(paramCount, config.batch_size, spec.observationSize);
      const policy = new ActorCriticPolicy(policySpec, undefined, shared.theta);
      const adam = new Adam(paramCount, config.adam, { m: shared.m, v: shared.v });
      run = new PpoRun(config, env, spec, backend, vec, policy, adam, shared, log);
      await run.startUpdate(policySpec);
      await (resumed ? run.resume(resumed) : run.start(policySpec));
      return run;
    } catch (err) {
      if (run) await run.close();
      else await vec.close();
      throw err;
    }
  }

  private async startUpdate(policySpec: PolicySpec): Promise<void> {
    const c = this.config;
    const settings = {
      clipRange: c.clip_range,
      clipRangeVf: c.clip_range_vf,
      entCoef: c.ent_coef,
      vfCoef: c.vf_coef,
      normalizeAdvantage: c.normalize_advantage,
    };
    const threads = updateThreads(c, this.backend.backend);
    const worker =
      threads === 2
        ? await CriticWorker.create({
            shape: policySpec.shape,
            arch: policySpec.arch,
            activation: policySpec.activation,
            backend: this.backend.backend as BackendPreference,
            adam: c.adam,
            clipRangeVf: c.clip_range_vf,
            vfCoef: c.vf_coef,
            buffers: this.shared,
          })
        : null;
    this.critic = worker
      ? threadedCritic(this.policy, worker)
      : inlineCritic(this.policy, this.adam, this.shared.grad, this.minibatch, settings);
    this.gradientStep = new GradientStep(this.policy, this.adam, this.shared.grad, this.critic, {
      ...settings,
      maxGradNorm: c.max_grad_norm,
      targetKl: c.target_kl,
    });
    this.log(
      `[ppo] update on ${threads === 2 ? '2 threads (critic on a worker)' : '1 thread'}; ` +
        `${c.workers > 0 ? `${c.workers} env worker(s)` : 'envs in-process'}`,
    );
    this.workerRef = worker;
  }

  private workerRef: CriticWorker | null = null;

  /** A fresh run: initial or warm-start weights (a checkpoint, then imitation), envs reset with the run's seed. */
  private async start(policySpec: PolicySpec): Promise<void> {
    const c = this.config;
    const policy = this.policy;
    if (c.init_from) {
      const warm = loadCheckpoint(c.init_from);
      if (warm.parameters.length !== policy.layout.size) {
        throw new Error(
          `init_from ${warm.dir}: ${warm.parameters.length} parameters, this policy has ${policy.layout.size} (same ` +
            `net_arch and env spaces needed)`,
        );
      }
      policy.parameters.set(warm.parameters);
      if (policy.normalizer && warm.state.obsNormalizer) policy.normalizer.load(warm.state.obsNormalizer);
      this.log(`[ppo] warm start from ${warm.dir} (${warm.state.phase}, ${warm.state.numTimesteps} steps)`);
    } else {
      policy.parameters.set(policy.layout.initialize(createStream(c.seed, 'ppo', 'init'), c.ortho_init));
    }
    policy.sync();
    if (c.init_kl.coef > 0 && !c.init_from && !c.init_from_agent)
      throw new InvalidConfigError(
        'init_kl.coef',
        '0 without a warm start (init_from or init_from_agent)',
        'needs a warm start to pull toward',
      );
    if (c.init_from_agent) this.imitation = imitateAgent(policy, c, this.log);
    if (c.init_kl.coef > 0) this.anchor = new KlAnchor(policySpec, policy.parameters, this.buffer.size);
    const { observations, masks } = await this.vec.reset(c.seed);
    policy.normalizer?.update(observations, c.n_envs);
    this.state = {
      numTimesteps: 0,
      iteration: 0,
      nUpdates: 0,
      lastEpisodeStarts: new Uint8Array(c.n_envs).fill(1),
      episodeWindow: [],
      observations,
      masks,
      actionRng: createStream(c.seed, 'ppo', 'actions'),
      minibatchRng: createStream(c.seed, 'ppo', 'minibatches'),
    };
    this.workerRef?.sync(this.adam.step);
  }

  /** Continues a run exactly where its checkpoint left it. */
  private async resume(ckpt: CheckpointContents & { dir: string }): Promise<void> {
    const s = ckpt.state;
    this.policy.parameters.set(ckpt.parameters);
    this.policy.sync();
    this.adam.load(ckpt.adam);
    if (this.config.init_kl.coef > 0) {
      if (!ckpt.anchor) throw new Error(`${ckpt.dir}: has no anchor.bin, the warm start init_kl pulls toward`);
      this.anchor = new KlAnchor(policySpecFor(this.config, this.spec), ckpt.anchor, this.buffer.size);
    }
    if (this.policy.normalizer && s.obsNormalizer) this.policy.normalizer.load(s.obsNormalizer);
    if (this.rewardNormalizer && s.rewardNormalizer) this.rewardNormalizer.load(s.rewardNormalizer);
    if (!ckpt.envSnapshot) {
      throw new Error(
        `${ckpt.dir}: has no env-state.bin, so it cannot be resumed exactly (warm-start from it with init_from ` +
          `instead)`,
      );
    }
    const { observations, masks } = await this.vec.restore(ckpt.envSnapshot);
    this.state = {
      numTimesteps: s.numTimesteps,
      iteration: s.iteration,
      nUpdates: s.nUpdates,
      lastEpisodeStarts: Uint8Array.from(s.lastEpisodeStarts),
      episodeWindow: s.episodeWindow.map((e) => ({ ...e })),
      observations,
      masks,
      actionRng: restoreStream(s.rng.actions),
      minibatchRng: restoreStream(s.rng.minibatches),
    };
    this.workerRef?.sync(this.adam.step);
    this.log(`[ppo] resumed from ${ckpt.dir} at ${s.numTimesteps} steps (iteration ${s.iteration})`);
  }

  /** After an update: the main thread's critic ready for the next rollout. */
  finishUpdate(): void {
    this.critic.finishUpdate();
  }

  async close(): Promise<void> {
    await this.vec.close();
    await this.critic?.close();
    this.policy.dispose();
    this.anchor?.dispose();
  }
}
