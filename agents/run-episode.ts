import type { VecEnvMember } from '../envs/core/member.js';
import { isRecord } from '../envs/core/plain-data.js';
import type { EnvSpec } from '../envs/core/registry.js';
import type { GovAction } from '../envs/gov-workflow/actions.js';
import type { GovAdapterVersion } from '../envs/gov-workflow/adapter/action-table.js';
import { GovAgentView } from '../envs/gov-workflow/adapter/agent-view.js';
import type { GovStepInfo } from '../envs/gov-workflow/env.js';
import { GovWorkflowEnv } from '../envs/gov-workflow/env.js';
import { govEpisodeSummary } from '../envs/gov-workflow/episode-summary.js';
import type { Variant } from '../envs/gov-workflow/types.js';
import { HelixTaskView } from '../envs/helixdesk/agent-view.js';
import type { HelixConfig, HelixConfigInput } from '../envs/helixdesk/config.js';
import type { HelixStepInfo } from '../envs/helixdesk/env.js';
import { HelixTaskEnv } from '../envs/helixdesk/task-env.js';
import type { RemoteMember } from '../envs/vector/remote.js';
import { decodeEpisode, decodeObservation, stepOutcome } from '../envs/vector/remote.js';
import { RemoteEnvError } from '../envs/vector/remote-member.js';
import type { EpisodeRecord, Policy, VectorInput } from './types.js';

/** One step as the runner sees it: what the policy acts on next, and the env's outcome. */
export interface EpisodeStep<Input, Info> {
  input: Input;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: Info;
}

export interface EpisodeSummary {
  score: number;
  metrics: Record<string, number>;
}

/** An env as the runner drives it. */
export interface EpisodeEnv<Input, Action, Info = unknown> {
  /** The env family and task (the record's `env` and `task`). */
  readonly family: string;
  readonly task: string;
  /** Starts the episode of `seed`; returns what the policy acts on first. */
  reset(seed: number): Input;
  step(action: Action): EpisodeStep<Input, Info>;
  /** The episode's score and metrics (ended or stopped early). */
  summary(): EpisodeSummary;
}

/** An env the runner drives over a network (env servers): the same calls, answered later. */
export interface AsyncEpisodeEnv<Input, Action, Info = unknown> {
  readonly family: string;
  readonly task: string;
  reset(seed: number): Promise<Input>;
  step(action: Action): Promise<EpisodeStep<Input, Info>>;
  summary(): Promise<EpisodeSummary>;
}

export interface RunEpisodeOptions<Input, Action, Info> {
  seed: number;
  /** Stop after this many steps even if the episode has not ended (default: the env's own end). */
  maxSteps?: number;
  /** Called after every step (the inference log). */
  onStep?: (step: number, action: Action, outcome: EpisodeStep<Input, Info>) => void;
}

/**
 * Plays one episode of `env` with `policy` from `seed` (until the env ends it, or `maxSteps`) and
 * returns its record. The one episode loop: baseline tables, evaluation, HelixDesk graded tasks and
 * LLM runs all use it, with an EpisodeEnv (an env plus the input its policies act on) and a Policy
 * (a rule agent, an LLM client, or a neural policy batched over episodes side by side).
 */
export async function runEpisode<Input, Action, Info>(
  env: EpisodeEnv<Input, Action, Info> | AsyncEpisodeEnv<Input, Action, Info>,
  policy: Policy<Input, Action>,
  opts: RunEpisodeOptions<Input, Action, Info>,
): Promise<EpisodeRecord> {
  let input = (await env.reset(opts.seed)) as Input;
  policy.reset(opts.seed);
  const cap = opts.maxSteps ?? Number.POSITIVE_INFINITY;
  let reward = 0;
  let steps = 0;
  while (steps < cap) {
    const action = await policy.act(input);
    const outcome = await env.step(action);
    reward += outcome.reward;
    steps++;
    opts.onStep?.(steps, action, outcome);
    input = outcome.input;
    if (outcome.terminated || outcome.truncated) break;
  }
  const { score, metrics } = await env.summary();
  return { env: env.family, task: env.task, agent: policy.name, seed: opts.seed, score, reward, steps, metrics };
}

// ---- Gov Workflow (JSON actions) ------------------------------------------------------------------

/** A step without a usable action (an LLM answer that was no action): the env's invalid step. */
export interface NoAction {
  readonly noAction: string;
}

export interface GovEpisodeOptions {
  taskId: string;
  variant?: Variant;
  maxNonAdvanceStreak?: number;
  adapter?: GovAdapterVersion;
}

/** The Gov Workflow JSON env with the agent view (envs/gov-workflow/adapter/agent-view.ts) as input. */
export function govEpisodeEnv(opts: GovEpisodeOptions): EpisodeEnv<GovAgentView, GovAction | NoAction, GovStepInfo> {
  const env = new GovWorkflowEnv({ taskId: opts.taskId, variant: opts.variant ?? 'corrected' });
  const view = new GovAgentView(env, {
    ...(opts.maxNonAdvanceStreak !== undefined ? { maxNonAdvanceStreak: opts.maxNonAdvanceStreak } : {}),
    ...(opts.adapter !== undefined ? { adapter: opts.adapter } : {}),
  });
  return {
    family: 'gov-workflow',
    task: opts.taskId,
    reset(seed) {
      env.reset({ seed });
      view.begin(seed);
      return view;
    },
    step(action) {
      const taken = 'noAction' in action ? null : action;
      const r = taken ? env.step(taken) : env.stepInvalid((action as NoAction).noAction);
      view.record(taken, r.info.invalid_action);
      return { input: view, reward: r.reward, terminated: r.terminated, truncated: r.truncated, info: r.info };
    },
    summary: () => govEpisodeSummary(env),
  };
}

