/**
 * GRPO learners: what happens to an iteration's scored groups. One interface, three kinds: `tfjs`
 * updates a queue-rl policy with the GRPO objective and makes the policy server load it, `export`
 * writes the groups as JSONL for an external trainer, `http` posts them to a trainer (and has a
 * vLLM-style server load the adapter it answers with). Objective, formats and contracts: docs/grpo.md.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { PolicyCheckpoint } from '../../agents/policy/checkpoint.js';
import { loadPolicyCheckpoint, writeLayersModel } from '../../agents/policy/checkpoint.js';
import { createTower, type Tower } from '../../agents/policy/engine.js';
import { ActorCriticPolicy } from '../../agents/policy/policy.js';
import { createStream } from '../../envs/core/random/streams.js';
import { Adam, clipScale } from '../ppo/adam.js';
import { writeDirAtomic, writeFileAtomic } from '../run-io.js';
import type { GrpoConfig } from './config.js';

/** One scored completion, as learners see it. */
export interface GrpoSample {
  groupId: string;
  task: string;
  seed: number;
  step: number;
  messages: { role: string; content: string }[];
  completion: string;
  samplerLogprob: number | null;
  rewards: { fn1_valid: number; fn2_no_halluc: number; fn3_env_score: number; total: number };
  advantage: number;
  /** The policy's input and the action's index, when the completion is one of the allowed actions. */
  features: Float32Array;
  mask: Uint8Array;
  actionIndex: number | null;
}

export interface LearnerStep {
  /** The policy version the next iteration samples from. */
  version: number;
  /** A new model id to sample with (http learner after loading an adapter), or null. */
  model: string | null;
  stats: { kl: number | null; clip_ratio: number | null; loss: number | null; trained: number };
}

export interface GrpoLearner {
  readonly kind: GrpoConfig['learner']['type'];
  update(iteration: number, version: number, samples: readonly GrpoSample[]): Promise<LearnerStep>;
  /** The learner's state for a checkpoint (written into `dir`, which exists), or nothing to save. */
  save(dir: string): Record<string, unknown>;
  close(): Promise<void>;
}

export function exportLine(iteration: number, version: number, s: GrpoSample): Record<string, unknown> {
  return {
    iteration,
    policy_version: version,
    group_id: s.groupId,
    task: s.task,
    seed: s.seed,
    step: s.step,
    messages: s.messages,
    completion: s.completion,
    sampler_logprob: s.samplerLogprob,
    rewards: s.rewards,
    advantage: s.advantage,
  };
}

// ---- export ----------------------------------------------------------------------------------

export function exportLearner(outDir: string): GrpoLearner {
  return {
    kind: 'export',
    async update(iteration, version, samples) {
      const lines = samples.map((s) => `${JSON.stringify(exportLine(iteration, version, s))}\n`).join('');
      writeFileAtomic(join(outDir, `iter-${String(iteration).padStart(6, '0')}.jsonl`), lines);
      return { version, model: null, stats: { kl: null, clip_ratio: null, loss: null, trained: 0 } };
    },
    save: () => ({}),
    close: async () => undefined,
  };
}

// ---- http ------------------------------------------------------------------------------------

const TrainerAnswerSchema = z
  .object({ version: z.number().int().nonnegative(), adapter_path: z.string().optional() })
  .passthrough();

