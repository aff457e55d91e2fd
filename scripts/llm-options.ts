/**
 * Command-line options of the LLM policy, shared by `inference`, `baseline --agent llm` and
 * `evaluate --agent llm`. Endpoint settings come from flags, else the environment (docs/decisions.md):
 * API_BASE_URL, MODEL_NAME, and the key from API_KEY, else HF_TOKEN, else OPENAI_API_KEY. The key
 * is never printed; only the name of the variable it came from is.
 */

import type { StructuredOutputMode } from '../agents/llm/client.js';
import { endpointFromEnv, LlmClient, STRUCTURED_OUTPUT_MODES } from '../agents/llm/client.js';
import type { Fallback, LlmPolicyOptions } from '../agents/llm/llm-episodes.js';
import { FALLBACKS } from '../agents/llm/llm-episodes.js';
import { parseChoice, parseIntInRange, parseNumberInRange, parsePositiveInt } from './args.js';

export const LLM_OPTION_NAMES = [
  'base-url',
  'model',
  'temperature',
  'max-tokens',
  'fallback',
  'concurrency',
  'timeout-ms',
  'retries',
  'structured-output',
  'llm-seed',
] as const;
export type LlmOptionName = (typeof LLM_OPTION_NAMES)[number];
/** The LLM options as a parseOptions spec (all take a value). */
export const LLM_OPTION_SPEC = Object.fromEntries(LLM_OPTION_NAMES.map((n) => [n, 'string'])) as Record<
  LlmOptionName,
  'string'
>;

/** Bounds of the LLM options (docs/limits.md). */
export const LLM_LIMITS = { maxTokens: 1_000_000, concurrency: 1024, timeoutMs: 3_600_000, retries: 20 } as const;

/** The LLM options' values out of a parseOptions result. */
export function llmOptionValues(
  values: Partial<Record<string, string | true>>,
): Record<LlmOptionName, string | undefined> {
  return Object.fromEntries(
    LLM_OPTION_NAMES.map((n) => [n, typeof values[n] === 'string' ? values[n] : undefined]),
  ) as Record<LlmOptionName, string | undefined>;
}

export const LLM_HELP = `LLM options (also from API_BASE_URL, MODEL_NAME, API_KEY | HF_TOKEN | OPENAI_API_KEY):
  --base-url <url>            OpenAI-compatible endpoint (default $API_BASE_URL or
                              https://router.huggingface.co/v1)
  --model <name>              model id (default $MODEL_NAME or Qwen/Qwen2.5-72B-Instruct)
  --temperature <t>           sampling temperature in [0, 2] (default 0)
  --max-tokens <n>            per answer, 1…1,000,000 (default 256)
  --fallback <f>              ${FALLBACKS.join(' | ')}: who acts when an answer is unusable (default rule)
  --concurrency <n>           requests in flight at most, 1…1024 (default 8)
  --timeout-ms <ms>           per request, up to 3600000 (default 60000)
  --retries <n>               0…20 (default 4, with backoff)
  --structured-output <m>     ${STRUCTURED_OUTPUT_MODES.join(' | ')} (default auto: JSON schema,
                              falling back when the endpoint refuses)
  --llm-seed <n>              request seed, for endpoints that honour it`;

export interface LlmSettings {
  policy: LlmPolicyOptions;
  model: string;
  baseURL: string;
  keySource: string | null;
  client: LlmClient;
}

/** Builds the client and policy options from parsed flag values (strings) and the environment. */
export function llmSettings(
  values: Readonly<Record<string, string | undefined>>,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): LlmSettings {
  const env = endpointFromEnv();
  const baseURL = values['base-url'] ?? env.baseURL;
  const model = values.model ?? env.model;
  const temperature =
    values.temperature === undefined ? 0 : parseNumberInRange(values.temperature, '--temperature', 0, 2);
  const fallback: Fallback = parseChoice(values.fallback ?? 'rule', FALLBACKS, '--fallback');
  const structuredOutput: StructuredOutputMode = parseChoice(
    values['structured-output'] ?? 'auto',
    STRUCTURED_OUTPUT_MODES,
    '--structured-output',
  );
  const retries =
    values.retries === undefined ? 4 : parseIntInRange(values.retries, '--retries', 0, LLM_LIMITS.retries);
  const seed =
    values['llm-seed'] === undefined
      ? undefined
      : parseIntInRange(values['llm-seed'], '--llm-seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  if (!env.apiKey)
    log(
      '[llm] no API key in API_KEY, HF_TOKEN or OPENAI_API_KEY: sending the placeholder key "EMPTY" (fine for local ' +
        'servers)',
    );
  else log(`[llm] ${model} at ${baseURL} (key from ${env.keySource})`);
  const client = new LlmClient({
    baseURL,
    apiKey: env.apiKey ?? 'EMPTY',
    model,
    timeoutMs:
      values['timeout-ms'] === undefined
        ? 60_000
        : parsePositiveInt(values['timeout-ms'], '--timeout-ms', LLM_LIMITS.timeoutMs),
    maxRetries: retries,
    concurrency:
      values.concurrency === undefined
        ? 8
        : parsePositiveInt(values.concurrency, '--concurrency', LLM_LIMITS.concurrency),
    structuredOutput,
    log,
  });
  return {
    client,
    model,
    baseURL,
    keySource: env.keySource,
    policy: {
      client,
      temperature,
      maxTokens:
        values['max-tokens'] === undefined
          ? 256
          : parsePositiveInt(values['max-tokens'], '--max-tokens', LLM_LIMITS.maxTokens),
      fallback,
      ...(seed !== undefined ? { seed } : {}),
    },
  };
}
