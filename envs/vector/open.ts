/**
 * The one place a vector env is chosen from an id: `remote:…` ids (and explicit server URLs) give a
 * RemoteVectorEnv, `workers > 0` a WorkerVectorEnv, anything else a SyncVectorEnv. All three give
 * the same batches for the same id, options and seed.
 */
import type { EnvOptions } from '../core/registry.js';
import { parseRemoteId, RemoteVectorEnv } from './remote.js';
import { SyncVectorEnv } from './sync.js';
import type { VectorEnv } from './vector-env.js';
import { WorkerVectorEnv } from './workers.js';

export interface OpenVectorEnvOptions {
  options?: EnvOptions;
  /** Worker threads for a local env (0 = in this thread). */
  workers?: number;
  /** Env servers to step the envs on (for a local id; a `remote:` id carries its own). */
  servers?: readonly string[];
  /** For env servers that require one (default $QUEUE_RL_API_KEY). */
  apiKey?: string | null;
}

export async function openVectorEnv(id: string, numEnvs: number, opts: OpenVectorEnvOptions = {}): Promise<VectorEnv> {
  const options = opts.options ?? {};
  const remote =
    parseRemoteId(id) ?? (opts.servers && opts.servers.length > 0 ? { envId: id, urls: [...opts.servers] } : null);
  if (remote) {
    return RemoteVectorEnv.create(numEnvs, {
      urls: remote.urls,
      envId: remote.envId,
      options,
      apiKey: opts.apiKey ?? process.env.QUEUE_RL_API_KEY ?? null,
    });
  }
  const workers = opts.workers ?? 0;
  return workers > 0
    ? WorkerVectorEnv.create(id, numEnvs, { workers, envOptions: options })
    : new SyncVectorEnv(id, numEnvs, options);
}
