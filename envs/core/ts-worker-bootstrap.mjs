// Worker bootstrap for running the TypeScript sources (tsx, vitest): Node 20 cannot start a worker
// from a .ts file, so register tsx inside the worker, then import the real entry (docs/decisions.md#platform).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
