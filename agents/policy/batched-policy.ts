/**
 * A neural policy for many episodes that run side by side (evaluation plays every seed at once):
 * each episode's act() call waits, and once every running episode has asked — the callers resume
 * in the same turn of the event loop — one batched forward pass answers them all, in the order they
 * asked. Episodes that ended simply stop asking, so the batch shrinks as they finish.
 */
import type { RandomStream } from '../../envs/core/random/streams.js';
import type { Policy, VectorInput } from '../types.js';
import type { ActorCriticPolicy } from './policy.js';

interface Request {
  input: VectorInput;
  resolve: (action: Int32Array) => void;
  reject: (err: unknown) => void;
}

export interface BatchedPolicyOptions {
  /** The `agent` of the records (default 'ppo'). */
  name?: string;
  /** Argmax over allowed actions (default), or sample from `rng`. */
  deterministic?: boolean;
  rng?: RandomStream | null;
}

export class BatchedPolicy implements Policy<VectorInput, Int32Array> {
  readonly name: string;
  private readonly deterministic: boolean;
  private readonly rng: RandomStream | null;
  private pending: Request[] = [];

  constructor(
    private readonly policy: ActorCriticPolicy,
    options: BatchedPolicyOptions = {},
  ) {
    this.name = options.name ?? 'ppo';
    this.deterministic = options.deterministic ?? true;
    this.rng = options.rng ?? null;
  }

  reset(): void {}

  act(input: VectorInput): Promise<Int32Array> {
    return new Promise<Int32Array>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ input, resolve, reject });
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    const B = batch.length;
    const O = this.policy.spec.shape.observationSize;
    const A = this.policy.layout.actionSize;
    const D = this.policy.spec.shape.nvec.length;
    try {
      // One round per step of the episodes: these small arrays are not worth pooling.
      const obs = new Float32Array(B * O);
      const masks = new Uint8Array(B * A);
      batch.forEach((r, row) => {
        obs.set(r.input.observation, row * O);
        masks.set(r.input.mask, row * A);
      });
      const actions = new Int32Array(B * D);
      const request = {
        observations: this.policy.prepare(obs, B),
        masks,
        batch: B,
        deterministic: this.deterministic,
        rng: this.rng,
      };
      this.policy.act(request, { actions, logProbs: new Float64Array(B), values: new Float32Array(B) });
      batch.forEach((r, row) => {
        r.resolve(actions.slice(row * D, (row + 1) * D));
      });
    } catch (err) {
      for (const r of batch) r.reject(err);
    }
  }
}
