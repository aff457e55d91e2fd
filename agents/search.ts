/**
 * A planning agent for Gov Workflow, the upper reference of the tables (docs/baselines.md#the-search-agent):
 * at every step it tries each allowed action of the RL adapter's table (and the heuristic's own choice)
 * in a simulator restored from a copy of the state, lets the heuristic play each on to the end of the
 * episode (or `horizonDays` days), and takes the action with the best grader score; ties go to the
 * heuristic's choice, then to the lower index. The heuristic's memory (priority set, the day's
 * administrative action, the last document request) follows the actions actually taken, so the
 * rollouts continue the episode as the heuristic would. Deterministic; it never steps the real env.
 */

import { deriveSeed } from '../envs/core/random/streams.js';
import type { GovAction } from '../envs/gov-workflow/actions.js';
import type { GovAdapterVersion } from '../envs/gov-workflow/adapter/action-table.js';
import type { GovStateCopy } from '../envs/gov-workflow/adapter/agent-view.js';
import { GovAgentView } from '../envs/gov-workflow/adapter/agent-view.js';
import { restoreTrace } from '../envs/gov-workflow/adapter/trace.js';
import { GovWorkflowEnv } from '../envs/gov-workflow/env.js';
import type { ActionType } from '../envs/gov-workflow/types.js';
import { HeuristicAgent } from './gov-rules.js';
import type { GovAgent, GovAgentInput } from './types.js';

export interface SearchAgentOptions {
  /** Days each rollout plays before its score is read (default: to the end of the episode). */
  horizonDays?: number;
  /** The action table whose allowed actions are tried (default v1: fewer officer moves, cheaper). */
  candidates?: GovAdapterVersion;
  /** Only these action types are tried besides the heuristic's choice (default: all). */
  actionTypes?: readonly ActionType[];
  /**
   * What the rollouts know of the future: `known` continues the env's own random stream (the state copy
   * holds it: the rollouts see the arrivals to come — a clairvoyant bound); a number n > 0 plays each
   * candidate n times with freshly seeded futures (the same n futures for every candidate) and averages.
   */
  futures?: 'known' | number;
}

export class SearchAgent implements GovAgent {
  /** `search` (known futures) or `search-sampled` (freshly seeded futures). */
  readonly name: string;
  private readonly horizonDays: number;
  private readonly candidates: GovAdapterVersion;
  private readonly actionTypes: ReadonlySet<ActionType> | null;
  private readonly futures: 'known' | number;
  private memory = new HeuristicAgent();
  private sim: GovWorkflowEnv | null = null;
  private view: GovAgentView | null = null;
  /** Env steps simulated so far (the cost of planning). */
  simulatedSteps = 0;

  constructor(options: SearchAgentOptions = {}) {
    this.horizonDays = options.horizonDays ?? Number.POSITIVE_INFINITY;
    this.candidates = options.candidates ?? 'v1';
    this.actionTypes = options.actionTypes ? new Set(options.actionTypes) : null;
    this.futures = options.futures ?? 'known';
    this.name = this.futures === 'known' ? 'search' : 'search-sampled';
    if (this.futures !== 'known' && !(Number.isInteger(this.futures) && this.futures > 0))
      throw new RangeError(`futures must be 'known' or a positive integer (got ${this.futures})`);
    if (!(this.horizonDays > 0)) throw new RangeError(`horizonDays must be > 0 (got ${this.horizonDays})`);
  }

  reset(): void {
    this.memory = new HeuristicAgent();
  }

  /** The action act() would take, without remembering it. */
  label(input: GovAgentInput): GovAction {
    return this.plan(input).action;
  }

  observe(action: GovAction, input: GovAgentInput): void {
    this.memory.note(action, input.observation.day);
  }

  act(input: GovAgentInput): GovAction {
    const { action, day } = this.plan(input);
    this.memory.note(action, day);
    return action;
  }

  private plan(input: GovAgentInput): { action: GovAction; day: number } {
    if (!input.snapshot) throw new Error('the search agent plans by simulation: its input must offer snapshot()');
    const state = input.snapshot();
    const { sim, view } = this.simulator(input.task, state);
    const own = this.memory.clone().act(input);
    const day = state.env.episode.counters.day;
    const candidates = [own, ...this.allowedActions(state, view)];
    let best = own;
    let bestScore = Number.NEGATIVE_INFINITY;
    const futures = this.futures === 'known' ? [null] : Array.from({ length: this.futures }, (_, k) => k);
    const steps = state.env.episode.counters.totalSteps;
    for (const candidate of candidates) {
      let score = 0;
      for (const k of futures) {
        // Common random numbers: future k of this decision is the same for every candidate.
        const reseed = k === null ? null : deriveSeed(state.env.episode.seed, 'search-future', steps, k);
        score += this.rollout(sim, view, state, candidate, day, reseed);
      }
      score /= futures.length;
      if (score > bestScore) {
        bestScore = score;
        best = candidate;
      }
    }
    return { action: best, day };
  }

  private simulator(task: string, state: GovStateCopy): { sim: GovWorkflowEnv; view: GovAgentView } {
    if (this.sim === null || this.sim.variant !== state.env.variant) {
      this.sim = new GovWorkflowEnv({ taskId: task, variant: state.env.variant });
      this.view = new GovAgentView(this.sim, { adapter: this.candidates });
    }
    return { sim: this.sim, view: this.view as GovAgentView };
  }

  /** The allowed actions of the candidate table in this state. */
  private allowedActions(state: GovStateCopy, view: GovAgentView): GovAction[] {
    this.load(view, state);
    const out: GovAction[] = [];
    const mask = view.mask;
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] !== 1 || (this.actionTypes && !this.actionTypes.has(view.table.actionTypeOf(i)))) continue;
      out.push(view.actionAt(i));
    }
    return out;
  }

  private load(view: GovAgentView, state: GovStateCopy): void {
    view.env.restore(state.env);
    view.begin(state.env.episode.seed);
    restoreTrace(view.trace, state.trace);
  }

  /** `first` from the state, then the heuristic (with the memory it would have) to the horizon; the score. */
  private rollout(
    sim: GovWorkflowEnv,
    view: GovAgentView,
    state: GovStateCopy,
    first: GovAction,
    day: number,
    reseed: number | null,
  ): number {
    this.load(view, state);
    if (reseed !== null) sim.current.rng.seed(reseed);
    const heuristic = this.memory.clone();
    heuristic.note(first, day);
    const endDay = day + this.horizonDays;
    let action = first;
    for (;;) {
      const step = sim.step(action);
      this.simulatedSteps++;
      view.record(action, step.info.invalid_action);
      if (step.terminated || step.truncated || sim.current.counters.day >= endDay) return sim.grade().score;
      action = heuristic.act(view);
    }
  }
}
