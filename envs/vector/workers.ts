import type { MessagePort, Worker } from 'node:worker_threads';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import type { EnvOptions, EnvSpec } from '../core/registry.js';
import { resolveEnv } from '../core/registry.js';
import { allocateChannel, CommandChannel, LateWorkersError, spawnWorker } from '../core/threads.js';
import { VecBuffers } from './buffers.js';
import type { RestoreMail, SnapshotMail, WorkerErrorReport, WorkerInit, WorkerMessage } from './protocol.js';
import { CMD_CLOSE, CMD_RESET, CMD_RESTORE, CMD_SNAPSHOT, CMD_STEP } from './protocol.js';
import { loadActions, stepResult } from './result.js';
import type { VecSliceSnapshot } from './slice.js';
import { checkSnapshotFits, joinSnapshot, sliceOfSnapshot } from './snapshot.js';
import type { VecResetResult, VecStepResult, VectorEnv, VectorEnvSnapshot } from './vector-env.js';
import { checkVectorSize, VectorEnvError } from './vector-env.js';

export interface WorkerVectorEnvOptions {
  /** Worker threads (default 2, at most numEnvs). */
  workers?: number;
  /** Env options (see registry.ts). */
  envOptions?: EnvOptions;
  /** How long one command may take before the call fails (default 60 s; the first reset includes start-up). */
  timeoutMs?: number;
  /** More modules (absolute paths or file URLs) each worker imports first; the env family's own module always is. */
  setupModules?: string[];
  /** How long an idle worker polls for the next command before sleeping, in µs (default 100; 0 = always sleep). */
  spinMicros?: number;
}

interface WorkerHandle {
  readonly thread: Worker;
  /** The main thread's end of the worker's snapshot channel. */
  readonly port: MessagePort;
  readonly offset: number;
  readonly count: number;
  exited: boolean;
}

/**
 * N envs split over W worker threads (contiguous slices). Observations, masks, rewards, flags, final
 * observations, episode summaries and actions live in SharedArrayBuffers the workers write in place;
 * a command and its answer are bumps of shared counters (envs/core/threads.ts), awaited so the event
 * loop notices a dying worker. Failures never hang: an env's exception comes back as a VectorEnvError
 * naming the env; a worker that exits or misses `timeoutMs` fails the call; afterwards only close()
 * works. Snapshots travel over each worker's own MessagePort. Results equal SyncVectorEnv's.
 */
export class WorkerVectorEnv implements VectorEnv {
  readonly spec: EnvSpec;
  readonly numWorkers: number;
  private readonly buf: VecBuffers;
  private readonly channel: CommandChannel;
  private readonly args: Float64Array;
  private readonly handles: WorkerHandle[];
  private readonly timeoutMs: number;
  private failure: Error | null = null;
  private deathNotice: Promise<Error>;
  private announceDeath: (e: Error) => void = () => {};
  private closing: Promise<void> | null = null;
  /** Commands issued so far (every worker gets each one; their SEQ equals it). */
  private seq = 0;
  private wasReset = false;
  private busy = false;
  /** Ids of RESTORE messages posted so far. */
  private mail = 0;