// ---- HelixDesk (graded tasks) ---------------------------------------------------------------------

/** A graded HelixDesk task (envs/helixdesk/task-env.ts) with the task view as input. */
export function helixEpisodeEnv(
  task: string,
  config: HelixConfigInput | HelixConfig = {},
): EpisodeEnv<HelixTaskView, Int32Array, HelixStepInfo> {
  const env = new HelixTaskEnv(task, config);
  const view = new HelixTaskView(env);
  return {
    family: 'helixdesk',
    task,
    reset(seed) {
      view.begin(seed, env.reset({ seed }).observation);
      return view;
    },
    step(action) {
      const r = env.step(action);
      view.record(r.observation);
      return { input: view, reward: r.reward, terminated: r.terminated, truncated: r.truncated, info: r.info };
    },
    summary: () => env.summary(),
  };
}

// ---- Any registered env, as vector members see it ---------------------------------------------

/**
 * A registered env id's vector-env member as an episode env (feature vector and mask in, action
 * integers out): the episode of seed s is the one a vector env resets its member to with seed s.
 */
export function memberEpisodeEnv(spec: EnvSpec, index = 0): EpisodeEnv<VectorInput, Int32Array> {
  const member: VecEnvMember = spec.makeMember(index);
  const input = { observation: new Float32Array(spec.observationSize), mask: new Uint8Array(spec.maskLength) };
  const metrics = new Float64Array(spec.metricNames.length);
  return {
    family: spec.family,
    task: spec.task,
    reset(seed) {
      member.reset(seed, input.observation, input.mask);
      return input;
    },
    step(action) {
      const r = member.step(action, input.observation, input.mask);
      return { input, reward: r.reward, terminated: r.terminated, truncated: r.truncated, info: null };
    },
    summary() {
      const score = member.summarize(metrics);
      return { score, metrics: Object.fromEntries(spec.metricNames.map((name, k) => [name, metrics[k] as number])) };
    },
  };
}

/** One Gov Workflow episode of a JSON agent (the baseline tables' episode). */
export function runGovEpisode(
  agent: Policy<GovAgentView, GovAction>,
  opts: GovEpisodeOptions & { seed: number; maxSteps?: number },
): Promise<EpisodeRecord> {
  const maxSteps = opts.maxSteps !== undefined ? { maxSteps: opts.maxSteps } : {};
  return runEpisode(govEpisodeEnv(opts), agent, { seed: opts.seed, ...maxSteps });
}

/**
 * The same episode as memberEpisodeEnv(spec, index), played on an env server through a connected
 * remote member (envs/vector/remote.ts): identical features, masks, rewards and summaries.
 */
export function remoteEpisodeEnv(
  spec: EnvSpec,
  member: RemoteMember,
): AsyncEpisodeEnv<VectorInput & { readonly nvec: readonly number[] }, Int32Array> {
  const space = spec.actionSpace;
  const input = {
    observation: new Float32Array(spec.observationSize),
    mask: new Uint8Array(spec.maskLength),
    // The action sizes too: what HelixDesk's rule and random agents read besides the vector.
    nvec: 'nvec' in space ? [...space.nvec] : [space.n],
  };
  const metrics = new Float64Array(spec.metricNames.length);
  let endScore: number | null = null;
  const summary = (score: number): EpisodeSummary => ({
    score,
    metrics: Object.fromEntries(spec.metricNames.map((name, k) => [name, metrics[k] as number])),
  });
  return {
    family: spec.family,
    task: spec.task,
    async reset(seed) {
      const r = await member.conn.request(`${member.resetSeededPrefix}${seed}}}`, 'observation');
      if (!isRecord(r.observation))
        throw new RemoteEnvError(member.conn.url, 'PROTOCOL', 'a reset without observation');
      decodeObservation(r.observation, input.observation, input.mask);
      endScore = null;
      return input;
    },
    async step(action) {
      const index = action.length === 1 ? String(action[0]) : `[${Array.from(action).join(',')}]`;
      const r = await member.conn.request(`{"type":"step","data":{"action_index":${index}}}`, 'observation');
      const { observation, reward, terminated, truncated } = stepOutcome(r, member.conn.url);
      decodeObservation(observation, input.observation, input.mask);
      if (terminated || truncated) endScore = decodeEpisode(observation.episode, metrics);
      return { input, reward, terminated, truncated, info: null };
    },
    async summary() {
      if (endScore !== null) return summary(endScore);
      return summary(decodeEpisode(await member.conn.request('{"type":"summary"}', 'summary'), metrics));
    },
  };
}