export function httpLearner(config: GrpoConfig['learner'], timeoutMs: number): GrpoLearner {
  const trainer = config.trainer_url;
  if (!trainer) throw new Error('http learner: learner.trainer_url is required');
  /** POSTs JSON; returns the answer's text (vLLM's load_lora_adapter answers plain text). */
  const post = async (url: string, body: unknown): Promise<string> => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${url} answered ${res.status}: ${text.slice(0, 300)}`);
    return text;
  };
  const json = (url: string, text: string): unknown => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new Error(`${url} answered with a body that is not JSON: ${text.slice(0, 120)}`);
    }
  };
  return {
    kind: 'http',
    async update(iteration, version, samples) {
      const raw = json(
        trainer,
        await post(trainer, {
          iteration,
          policy_version: version,
          groups: samples.map((s) => exportLine(iteration, version, s)),
        }),
      );
      const answer = TrainerAnswerSchema.safeParse(raw);
      if (!answer.success)
        throw new Error(
          `${trainer}: the answer must be {"version": <integer>, "adapter_path"?: <string>} ` +
            `(${answer.error.issues[0]?.message ?? ''})`,
        );
      let model: string | null = null;
      if (config.load_adapter_url && answer.data.adapter_path) {
        model = `${config.adapter_prefix}-v${answer.data.version}`;
        await post(`${config.load_adapter_url.replace(/\/$/, '')}/v1/load_lora_adapter`, {
          lora_name: model,
          lora_path: answer.data.adapter_path,
        });
      }
      return { version: answer.data.version, model, stats: { kl: null, clip_ratio: null, loss: null, trained: 0 } };
    },
    save: () => ({}),
    close: async () => undefined,
  };
}

// ---- tfjs ------------------------------------------------------------------------------------

export interface TfjsLearnerOptions {
  config: GrpoConfig;
  /** Where each iteration's policy is saved before the server loads it. */
  checkpointDir: string;
  /** The policy server's base URL (…/v1), told to load each new checkpoint; null = no server to update. */
  serverUrl: string | null;
  /** Its API key (sent as a Bearer token), or null. */
  serverKey?: string | null;
  /** Resume: parameters and Adam state of a saved learner. */
  resume?: { parameters: Float32Array; reference: Float32Array; m: Float32Array; v: Float32Array; step: number } | null;
}

export class TfjsGrpoLearner implements GrpoLearner {
  readonly kind = 'tfjs' as const;
  readonly policy: ActorCriticPolicy;
  readonly reference: Float32Array;
  private readonly referenceTower: Tower | null;
  private readonly adam: Adam;
  private readonly base: PolicyCheckpoint;
  private readonly actorSize: number;

  constructor(private readonly opts: TfjsLearnerOptions) {
    const c = opts.config;
    if (!c.init_from) throw new Error('tfjs learner: init_from (the policy to train) is required');
    this.base = loadPolicyCheckpoint(c.init_from);
    this.policy = new ActorCriticPolicy(this.base.spec, opts.resume?.parameters ?? this.base.parameters);
    if (this.policy.normalizer && this.base.obsNormalizer) this.policy.normalizer.load(this.base.obsNormalizer);
    this.reference = opts.resume?.reference ?? this.base.parameters.slice();
    this.actorSize = this.policy.layout.actorSize;
    this.adam = new Adam(this.policy.layout.size, c.adam);
    if (opts.resume) this.adam.load({ step: opts.resume.step, m: opts.resume.m, v: opts.resume.v });
    this.referenceTower = c.beta > 0 ? createTower(this.policy.layout, 'actor', this.base.spec.activation) : null;
    this.referenceTower?.setParameters(this.reference);
  }

  async update(iteration: number, version: number, samples: readonly GrpoSample[]): Promise<LearnerStep> {
    const usable = samples.filter((s) => s.actionIndex !== null && s.advantage !== 0);
    let stats: LearnerStep['stats'] = { kl: null, clip_ratio: null, loss: null, trained: usable.length };
    if (usable.length > 0) stats = this.train(usable);
    if (!this.opts.serverUrl) return { version, model: null, stats };
    // Save, then have the server load it: the next iteration samples from the new weights.
    const dir = join(this.opts.checkpointDir, 'policies', `iter-${String(iteration).padStart(6, '0')}`);
    this.writePolicy(dir, iteration);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      ...(this.opts.serverKey ? { authorization: `Bearer ${this.opts.serverKey}` } : {}),
    };
    const res = await fetch(`${this.opts.serverUrl.replace(/\/$/, '')}/load_weights`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ checkpoint: resolve(dir) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`policy server refused the new weights (${res.status}): ${text.slice(0, 300)}`);
    const answer = z.object({ version: z.number().int() }).passthrough().parse(JSON.parse(text));
    return { version: answer.version, model: null, stats };
  }

  private train(samples: readonly GrpoSample[]): LearnerStep['stats'] {
    const c = this.opts.config;
    const layout = this.policy.layout;
    const O = layout.shape.observationSize;
    const A = layout.actionSize;
    const B = samples.length;
    const obs = new Float32Array(B * O);
    const obsT = new Float32Array(B * O);
    const masks = new Uint8Array(B * A);
    const actions = new Int32Array(B);
    samples.forEach((s, i) => {
      const prepared = this.policy.prepare(s.features, 1);
      obs.set(prepared.subarray(0, O), i * O);
      for (let j = 0; j < O; j++) obsT[j * B + i] = prepared[j] as number;
      masks.set(s.mask, i * A);
      actions[i] = s.actionIndex as number;
    });
    const logits = new Float32Array(B * A);
    const refLogits = new Float32Array(B * A);
    const dLogits = new Float32Array(B * A);
    const grad = new Float32Array(layout.size);
    const dist = this.policy.distribution;
    if (this.referenceTower) this.referenceTower.forward(obs, B, refLogits);
    // π_old: the sampler's log-probability, or ours before this update.
    const old = new Float64Array(B);
    this.policy.engine.actor.forward(obs, B, logits);
    samples.forEach((s, i) => {
      old[i] = s.samplerLogprob ?? dist.rowLogProb(logits, masks, actions, i);
    });
    const lo = 1 - c.epsilon;
    const hi = 1 + (c.epsilon_high ?? c.epsilon);
    let kl = 0;
    let clipped = 0;
    let loss = 0;
    for (let epoch = 0; epoch < c.epochs; epoch++) {
      this.policy.engine.actor.forwardTrain(obs, obsT, B, logits);
      kl = 0;
      clipped = 0;
      loss = 0;
      for (let i = 0; i < B; i++) {
        const adv = (samples[i] as GrpoSample).advantage;
        const logp = dist.rowLogProb(logits, masks, actions, i);
        const ratio = Math.exp(logp - (old[i] as number));
        const clippedActive = (adv > 0 && ratio > hi) || (adv < 0 && ratio < lo);
        if (ratio > hi || ratio < lo) clipped++;
        loss -= Math.min(adv * ratio, adv * Math.min(Math.max(ratio, lo), hi)) / B;
        let gLogp = clippedActive ? 0 : (-adv * ratio) / B;
        if (this.referenceTower) {
          const d = dist.rowLogProb(refLogits, masks, actions, i) - logp; // log(π_ref/π_θ)
          const k3 = Math.exp(d) - d - 1;
          kl += k3 / B;
          loss += (c.beta * k3) / B;
          gLogp += (c.beta * (1 - Math.exp(d))) / B; // d k3 / d log π_θ
        } else {
          kl += (ratio - 1 - Math.log(ratio)) / B; // k3 against π_old: how far this update moved
        }
        dist.rowGradient(logits, masks, actions, i, gLogp, 0, dLogits);
      }
      const scale = clipScale([this.policy.engine.actor.backward(dLogits, grad)], c.max_grad_norm);
      this.adam.beginStep();
      this.adam.apply(this.policy.parameters, grad, c.learning_rate, scale.scale, 0, this.actorSize);
      this.policy.engine.actor.setParameters(this.policy.parameters);
    }
    return { kl, clip_ratio: clipped / B, loss, trained: B };
  }

  /** The current policy as a checkpoint the policy server (and PPO evaluate) can load. */
  writePolicy(dir: string, iteration: number): void {
    writeDirAtomic(dir, (tmp) => {
      const spec = this.base.spec;
      writeLayersModel(tmp, spec, this.policy.parameters, {
        phase: this.opts.config.phase,
        iteration,
        trainedBy: 'grpo',
      });
      writeFileSync(
        join(tmp, 'state.json'),
        `${JSON.stringify(
          {
            format: 'queue-rl/grpo-policy',
            version: 1,
            iteration,
            phase: this.opts.config.phase,
            env: {
              id: this.base.envId,
              options: {
                ...(this.base.envOptions.maxNonAdvanceStreak !== undefined
                  ? { maxNonAdvanceStreak: this.base.envOptions.maxNonAdvanceStreak }
                  : {}),
                variant: this.opts.config.variant,
              },
            },
            policy: {
              observationSize: spec.shape.observationSize,
              nvec: spec.shape.nvec,
              netArch: spec.arch,
              activation: spec.activation,
              parameterCount: this.policy.layout.size,
              normalizeObservations: spec.normalizeObservations,
            },
            obsNormalizer: this.base.obsNormalizer,
            initFrom: this.base.dir,
          },
          null,
          1,
        )}\n`,
      );
    });
  }

  save(dir: string): Record<string, unknown> {
    writeFileSync(join(dir, 'learner-parameters.bin'), Buffer.from(this.policy.parameters.buffer.slice(0)));
    writeFileSync(join(dir, 'learner-reference.bin'), Buffer.from(this.reference.buffer.slice(0)));
    writeFileSync(
      join(dir, 'learner-optimizer.bin'),
      Buffer.concat([Buffer.from(this.adam.m.buffer.slice(0)), Buffer.from(this.adam.v.buffer.slice(0))]),
    );
    return {
      adamStep: this.adam.step,
      parameterCount: this.policy.layout.size,
      initFrom: this.base.dir,
      envId: this.base.envId,
    };
  }

  async close(): Promise<void> {
    this.policy.dispose();
    this.referenceTower?.dispose();
  }
}

/** A deterministic per-iteration seed for sampling requests (reproducible runs and resumes). */
export function requestSeed(runSeed: number, iteration: number, walker: number, k = 0): number {
  return createStream(runSeed, 'grpo', 'request', iteration, walker, k).int32() >>> 0;
}
