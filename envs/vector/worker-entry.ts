/**
 * Worker thread of WorkerVectorEnv: builds its slice of envs, then serves commands from the shared
 * channel (protocol.ts) until CLOSE. Errors inside an env are caught and reported with the env's
 * index; the worker itself keeps running. Snapshots travel on the worker's own MessagePort.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { EnvOptions } from '../core/registry.js';
import { resolveEnv } from '../core/registry.js';
import { CommandServer } from '../core/threads.js';
import { VecBuffers } from './buffers.js';
import type { RestoreMail, SnapshotMail, WorkerErrorReport, WorkerInit, WorkerMessage } from './protocol.js';
import { CMD_CLOSE, CMD_RESET, CMD_RESTORE, CMD_SNAPSHOT, CMD_STEP } from './protocol.js';
import { MemberError, VecSlice } from './slice.js';

const init = workerData as WorkerInit;
const post = (m: WorkerMessage): void => parentPort?.postMessage(m);

async function main(): Promise<void> {
  for (const m of init.setupModules) await import(m);
  const spec = resolveEnv(init.envId, init.options as EnvOptions);
  const members = Array.from({ length: init.count }, (_, j) => spec.makeMember(init.offset + j));
  const slice = new VecSlice(members, init.offset, new VecBuffers(init.shape, init.raw));
  const args = new Float64Array(init.args);
  const server = new CommandServer(init.channel, init.index); // before 'ready': it reads the current command count
  post({ type: 'ready' });
  const run = (cmd: number, seq: number): boolean => {
    if (cmd === CMD_STEP) slice.step();
    else if (cmd === CMD_RESET) slice.reset(args[init.index] as number);
    else if (cmd === CMD_SNAPSHOT) {
      const part = slice.snapshot();
      const mail: SnapshotMail = { seq, part };
      init.port.postMessage(mail, [part.observations.buffer as ArrayBuffer, part.masks.buffer as ArrayBuffer]);
    } else if (cmd === CMD_RESTORE) slice.restore(takeRestoreMail(args[init.index] as number));
    else if (cmd === CMD_CLOSE) {
      init.port.close();
      return false;
    } else throw new Error(`unknown command ${cmd}`);
    return true;
  };
  server.serve(run, describeFailure, init.spinMicros);
}

/** The error report of a failed command: which env, and its own message and stack. */
function describeFailure(err: unknown): string {
  const cause = err instanceof MemberError ? err.cause : err;
  const report: WorkerErrorReport = {
    envIndex: err instanceof MemberError ? err.envIndex : -1,
    message: cause instanceof Error ? cause.message : String(cause),
    stack: cause instanceof Error ? (cause.stack ?? '') : '',
  };
  return JSON.stringify(report);
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
