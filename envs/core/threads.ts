/**
 * Worker threads that take commands through shared memory (WorkerVectorEnv's env workers, PPO's
 * critic thread): starting one from TypeScript sources or compiled JS, and a command channel on a
 * shared Int32Array — no message passing per command.
 *
 * Channel layout: worker w owns one 16-int line (a cache line) at w·16:
 *   SEQ          bumped by the caller to issue a command (the worker waits on it)
 *   CMD          the command code
 *   DONE         the SEQ the worker finished
 *   STATUS       0 ok, 1 the command failed
 *   ERROR_BYTES  length of the error text, in the worker's part of the error buffer
 * One more line holds FINISHED: every worker adds 1 when it completes a command, and the one that
 * brings it to workers × (command number) wakes the caller — one wake-up per round for many workers.
 * Arguments and results travel in buffers of the caller's choosing, written before SEQ and read
 * after DONE (Atomics order the stores).
 */

import type { TransferListItem } from 'node:worker_threads';
import { Worker } from 'node:worker_threads';

/** Atomics.waitAsync (in Node 20; typed only from the ES2024 lib, which Node 20 does not fully have). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      array: Int32Array,
      index: number,
      value: number,
      timeout: number,
    ): { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
  }
).waitAsync;

const STRIDE = 16;
const SEQ = 0;
const CMD = 1;
const DONE = 2;
const STATUS = 3;
const ERROR_BYTES = 4;

/**
 * A worker thread running `entry` (a module URL ending in .ts under tsx/vitest, .js when compiled).
 * Node 20 cannot start a worker from a .ts file, so TS entries go through ts-worker-bootstrap.mjs,
 * which registers tsx inside the worker and imports `workerData.entry`.
 */
export function spawnWorker(entry: URL, workerData: object, transferList: readonly TransferListItem[] = []): Worker {
  const ts = entry.pathname.endsWith('.ts');
  const target = ts ? new URL('./ts-worker-bootstrap.mjs', import.meta.url) : entry;
  return new Worker(target, {
    workerData: ts ? { ...workerData, entry: entry.href } : workerData,
    transferList: [...transferList],
  });
}

/** The shared memory of a channel (plain SharedArrayBuffers: they go to workers in workerData). */
export interface ChannelBuffers {
  control: SharedArrayBuffer;
  errors: SharedArrayBuffer;
  workers: number;
  errorCapacity: number;
}

export function allocateChannel(workers: number, errorCapacity = 16384): ChannelBuffers {
  return {
    control: new SharedArrayBuffer(4 * (workers + 1) * STRIDE),
    errors: new SharedArrayBuffer(errorCapacity * workers),
    workers,
    errorCapacity,
  };
}

/** The caller's side: issue commands to workers, wait for them, read their errors. */
export class CommandChannel {
  private readonly ctrl: Int32Array;
  private readonly errors: Uint8Array;
  private readonly finished: number;

  constructor(private readonly buffers: ChannelBuffers) {
    this.ctrl = new Int32Array(buffers.control);
    this.errors = new Uint8Array(buffers.errors);
    this.finished = buffers.workers * STRIDE;
  }

  /** Sends command number `seq` (1, 2, … in order) to worker w. */
  issue(w: number, seq: number, cmd: number): void {
    this.ctrl[w * STRIDE + CMD] = cmd;
    Atomics.store(this.ctrl, w * STRIDE + SEQ, seq);
    Atomics.notify(this.ctrl, w * STRIDE + SEQ);
  }

  isDone(w: number, seq: number): boolean {
    return Atomics.load(this.ctrl, w * STRIDE + DONE) === seq;
  }

