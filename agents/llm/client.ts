/**
 * A chat-completions client for any OpenAI-compatible endpoint (vLLM, a hosted router, NVIDIA NIM,
 * OpenAI, queue-rl's own policy server), on the `openai` package:
 *   - retries with exponential backoff and jitter on 429, 5xx, timeouts and connection errors
 *     (honouring Retry-After), nothing else (a 400 is the caller's bug, a 401 a bad key);
 *   - a per-request timeout;
 *   - at most `concurrency` requests in flight (p-limit), shared by everything using the client;
 *   - structured output: 'auto' asks for a JSON-schema `response_format` and, when the endpoint
 *     rejects that with a 400, falls back to `json_object` and then to plain text (remembered for
 *     the client's lifetime); 'json_schema' | 'json_object' | 'text' force one;
 *   - usage accounting: requests, retries, failures, prompt/completion tokens.
 * Keys are never printed: errors carry the endpoint's message, never the request headers.
 */
import OpenAI from 'openai';
import pLimit from 'p-limit';
import { httpFetch } from './http-fetch.js';
import type { ChatMessage } from './prompts.js';

export const STRUCTURED_OUTPUT_MODES = ['auto', 'json_schema', 'json_object', 'text'] as const;
export type StructuredOutputMode = (typeof STRUCTURED_OUTPUT_MODES)[number];

export interface LlmClientOptions {
  baseURL: string;
  apiKey: string;
  model: string;
  /** Per request, ms (default 60 s). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 4). */
  maxRetries?: number;
  /** First backoff, ms (default 500), doubled per retry up to maxBackoffMs (default 8 s), ±25 % jitter. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Requests in flight at most (default 8). */
  concurrency?: number;
  structuredOutput?: StructuredOutputMode;
  /** Diagnostics (stderr by default); never receives keys. */
  log?: (line: string) => void;
}

export interface CompletionRequest {
  messages: ChatMessage[];
  temperature: number;
  maxTokens: number;
  n?: number;
  seed?: number;
  logprobs?: boolean;
  jsonSchema?: { name: string; schema: Record<string, unknown> };
}

export interface CompletionChoice {
  content: string;
  /** Sum of the returned token log-probabilities, when asked for and returned. */
  logprob: number | null;
}

export interface CompletionResult {
  choices: CompletionChoice[];
  promptTokens: number;
  completionTokens: number;
  attempts: number;
  latencyMs: number;
  /** The structured-output mode the request finally used. */
  mode: Exclude<StructuredOutputMode, 'auto'>;
}

export interface LlmUsage {
  requests: number;
  retries: number;
  failures: number;
  promptTokens: number;
  completionTokens: number;
}

export class LlmRequestError extends Error {
  override readonly name = 'LlmRequestError';
  constructor(
    message: string,
    readonly status: number | null,
    readonly attempts: number,
  ) {
    super(message);
  }
}

export class LlmClient {
  readonly model: string;
  readonly usage: LlmUsage = { requests: 0, retries: 0, failures: 0, promptTokens: 0, completionTokens: 0 };
  private readonly openai: OpenAI;
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly requestedMode: StructuredOutputMode;
  /** In 'auto': the mode to try now (json_schema, then json_object, then text when rejected). */
  private autoMode: Exclude<StructuredOutputMode, 'auto'> = 'json_schema';
  private readonly opts: Required<Omit<LlmClientOptions, 'apiKey' | 'baseURL' | 'model' | 'structuredOutput' | 'log'>>;
  private readonly log: (line: string) => void;

