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
import { Worker } from 'node:worker_threads';
import type { BackendPreference } from '../backend.js';
import type { AdamSettings } from './adam.js';
import type { Activation, NetArch, PolicyShape } from './parameters.js';

export const CTRL = { SEQ: 0, CMD: 1, DONE: 2, STATUS: 3, ERROR_BYTES: 4 } as const;
export const CMD = { GRAD: 1, APPLY: 2, DISCARD: 3, SYNC: 4, CLOSE: 5 } as const;
/** Float64 scalars: inputs (batch, lr, scale, adam step) and outputs (value loss, critic Σg²). */
export const SCALAR = { BATCH: 0, LR: 1, SCALE: 2, ADAM_STEP: 3, VALUE_LOSS: 4, SUM_SQ: 5 } as const;
const ERROR_CAPACITY = 8192;

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
  control: SharedArrayBuffer;
  scalars: SharedArrayBuffer;
  errors: SharedArrayBuffer;
  /** TS bootstrap target (tsx/vitest). */
  entry?: string;
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

const IS_TS = import.meta.url.endsWith('.ts');

export class CriticWorker {
  private readonly ctrl: Int32Array;
  private readonly scalars: Float64Array;
  private readonly errors: Uint8Array;
  private seq = 0;
  private pending = false;
  private closed = false;

  private constructor(
    private readonly thread: Worker,
    init: CriticThreadInit,
    private readonly timeoutMs: number,
  ) {
    this.ctrl = new Int32Array(init.control);
    this.scalars = new Float64Array(init.scalars);
    this.errors = new Uint8Array(init.errors);
  }

  static async create(
    init: Omit<CriticThreadInit, 'control' | 'scalars' | 'errors' | 'entry'>,
    timeoutMs = 120_000,
  ): Promise<CriticWorker> {
    const entry = new URL(IS_TS ? './critic-thread.ts' : './critic-thread.js', import.meta.url);
    const bootstrap = new URL('../../envs/vector/ts-worker-bootstrap.mjs', import.meta.url);
    const full: CriticThreadInit = {
      ...init,
      control: new SharedArrayBuffer(16 * 4),
      scalars: new SharedArrayBuffer(8 * 8),
      errors: new SharedArrayBuffer(ERROR_CAPACITY),
      ...(IS_TS ? { entry: entry.href } : {}),
    };
    const thread = new Worker(IS_TS ? bootstrap : entry, { workerData: full });
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

  /** Re-uploads the critic's parameters from the shared vector and sets Adam's step count (after init, warm start or resume). */
  sync(adamStep: number): void {
    this.scalars[SCALAR.ADAM_STEP] = adamStep;
    this.issue(CMD.SYNC);
    this.wait();
  }

  /** Blocks until the last command is done (throws the worker's error). */
  wait(): { valueLoss: number; sumOfSquares: number } {
    if (!this.pending) throw new Error('critic worker: nothing to wait for');
    const deadline = Date.now() + this.timeoutMs;
    while (Atomics.load(this.ctrl, CTRL.DONE) !== this.seq) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`critic worker did not answer within ${this.timeoutMs / 1000} s (is it alive?)`);
      Atomics.wait(this.ctrl, CTRL.DONE, Atomics.load(this.ctrl, CTRL.DONE), Math.min(left, 1000));
    }
    this.pending = false;
    if (Atomics.load(this.ctrl, CTRL.STATUS) !== 0) {
      const n = Atomics.load(this.ctrl, CTRL.ERROR_BYTES);
      throw new Error(`critic worker failed: ${new TextDecoder().decode(this.errors.slice(0, n))}`);
    }
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
    Atomics.store(this.ctrl, CTRL.CMD, cmd);
    this.seq++;
    Atomics.store(this.ctrl, CTRL.SEQ, this.seq);
    Atomics.notify(this.ctrl, CTRL.SEQ);
    this.pending = true;
  }
}
