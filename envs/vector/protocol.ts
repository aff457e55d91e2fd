/**
 * What WorkerVectorEnv and its workers (worker-entry.ts) say to each other: commands on the shared
 * channel of envs/core/threads.ts, their arguments (the reset seed, the restore mail id) in a shared
 * Float64Array with one slot per worker, and error reports as JSON text.
 *
 * Snapshots are the one thing that does not fit in fixed shared buffers; they travel on a
 * MessagePort per worker (`WorkerInit.port`, transferred at creation), read synchronously with
 * receiveMessageOnPort on both sides, so neither side's event loop is involved and steps never
 * touch the port:
 *   SNAPSHOT  the worker posts { seq, part } (its slice's VecSliceSnapshot) on its port, then
 *             signals it is done; after the barrier the main thread takes the message with that seq.
 *   RESTORE   the main thread posts { mail, part } on the port, then issues RESTORE with `mail` as
 *             the argument; the worker takes the message with that mail id and restores its slice.
 * postMessage enqueues on the receiving port before it returns, and the command / done stores come
 * after it, so the message is always there when the other side looks. The ids let either side skip
 * a message left over from a call that failed half-way.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ChannelBuffers } from '../core/threads.js';
import type { BufferShape, RawBuffers } from './buffers.js';
import type { VecSliceSnapshot } from './slice.js';

export const CMD_RESET = 1;
export const CMD_STEP = 2;
export const CMD_CLOSE = 3;
export const CMD_SNAPSHOT = 4;
export const CMD_RESTORE = 5;

export interface WorkerErrorReport {
  envIndex: number;
  message: string;
  stack: string;
}

export interface WorkerInit {
  index: number;
  envId: string;
  options: Record<string, unknown>;
  offset: number;
  count: number;
  shape: BufferShape;
  raw: RawBuffers;
  channel: ChannelBuffers;
  /** Float64 per worker: the command's argument. */
  args: SharedArrayBuffer;
  /** The worker's end of its snapshot channel (transferred). */
  port: MessagePort;
  /** Modules to import before resolving the env id (the family's own first). */
  setupModules: string[];
  /** How long an idle worker polls for the next command before sleeping (µs). */
  spinMicros: number;
}

/** What a worker posts on its port for SNAPSHOT. */
export interface SnapshotMail {
  seq: number;
  part: VecSliceSnapshot;
}

/** What the main thread posts on a worker's port before RESTORE. */
export interface RestoreMail {
  mail: number;
  part: VecSliceSnapshot;
}

/** Messages a worker posts on parentPort (only at start-up; steps use shared memory). */
export type WorkerMessage = { type: 'ready' } | { type: 'failed'; message: string; stack: string };
