/**
 * Episodes played by an LLM policy through an OpenAI-compatible endpoint, step by step: build the
 * env's prompt (prompts.ts), ask the model, extract and validate the JSON answer, act.
 *
 * Bad outputs never crash an episode. An answer that is not JSON, not a valid action, or a request
 * that failed after all retries is recorded as invalid with its reason, and then
 *   --fallback rule   the env's rule agent (Gov: heuristic, HelixDesk: rule) acts in its place;
 *   --fallback none   Gov Workflow takes an invalid step (its invalid-action penalty; the day does not
 *                     advance: GovWorkflowEnv.stepInvalid); HelixDesk, which has no invalid steps,
 *                     takes flag_for_review (the action that hands the email to a human).
 * A well-formed Gov action that cannot be applied now is the env's own invalid step (penalty), as
 * for any agent; its explanation is the step's error.
 */
import { HeuristicAgent } from '../gov-rules.js';
import { HelixRuleAgent } from '../helixdesk-rule.js';
import { govEpisodeRecord } from '../run-episode.js';
import type { EpisodeRecord } from '../types.js';
import { DEFAULT_MAX_NON_ADVANCE_STREAK } from '../../envs/gov-workflow/adapter/action-table.js';
import type { AdapterTrace } from '../../envs/gov-workflow/adapter/features.js';
import type { GovAction } from '../../envs/gov-workflow/actions.js';
import { GovWorkflowEnv } from '../../envs/gov-workflow/env.js';
import { ACTION_TYPES } from '../../envs/gov-workflow/types.js';
import type { Variant } from '../../envs/gov-workflow/types.js';
import type { HelixConfig, HelixConfigInput } from '../../envs/helixdesk/config.js';
import { HelixDeskEnv } from '../../envs/helixdesk/env.js';
import { HelixTaskScorer, isHelixTask, taskStepLimit } from '../../envs/helixdesk/graders.js';
import type { LlmClient } from './client.js';
import { LlmRequestError } from './client.js';
import { extractJson } from './parse.js';
import { buildGovPrompt, buildHelixPrompt, compact, helixAnswer } from './prompts.js';
import type { Prompt } from './prompts.js';

export const FALLBACKS = ['rule', 'none'] as const;
export type Fallback = (typeof FALLBACKS)[number];

export interface LlmPolicyOptions {
  client: LlmClient;
  /** Sampling temperature (default 0: the most likely answer). */
  temperature?: number;
  maxTokens?: number;
  fallback?: Fallback;
  /** Sent as the request seed (endpoints that support it reproduce their samples). */
  seed?: number;
}

/** One step as the inference log prints it. */
export interface LlmStepLog {
  step: number;
  /** The action taken, as compact JSON (no spaces), or 'null' when none was usable. */
  action: string;
  reward: number;
  done: boolean;
  /** Why the model's answer was not used, or the env's explanation of an invalid step; null otherwise. */
  error: string | null;
  /** Who chose the action. */
  source: 'model' | 'fallback' | 'none';
}

export interface LlmEpisodeResult {
  record: EpisodeRecord;
  steps: LlmStepLog[];
}

interface Decision<A> {
  action: A | null;
  invalid: string | null;
}

