/**
 * What an env-server session steps (envs/server): one vector-env member — the exact code path a local
 * vector env runs — plus, where a family has one, its JSON face: the observation, info and state the
 * seeds' clients read, and the env's own JSON actions.
 */
import type { GradeResult } from './env.js';
import type { VecEnvMember } from './member.js';
import type { EnvSpec } from './registry.js';

export interface DriverStep {
  reward: number;
  terminated: boolean;
  truncated: boolean;
  /** The family's step info (JSON), or null. */
  info: unknown;
}

export interface SessionDriver {
  readonly spec: EnvSpec;
  /** Starts an episode (a seed, or the env's continuation) writing features and mask; returns the reset info. */
  reset(
    seed: number | undefined,
    extra: Readonly<Record<string, unknown>>,
    obs: Float32Array,
    mask: Uint8Array,
  ): unknown;
  /** Steps the RL action (1 integer, or one per dimension), as the member does; the info only when asked for. */
  step(action: Int32Array, obs: Float32Array, mask: Uint8Array, withInfo: boolean): DriverStep;
  /** Steps the env's own JSON action, or null when the family has none (`data` is the wire action). */
  stepNative(
    data: Readonly<Record<string, unknown>>,
    obs: Float32Array,
    mask: Uint8Array,
    withInfo: boolean,
  ): DriverStep | null;
  /** After an episode's last step: its score (NaN when ungraded), metrics in spec order. */
  summarize(metrics: Float64Array): number;
  /** The family's JSON observation fields (empty for families without a JSON face). */
  observationJson(): Record<string, unknown>;
  /** The family's episode state (OpenEnv `state`), without episode_id and step_count. */
  stateJson(options: { includeActionHistory?: boolean }): Record<string, unknown>;
  /** The task grader's verdict on the episode so far, or null when the family has none. */
  grade(): GradeResult | null;
  /** A short label of an RL action index (Gov Workflow's `/action-masks`). */
  describeAction(index: number): string;
  snapshot(): unknown;
  restore(state: unknown): void;
}

/** Any member: no JSON face. */
export class MemberDriver implements SessionDriver {
  constructor(
    readonly spec: EnvSpec,
    protected readonly member: VecEnvMember,
  ) {}

  reset(
    seed: number | undefined,
    _extra: Readonly<Record<string, unknown>>,
    obs: Float32Array,
    mask: Uint8Array,
  ): unknown {
    this.member.reset(seed, obs, mask);
    return null;
  }

  step(action: Int32Array, obs: Float32Array, mask: Uint8Array, _withInfo: boolean): DriverStep {
    const r = this.member.step(action, obs, mask);
    return { reward: r.reward, terminated: r.terminated, truncated: r.truncated, info: null };
  }

  stepNative(
    _data: Readonly<Record<string, unknown>>,
    _obs: Float32Array,
    _mask: Uint8Array,
    _withInfo: boolean,
  ): DriverStep | null {
    return null;
  }

  summarize(metrics: Float64Array): number {
    return this.member.summarize(metrics);
  }

  observationJson(): Record<string, unknown> {
    return {};
  }

  stateJson(_options: { includeActionHistory?: boolean }): Record<string, unknown> {
    return {};
  }

  grade(): GradeResult | null {
    return null;
  }

  describeAction(index: number): string {
    return String(index);
  }

  snapshot(): unknown {
    return this.member.snapshot();
  }

  restore(state: unknown): void {
    this.member.restore(state);
  }
}