  private constructor(
    envId: string,
    readonly numEnvs: number,
    opts: WorkerVectorEnvOptions,
  ) {
    const workers = opts.workers ?? 2;
    checkVectorSize(numEnvs, workers);
    this.spec = resolveEnv(envId, opts.envOptions ?? {});
    this.numWorkers = Math.min(workers, numEnvs);
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    const shape = {
      numEnvs,
      observationSize: this.spec.observationSize,
      maskLength: this.spec.maskLength,
      actionDims: this.spec.actionDims,
      metricCount: this.spec.metricNames.length,
    };
    this.buf = VecBuffers.allocate(shape, true);
    const channel = allocateChannel(this.numWorkers);
    const args = new SharedArrayBuffer(8 * this.numWorkers);
    this.channel = new CommandChannel(channel);
    this.args = new Float64Array(args);
    this.deathNotice = new Promise((resolve) => {
      this.announceDeath = resolve;
    });

    const entry = new URL(import.meta.url.endsWith('.ts') ? './worker-entry.ts' : './worker-entry.js', import.meta.url);
    this.handles = [];
    let offset = 0;
    for (let w = 0; w < this.numWorkers; w++) {
      const count = Math.floor(numEnvs / this.numWorkers) + (w < numEnvs % this.numWorkers ? 1 : 0);
      const ports = new MessageChannel();
      ports.port1.unref(); // read only with receiveMessageOnPort; never keeps the process alive
      const init: WorkerInit = {
        index: w,
        envId,
        options: this.spec.options as Record<string, unknown>,
        offset,
        count,
        shape,
        raw: this.buf.raw,
        channel,
        args,
        port: ports.port2,
        // The module that registers the env's family first, so the worker can resolve the id.
        setupModules: [...new Set([this.spec.module, ...(opts.setupModules ?? [])])].map((m) =>
          m.startsWith('file:') ? m : new URL(`file://${m}`).href,
        ),
        spinMicros: opts.spinMicros ?? 100,
      };
      const thread = spawnWorker(entry, init, [ports.port2]);
      const handle: WorkerHandle = { thread, port: ports.port1, offset, count, exited: false };
      thread.on('error', (err) => this.died(w, `crashed: ${err.message}`));
      thread.on('exit', (code) => {
        handle.exited = true;
        if (this.closing === null) this.died(w, `exited unexpectedly (exit code ${code})`);
      });
      this.handles.push(handle);
      offset += count;
    }
  }

  /** Starts the workers and waits until each has built its envs. */
  static async create(envId: string, numEnvs: number, opts: WorkerVectorEnvOptions = {}): Promise<WorkerVectorEnv> {
    const vec = new WorkerVectorEnv(envId, numEnvs, opts);
    try {
      await Promise.all(
        vec.handles.map(
          (h, w) =>
            new Promise<void>((resolve, reject) => {
              const onMessage = (m: WorkerMessage): void => {
                if (m.type === 'ready') resolve();
                else reject(new Error(`worker ${w} (${vec.describe(w)}) could not start: ${m.message}\n${m.stack}`));
              };
              h.thread.once('message', onMessage);
              void vec.deathNotice.then(reject);
            }),
        ),
      );
    } catch (err) {
      await vec.close();
      throw err;
    }
    return vec;
  }

  get actionBuffer(): Int32Array {
    return this.buf.actions;
  }

  /** The worker threads (for diagnostics and tests). */
  get threads(): readonly Worker[] {
    return this.handles.map((h) => h.thread);
  }