  constructor(options: LlmClientOptions) {
    this.model = options.model;
    this.openai = new OpenAI({
      baseURL: options.baseURL,
      apiKey: options.apiKey,
      maxRetries: 0,
      timeout: options.timeoutMs ?? 60_000,
      fetch: httpFetch,
    });
    this.limit = pLimit(options.concurrency ?? 8);
    this.requestedMode = options.structuredOutput ?? 'auto';
    this.opts = {
      timeoutMs: options.timeoutMs ?? 60_000,
      maxRetries: options.maxRetries ?? 4,
      backoffMs: options.backoffMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 8_000,
      concurrency: options.concurrency ?? 8,
    };
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /** The structured-output mode requests use now. */
  get structuredOutput(): Exclude<StructuredOutputMode, 'auto'> {
    return this.requestedMode === 'auto' ? this.autoMode : this.requestedMode;
  }

  complete(request: CompletionRequest): Promise<CompletionResult> {
    return this.limit(() => this.completeNow(request));
  }

  private async completeNow(request: CompletionRequest): Promise<CompletionResult> {
    const started = performance.now();
    let attempts = 0;
    for (;;) {
      attempts++;
      const mode = this.requestMode(request);
      try {
        this.usage.requests++;
        const response = await this.openai.chat.completions.create(
          {
            model: this.model,
            messages: request.messages,
            temperature: request.temperature,
            max_tokens: request.maxTokens,
            ...(request.n !== undefined && request.n !== 1 ? { n: request.n } : {}),
            ...(request.seed !== undefined ? { seed: request.seed } : {}),
            ...(request.logprobs ? { logprobs: true } : {}),
            ...(mode === 'json_schema' && request.jsonSchema
              ? {
                  response_format: {
                    type: 'json_schema' as const,
                    json_schema: { name: request.jsonSchema.name, schema: request.jsonSchema.schema, strict: false },
                  },
                }
              : mode === 'json_object'
                ? { response_format: { type: 'json_object' as const } }
                : {}),
          },
          { timeout: this.opts.timeoutMs },
        );
        const promptTokens = response.usage?.prompt_tokens ?? 0;
        const completionTokens = response.usage?.completion_tokens ?? 0;
        this.usage.promptTokens += promptTokens;
        this.usage.completionTokens += completionTokens;
        const choices = (response.choices ?? []).map((c) => ({
          content: c.message?.content ?? '',
          logprob: c.logprobs?.content ? c.logprobs.content.reduce((a, t) => a + t.logprob, 0) : null,
        }));
        return { choices, promptTokens, completionTokens, attempts, latencyMs: performance.now() - started, mode };
      } catch (err) {
        const status = err instanceof OpenAI.APIError && typeof err.status === 'number' ? err.status : null;
        // The endpoint does not do JSON-schema output: step down once, without counting a retry.
        if (
          status === 400 &&
          this.requestedMode === 'auto' &&
          mode !== 'text' &&
          /response_format|json_schema|json_object|structured/i.test(errorText(err))
        ) {
          this.autoMode = mode === 'json_schema' ? 'json_object' : 'text';
          this.log(
            `[llm] ${this.model}: the endpoint rejected response_format ${mode}; falling back to ` +
              `${mode === 'json_schema' ? 'json_object' : 'plain text'}`,
          );
          attempts--;
          continue;
        }
        const retryable =
          status === null
            ? isConnectionOrTimeout(err)
            : status === 408 || status === 409 || status === 429 || status >= 500;
        if (!retryable || attempts > this.opts.maxRetries) {
          this.usage.failures++;
          throw new LlmRequestError(
            `${this.model}: ${status !== null ? `HTTP ${status}: ` : ''}${errorText(err)}` +
              (attempts > 1 ? ` (after ${attempts} attempts)` : ''),
            status,
            attempts,
          );
        }
        this.usage.retries++;
        const wait = this.backoff(attempts, err);
        this.log(
          `[llm] ${this.model}: ${status !== null ? `HTTP ${status}` : errorText(err)}; retry ` +
            `${attempts}/${this.opts.maxRetries} in ${Math.round(wait)} ms`,
        );
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /** The mode to ask with (json_schema needs a schema: json_object without one). */
  private requestMode(request: CompletionRequest): Exclude<StructuredOutputMode, 'auto'> {
    const mode = this.structuredOutput;
    return mode === 'json_schema' && !request.jsonSchema ? 'json_object' : mode;
  }

  private backoff(attempt: number, err: unknown): number {
    const headers = err instanceof OpenAI.APIError ? err.headers : undefined;
    const retryAfter = headers
      ? Number(
          typeof (headers as Headers).get === 'function'
            ? (headers as Headers).get('retry-after')
            : (headers as Record<string, string>)['retry-after'],
        )
      : Number.NaN;
    if (Number.isFinite(retryAfter) && retryAfter >= 0) return Math.min(retryAfter * 1000, this.opts.maxBackoffMs);
    const base = Math.min(this.opts.backoffMs * 2 ** (attempt - 1), this.opts.maxBackoffMs);
    return base * (0.75 + Math.random() * 0.5);
  }
}

function isConnectionOrTimeout(err: unknown): boolean {
  return (
    err instanceof OpenAI.APIConnectionError ||
    err instanceof OpenAI.APIConnectionTimeoutError ||
    (err instanceof Error && /timed? ?out|ECONNRESET|ECONNREFUSED|socket hang up/i.test(err.message))
  );
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').slice(0, 300);
}

/**
 * Endpoint settings from the environment (docs/decisions.md): API_BASE_URL, MODEL_NAME, key from
 * API_KEY, else HF_TOKEN, else OPENAI_API_KEY.
 */
export function endpointFromEnv(env: NodeJS.ProcessEnv = process.env): {
  baseURL: string;
  model: string;
  apiKey: string | null;
  keySource: string | null;
} {
  const keySource = ['API_KEY', 'HF_TOKEN', 'OPENAI_API_KEY'].find((k) => (env[k] ?? '') !== '') ?? null;
  return {
    baseURL: env.API_BASE_URL || 'https://router.huggingface.co/v1',
    model: env.MODEL_NAME || 'Qwen/Qwen2.5-72B-Instruct',
    apiKey: keySource ? (env[keySource] as string) : null,
    keySource,
  };
}
