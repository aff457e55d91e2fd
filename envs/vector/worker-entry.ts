/**
 * Worker thread of WorkerVectorEnv: builds its slice of envs, then serves commands from the shared
 * control block (protocol.ts) until CLOSE. Errors inside an env are caught and reported through
 * shared memory with the env's index; the worker itself keeps running. Snapshots travel on the
 * worker's own MessagePort (see protocol.ts).
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { resolveEnv } from '../core/registry.js';
import type { EnvOptions } from '../core/registry.js';
import { VecBuffers } from './buffers.js';
import {
  CMD,
  CMD_CLOSE,
  CMD_RESET,
  CMD_RESTORE,
  CMD_SNAPSHOT,
  CMD_STEP,
  CTRL_STRIDE,
  DONE,
  ERROR_BYTES,
  ERROR_CAPACITY,
  finishedIndex,
  SEQ,
  STATUS,
  STATUS_ERROR,
  STATUS_OK,
} from './protocol.js';
import type { RestoreMail, SnapshotMail, WorkerErrorReport, WorkerInit, WorkerMessage } from './protocol.js';
import { MemberError, VecSlice } from './slice.js';

const init = workerData as WorkerInit;
const post = (m: WorkerMessage): void => parentPort?.postMessage(m);

async function main(): Promise<void> {
  for (const m of init.setupModules) await import(m);
  const spec = resolveEnv(init.envId, init.options as EnvOptions);
  const buffers = new VecBuffers(init.shape, init.raw);
  const slice = new VecSlice(
    Array.from({ length: init.count }, (_, j) => spec.makeMember(init.offset + j)),
    init.offset,
    buffers,
  );
  const ctrl = new Int32Array(init.control);
  const args = new Float64Array(init.args);
  const errors = new Uint8Array(init.errors, init.index * ERROR_CAPACITY, ERROR_CAPACITY);
  const base = init.index * CTRL_STRIDE;
  const encoder = new TextEncoder();
  // Read the command counter before announcing readiness: the main thread may issue the first
  // command as soon as it hears 'ready'.
  let last = Atomics.load(ctrl, base + SEQ);
  const finished = finishedIndex(init.numWorkers);
  const spinMs = init.spinMicros / 1000;
  post({ type: 'ready' });
  for (;;) {
    // Poll briefly before sleeping: a futex wake-up costs tens of µs on a VM, and the next command
    // usually comes right after the learner has picked its actions.
    if (spinMs > 0) {
      const until = performance.now() + spinMs;
      while (Atomics.load(ctrl, base + SEQ) === last && performance.now() < until) {
        /* spin */
      }
    }
    Atomics.wait(ctrl, base + SEQ, last);
    const seq = Atomics.load(ctrl, base + SEQ);
    if (seq === last) continue;
    last = seq;
    const cmd = Atomics.load(ctrl, base + CMD);
    if (cmd === CMD_CLOSE) {
      init.port.close();
      Atomics.store(ctrl, base + DONE, seq);
      Atomics.notify(ctrl, base + DONE);
      break;
    }
    try {
      if (cmd === CMD_STEP) slice.step();
      else if (cmd === CMD_RESET) slice.reset(args[init.index] as number);
      else if (cmd === CMD_SNAPSHOT) {
        const part = slice.snapshot();
        const mail: SnapshotMail = { seq, part };
        init.port.postMessage(mail, [part.observations.buffer as ArrayBuffer, part.masks.buffer as ArrayBuffer]);
      } else if (cmd === CMD_RESTORE) slice.restore(takeRestoreMail(args[init.index] as number));
      else throw new Error(`unknown command ${cmd}`);
      Atomics.store(ctrl, base + STATUS, STATUS_OK);
    } catch (err) {
      const cause = err instanceof MemberError ? err.cause : err;
      const report: WorkerErrorReport = {
        envIndex: err instanceof MemberError ? err.envIndex : -1,
        message: cause instanceof Error ? cause.message : String(cause),
        stack: cause instanceof Error ? (cause.stack ?? '') : '',
      };
      const bytes = encoder.encode(JSON.stringify(report)).subarray(0, ERROR_CAPACITY);
      errors.set(bytes);
      Atomics.store(ctrl, base + ERROR_BYTES, bytes.length);
      Atomics.store(ctrl, base + STATUS, STATUS_ERROR);
    }
    Atomics.store(ctrl, base + DONE, seq);
    if (Atomics.add(ctrl, finished, 1) + 1 === seq * init.numWorkers) Atomics.notify(ctrl, finished);
  }
}

/** The main thread's RESTORE message with this id (posted before the command; older leftovers are skipped). */
function takeRestoreMail(id: number): RestoreMail['part'] {
  for (;;) {
    const received = receiveMessageOnPort(init.port);
    if (received === undefined) throw new Error(`worker ${init.index}: no restore data on its port (mail ${id})`);
    const mail = received.message as RestoreMail;
    if (mail.mail === id) return mail.part;
  }
}

main().catch((err: unknown) => {
  post({
    type: 'failed',
    message: err instanceof Error ? err.message : String(err),
    stack: err instanceof Error ? (err.stack ?? '') : '',
  });
});
