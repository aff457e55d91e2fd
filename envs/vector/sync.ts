import type { EnvOptions, EnvSpec } from '../core/registry.js';
import { resolveEnv } from '../core/registry.js';
import { VecBuffers } from './buffers.js';
import { loadActions, stepResult } from './result.js';
import { MemberError, VecSlice } from './slice.js';
import { checkSnapshotFits, joinSnapshot, sliceOfSnapshot } from './snapshot.js';
import type { VecResetResult, VecStepResult, VectorEnv, VectorEnvSnapshot } from './vector-env.js';
import { checkVectorSize, VectorEnvError } from './vector-env.js';

/**
 * A vector env stepped in the calling thread, on the same stepping core (slice.ts) as the worker
 * threads of WorkerVectorEnv, so both give the same batches bit for bit. The better choice below
 * ~32 envs, where a worker barrier costs more than the parallel work saves.
 */
export class SyncVectorEnv implements VectorEnv {
  readonly spec: EnvSpec;
  private readonly buf: VecBuffers;
  private readonly slice: VecSlice;
  private wasReset = false;
  private closed = false;
  private failure: VectorEnvError | null = null;

  constructor(
    envId: string,
    readonly numEnvs: number,
    options: EnvOptions = {},
  ) {
    checkVectorSize(numEnvs);
    this.spec = resolveEnv(envId, options);
    this.buf = VecBuffers.allocate(
      {
        numEnvs,
        observationSize: this.spec.observationSize,
        maskLength: this.spec.maskLength,
        actionDims: this.spec.actionDims,
        metricCount: this.spec.metricNames.length,
      },
      false,
    );
    this.slice = new VecSlice(
      Array.from({ length: numEnvs }, (_, i) => this.spec.makeMember(i)),
      0,
      this.buf,
    );
  }

  get actionBuffer(): Int32Array {
    return this.buf.actions;
  }

  async reset(seed: number): Promise<VecResetResult> {
    this.check();
    this.run(() => this.slice.reset(seed));
    this.wasReset = true;
    return { observations: this.buf.observations, masks: this.buf.masks };
  }

  async step(actions?: ArrayLike<number>): Promise<VecStepResult> {
    this.check();
    if (!this.wasReset) throw new Error(`${this.spec.id}: call reset(seed) before step()`);
    loadActions(this.buf.actions, actions, this.spec.actionDims);
    this.run(() => this.slice.step());
    return stepResult(this.buf, this.spec.metricNames, this.spec.graded);
  }

  async snapshot(): Promise<VectorEnvSnapshot> {
    this.check();
    if (!this.wasReset) throw new Error(`${this.spec.id}: call reset(seed) or restore(snapshot) before snapshot()`);
    const part = this.run(() => this.slice.snapshot());
    // A structured clone, as the workers' postMessage makes: nothing shared with the live envs.
    return structuredClone(joinSnapshot(this.spec, this.numEnvs, [part]));
  }

  async restore(snapshot: VectorEnvSnapshot): Promise<VecResetResult> {
    const snap = checkSnapshotFits(snapshot, this.spec, this.numEnvs);
    this.check();
    const part = structuredClone(sliceOfSnapshot(snap, 0, this.numEnvs, this.spec));
    this.run(() => this.slice.restore(part));
    this.wasReset = true;
    return { observations: this.buf.observations, masks: this.buf.masks };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private run<T>(f: () => T): T {
    try {
      return f();
    } catch (err) {
      if (!(err instanceof MemberError)) throw err;
      const cause = err.cause instanceof Error ? err.cause : new Error(String(err.cause));
      this.failure = new VectorEnvError(err.envIndex, this.spec.id, cause.message, cause.stack ?? '');
      throw this.failure;
    }
  }

  private check(): void {
    if (this.closed) throw new Error(`${this.spec.id}: the vector env is closed`);
    // An env failed mid-step: the batch is inconsistent, as with a failed worker.
    if (this.failure)
      throw new Error(`${this.spec.id}: the vector env failed earlier and cannot be used: ${this.failure.message}`);
  }
}
