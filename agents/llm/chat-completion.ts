/**
 * POST /v1/chat/completions of the policy server: the request schema (OpenAI's fields; unknown ones
 * are ignored) and the answer — the observation block of the last user message goes to the served
 * policy, its n answers come back as OpenAI's chat.completion object (see policy-server.ts for the
 * fields' meaning).
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { HttpError } from '../../envs/core/http.js';
import { parseObservationBlock } from './observation-block.js';
import type { ServedPolicy } from './served-policies.js';
import { PolicyInputError } from './served-policies.js';

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

/** The first failed field as a 400 naming it (`param`). */
export function invalidField(error: z.ZodError): HttpError {
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
  'the last user message holds no observation block. The policy server answers only queue-rl prompts: ' +
  'the last user message must end with <queue-rl-observation>' +
  '{"format":"queue-rl/observation","version":1,"env":…,"features":…,"mask":…,"nvec":…}' +
  '</queue-rl-observation> ' +
  '(built by agents/llm/prompts.ts buildGovPrompt / buildHelixPrompt; see agents/llm/observation-block.ts)';

function messageText(content: z.infer<typeof MessageSchema>['content']): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.map((p) => p.text ?? '').join('\n');
}

/** The usage estimate (see the file comment). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** The chat.completion answer of `policy` (version `version`) to a request body. */
export function answerChatCompletion(raw: unknown, policy: ServedPolicy, version: number, modelName: string): unknown {
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
  if (lastUser < 0) throw new HttpError(400, `no user message: ${OBSERVATION_HELP}`, 'messages', 'missing_observation');
  let block: ReturnType<typeof parseObservationBlock>;
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
  let answers: ReturnType<ServedPolicy['choose']>;
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
}