  async reset(seed: number): Promise<VecResetResult> {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`reset: seed must be an integer (got ${seed})`);
    await this.command(CMD_RESET, seed, 'reset');
    this.wasReset = true;
    return { observations: this.buf.observations, masks: this.buf.masks };
  }

  async step(actions?: ArrayLike<number>): Promise<VecStepResult> {
    if (!this.wasReset) throw new Error(`${this.spec.id}: call reset(seed) before step()`);
    loadActions(this.buf.actions, actions, this.spec.actionDims);
    await this.command(CMD_STEP, 0, 'step');
    return stepResult(this.buf, this.spec.metricNames, this.spec.graded);
  }

  async snapshot(): Promise<VectorEnvSnapshot> {
    if (!this.wasReset) throw new Error(`${this.spec.id}: call reset(seed) or restore(snapshot) before snapshot()`);
    const parts: VecSliceSnapshot[] = [];
    await this.command(CMD_SNAPSHOT, 0, 'snapshot', undefined, (seq) => {
      for (let w = 0; w < this.handles.length; w++) parts.push(this.takeSnapshotMail(w, seq));
    });
    return joinSnapshot(this.spec, this.numEnvs, parts);
  }

  async restore(snapshot: VectorEnvSnapshot): Promise<VecResetResult> {
    const snap = checkSnapshotFits(snapshot, this.spec, this.numEnvs);
    const mail = ++this.mail;
    await this.command(CMD_RESTORE, mail, 'restore', () => {
      for (const h of this.handles) {
        const message: RestoreMail = { mail, part: sliceOfSnapshot(snap, h.offset, h.count, this.spec) };
        h.port.postMessage(message, [
          message.part.observations.buffer as ArrayBuffer,
          message.part.masks.buffer as ArrayBuffer,
        ]);
      }
    });
    this.wasReset = true;
    return { observations: this.buf.observations, masks: this.buf.masks };
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      const seq = ++this.seq;
      for (let w = 0; w < this.handles.length; w++)
        if (!(this.handles[w] as WorkerHandle).exited) this.issue(w, seq, CMD_CLOSE, 0);
      await Promise.all(
        this.handles.map(async (h) => {
          if (h.exited) return;
          const exited = new Promise<void>((resolve) => h.thread.once('exit', () => resolve()));
          const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 1000).unref());
          if ((await Promise.race([exited, grace])) === 'timeout') await h.thread.terminate();
        }),
      );
      for (const h of this.handles) h.port.close();
    })();
    return this.closing;
  }

  private describe(w: number): string {
    const h = this.handles[w] as WorkerHandle;
    return h.count === 1 ? `env ${h.offset}` : `envs ${h.offset}–${h.offset + h.count - 1}`;
  }

  private died(w: number, what: string): void {
    const err = new Error(`${this.spec.id}: worker ${w} (${this.describe(w)}) ${what}`);
    if (!this.failure) this.failure = err;
    this.announceDeath(err);
  }

  /** Sends command number `seq` to worker w. */
  private issue(w: number, seq: number, cmd: number, arg: number): void {
    this.args[w] = arg;
    this.channel.issue(w, seq, cmd);
  }

  /**
   * Issues a command to every worker and waits for all. `before` runs once the call is accepted and
   * before anything is issued (if it throws, nothing is); `after` runs once every worker succeeded,
   * still inside the call.
   */
  private async command(
    cmd: number,
    arg: number,
    what: string,
    before?: () => void,
    after?: (seq: number) => void,
  ): Promise<void> {
    if (this.closing) throw new Error(`${this.spec.id}: the vector env is closed`);
    if (this.failure)
      throw new Error(`${this.spec.id}: the vector env failed earlier and cannot be used: ${this.failure.message}`);
    if (this.busy)
      throw new Error(`${this.spec.id}: ${what}() called while another call is in progress (await each call)`);
    this.busy = true;
    try {
      if (before) before();
      const seq = ++this.seq;
      for (let w = 0; w < this.handles.length; w++) this.issue(w, seq, cmd, arg);
      await this.awaitAll(seq, what);
      for (let w = 0; w < this.handles.length; w++) {
        const text = this.channel.error(w);
        if (text === null) continue;
        const report = JSON.parse(text) as WorkerErrorReport;
        const err = new VectorEnvError(report.envIndex, this.spec.id, report.message, report.stack);
        this.failure = err;
        throw err;
      }
      if (after) after(seq);
    } finally {
      this.busy = false;
    }
  }

  /** Worker w's SNAPSHOT message for command `seq` (posted before it signalled DONE; leftovers skipped). */
  private takeSnapshotMail(w: number, seq: number): VecSliceSnapshot {
    const port = (this.handles[w] as WorkerHandle).port;
    for (;;) {
      const received = receiveMessageOnPort(port);
      if (received === undefined)
        throw new Error(
          `${this.spec.id}: worker ${w} (${this.describe(w)}) finished 'snapshot' without posting its state`,
        );
      const mail = received.message as SnapshotMail;
      if (mail.seq === seq) return mail.part;
    }
  }

  /** Waits until every worker has finished command `seq` (the last one to finish wakes us). */
  private async awaitAll(seq: number, what: string): Promise<void> {
    if (this.failure) throw this.failure;
    try {
      await this.channel.waitAll(seq, this.timeoutMs, this.deathNotice);
    } catch (err) {
      if (!(err instanceof LateWorkersError)) throw err;
      const who = err.workers.map((w) => `worker ${w} (${this.describe(w)})`).join(', ');
      this.failure = new Error(`${this.spec.id}: ${who} did not finish '${what}' within ${this.timeoutMs} ms`);
      throw this.failure;
    }
  }
}
