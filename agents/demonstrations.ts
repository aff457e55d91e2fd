/**
 * Demonstrations for an imitation warm start: a baseline agent plays episodes of the training env
 * (the same adapter, features and reward the policy will train on), and each step is kept as what a
 * neural policy sees and should do — features, mask, the action's index — with the discounted return
 * from that step. Seeds derive from the run seed (`imitation/<task>/<k>`), never from evaluation seeds.
 */

import { deriveSeed } from '../envs/core/random/streams.js';
import type { EnvOptions } from '../envs/core/registry.js';
import type { GovAction } from '../envs/gov-workflow/actions.js';
import { ADVANCE_INDEX } from '../envs/gov-workflow/adapter/action-table.js';
import { GovAgentView } from '../envs/gov-workflow/adapter/agent-view.js';
import { GovWorkflowRlEnv } from '../envs/gov-workflow/adapter/rl-env.js';
import { HelixTaskView } from '../envs/helixdesk/agent-view.js';
import { HelixTaskEnv } from '../envs/helixdesk/task-env.js';
import { govEnvOptions, helixEnvOptions } from '../envs/registry.js';
import { createGovAgent, createHelixAgent } from './registry.js';
import type { Demonstrating, GovAgentInput, HelixAgentInput, Policy } from './types.js';

export interface DemonstrationEpisode {
  task: string;
  seed: number;
  score: number;
  return: number;
  steps: number;
}

export interface Demonstrations {
  readonly size: number;
  readonly observationSize: number;
  readonly maskLength: number;
  readonly actionDims: number;
  readonly observations: Float32Array;
  readonly masks: Uint8Array;
  readonly actions: Int32Array;
  /** Discounted return from each step to the end of its episode (no bootstrap). */
  readonly returns: Float32Array;
  readonly episodes: readonly DemonstrationEpisode[];
  /** Steps whose action had no index in the action table (replaced by advance_time, not kept). */
  readonly inexpressible: number;
}

export interface DemonstrationRequest {
  family: 'gov-workflow' | 'helixdesk';
  tasks: readonly string[];
  envOptions: EnvOptions;
  agent: string;
  episodesPerTask: number;
  seed: number;
  gamma: number;
  /**
   * DAgger: a learner plays (its action for features and mask), the agent labels each state it
   * visits; `round` (1, 2, …) names the seeds. Without it the agent plays its own episodes.
   */
  learner?: { act: (observation: Float32Array, mask: Uint8Array) => ArrayLike<number>; round: number };
}

/** The agent as a labeller: its choice without remembering it, then the action actually taken. */
function demonstrator<I, A>(agent: Policy<I, A> & Partial<Demonstrating<I, A>>): Demonstrating<I, A> {
  if (agent.label && agent.observe) {
    const { label, observe } = agent;
    return {
      label: (input) => label.call(agent, input),
      observe: (action, input) => observe.call(agent, action, input),
    };
  }
  // Agents without memory: acting is labelling.
  return { label: (input) => agent.act(input) as A, observe: () => undefined };
}

function episodeSeed(req: DemonstrationRequest, task: string, k: number): number {
  return req.learner
    ? deriveSeed(req.seed, 'imitation', task, 'dagger', req.learner.round, k)
    : deriveSeed(req.seed, 'imitation', task, k);
}

/** Grows typed columns of steps; one episode's rewards are discounted when it ends. */
class Recorder {
  private obs: number[] = [];
  private masks: number[] = [];
  private actions: number[] = [];
  private returns: number[] = [];
  private rewards: number[] = [];
  private kept: boolean[] = [];
  readonly episodes: DemonstrationEpisode[] = [];
  inexpressible = 0;

  constructor(
    readonly observationSize: number,
    readonly maskLength: number,
    readonly actionDims: number,
  ) {}

  /** One step of the episode; `kept` false: its reward counts in the returns, the step is not imitated. */
  step(observation: Float32Array, mask: Uint8Array, action: ArrayLike<number>, reward: number, kept = true): void {
    this.rewards.push(reward);
    this.kept.push(kept);
    if (!kept) return;
    for (const x of observation) this.obs.push(x);
    for (const m of mask) this.masks.push(m);
    for (let d = 0; d < this.actionDims; d++) this.actions.push(action[d] as number);
  }

  /** Ends the episode: the discounted return from each kept step. */
  end(episode: DemonstrationEpisode, gamma: number): void {
    const own = new Array<number>(this.rewards.length);
    let g = 0;
    for (let t = this.rewards.length - 1; t >= 0; t--) {
      g = (this.rewards[t] as number) + gamma * g;
      own[t] = g;
    }
    own.forEach((r, t) => {
      if (this.kept[t]) this.returns.push(r);
    });
    this.rewards = [];
    this.kept = [];
    this.episodes.push(episode);
  }

  finish(): Demonstrations {
    return {
      size: this.returns.length,
      observationSize: this.observationSize,
      maskLength: this.maskLength,
      actionDims: this.actionDims,
      observations: Float32Array.from(this.obs),
      masks: Uint8Array.from(this.masks),
      actions: Int32Array.from(this.actions),
      returns: Float32Array.from(this.returns),
      episodes: this.episodes,
      inexpressible: this.inexpressible,
    };
  }
}

