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
import type { GovAction } from '../../envs/gov-workflow/actions.js';
import type { GovAgentView } from '../../envs/gov-workflow/adapter/agent-view.js';
import type { Variant } from '../../envs/gov-workflow/types.js';
import type { HelixTaskView } from '../../envs/helixdesk/agent-view.js';
import type { HelixConfig, HelixConfigInput } from '../../envs/helixdesk/config.js';
import { HeuristicAgent } from '../gov-rules.js';
import { HelixRuleAgent } from '../helixdesk-rule.js';
import type { EpisodeStep, NoAction } from '../run-episode.js';
import { govEpisodeEnv, helixEpisodeEnv, runEpisode } from '../run-episode.js';
import type { EpisodeRecord, GovAgent, Policy } from '../types.js';
import type { LlmClient } from './client.js';
import { LlmRequestError } from './client.js';
import { extractJson } from './parse.js';
import type { Prompt } from './prompts.js';
import { buildGovPrompt, buildHelixPrompt, compact, helixAnswer } from './prompts.js';

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

/** What the LLM policy did at its last step: who chose the action, and why the model's answer was not used. */
interface LastDecision {
  source: LlmStepLog['source'];
  error: string | null;
}

/** Counters of an LLM policy over one episode (they go into the record's metrics). */
class LlmCounters {
  requests = 0;
  promptTokens = 0;
  completionTokens = 0;
  invalidOutputs = 0;
  fallbacks = 0;

  metrics(): Record<string, number> {
    return {
      invalid_outputs: this.invalidOutputs,
      fallbacks: this.fallbacks,
      requests: this.requests,
      prompt_tokens: this.promptTokens,
      completion_tokens: this.completionTokens,
    };
  }
}

/**
 * An LLM as a Gov Workflow policy: prompt → answer → action, the rule agent or an invalid step when the answer is
 * unusable.
 */
export class GovLlmPolicy implements Policy<GovAgentView, GovAction | NoAction> {
  readonly name = 'llm';
  counters = new LlmCounters();
  last: LastDecision = { source: 'model', error: null };
  private readonly fallbackAgent: GovAgent = new HeuristicAgent();

  constructor(private readonly opts: LlmPolicyOptions) {}

  reset(seed: number): void {
    this.fallbackAgent.reset(seed);
    this.counters = new LlmCounters();
  }

  async act(view: GovAgentView): Promise<GovAction | NoAction> {
    const decision = await ask(this.opts, buildGovPrompt(view), this.counters);
    if (decision.invalid === null && decision.action) {
      this.last = { source: 'model', error: null };
      return decision.action;
    }
    this.counters.invalidOutputs++;
    const why = oneLine(decision.invalid ?? 'no action');
    if ((this.opts.fallback ?? 'rule') === 'rule') {
      this.counters.fallbacks++;
      this.last = { source: 'fallback', error: `invalid model output (${why}); the rule agent acted` };
      return compact(this.fallbackAgent.act(view));
    }
    this.last = { source: 'none', error: `invalid model output: ${why}` };
    return { noAction: why };
  }
}

/** An LLM as a HelixDesk policy; an unusable answer is the rule agent's action, or flag-for-review. */
export class HelixLlmPolicy implements Policy<HelixTaskView, Int32Array> {
  readonly name = 'llm';
  counters = new LlmCounters();
  last: LastDecision = { source: 'model', error: null };
  private readonly fallbackAgent = new HelixRuleAgent();

  constructor(private readonly opts: LlmPolicyOptions) {}

  reset(): void {
    this.counters = new LlmCounters();
  }

  async act(view: HelixTaskView): Promise<Int32Array> {
    const decision = await ask(this.opts, buildHelixPrompt(view), this.counters);
    if (decision.action) {
      this.last = { source: 'model', error: null };
      return decision.action;
    }
    this.counters.invalidOutputs++;
    const why = oneLine(decision.invalid ?? '');
    if ((this.opts.fallback ?? 'rule') === 'rule') {
      this.counters.fallbacks++;
      this.last = { source: 'fallback', error: `invalid model output (${why}); the rule agent acted` };
      return this.fallbackAgent.act(view);
    }
    this.last = { source: 'none', error: `invalid model output: ${why}; flagged for review` };
    return Int32Array.of(2, 3, view.nEmployees, 2); // flag_for_review (forces normal, none, none)
  }
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
  const env = govEpisodeEnv({
    taskId: ep.taskId,
    variant: ep.variant ?? 'corrected',
    ...(ep.maxNonAdvanceStreak !== undefined ? { maxNonAdvanceStreak: ep.maxNonAdvanceStreak } : {}),
  });
  const policy = new GovLlmPolicy(opts);
  const steps: LlmStepLog[] = [];
  const record = await runEpisode(env, policy, {
    seed: ep.seed,
    ...(ep.maxSteps !== undefined ? { maxSteps: ep.maxSteps } : {}),
    onStep(step, action, outcome) {
      const taken = 'noAction' in action ? null : action;
      // A well-formed action the env refused: its explanation is the step's error.
      const error = taken && outcome.info.invalid_action ? oneLine(outcome.info.action_explanation) : policy.last.error;
      log(steps, onStep, {
        step,
        action: taken ? JSON.stringify(taken) : 'null',
        reward: outcome.reward,
        done: ended(outcome),
        error,
        source: policy.last.source,
      });
    },
  });
  return { steps, record: { ...record, metrics: { ...record.metrics, ...policy.counters.metrics() } } };
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
  const env = helixEpisodeEnv(ep.task, ep.config ?? {});
  const policy = new HelixLlmPolicy(opts);
  const steps: LlmStepLog[] = [];
  const cap = ep.maxSteps ?? Number.POSITIVE_INFINITY;
  const record = await runEpisode(env, policy, {
    seed: ep.seed,
    maxSteps: cap,
    onStep(step, action, outcome) {
      const answer = JSON.stringify(helixAnswer(action, outcome.input.nEmployees));
      log(steps, onStep, {
        step,
        action: answer,
        reward: outcome.reward,
        done: ended(outcome) || step >= cap,
        error: policy.last.error,
        source: policy.last.source,
      });
    },
  });
  return { steps, record: { ...record, metrics: { ...record.metrics, ...policy.counters.metrics() } } };
}

function ended(outcome: Pick<EpisodeStep<unknown, unknown>, 'terminated' | 'truncated'>): boolean {
  return outcome.terminated || outcome.truncated;
}

function log(steps: LlmStepLog[], onStep: ((s: LlmStepLog) => void) | undefined, entry: LlmStepLog): void {
  steps.push(entry);
  onStep?.(entry);
}
