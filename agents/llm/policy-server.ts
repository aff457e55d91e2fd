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
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { parseObservationBlock } from './observation-block.js';
import { PolicyInputError, ppoServedPolicy } from './served-policies.js';
import type { ServedPolicy } from './served-policies.js';

export interface PolicyServerOptions {
  policy: ServedPolicy;
  /** The model id clients must ask for. */
  modelName: string;
  host?: string;
  /** 0 = any free port (see `port` of the result). */
  port?: number;
  maxBodyBytes?: number;
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
  z.object({ type: z.literal('json_schema'), json_schema: z.object({ name: z.string(), schema: z.record(z.string(), z.unknown()).optional(), strict: z.boolean().nullish(), description: z.string().optional() }) }),
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

const LoadWeightsSchema = z.object({ checkpoint: z.string().min(1) });

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
  return new HttpError(400, `Invalid ${param ? `'${param}'` : 'request body'}: ${issue?.message ?? 'is invalid'}`, param, param ? 'invalid_value' : 'invalid_request');
}

const OBSERVATION_HELP =
  'the last user message holds no observation block. The policy server answers only queue-rl prompts: the last user message must end with ' +
  '<queue-rl-observation>{"format":"queue-rl/observation","version":1,"env":…,"features":…,"mask":…,"nvec":…}</queue-rl-observation> ' +
  '(built by agents/llm/prompts.ts buildGovPrompt / buildHelixPrompt; see agents/llm/observation-block.ts)';

// ---- helpers ---------------------------------------------------------------------------------

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, err: HttpError): void {
  sendJson(res, err.status, { error: { message: err.message, type: err.type, param: err.param, code: err.code } }, err.headers);
}

/** The body, or a 413 once it passes `limit` bytes (the rest is read and dropped so the client gets the answer). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = (): HttpError => new HttpError(413, `request body is larger than ${limit} bytes`, null, 'request_too_large', 'invalid_request_error', { connection: 'close' });
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    let ended = false;
    req.on('end', () => {
      ended = true;
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!over) reject(err);
    });
    req.on('close', () => {
      if (!ended && !over) reject(new Error('the client closed the connection before sending the whole body'));
    });
  });
}

function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`, null, 'invalid_json');
  }
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

// ---- the server ------------------------------------------------------------------------------

export async function startPolicyServer(options: PolicyServerOptions): Promise<PolicyServer> {
  const { modelName, host = '127.0.0.1', port: wantedPort = 0, maxBodyBytes = 1_000_000 } = options;
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
    if (next.env !== env) throw new Error(`setPolicy: this server serves ${env}; the new policy '${next.name}' is for ${next.env}`);
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
    if (body.stream === true) throw new HttpError(400, 'streaming is not supported: send stream: false (or leave it out)', 'stream', 'unsupported_value');
    if (body.model !== modelName) throw new HttpError(404, `The model '${body.model}' does not exist; this server serves '${modelName}'`, 'model', 'model_not_found');
    if (body.top_logprobs !== null && body.top_logprobs !== undefined && body.logprobs !== true) {
      throw new HttpError(400, "Invalid 'top_logprobs': needs logprobs: true", 'top_logprobs', 'invalid_value');
    }
    let lastUser = -1;
    body.messages.forEach((m, i) => {
      if (m.role === 'user') lastUser = i;
    });
    if (lastUser < 0) throw new HttpError(400, `no user message: ${OBSERVATION_HELP}`, 'messages', 'missing_observation');
    let block;
    try {
      block = parseObservationBlock(messageText(body.messages[lastUser]?.content));
    } catch (err) {
      throw new HttpError(400, (err as Error).message, `messages.${lastUser}.content`, 'invalid_observation');
    }
    if (!block) throw new HttpError(400, OBSERVATION_HELP, `messages.${lastUser}.content`, 'missing_observation');
    const n = body.n ?? 1;
    const temperature = body.temperature ?? 1;
    const answering = policy; // one policy for the whole request, whatever happens next
    const answeringVersion = version;
    let answers;
    try {
      answers = answering.choose(block, { n, temperature, seed: body.seed ?? null });
    } catch (err) {
      if (err instanceof PolicyInputError) throw new HttpError(400, err.message, `messages.${lastUser}.content`, 'invalid_observation');
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
        logprobs: body.logprobs === true ? { content: [{ token: content, logprob: a.logprob ?? 0, bytes: null, top_logprobs: [] }], refusal: null } : null,
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
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    };
  };

  const loadWeights = (raw: unknown): unknown => {
    if (!fromCheckpoint) throw new HttpError(400, `this server serves '${options.policy.name}', not a PPO checkpoint: /v1/load_weights needs a server started from a checkpoint`, null, 'unsupported');
    const parsed = LoadWeightsSchema.safeParse(raw);
    if (!parsed.success) throw invalidField(parsed.error);
    let next: ServedPolicy;
    try {
      next = ppoServedPolicy(parsed.data.checkpoint);
    } catch (err) {
      throw new HttpError(400, `cannot load checkpoint '${parsed.data.checkpoint}': ${(err as Error).message}`, 'checkpoint', 'invalid_checkpoint');
    }
    const current = policy.nvec;
    const mismatch = next.env !== env ? `it is a ${next.env} policy, this server serves ${env}` : current && next.nvec && next.nvec.join(',') !== current.join(',') ? `its action sizes [${next.nvec.join(', ')}] differ from the served policy's [${current.join(', ')}]` : null;
    if (mismatch) {
      next.close?.();
      throw new HttpError(400, `checkpoint '${parsed.data.checkpoint}' cannot replace the served policy: ${mismatch}`, 'checkpoint', 'invalid_checkpoint');
    }
    owned.add(next);
    return { version: swap(next), checkpoint: next.checkpoint ?? null };
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
      const modelMatch = /^\/v1\/models\/(.+)$/.exec(path);
      if (modelMatch) {
        if (method !== 'GET') throw new HttpError(405, `${method} is not allowed on ${path} (use GET)`, null, 'method_not_allowed', 'invalid_request_error', { allow: 'GET' });
        const id = decodeURIComponent(modelMatch[1] as string);
        if (id !== modelName) throw new HttpError(404, `The model '${id}' does not exist; this server serves '${modelName}'`, 'model', 'model_not_found');
        sendJson(res, 200, modelObject);
        return;
      }
      const route = routes.get(path);
      if (!route) throw new HttpError(404, `Invalid URL (${method} ${path}): this server has GET /v1/models, POST /v1/chat/completions, POST /v1/load_weights`, null, 'not_found');
      const handler = route[method];
      if (!handler) {
        const allow = Object.keys(route).join(', ');
        throw new HttpError(405, `${method} is not allowed on ${path} (use ${allow})`, null, 'method_not_allowed', 'invalid_request_error', { allow });
      }
      sendJson(res, 200, await handler(req));
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(res, err instanceof HttpError ? err : new HttpError(500, `the policy server failed: ${(err as Error).message}`, null, null, 'server_error'));
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res);
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
