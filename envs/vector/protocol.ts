/**
 * The main-thread ⇄ worker protocol of WorkerVectorEnv, on a shared Int32Array control block.
 * Worker w owns 16 ints (one cache line) at w·16:
 *   SEQ   bumped by the main thread to issue a command (the worker waits on it)
 *   CMD   RESET | STEP | CLOSE | SNAPSHOT | RESTORE
 *   DONE  the SEQ the worker finished (the main thread waits on it)
 *   STATUS 0 ok, 1 the command failed (the error is JSON in the worker's slot of the error buffer)
 *   ERROR_BYTES length of that JSON
 * After the workers' lines, one more line holds FINISHED: every worker adds 1 to it when it completes
 * a command, and the one that brings it to W × (command number) wakes the main thread — one wake-up
 * per vector step instead of one per worker.
 * Command arguments (the reset seed, the restore mail id) travel in a shared Float64Array, one slot
 * per worker.
 *
 * Snapshots are the one thing that does not fit in fixed shared buffers; they travel on a
 * MessagePort per worker (`WorkerInit.port`, transferred at creation), read synchronously with
 * receiveMessageOnPort on both sides, so neither side's event loop is involved and steps never
 * touch the port:
 *   SNAPSHOT  the worker posts { seq, part } (its slice's VecSliceSnapshot) on its port, then
 *             signals DONE; after the barrier the main thread takes the message with that seq.
 *   RESTORE   the main thread posts { mail, part } on the port, then issues RESTORE with `mail` as
 *             the argument; the worker takes the message with that mail id and restores its slice.
 * postMessage enqueues on the receiving port before it returns, and the command / DONE stores
 * come after it, so the message is always there when the other side looks. The ids let either side
 * skip a message left over from a call that failed half-way.
 */

export const CTRL_STRIDE = 16;
export const SEQ = 0;
export const CMD = 1;
export const DONE = 2;
export const STATUS = 3;
export const ERROR_BYTES = 4;

/** Index of the FINISHED counter in a control block for `workers` workers. */
export function finishedIndex(workers: number): number {
  return workers * CTRL_STRIDE;
}

/** Ints in a control block for `workers` workers. */
export function controlLength(workers: number): number {
  return (workers + 1) * CTRL_STRIDE;
}

export const CMD_RESET = 1;
export const CMD_STEP = 2;
export const CMD_CLOSE = 3;
export const CMD_SNAPSHOT = 4;
export const CMD_RESTORE = 5;

export const STATUS_OK = 0;
export const STATUS_ERROR = 1;

/** Bytes of error text each worker may report. */
export const ERROR_CAPACITY = 16384;

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
  shape: import('./buffers.js').BufferShape;
  raw: import('./buffers.js').RawBuffers;
  control: SharedArrayBuffer;
  args: SharedArrayBuffer;
  errors: SharedArrayBuffer;
  /** The worker's end of its snapshot channel (transferred). */
  port: import('node:worker_threads').MessagePort;
  setupModules: string[];
  numWorkers: number;
  /** How long an idle worker polls for the next command before sleeping (µs). */
  spinMicros: number;
  /** Module URL the TS bootstrap imports (unused when running compiled JS). */
  entry?: string;
}

/** What a worker posts on its port for SNAPSHOT. */
export interface SnapshotMail {
  seq: number;
  part: import('./slice.js').VecSliceSnapshot;
}

/** What the main thread posts on a worker's port before RESTORE. */
export interface RestoreMail {
  mail: number;
  part: import('./slice.js').VecSliceSnapshot;
}

/** Messages a worker posts on parentPort (only at start-up; steps use shared memory). */
export type WorkerMessage = { type: 'ready' } | { type: 'failed'; message: string; stack: string };
