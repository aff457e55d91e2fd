/**
 * The stepping core shared by SyncVectorEnv and the workers: a contiguous slice of envs
 * [offset, offset + count) stepping in place on the batch buffers, with same-step autoreset (SB3):
 * an env whose episode ends on this step has its last observation copied to finalObservations, its
 * episode summarised, and is reset at once — the returned observation and mask are the new
 * episode's first.
 *
 * Seeding: member i of a vector env reset with seed s starts from deriveSeed(s, 'vector-member', i)
 * (key `queue-rl/<s>/vector-member/<i>`) and later episodes use the env's own continuation. None of
 * it depends on how the envs are split over workers, so any worker count gives the same batches.
 *
 * Snapshots: snapshot()/restore() cover each member's state, the running returns and lengths, and
 * the slice's rows of the current observations and masks — everything the next step depends on.
 */

import type { VecEnvMember } from '../core/member.js';
import { deriveSeed } from '../core/random/streams.js';
import type { VecBuffers } from './buffers.js';
import type { VecMemberSnapshot } from './vector-env.js';

export function memberSeed(seed: number, index: number): number {
  return deriveSeed(seed, 'vector-member', index);
}

/** An exception from one env of the slice, with the env's index in the whole vector env. */
export class MemberError extends Error {
  override readonly name = 'MemberError';
  constructor(
    readonly envIndex: number,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** A slice's state: its members' (in order), and its rows of the observations and masks (copies). */
export interface VecSliceSnapshot {
  readonly members: readonly VecMemberSnapshot[];
  /** count × observationSize. */
  readonly observations: Float32Array;
  /** count × maskLength. */
  readonly masks: Uint8Array;
}

export class VecSlice {
  private readonly obs: Float32Array[];
  private readonly masks: Uint8Array[];
  private readonly actions: Int32Array[];
  private readonly metrics: Float64Array[];
  private readonly returns: Float64Array;
  private readonly lengths: Int32Array;

  constructor(
    private readonly members: readonly VecEnvMember[],
    readonly offset: number,
    private readonly buf: VecBuffers,
  ) {
    const { observationSize: o, maskLength: m, actionDims: a } = buf.shape;
    const stride = buf.episodeStride;
    const rows = members.map((_, j) => offset + j);
    this.obs = rows.map((i) => buf.observations.subarray(i * o, (i + 1) * o));
    this.masks = rows.map((i) => buf.masks.subarray(i * m, (i + 1) * m));
    this.actions = rows.map((i) => buf.actions.subarray(i * a, (i + 1) * a));
    this.metrics = rows.map((i) => buf.episodes.subarray(i * stride + 3, (i + 1) * stride));
    this.returns = new Float64Array(members.length);
    this.lengths = new Int32Array(members.length);
  }

  get count(): number {
    return this.members.length;
  }

  reset(seed: number): void {
    this.members.forEach((member, j) => {
      const i = this.offset + j;
      this.guard(i, () => member.reset(memberSeed(seed, i), this.obs[j] as Float32Array, this.masks[j] as Uint8Array));
      this.buf.rewards[i] = 0;
      this.buf.terminated[i] = 0;
      this.buf.truncated[i] = 0;
    });
    this.returns.fill(0);
    this.lengths.fill(0);
  }

  step(): void {
    const { observationSize: o } = this.buf.shape;
    const stride = this.buf.episodeStride;
    this.members.forEach((member, j) => {
      const i = this.offset + j;
      const obs = this.obs[j] as Float32Array;
      const mask = this.masks[j] as Uint8Array;
      const r = this.guard(i, () => member.step(this.actions[j] as Int32Array, obs, mask));
      this.buf.rewards[i] = r.reward;
      this.buf.terminated[i] = r.terminated ? 1 : 0;
      this.buf.truncated[i] = r.truncated ? 1 : 0;
      this.returns[j] = (this.returns[j] as number) + r.reward; // in float64, not the float32 batch value
      this.lengths[j] = (this.lengths[j] as number) + 1;
      if (r.terminated || r.truncated) {
        this.buf.finalObservations.set(obs, i * o);
        const row = i * stride;
        this.buf.episodes[row] = this.returns[j] as number;
        this.buf.episodes[row + 1] = this.lengths[j] as number;
        this.buf.episodes[row + 2] = this.guard(i, () => member.summarize(this.metrics[j] as Float64Array));
        this.returns[j] = 0;
        this.lengths[j] = 0;
        this.guard(i, () => member.reset(undefined, obs, mask));
      }
    });
  }

  /** The slice's state (members' states as they give them: the caller clones what it keeps). */
  snapshot(): VecSliceSnapshot {
    const { observationSize: o, maskLength: m } = this.buf.shape;
    const end = this.offset + this.members.length;
    return {
      members: this.members.map((member, j) => ({
        state: this.guard(this.offset + j, () => member.snapshot()),
        episodeReturn: this.returns[j] as number,
        episodeLength: this.lengths[j] as number,
      })),
      observations: this.buf.observations.slice(this.offset * o, end * o),
      masks: this.buf.masks.slice(this.offset * m, end * m),
    };
  }

  /** Puts a snapshot() of a slice of the same envs back; rewards and flags read 0, as after reset. */
  restore(part: VecSliceSnapshot): void {
    const { observationSize: o, maskLength: m } = this.buf.shape;
    const n = this.members.length;
    if (part.members.length !== n || part.observations.length !== n * o || part.masks.length !== n * m) {
      throw new Error(
        `slice restore: a part for ${n} envs needs ${n} members, ${n * o} observation values and ${n * m} mask ` +
          `values (got ${part.members.length}, ${part.observations.length}, ${part.masks.length})`,
      );
    }
    this.members.forEach((member, j) => {
      const i = this.offset + j;
      const ms = part.members[j] as VecMemberSnapshot;
      this.guard(i, () => member.restore(ms.state));
      this.returns[j] = ms.episodeReturn;
      this.lengths[j] = ms.episodeLength;
      this.buf.rewards[i] = 0;
      this.buf.terminated[i] = 0;
      this.buf.truncated[i] = 0;
    });
    this.buf.observations.set(part.observations, this.offset * o);
    this.buf.masks.set(part.masks, this.offset * m);
  }

  private guard<T>(envIndex: number, f: () => T): T {
    try {
      return f();
    } catch (err) {
      throw new MemberError(envIndex, err);
    }
  }
}
