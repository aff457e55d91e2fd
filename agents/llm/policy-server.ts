/**
 * An OpenAI-compatible chat-completions server backed by a local policy (served-policies.ts): the
 * LLM inference client, evaluation and a GRPO learner can talk to a PPO checkpoint or a baseline
 * agent exactly as they talk to a hosted model or vLLM. The policy reads the machine-readable
 * observation block (`<queue-rl-observation>…</queue-rl-observation>`, observation-block.ts) at the
 * end of the last user message and answers with the action as compact JSON.
 *
 * Endpoints (node:http, JSON only, no streaming):
 *   GET  /v1/models, /v1/models/{id}   the one model this server serves
 *   POST /v1/chat/completions          n answers; logprobs on request
 *   POST /v1/load_weights              {"checkpoint": dir}: swap in another PPO checkpoint of the same
 *                                      env at run time. It plays the role vLLM's
 *                                      /v1/load_lora_adapter plays for a GRPO learner: the learner
 *                                      saves a checkpoint, tells the server, and the next request is
 *                                      answered by the new weights (atomic: a request is answered
 *                                      wholly by the old or wholly by the new policy). Only for
 *                                      servers started from a checkpoint (400 otherwise).
 *
 * Request fields (zod; unknown fields are ignored): model, messages [{role, content: string |
 * [{type:'text', text}, …]}], n (1–128, default 1), temperature (0–2, default 1 as OpenAI),
 * seed, max_tokens / max_completion_tokens (validated, not enforced: an action is never cut short),
 * logprobs, top_logprobs (0–20, needs logprobs), response_format ({type: 'text' | 'json_object' |
 * 'json_schema', …}; every answer is JSON of the prompt's action format, so each is satisfied; the
 * schema is not checked), stream (false only).
 *
 * The answer follows OpenAI's chat.completion object:
 *   system_fingerprint  'queue-rl-policy-v<version>' (the version starts at 1 and goes up by one on
 *                       every weight swap, so a learner can tell which weights answered)
 *   choices[i]          message.content = the answer as compact JSON; finish_reason 'stop';
 *                       logprobs (only when requested, else null) = {content: [{token: <the whole
 *                       content>, logprob, bytes: null, top_logprobs: []}]}: the answer is treated as
 *                       one token whose log-probability is the policy's log-probability of the
 *                       action (served-policies.ts: under softmax(logits / T) when sampled, under the
 *                       policy when temperature is 0). Deterministic rule agents have no distribution
 *                       (their logprob is null): reported as 0, i.e. probability 1. Alternatives
 *                       (top_logprobs) are not reported.
 *   usage               an estimate, not a tokenizer: prompt_tokens = ⌈characters of all message
 *                       texts / 4⌉, completion_tokens = Σ over choices ⌈characters of the content / 4⌉.
 *
 * Errors use OpenAI's shape {error: {message, type, param, code}}: 400 invalid_request_error (bad
 * JSON, a failed field — `param` names it —, no observation block, a block that does not fit the
 * policy, stream: true), 404 model_not_found (another model) or an unknown path, 405 a known path with
 * another method, 413 a body over maxBodyBytes, 500 server_error.
 *
 * Requests are served concurrently; the policy call itself is synchronous (microseconds to a
 * millisecond). `requests` counts every HTTP request received.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { realpathSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { parseObservationBlock } from './observation-block.js';
import { CheckpointError } from '../policy/checkpoint.js';
import { PolicyInputError, ppoServedPolicy } from './served-policies.js';
import type { ServedPolicy } from './served-policies.js';

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

/** Upper bound of maxBodyBytes (docs/limits.md). */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Whether a listen address is loopback-only (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
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

// ---- request schemas -------------------------------------------------------------------------

const ContentPartSchema = z.object({ type: z.string(), text: z.string().optional() });

const MessageSchema = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(ContentPartSchema), z.null()]).optional(),
});

const ResponseFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullish(),
      description: z.string().optional(),
    }),
  }),
]);

export const ChatCompletionRequestSchema = z.object({
  model: z.string().min(1),
  messages: z.array(MessageSchema).min(1),
  n: z.number().int().min(1).max(128).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  seed: z.number().int().nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  response_format: ResponseFormatSchema.nullish(),
  stream: z.boolean().nullish(),
});

