/**
 * An OpenAI-compatible chat-completions server backed by a local policy (served-policies.ts): it
 * reads the observation block at the end of the last user message and answers with the action as
 * compact JSON. The API, the answers and the security model: docs/policy-server.md. The HTTP stance
 * (loopback, key, body limits, parser errors) is envs/core/http.ts's.
 */
import { realpathSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { relative } from 'node:path';
import { z } from 'zod';
import {
  HttpError,
  MAX_BODY_BYTES,
  readJsonBody,
  requireKey,
  sendJson,
  startHttpServer,
} from '../../envs/core/http.js';
import { CheckpointError } from '../policy/checkpoint.js';
import { answerChatCompletion, invalidField } from './chat-completion.js';
import type { ServedPolicy } from './served-policies.js';
import { PolicyInputError, ppoServedPolicy } from './served-policies.js';

export { isLoopbackHost, MAX_BODY_BYTES } from '../../envs/core/http.js';
export type { ChatCompletionRequest } from './chat-completion.js';
export { ChatCompletionRequestSchema, estimateTokens } from './chat-completion.js';

export interface PolicyServerOptions {
  policy: ServedPolicy;
  /** The model id clients must ask for. */
  modelName: string;
  /** Default 127.0.0.1. Another address needs `apiKey` or `allowUnauthenticatedRemote`. */
  host?: string;
  /** 0 = any free port (see `port` of the result). */
  port?: number;
  /** Largest request body, 1…MAX_BODY_BYTES (default 1,000,000). */
  maxBodyBytes?: number;
  /** When set, every request must carry `Authorization: Bearer <apiKey>` (compared in constant time). */
  apiKey?: string | null;
  /** POST /v1/load_weights: off unless given; then only checkpoints whose real path lies under `root`. */
  loadWeights?: { root: string } | null;
  /** Listen on a non-loopback address without an API key (refused otherwise). */
  allowUnauthenticatedRemote?: boolean;
}

export interface PolicyServer {
  /** http://HOST:PORT/v1, the OpenAI client's baseURL. */
  readonly url: string;
  readonly port: number;
  /** Starts at 1; +1 on every setPolicy() or /v1/load_weights. */
  readonly version: number;
  /** HTTP requests received so far (every endpoint, errors included). */
  readonly requests: number;
  /** The policy answering now. */
  readonly policy: ServedPolicy;
  /**
   * Swaps the policy (same env) for the next requests; returns the new version. The server does not
   * close policies given to it (the caller owns them); it closes those it loaded through
   * /v1/load_weights when they are replaced and on close().
   */
  setPolicy(policy: ServedPolicy): number;
  /** Stops listening and ends every connection, keep-alive ones included. */
  close(): Promise<void>;
}

const LoadWeightsSchema = z.object({ checkpoint: z.string().min(1).max(4096) });

/** The served policy, its version and the policies the server loaded itself (closed when replaced). */
class ServedState {
  version = 1;
  requests = 0;
  private readonly owned = new Set<ServedPolicy>();

  constructor(public policy: ServedPolicy) {}

  swap(next: ServedPolicy, owned = false): number {
    if (next.env !== this.policy.env)
      throw new Error(
        `setPolicy: this server serves ${this.policy.env}; the new policy '${next.name}' is for ${next.env}`,
      );
    if (owned) this.owned.add(next);
    const previous = this.policy;
    this.policy = next;
    this.version += 1;
    if (previous !== next && this.owned.delete(previous)) previous.close?.();
    return this.version;
  }

  closeOwned(): void {
    for (const p of this.owned) p.close?.();
    this.owned.clear();
  }
}

export async function startPolicyServer(options: PolicyServerOptions): Promise<PolicyServer> {
  const { modelName, maxBodyBytes = 1_000_000, apiKey = null } = options;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1 || maxBodyBytes > MAX_BODY_BYTES)
    throw new RangeError(`maxBodyBytes must be an integer in 1…${MAX_BODY_BYTES} (got ${maxBodyBytes})`);
  const weightsRoot = options.loadWeights ? resolveCheckpointRoot(options.loadWeights.root) : null;
  const state = new ServedState(options.policy);
  const modelObject = { id: modelName, object: 'model', created: Math.floor(Date.now() / 1000), owned_by: 'queue-rl' };
  type Handler = (req: IncomingMessage) => Promise<unknown> | unknown;
  const routes = new Map<string, Partial<Record<string, Handler>>>([
    ['/v1/models', { GET: () => ({ object: 'list', data: [modelObject] }) }],
    [
      '/v1/chat/completions',
      {
        POST: async (req) =>
          answerChatCompletion(await readJsonBody(req, maxBodyBytes), state.policy, state.version, modelName),
      },
    ],
    [
      '/v1/load_weights',
      { POST: async (req) => loadWeights(await readJsonBody(req, maxBodyBytes), state, weightsRoot, options.policy) },
    ],
  ]);
  const http = await startHttpServer({
    ...options,
    serves: 'the policy',
    async handle(req, res) {
      state.requests += 1;
      requireKey(req, apiKey);
      const method = req.method ?? 'GET';
      const path = (req.url ?? '/').split('?')[0] as string;
      const model = /^\/v1\/models\/(.+)$/.exec(path);
      if (model) return sendJson(res, 200, modelById(method, path, model[1] as string, modelName, modelObject));
      const route = routes.get(path);
      if (!route)
        throw new HttpError(
          404,
          `Invalid URL (${method} ${path}): this server has GET /v1/models, POST /v1/chat/completions, POST ` +
            `/v1/load_weights`,
          null,
          'not_found',
        );
      const handler = route[method];
      if (!handler) throw methodNotAllowed(method, path, Object.keys(route).join(', '));
      sendJson(res, 200, await handler(req));
    },
  });
  return {
    url: `${http.origin}/v1`,
    port: http.port,
    get version() {
      return state.version;
    },
    get requests() {
      return state.requests;
    },
    get policy() {
      return state.policy;
    },
    setPolicy: (policy) => state.swap(policy),
    close: () => http.close().finally(() => state.closeOwned()),
  };
}

