/**
 * The reward functions GRPO scores a completion with (after the Gov Workflow notebook's three,
 * docs/grpo.md), as pure functions of the completion text and, for the env score, of the
 * env state the prompt was built from:
 *
 *   fn1_valid      −1 the text holds no JSON object; 0 JSON without an action_type, or an action_type
 *                  that does not exist; 0.5 a known action_type whose fields are malformed, or an action
 *                  the env cannot apply now (its invalid step); 1 a well-formed action that is legal now.
 *                  (The notebook gave 0.5 to an unknown action_type and could not check legality; here
 *                  legality is what the env says.)
 *   fn2_no_halluc  −1 off-topic or invented: any blocklisted phrase (below), a service that does not
 *                  exist, a field the action schema does not have, or an unknown action_type;
 *                   1 on-topic: a known action_type and nothing invented; 0 otherwise (no action named).
 *   fn3_env_score  the env's reward over 1 + H steps: the completion's action (an unusable completion
 *                  is the env's invalid step, with its penalty), then H steps of a fixed continuation
 *                  policy (advance_time, or the heuristic), from a restored snapshot of the prompt state.
 *   reward         w1·fn1 + w2·fn2 + w3·fn3 (weights from the config; TRL sums them with weight 1).
 */
import { HeuristicAgent } from '../../agents/gov-rules.js';
import { extractJson } from '../../agents/llm/parse.js';
import { compact } from '../../agents/llm/prompts.js';
import type { GovAction } from '../../envs/gov-workflow/actions.js';
import { GovActionSchema } from '../../envs/gov-workflow/actions.js';
import { DEFAULT_MAX_NON_ADVANCE_STREAK } from '../../envs/gov-workflow/adapter/action-table.js';
import { govAgentInputAt } from '../../envs/gov-workflow/adapter/agent-view.js';
import { freshTrace } from '../../envs/gov-workflow/adapter/trace.js';
import type { GovEnvSnapshot, GovWorkflowEnv } from '../../envs/gov-workflow/env.js';
import { ACTION_TYPES, SERVICES } from '../../envs/gov-workflow/types.js';

/** Phrases that mark a completion as off-topic (assistant chatter, code, other domains). */
export const BLOCKLIST: readonly string[] = [
  'sorry',
  'as an ai',
  'as a language model',
  'i cannot',
  "i can't",
  'i am unable',
  'python',
  '```',
  'def ',
  'import ',
  'console.log',
  'chess',
  'openai',
  'chatgpt',
  'http://',
  'https://',
  'lorem ipsum',
  'recipe',
  'weather',
  'bitcoin',
  'movie',
  'poem',
  '<think>',
  'assistant:',
  'user:',
  'step 1:',
];

const ADVANCE: GovAction = { action_type: 'advance_time' };
const ACTION_FIELDS = new Set([
  'action_type',
  'service_target',
  'priority_mode',
  'reallocation_delta',
  'escalation_target',
  'capacity_assignment',
  'notes',
]);

export interface ParsedCompletion {
  /** The well-formed action, or null. */
  action: GovAction | null;
  /** fn1 before legality (−1, 0, 0.5 or 1). */
  form: number;
  fn2: number;
  /** Why the completion is not a usable action (null when it is). */
  reason: string | null;
}