export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;

const LoadWeightsSchema = z.object({ checkpoint: z.string().min(1).max(4096) });

// ---- errors ----------------------------------------------------------------------------------

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type: string = status >= 500 ? 'server_error' : 'invalid_request_error',
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function invalidField(error: z.ZodError): HttpError {
  const issue = error.issues[0];
  const param = issue && issue.path.length > 0 ? issue.path.join('.') : null;
  return new HttpError(
    400,
    `Invalid ${param ? `'${param}'` : 'request body'}: ${issue?.message ?? 'is invalid'}`,
    param,
    param ? 'invalid_value' : 'invalid_request',
  );
}

const OBSERVATION_HELP =
  'the last user message holds no observation block. The policy server answers only queue-rl prompts: the last user message must end with ' +
  '<queue-rl-observation>{"format":"queue-rl/observation","version":1,"env":…,"features":…,"mask":…,"nvec":…}</queue-rl-observation> ' +
  '(built by agents/llm/prompts.ts buildGovPrompt / buildHelixPrompt; see agents/llm/observation-block.ts)';

// ---- helpers ---------------------------------------------------------------------------------

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

function sendError(res: ServerResponse, err: HttpError): void {
  sendJson(
    res,
    err.status,
    { error: { message: err.message, type: err.type, param: err.param, code: err.code } },
    err.headers,
  );
}

/**
 * The body, or a 413 once it passes `limit` bytes. A client that writes its whole body before reading
 * would get EPIPE if the server closed on it mid-body, so an oversized body is read and dropped to
 * its end (up to DRAIN_BYTES more) before the 413 goes out.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = (): HttpError =>
      new HttpError(
        413,
        `request body is larger than ${limit} bytes`,
        null,
        'request_too_large',
        'invalid_request_error',
        { connection: 'close' },
      );
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit + DRAIN_BYTES) {
      reject(tooLarge()); // too much to drain: answer at once (the connection closes)
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    let settled = false;
    const settle = (f: () => void): void => {
      if (!settled) {
        settled = true;
        f();
      }
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (over) {
        if (size > limit + DRAIN_BYTES) settle(() => reject(tooLarge()));
        return;
      }
      if (size > limit) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => settle(() => (over ? reject(tooLarge()) : resolve(Buffer.concat(chunks)))));
    req.on('error', (err) => settle(() => reject(err)));
    req.on('close', () =>
      settle(() => reject(new Error('the client closed the connection before sending the whole body'))),
    );
  });
}

/** How much of an oversized body is read and dropped so that its sender can read the 413. */
const DRAIN_BYTES = 64 * 1024 * 1024;

function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body is not valid JSON', null, 'invalid_json');
  }
}

/** Constant-time comparison of a presented key with the server's (both hashed first, so lengths leak nothing). */
function keyMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The Bearer token of a request, or null. */
function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? (m[1] as string) : null;
}

/** The answer to a request Node's HTTP parser refused (bad method, request line or headers), in the OpenAI error shape. */
function clientErrorResponse(err: NodeJS.ErrnoException): string {
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const reason = status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
  const body = JSON.stringify({
    error: {
      message: `the request could not be parsed as HTTP/1.1 (${err.code ?? 'parse error'})`,
      type: 'invalid_request_error',
      param: null,
      code: 'bad_request',
    },
  });
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

function messageText(content: z.infer<typeof MessageSchema>['content']): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.map((p) => p.text ?? '').join('\n');
}

