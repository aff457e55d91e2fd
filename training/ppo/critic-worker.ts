/**
 * The critic on a second thread during PPO updates (`update_threads: 2`). The actor and critic
 * towers share no parameters and their losses are independent (the value loss needs only values,
 * returns and old values), so per minibatch the critic's forward pass, value-loss gradient,
 * backward pass and Adam step run on a worker thread while the main thread does the actor's. The
 * two meet twice: once to add the sums of squared gradients (global-norm clipping) and decide on
 * target_kl early stopping, once when both have stepped. Results are bit-identical to one thread:
 * same kernels, same arithmetic, same summation order (actor block + critic block).
 *
 * Everything the threads share lives in SharedArrayBuffers: parameters, Adam moments, gradients,
 * the minibatch (observations, transposed observations, returns, old values). Commands go through
 * an Int32Array control block with Atomics (no message passing per minibatch).
 */
import type { Worker } from 'node:worker_threads';
import type { BackendPreference } from '../../agents/policy/backend.js';
import type { Activation, NetArch, PolicyShape } from '../../agents/policy/parameters.js';
import type { ChannelBuffers } from '../../envs/core/threads.js';
import { allocateChannel, CommandChannel, spawnWorker } from '../../envs/core/threads.js';
import type { AdamSettings } from './adam.js';

export const CMD = { GRAD: 1, APPLY: 2, DISCARD: 3, SYNC: 4, CLOSE: 5 } as const;
/** Float64 scalars: inputs (batch, lr, scale, adam step) and outputs (value loss, critic Σg²). */
export const SCALAR = { BATCH: 0, LR: 1, SCALE: 2, ADAM_STEP: 3, VALUE_LOSS: 4, SUM_SQ: 5 } as const;

/** The shared arrays of an update (allocated by the main thread). */
export interface SharedUpdateBuffers {
  theta: Float32Array;
  m: Float32Array;
  v: Float32Array;
  grad: Float32Array;
  obs: Float32Array;
  obsT: Float32Array;
  returns: Float32Array;
  oldValues: Float32Array;
}

export interface CriticThreadInit {
  shape: PolicyShape;
  arch: NetArch;
  activation: Activation;
  backend: BackendPreference;
  adam: AdamSettings;
  clipRangeVf: number | null;
  vfCoef: number;
  buffers: SharedUpdateBuffers;
  channel: ChannelBuffers;
  scalars: SharedArrayBuffer;
}

export function allocateSharedUpdateBuffers(
  parameterCount: number,
  maxBatch: number,
  observationSize: number,
): SharedUpdateBuffers {
  const f32 = (n: number): Float32Array => new Float32Array(new SharedArrayBuffer(n * 4));
  return {
    theta: f32(parameterCount),
    m: f32(parameterCount),
    v: f32(parameterCount),
    grad: f32(parameterCount),
    obs: f32(maxBatch * observationSize),
    obsT: f32(maxBatch * observationSize),
    returns: f32(maxBatch),
    oldValues: f32(maxBatch),
  };
}

export class CriticWorker {
  private readonly channel: CommandChannel;
  private readonly scalars: Float64Array;
  private seq = 0;
  private pending = false;
  private closed = false;

  private constructor(
    private readonly thread: Worker,
    init: CriticThreadInit,
    private readonly timeoutMs: number,
  ) {
    this.channel = new CommandChannel(init.channel);
    this.scalars = new Float64Array(init.scalars);
  }

  static async create(init: Omit<CriticThreadInit, 'channel' | 'scalars'>, timeoutMs = 120_000): Promise<CriticWorker> {
    const entry = new URL(
      import.meta.url.endsWith('.ts') ? './critic-thread.ts' : './critic-thread.js',
      import.meta.url,
    );
    const full: CriticThreadInit = {
      ...init,
      channel: allocateChannel(1, 8192),
      scalars: new SharedArrayBuffer(8 * 8),
    };
    const thread = spawnWorker(entry, full);
    await new Promise<void>((resolve, reject) => {
      thread.once('message', (m: { type: string; message?: string }) =>
        m.type === 'ready' ? resolve() : reject(new Error(`critic thread failed to start: ${m.message ?? ''}`)),
      );
      thread.once('error', (err) => reject(new Error(`critic thread failed to start: ${err.message}`)));
    });
    return new CriticWorker(thread, full, timeoutMs);
  }

  /** Starts the critic's gradient for the minibatch already in the shared buffers (returns at once). */
  startGrad(batch: number): void {
    this.scalars[SCALAR.BATCH] = batch;
    this.issue(CMD.GRAD);
  }

  /** Starts the critic's Adam step (then it re-uploads its parameters). */
  startApply(lr: number, scale: number): void {
    this.scalars[SCALAR.LR] = lr;
    this.scalars[SCALAR.SCALE] = scale;
    this.issue(CMD.APPLY);
  }

  /** Drops the critic's saved activations (early stop). */
  startDiscard(): void {
    this.issue(CMD.DISCARD);
  }

  /**
   * Re-uploads the critic's parameters from the shared vector and sets Adam's step count (after init, warm start or
   * resume).
   */
  sync(adamStep: number): void {
    this.scalars[SCALAR.ADAM_STEP] = adamStep;
    this.issue(CMD.SYNC);
    this.wait();
  }

  /** Blocks until the last command is done (throws the worker's error). */
  wait(): { valueLoss: number; sumOfSquares: number } {
    if (!this.pending) throw new Error('critic worker: nothing to wait for');
    if (!this.channel.waitAllSync(this.seq, this.timeoutMs)) {
      throw new Error(`critic worker did not answer within ${this.timeoutMs / 1000} s (is it alive?)`);
    }
    this.pending = false;
    const error = this.channel.error(0);
    if (error !== null) throw new Error(`critic worker failed: ${error}`);
    return {
      valueLoss: this.scalars[SCALAR.VALUE_LOSS] as number,
      sumOfSquares: this.scalars[SCALAR.SUM_SQ] as number,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pending) {
      try {
        this.wait();
      } catch {
        /* closing anyway */
      }
    }
    this.issue(CMD.CLOSE);
    this.pending = false;
    await this.thread.terminate();
  }

  private issue(cmd: number): void {
    if (this.pending) throw new Error('critic worker: previous command still running');
    this.seq++;
    this.channel.issue(0, this.seq, cmd);
    this.pending = true;
  }
}