  /** Blocks this thread until every worker finished command `seq`; false when `timeoutMs` passed first. */
  waitAllSync(seq: number, timeoutMs: number): boolean {
    const target = seq * this.buffers.workers;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const finished = Atomics.load(this.ctrl, this.finished);
      if (finished === target) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      Atomics.wait(this.ctrl, this.finished, finished, Math.min(left, 1000));
    }
  }

  /**
   * Resolves once every worker finished command `seq` (the last one wakes us); rejects when
   * `abandon` settles first (a worker died) or after `timeoutMs` with the workers that are late.
   */
  async waitAll(seq: number, timeoutMs: number, abandon: Promise<Error>): Promise<void> {
    const target = seq * this.buffers.workers;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const finished = Atomics.load(this.ctrl, this.finished);
      if (finished === target) return;
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw new LateWorkersError(this.lateWorkers(seq));
      const waiting = waitAsync(this.ctrl, this.finished, finished, remaining);
      if (waiting.async) {
        const outcome = await Promise.race([waiting.value, abandon]);
        if (outcome instanceof Error) throw outcome;
      }
    }
  }

  lateWorkers(seq: number): number[] {
    return Array.from({ length: this.buffers.workers }, (_, w) => w).filter((w) => !this.isDone(w, seq));
  }

  /** The error text worker w reported for its last command, or null when it succeeded. */
  error(w: number): string | null {
    if (Atomics.load(this.ctrl, w * STRIDE + STATUS) === 0) return null;
    const n = Atomics.load(this.ctrl, w * STRIDE + ERROR_BYTES);
    const start = w * this.buffers.errorCapacity;
    return new TextDecoder().decode(this.errors.slice(start, start + n));
  }
}

/** Thrown by waitAll when workers did not finish in time. */
export class LateWorkersError extends Error {
  override readonly name = 'LateWorkersError';
  constructor(readonly workers: readonly number[]) {
    super(`worker(s) ${workers.join(', ')} did not finish in time`);
  }
}

/**
 * The worker's side. Create it before announcing readiness (it reads the current SEQ, and the caller
 * may issue the first command as soon as it hears 'ready'), then `serve`.
 */
export class CommandServer {
  private readonly ctrl: Int32Array;
  private readonly errors: Uint8Array;
  private readonly base: number;
  private last: number;

  constructor(
    private readonly buffers: ChannelBuffers,
    worker: number,
  ) {
    this.ctrl = new Int32Array(buffers.control);
    this.errors = new Uint8Array(buffers.errors, worker * buffers.errorCapacity, buffers.errorCapacity);
    this.base = worker * STRIDE;
    this.last = Atomics.load(this.ctrl, this.base + SEQ);
  }

  /**
   * Runs commands until `run` returns false (the close command, acknowledged like any other). A
   * thrown error is reported with `describe(error)` as the text. Polls `spinMicros` before sleeping:
   * a futex wake-up costs tens of µs on a VM, and the next command usually follows closely.
   */
  serve(run: (cmd: number, seq: number) => boolean, describe: (err: unknown) => string, spinMicros: number): void {
    const encoder = new TextEncoder();
    const finished = this.buffers.workers * STRIDE;
    const spinMs = spinMicros / 1000;
    for (;;) {
      if (spinMs > 0) {
        const until = performance.now() + spinMs;
        while (Atomics.load(this.ctrl, this.base + SEQ) === this.last && performance.now() < until) {
          /* spin */
        }
      }
      Atomics.wait(this.ctrl, this.base + SEQ, this.last);
      const seq = Atomics.load(this.ctrl, this.base + SEQ);
      if (seq === this.last) continue;
      this.last = seq;
      let keepGoing = true;
      try {
        keepGoing = run(Atomics.load(this.ctrl, this.base + CMD), seq);
        Atomics.store(this.ctrl, this.base + STATUS, 0);
      } catch (err) {
        const bytes = encoder.encode(describe(err)).subarray(0, this.errors.length);
        this.errors.set(bytes);
        Atomics.store(this.ctrl, this.base + ERROR_BYTES, bytes.length);
        Atomics.store(this.ctrl, this.base + STATUS, 1);
      }
      Atomics.store(this.ctrl, this.base + DONE, seq);
      if (Atomics.add(this.ctrl, finished, 1) + 1 === seq * this.buffers.workers) Atomics.notify(this.ctrl, finished);
      if (!keepGoing) return;
    }
  }
}