/** The usage estimate (see the file comment). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
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
function policyMismatch(current: ServedPolicy, next: ServedPolicy, env: string): string | null {
  if (next.env !== env) return `it is a ${next.env} policy, this server serves ${env}`;
  if (current.nvec && next.nvec && next.nvec.join(',') !== current.nvec.join(','))
    return `its action sizes [${next.nvec.join(', ')}] differ from the served policy's [${current.nvec.join(', ')}]`;
  if (
    current.observationSize !== undefined &&
    next.observationSize !== undefined &&
    current.observationSize !== next.observationSize
  ) {
    return `it reads ${next.observationSize} features, the served policy ${current.observationSize}`;
  }
  return null;
}

// ---- the server ------------------------------------------------------------------------------

export async function startPolicyServer(options: PolicyServerOptions): Promise<PolicyServer> {
  const {
    modelName,
    host = '127.0.0.1',
    port: wantedPort = 0,
    maxBodyBytes = 1_000_000,
    apiKey = null,
    loadWeights: loadWeightsOption = null,
  } = options;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1 || maxBodyBytes > MAX_BODY_BYTES)
    throw new RangeError(`maxBodyBytes must be an integer in 1…${MAX_BODY_BYTES} (got ${maxBodyBytes})`);
  if (apiKey !== null && apiKey.length === 0)
    throw new RangeError('apiKey must not be empty (leave it out to serve without a key)');
  if (!isLoopbackHost(host) && apiKey === null && options.allowUnauthenticatedRemote !== true) {
    throw new Error(
      `refusing to listen on ${host} without an API key: anyone who reaches it could use the policy; set an API key, or allow unauthenticated remote access explicitly`,
    );
  }
  const weightsRoot = loadWeightsOption ? resolveCheckpointRoot(loadWeightsOption.root) : null;
  let policy = options.policy;
  const env = policy.env;
  const fromCheckpoint = policy.checkpoint !== undefined;
  /** Policies this server loaded itself (closed when replaced and on close()). */
  const owned = new Set<ServedPolicy>();
  let version = 1;
  let requests = 0;
  const created = Math.floor(Date.now() / 1000);
  const modelObject = { id: modelName, object: 'model', created, owned_by: 'queue-rl' };

  const swap = (next: ServedPolicy): number => {
    if (next.env !== env)
      throw new Error(`setPolicy: this server serves ${env}; the new policy '${next.name}' is for ${next.env}`);
    const previous = policy;
    policy = next;
    version += 1;
    if (previous !== next && owned.delete(previous)) previous.close?.();
    return version;
  };

  const chatCompletion = (raw: unknown): unknown => {
    const parsed = ChatCompletionRequestSchema.safeParse(raw);
    if (!parsed.success) throw invalidField(parsed.error);
    const body = parsed.data;
    if (body.stream === true)
      throw new HttpError(
        400,
        'streaming is not supported: send stream: false (or leave it out)',
        'stream',
        'unsupported_value',
      );
    if (body.model !== modelName)
      throw new HttpError(
        404,
        `The model '${body.model}' does not exist; this server serves '${modelName}'`,
        'model',
        'model_not_found',
      );
    if (body.top_logprobs !== null && body.top_logprobs !== undefined && body.logprobs !== true) {
      throw new HttpError(400, "Invalid 'top_logprobs': needs logprobs: true", 'top_logprobs', 'invalid_value');
    }
    let lastUser = -1;
    body.messages.forEach((m, i) => {
      if (m.role === 'user') lastUser = i;
    });
    if (lastUser < 0)
      throw new HttpError(400, `no user message: ${OBSERVATION_HELP}`, 'messages', 'missing_observation');
    let block;
    try {
      block = parseObservationBlock(messageText(body.messages[lastUser]?.content));
    } catch (err) {
      throw new HttpError(400, (err as Error).message, `messages.${lastUser}.content`, 'invalid_observation');
    }
    if (!block) throw new HttpError(400, OBSERVATION_HELP, `messages.${lastUser}.content`, 'missing_observation');
    const n = body.n ?? 1;
    const temperature = body.temperature ?? 1; // below GREEDY_TEMPERATURE the policy answers greedily
    const answering = policy; // one policy for the whole request, whatever happens next
    const answeringVersion = version;
    let answers;
    try {
      answers = answering.choose(block, { n, temperature, seed: body.seed ?? null });
    } catch (err) {
      if (err instanceof PolicyInputError)
        throw new HttpError(400, err.message, `messages.${lastUser}.content`, 'invalid_observation');
      throw err;
    }
    const promptTokens = estimateTokens(body.messages.map((m) => messageText(m.content)).join(''));
    let completionTokens = 0;
    const choices = answers.map((a, index) => {
      const content = JSON.stringify(a.answer);
      completionTokens += estimateTokens(content);
      return {
        index,
        message: { role: 'assistant', content, refusal: null },
        logprobs:
          body.logprobs === true
            ? { content: [{ token: content, logprob: a.logprob ?? 0, bytes: null, top_logprobs: [] }], refusal: null }
            : null,
        finish_reason: 'stop',
      };
    });
    return {
      id: `chatcmpl-${randomBytes(12).toString('hex')}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: modelName,
      system_fingerprint: `queue-rl-policy-v${answeringVersion}`,
      choices,
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    };
  };

  const loadWeights = (raw: unknown): unknown => {
    if (weightsRoot === null)
      throw new HttpError(
        403,
        'POST /v1/load_weights is disabled on this server; start serve-policy with --allow-load-weights <dir> to allow swaps to checkpoints under that directory',
        null,
        'load_weights_disabled',
        'permission_error',
      );
    if (!fromCheckpoint)
      throw new HttpError(
        400,
        `this server serves '${options.policy.name}', not a PPO checkpoint: /v1/load_weights needs a server started from a checkpoint`,
        null,
        'unsupported',
      );
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
    const mismatch = policyMismatch(policy, next, env);
    if (mismatch) {
      next.close?.();
      throw new HttpError(
        400,
        `checkpoint '${given}' cannot replace the served policy: ${mismatch}`,
        'checkpoint',
        'invalid_checkpoint',
      );
    }
    owned.add(next);
    return { version: swap(next), checkpoint: next.checkpoint ? relativeToRoot(weightsRoot, next.checkpoint) : null };
  };

  type Handler = (req: IncomingMessage) => Promise<unknown> | unknown;
  const routes = new Map<string, Partial<Record<string, Handler>>>([
    ['/v1/models', { GET: () => ({ object: 'list', data: [modelObject] }) }],
    ['/v1/chat/completions', { POST: async (req) => chatCompletion(parseJsonBody(await readBody(req, maxBodyBytes))) }],
    ['/v1/load_weights', { POST: async (req) => loadWeights(parseJsonBody(await readBody(req, maxBodyBytes))) }],
  ]);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    requests += 1;
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] as string;
    try {
      if (apiKey !== null) {
        const token = bearerToken(req);
        if (token === null || !keyMatches(token, apiKey)) {
          req.resume(); // drop any body: the answer does not depend on it
          throw new HttpError(
            401,
            token === null ? 'missing API key: send Authorization: Bearer <key>' : 'incorrect API key provided',
            null,
            'invalid_api_key',
            'invalid_request_error',
            { 'www-authenticate': 'Bearer' },
          );
        }
      }
      const modelMatch = /^\/v1\/models\/(.+)$/.exec(path);
      if (modelMatch) {
        if (method !== 'GET')
          throw new HttpError(
            405,
            `${method} is not allowed on ${path} (use GET)`,
            null,
            'method_not_allowed',
            'invalid_request_error',
            { allow: 'GET' },
          );
        let id: string;
        try {
          id = decodeURIComponent(modelMatch[1] as string);
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
        sendJson(res, 200, modelObject);
        return;
      }
      const route = routes.get(path);
      if (!route)
        throw new HttpError(
          404,
          `Invalid URL (${method} ${path}): this server has GET /v1/models, POST /v1/chat/completions, POST /v1/load_weights`,
          null,
          'not_found',
        );
      const handler = route[method];
      if (!handler) {
        const allow = Object.keys(route).join(', ');
        throw new HttpError(
          405,
          `${method} is not allowed on ${path} (use ${allow})`,
          null,
          'method_not_allowed',
          'invalid_request_error',
          { allow },
        );
      }
      sendJson(res, 200, await handler(req));
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(
        res,
        err instanceof HttpError
          ? err
          : new HttpError(500, `the policy server failed: ${(err as Error).message}`, null, null, 'server_error'),
      );
    }
  };

  const server = createServer({ requestTimeout: 60_000, headersTimeout: 30_000 }, (req, res) => {
    void handle(req, res);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(clientErrorResponse(err));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(wantedPort, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | null = null;

  return {
    url: `http://${urlHost}:${port}/v1`,
    port,
    get version() {
      return version;
    },
    get requests() {
      return requests;
    },
    get policy() {
      return policy;
    },
    setPolicy: swap,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => {
          for (const p of owned) p.close?.();
          owned.clear();
          if (err) reject(err);
          else resolve();
        });
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