async function ask<A>(
  opts: LlmPolicyOptions,
  prompt: Prompt<A>,
  counters: { promptTokens: number; completionTokens: number; requests: number },
): Promise<Decision<A>> {
  try {
    const res = await opts.client.complete({
      messages: prompt.messages,
      temperature: opts.temperature ?? 0,
      maxTokens: opts.maxTokens ?? 256,
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      jsonSchema: { name: prompt.schemaName, schema: prompt.jsonSchema },
    });
    counters.requests++;
    counters.promptTokens += res.promptTokens;
    counters.completionTokens += res.completionTokens;
    const content = res.choices[0]?.content ?? '';
    const extracted = extractJson(content);
    if ('error' in extracted) return { action: null, invalid: extracted.error };
    const converted = prompt.toAction(extracted.value);
    return 'invalid' in converted
      ? { action: null, invalid: converted.invalid }
      : { action: converted.action, invalid: null };
  } catch (err) {
    if (err instanceof LlmRequestError) return { action: null, invalid: `request failed: ${err.message}` };
    throw err;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export interface GovLlmEpisodeOptions {
  taskId: string;
  seed: number;
  variant?: Variant;
  /** Stop after this many steps (default: the env's own cap). */
  maxSteps?: number;
  maxNonAdvanceStreak?: number;
}

export async function runGovLlmEpisode(
  opts: LlmPolicyOptions,
  ep: GovLlmEpisodeOptions,
  onStep?: (s: LlmStepLog) => void,
): Promise<LlmEpisodeResult> {
  const env = new GovWorkflowEnv({ taskId: ep.taskId, variant: ep.variant ?? 'corrected' });
  env.reset({ seed: ep.seed });
  const fallbackAgent = new HeuristicAgent();
  fallbackAgent.reset();
  const trace: AdapterTrace = {
    lastActionType: ACTION_TYPES.indexOf('advance_time'),
    nonAdvanceStreak: 0,
    maxNonAdvanceStreak: ep.maxNonAdvanceStreak ?? DEFAULT_MAX_NON_ADVANCE_STREAK,
  };
  const counters = { promptTokens: 0, completionTokens: 0, requests: 0 };
  const steps: LlmStepLog[] = [];
  const cap = ep.maxSteps ?? Number.POSITIVE_INFINITY;
  let reward = 0;
  let invalidOutputs = 0;
  let fallbacks = 0;
  for (let step = 0; step < cap; step++) {
    const prompt = buildGovPrompt(env, trace, step, ep.seed);
    const decision = await ask(opts, prompt, counters);
    let taken: GovAction | null = decision.action;
    let source: LlmStepLog['source'] = 'model';
    let error: string | null = null;
    if (decision.invalid !== null) {
      invalidOutputs++;
      if ((opts.fallback ?? 'rule') === 'rule') {
        taken = compact(fallbackAgent.act(env.observation()));
        source = 'fallback';
        fallbacks++;
        error = `invalid model output (${oneLine(decision.invalid)}); the rule agent acted`;
      } else {
        source = 'none';
        error = `invalid model output: ${oneLine(decision.invalid)}`;
      }
    }
    const r = taken ? env.step(taken) : env.stepInvalid(oneLine(decision.invalid ?? 'no action'));
    if (taken && r.info.invalid_action) error = oneLine(r.info.action_explanation);
    const advanced = taken?.action_type === 'advance_time' && !r.info.invalid_action;
    if (taken) trace.lastActionType = ACTION_TYPES.indexOf(taken.action_type);
    trace.nonAdvanceStreak = advanced ? 0 : trace.nonAdvanceStreak + 1;
    reward += r.reward;
    const done = r.terminated || r.truncated;
    const log: LlmStepLog = {
      step: step + 1,
      action: taken ? JSON.stringify(taken) : 'null',
      reward: r.reward,
      done,
      error,
      source,
    };
    steps.push(log);
    onStep?.(log);
    if (done) break;
  }
  return {
    steps,
    record: govEpisodeRecord(env, 'llm', ep.seed, reward, steps.length, {
      invalid_outputs: invalidOutputs,
      fallbacks,
      requests: counters.requests,
      prompt_tokens: counters.promptTokens,
      completion_tokens: counters.completionTokens,
    }),
  };
}

export interface HelixLlmEpisodeOptions {
  task: string;
  seed: number;
  config?: HelixConfigInput | HelixConfig;
  maxSteps?: number;
}

export async function runHelixLlmEpisode(
  opts: LlmPolicyOptions,
  ep: HelixLlmEpisodeOptions,
  onStep?: (s: LlmStepLog) => void,
): Promise<LlmEpisodeResult> {
  if (!isHelixTask(ep.task)) throw new Error(`unknown HelixDesk task '${ep.task}'`);
  const env = new HelixDeskEnv(ep.config ?? {});
  const n = env.config.env.n_employees;
  const scorer = new HelixTaskScorer(ep.task, n);
  const limit = Math.min(taskStepLimit(ep.task), ep.maxSteps ?? Number.POSITIVE_INFINITY);
  let { observation } = env.reset({ seed: ep.seed });
  const fallbackAgent = new HelixRuleAgent();
  const counters = { promptTokens: 0, completionTokens: 0, requests: 0 };
  const steps: LlmStepLog[] = [];
  const events: Record<string, number> = {};
  let reward = 0;
  let invalidOutputs = 0;
  let fallbacks = 0;
  for (let step = 0; step < limit; step++) {
    const flagged = (observation[1] as number) > 0.5;
    const decision = await ask(opts, buildHelixPrompt(env, ep.task, step, ep.seed), counters);
    let action = decision.action;
    let source: LlmStepLog['source'] = 'model';
    let error: string | null = null;
    if (!action) {
      invalidOutputs++;
      if ((opts.fallback ?? 'rule') === 'rule') {
        action = fallbackAgent.act(observation, env);
        source = 'fallback';
        fallbacks++;
        error = `invalid model output (${oneLine(decision.invalid ?? '')}); the rule agent acted`;
      } else {
        action = Int32Array.of(2, 3, n, 2); // flag_for_review (forces normal, none, none)
        source = 'none';
        error = `invalid model output: ${oneLine(decision.invalid ?? '')}; flagged for review`;
      }
    }
    const r = env.step(action);
    reward += r.reward;
    scorer.record(flagged, action, r.info);
    for (const e of r.info.reward_breakdown) events[e.type] = (events[e.type] ?? 0) + 1;
    observation = r.observation;
    const done = r.terminated || r.truncated || step + 1 >= limit;
    const log: LlmStepLog = {
      step: step + 1,
      action: JSON.stringify(helixAnswer(action, n)),
      reward: r.reward,
      done,
      error,
      source,
    };
    steps.push(log);
    onStep?.(log);
    if (r.terminated || r.truncated) break;
  }
  const { score, parts } = scorer.result();
  const metrics: Record<string, number> = {
    ...parts,
    invalid_outputs: invalidOutputs,
    fallbacks,
    requests: counters.requests,
    prompt_tokens: counters.promptTokens,
    completion_tokens: counters.completionTokens,
  };
  for (const [type, count] of Object.entries(events)) metrics[`events_${type}`] = count;
  return {
    steps,
    record: {
      env: 'helixdesk',
      task: ep.task,
      agent: 'llm',
      seed: ep.seed,
      score,
      reward,
      steps: steps.length,
      metrics,
    },
  };
}