/** The text-only part of the scoring: parse, form and hallucination checks. */
export function parseCompletion(text: string): ParsedCompletion {
  const lower = text.toLowerCase();
  const blocked = BLOCKLIST.find((w) => lower.includes(w));
  const extracted = extractJson(text);
  if ('error' in extracted) return { action: null, form: -1, fn2: blocked ? -1 : 0, reason: extracted.error };
  const value = extracted.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !('action_type' in value)) {
    return { action: null, form: 0, fn2: blocked ? -1 : 0, reason: 'no action_type' };
  }
  const obj = value as Record<string, unknown>;
  const known = (ACTION_TYPES as readonly string[]).includes(String(obj.action_type));
  const inventedField = Object.keys(obj).find((k) => !ACTION_FIELDS.has(k));
  const servicesNamed = [
    obj.service_target,
    obj.escalation_target,
    ...Object.keys(isRecord(obj.reallocation_delta) ? obj.reallocation_delta : {}),
    ...Object.keys(isRecord(obj.capacity_assignment) ? obj.capacity_assignment : {}),
  ].filter((x): x is string => typeof x === 'string');
  const inventedService = servicesNamed.find((s) => !(SERVICES as readonly string[]).includes(s));
  const fn2 = blocked || inventedField || inventedService || !known ? -1 : 1;
  if (!known) return { action: null, form: 0, fn2, reason: `unknown action_type ${JSON.stringify(obj.action_type)}` };
  const parsed = GovActionSchema.safeParse(obj);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      action: null,
      form: 0.5,
      fn2,
      reason: `malformed action: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
    };
  }
  return { action: compact(parsed.data), form: 1, fn2, reason: null };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

export interface CompletionScore {
  fn1_valid: number;
  fn2_no_halluc: number;
  fn3_env_score: number;
  reward: number;
  action: GovAction | null;
  /** Why fn1 < 1 (null when the completion was a legal action). */
  reason: string | null;
}

export interface RewardWeights {
  fn1_valid: number;
  fn2_no_halluc: number;
  fn3_env_score: number;
}

/**
 * Scores a completion from the prompt state: restores `snapshot` into `env`, applies the
 * completion's action (or an invalid step), runs the continuation for `horizon` steps, and sums the
 * env's rewards. Leaves `env` in some later state: restore before reusing it.
 */
export function scoreCompletion(
  text: string,
  env: GovWorkflowEnv,
  snapshot: GovEnvSnapshot,
  horizon: number,
  continuation: 'advance' | 'heuristic',
  weights: RewardWeights,
): CompletionScore {
  const parsed = parseCompletion(text);
  env.restore(snapshot);
  // stepParsed: the action is already validated, and nothing here reads the JSON observation.
  let fn1 = parsed.form;
  let reason = parsed.reason;
  let fn3: number;
  let done: boolean;
  if (parsed.action) {
    const first = env.stepParsed(parsed.action);
    if (first.invalidAction) {
      fn1 = 0.5;
      reason = `not legal now: ${env.current.counters.lastActionExplanation}`;
    }
    fn3 = first.reward.total_reward;
    done = first.terminated || first.truncated;
  } else {
    const first = env.stepInvalid(parsed.reason ?? 'no action');
    fn3 = first.reward;
    done = first.terminated || first.truncated;
  }
  const agent = continuation === 'heuristic' ? new HeuristicAgent() : null;
  // The heuristic reads only the JSON observation; the trace is there to complete its input.
  const trace = freshTrace(DEFAULT_MAX_NON_ADVANCE_STREAK);
  for (let h = 0; h < horizon && !done; h++) {
    const r = env.stepParsed(agent ? agent.act(govAgentInputAt(env, trace, h, 0)) : ADVANCE);
    fn3 += r.reward.total_reward;
    done = r.terminated || r.truncated;
  }
  return {
    fn1_valid: fn1,
    fn2_no_halluc: parsed.fn2,
    fn3_env_score: fn3,
    reward: weights.fn1_valid * fn1 + weights.fn2_no_halluc * parsed.fn2 + weights.fn3_env_score * fn3,
    action: parsed.action,
    reason,
  };
}

export interface GroupAdvantages {
  advantages: number[];
  mean: number;
  std: number;
  zeroStd: boolean;
}

/**
 * Group-relative advantages: (r − mean) / (std + eps) with the group's population std (GRPO;
 * TRL's scale_rewards 'group'), or r − mean ('none', Dr. GRPO). A group whose rewards all tie has
 * no signal (zeroStd; its advantages are 0).
 */
export function groupAdvantages(rewards: readonly number[], scale: 'group' | 'none', eps: number): GroupAdvantages {
  const n = rewards.length;
  const mean = rewards.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(rewards.reduce((a, r) => a + (r - mean) ** 2, 0) / n);
  const zeroStd = rewards.every((r) => r === rewards[0]);
  const advantages = rewards.map((r) => (zeroStd ? 0 : scale === 'group' ? (r - mean) / (std + eps) : r - mean));
  return { advantages, mean, std, zeroStd };
}