/** Both sets of steps, `a`'s first (DAgger aggregates its rounds). */
export function concatDemonstrations(a: Demonstrations, b: Demonstrations): Demonstrations {
  if (a.observationSize !== b.observationSize || a.maskLength !== b.maskLength || a.actionDims !== b.actionDims)
    throw new RangeError('concatDemonstrations: the two sets have different shapes');
  const join = <T extends Float32Array | Uint8Array | Int32Array>(x: T, y: T, make: (n: number) => T): T => {
    const out = make(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  return {
    size: a.size + b.size,
    observationSize: a.observationSize,
    maskLength: a.maskLength,
    actionDims: a.actionDims,
    observations: join(a.observations, b.observations, (n) => new Float32Array(n)),
    masks: join(a.masks, b.masks, (n) => new Uint8Array(n)),
    actions: join(a.actions, b.actions, (n) => new Int32Array(n)),
    returns: join(a.returns, b.returns, (n) => new Float32Array(n)),
    episodes: [...a.episodes, ...b.episodes],
    inexpressible: a.inexpressible + b.inexpressible,
  };
}

/** Plays `agent` for `episodesPerTask` episodes of every task; the steps a policy should imitate. */
export function collectDemonstrations(req: DemonstrationRequest): Demonstrations {
  if (!(req.gamma >= 0 && req.gamma <= 1)) throw new RangeError(`gamma must be in [0, 1] (got ${req.gamma})`);
  return req.family === 'gov-workflow' ? govDemonstrations(req) : helixDemonstrations(req);
}

function govDemonstrations(req: DemonstrationRequest): Demonstrations {
  const opts = govEnvOptions(req.envOptions);
  const config = {
    ...(opts.variant !== undefined ? { variant: opts.variant } : {}),
    ...(opts.maxNonAdvanceStreak !== undefined ? { maxNonAdvanceStreak: opts.maxNonAdvanceStreak } : {}),
    ...(opts.adapter !== undefined ? { adapter: opts.adapter } : {}),
    ...(opts.reward !== undefined ? { reward: opts.reward } : {}),
  };
  let recorder: Recorder | null = null;
  for (const task of req.tasks) {
    const env = new GovWorkflowRlEnv({ ...config, taskId: task });
    const view = new GovAgentView(env.inner, config);
    recorder ??= new Recorder(env.observationSpace.shape[0] as number, env.table.size, 1);
    const agent = createGovAgent(req.agent);
    const labeller = demonstrator<GovAgentInput, GovAction>(agent);
    for (let k = 0; k < req.episodesPerTask; k++) {
      const seed = episodeSeed(req, task, k);
      env.reset({ seed });
      view.begin(seed);
      agent.reset(seed);
      let total = 0;
      let steps = 0;
      for (;;) {
        const observation = env.observe();
        const mask = env.actionMasks();
        const label = env.table.encode(req.learner ? labeller.label(view) : agent.act(view), env.inner, mask);
        const keep = label >= 0;
        if (!keep) recorder.inexpressible++;
        let index = keep ? label : ADVANCE_INDEX;
        if (req.learner) {
          index = req.learner.act(observation, mask)[0] as number;
          labeller.observe(env.decode(index), view);
        }
        const r = env.step(index);
        recorder.step(observation, mask, [label], r.reward, keep);
        view.record(r.info.action, r.info.invalid_action);
        total += r.reward;
        steps++;
        if (r.terminated || r.truncated) break;
      }
      recorder.end({ task, seed, score: env.grade().score, return: total, steps }, req.gamma);
    }
  }
  if (!recorder) throw new RangeError('collectDemonstrations: no tasks');
  return recorder.finish();
}

function helixDemonstrations(req: DemonstrationRequest): Demonstrations {
  const opts = helixEnvOptions(req.envOptions);
  let recorder: Recorder | null = null;
  for (const task of req.tasks) {
    const env = new HelixTaskEnv(task, opts.config ?? {}, opts.reward);
    const view = new HelixTaskView(env);
    const nvec = env.actionSpace.nvec;
    recorder ??= new Recorder(env.observationSpace.shape[0] as number, view.mask.length, nvec.length);
    const agent = createHelixAgent(req.agent);
    const labeller = demonstrator<HelixAgentInput, Int32Array>(agent);
    for (let k = 0; k < req.episodesPerTask; k++) {
      const seed = episodeSeed(req, task, k);
      view.begin(seed, env.reset({ seed }).observation);
      agent.reset(seed);
      let total = 0;
      let steps = 0;
      for (;;) {
        const observation = view.observation.slice();
        const label = req.learner ? labeller.label(view) : agent.act(view);
        let action: ArrayLike<number> = label;
        if (req.learner) {
          action = Int32Array.from(req.learner.act(observation, view.mask));
          labeller.observe(action as Int32Array, view);
        }
        const r = env.step(action as Int32Array);
        recorder.step(observation, view.mask, label, r.reward);
        view.record(r.observation);
        total += r.reward;
        steps++;
        if (r.terminated || r.truncated) break;
      }
      recorder.end({ task, seed, score: env.grade().score, return: total, steps }, req.gamma);
    }
  }
  if (!recorder) throw new RangeError('collectDemonstrations: no tasks');
  return recorder.finish();
}