function methodNotAllowed(method: string, path: string, allow: string): HttpError {
  return new HttpError(
    405,
    `${method} is not allowed on ${path} (use ${allow})`,
    null,
    'method_not_allowed',
    'invalid_request_error',
    { allow },
  );
}

/** GET /v1/models/{id}. */
function modelById(method: string, path: string, encoded: string, modelName: string, modelObject: unknown): unknown {
  if (method !== 'GET') throw methodNotAllowed(method, path, 'GET');
  let id: string;
  try {
    id = decodeURIComponent(encoded);
  } catch {
    throw new HttpError(400, 'the model id in the URL is not valid percent-encoding', 'model', 'invalid_value');
  }
  if (id !== modelName)
    throw new HttpError(
      404,
      `The model '${id}' does not exist; this server serves '${modelName}'`,
      'model',
      'model_not_found',
    );
  return modelObject;
}

/** POST /v1/load_weights: a checkpoint under the root, validated, swapped in (never echoing files). */
function loadWeights(raw: unknown, state: ServedState, weightsRoot: string | null, started: ServedPolicy): unknown {
  if (weightsRoot === null) {
    const message =
      'POST /v1/load_weights is disabled on this server; start serve-policy with --allow-load-weights <dir> to allow ' +
      'swaps to checkpoints under that directory';
    throw new HttpError(403, message, null, 'load_weights_disabled', 'permission_error');
  }
  if (started.checkpoint === undefined) {
    throw new HttpError(
      400,
      `this server serves '${started.name}', not a PPO checkpoint: /v1/load_weights needs a server started from a ` +
        `checkpoint`,
      null,
      'unsupported',
    );
  }
  const parsed = LoadWeightsSchema.safeParse(raw);
  if (!parsed.success) throw invalidField(parsed.error);
  const given = parsed.data.checkpoint;
  let next: ServedPolicy;
  try {
    next = ppoServedPolicy(given, undefined, { confineTo: weightsRoot });
  } catch (err) {
    // Only our own descriptions go back: never file contents, never paths outside the root.
    const why =
      err instanceof CheckpointError
        ? `${relativeToRoot(weightsRoot, err.file)}: ${err.problem}`
        : err instanceof PolicyInputError
          ? err.message
          : 'not a loadable queue-rl policy checkpoint';
    throw new HttpError(400, `cannot load checkpoint '${given}': ${why}`, 'checkpoint', 'invalid_checkpoint');
  }
  const mismatch = policyMismatch(state.policy, next);
  if (mismatch) {
    next.close?.();
    throw new HttpError(
      400,
      `checkpoint '${given}' cannot replace the served policy: ${mismatch}`,
      'checkpoint',
      'invalid_checkpoint',
    );
  }
  return {
    version: state.swap(next, true),
    checkpoint: next.checkpoint ? relativeToRoot(weightsRoot, next.checkpoint) : null,
  };
}

/** The load_weights root as a real directory path (a clear error at start-up otherwise). */
function resolveCheckpointRoot(root: string): string {
  let real: string;
  try {
    real = realpathSync(root);
  } catch {
    throw new Error(`load_weights root '${root}' does not exist`);
  }
  if (!statSync(real).isDirectory()) throw new Error(`load_weights root '${root}' is not a directory`);
  return real;
}

function relativeToRoot(root: string, path: string): string {
  const rel = relative(root, path);
  return rel === '' ? '.' : rel.startsWith('..') ? '(outside the root)' : rel;
}

/** Why `next` cannot replace `current` (another env, action sizes or input size), or null. */
function policyMismatch(current: ServedPolicy, next: ServedPolicy): string | null {
  if (next.env !== current.env) return `it is a ${next.env} policy, this server serves ${current.env}`;
  if (current.nvec && next.nvec && next.nvec.join(',') !== current.nvec.join(','))
    return `its action sizes [${next.nvec.join(', ')}] differ from the served policy's [${current.nvec.join(', ')}]`;
  if (
    current.observationSize !== undefined &&
    next.observationSize !== undefined &&
    current.observationSize !== next.observationSize
  )
    return `it reads ${next.observationSize} features, the served policy ${current.observationSize}`;
  return null;
}
