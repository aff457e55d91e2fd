/**
 * ActorCriticPolicy: parameters (one Float32Array), the tfjs engine that computes with them, the
 * masked action distribution and the optional observation normaliser — everything needed to act,
 * in training and in evaluation. The PPO update (ppo.ts) changes `parameters` and calls sync().
 */
import type { RandomStream } from '../../envs/core/random/streams.js';
import { MaskedDistribution } from './distributions.js';
import { PolicyEngine } from './engine.js';
import { ObsNormalizer } from './obs-normalizer.js';
import type { Activation, NetArch, PolicyShape } from './parameters.js';
import { ParameterLayout } from './parameters.js';

export interface PolicySpec {
  shape: PolicyShape;
  arch: NetArch;
  activation: Activation;
  /** Observation normalisation with this clip, or null. */
  normalizeObservations: { clip: number } | null;
}

/** A batch of prepared observations (see prepare) to act on. */
export interface ActRequest {
  observations: Float32Array;
  /** batch × maskLength; 1 = allowed. */
  masks: Uint8Array;
  batch: number;
  /** The most likely allowed action (argmax per dimension) instead of a sample. */
  deterministic: boolean;
  /** The sampling stream (unused when deterministic). */
  rng: RandomStream | null;
}

/** Where act() writes: actions (batch × dims), their log-probabilities and the state values. */
export interface ActOutputs {
  actions: Int32Array;
  logProbs: Float64Array;
  values: Float32Array;
}

export class ActorCriticPolicy {
  readonly layout: ParameterLayout;
  readonly engine: PolicyEngine;
  readonly distribution: MaskedDistribution;
  readonly normalizer: ObsNormalizer | null;
  readonly parameters: Float32Array;
  private scratch = { obs: new Float32Array(0), logits: new Float32Array(0), values: new Float32Array(0) };

  /**
   * `storage`: where the parameters live (e.g. a SharedArrayBuffer view for the critic thread); a new array by default.
   */
  constructor(
    readonly spec: PolicySpec,
    parameters?: Float32Array,
    storage?: Float32Array,
  ) {
    this.layout = new ParameterLayout(spec.shape, spec.arch);
    this.engine = new PolicyEngine(this.layout, spec.activation);
    this.distribution = new MaskedDistribution(spec.shape.nvec);
    this.normalizer = spec.normalizeObservations
      ? new ObsNormalizer(spec.shape.observationSize, spec.normalizeObservations.clip)
      : null;
    this.parameters = storage ?? new Float32Array(this.layout.size);
    if (this.parameters.length !== this.layout.size)
      throw new Error(`policy parameters: storage of ${this.parameters.length} values for ${this.layout.size}`);
    if (parameters) this.parameters.set(parameters);
    this.sync();
  }

  /** Uploads `parameters` to the engine (after they changed). */
  sync(): void {
    this.engine.setParameters(this.parameters);
  }

  /**
   * The observations the network sees: normalised (statistics frozen) when the policy normalises, else the input
   * itself.
   */
  prepare(observations: Float32Array, batch: number): Float32Array {
    if (!this.normalizer) return observations;
    const out = this.buffer('obs', batch * this.spec.shape.observationSize);
    return this.normalizer.normalize(observations, batch, out);
  }

  /** Actions for a batch of prepared observations: sampled, or the most likely allowed ones. */
  act(request: ActRequest, out: ActOutputs): void {
    const logits = this.buffer('logits', request.batch * this.layout.actionSize);
    this.engine.forward(request.observations, request.batch, logits, out.values);
    this.distribution.act({ ...request, logits }, out);
  }

  /** SB3's predict(observation, action_masks, deterministic): one raw observation in, its action out. */
  predict(
    observation: Float32Array,
    mask: Uint8Array,
    options: { deterministic?: boolean; rng?: RandomStream | null } = {},
  ): Int32Array {
    const out = {
      actions: new Int32Array(this.spec.shape.nvec.length),
      logProbs: new Float64Array(1),
      values: new Float32Array(1),
    };
    const deterministic = options.deterministic ?? true;
    this.act(
      { observations: this.prepare(observation, 1), masks: mask, batch: 1, deterministic, rng: options.rng ?? null },
      out,
    );
    return out.actions;
  }

  /** State values of `batch` prepared observations. */
  predictValues(observations: Float32Array, batch: number, out: Float32Array): void {
    this.engine.values(observations, batch, out);
  }

  dispose(): void {
    this.engine.dispose();
  }

  private buffer(kind: 'obs' | 'logits' | 'values', length: number): Float32Array {
    if (this.scratch[kind].length < length) this.scratch[kind] = new Float32Array(length);
    return this.scratch[kind].subarray(0, length);
  }
}
