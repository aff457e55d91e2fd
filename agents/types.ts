/**
 * The agent contracts: an agent acts on what an observation gives it — never on the env object — so
 * the same agent runs locally, behind the policy server, or as an LLM's fallback.
 */
import type { GovAction } from '../envs/gov-workflow/actions.js';
import type { GovAgentInput } from '../envs/gov-workflow/adapter/agent-view.js';
import type { HelixAgentInput } from '../envs/helixdesk/agent-view.js';

export type { GovAgentInput } from '../envs/gov-workflow/adapter/agent-view.js';
export type { HelixAgentInput } from '../envs/helixdesk/agent-view.js';

/** A policy of the episode runner (run-episode.ts): one action per input, possibly asynchronous (LLMs). */
export interface Policy<Input, Action> {
  readonly name: string;
  /** Start of an episode; `seed` is the episode seed (policies with randomness derive their stream from it). */
  reset(seed: number): void;
  act(input: Input): Action | Promise<Action>;
}

/** A Gov Workflow baseline agent: the JSON observation, the RL mask and the decoded actions in, a JSON action out. */
export interface GovAgent extends Policy<GovAgentInput, GovAction> {
  act(input: GovAgentInput): GovAction;
}

/**
 * An agent that can be asked what it would do without doing it, and told what was done instead:
 * DAgger labels the states a learner visits with the agent's choices while the learner acts.
 * Agents without memory need neither (their act() is already a label).
 */
export interface Demonstrating<Input, Action> {
  /** What the agent would do here; its memory does not change. */
  label(input: Input): Action;
  /** `action` was taken at `input` (by someone else): the agent's memory follows it. */
  observe(action: Action, input: Input): void;
}

export interface HelixAgent extends Policy<HelixAgentInput, Int32Array> {
  act(input: HelixAgentInput): Int32Array;
}

/** What a neural policy acts on: the feature vector and the mask of allowed actions. */
export interface VectorInput {
  readonly observation: Float32Array;
  readonly mask: Uint8Array;
}

/** The per-episode record of baseline and evaluation runs (the `--json` output), for every env. */
export interface EpisodeRecord {
  env: string;
  task: string;
  agent: string;
  seed: number;
  /** The task grader's score in [0, 1]. */
  score: number;
  /** Sum of the step rewards. */
  reward: number;
  steps: number;
  /** The episode summary's metrics (envs/gov-workflow/episode-summary.ts, envs/helixdesk/task-env.ts). */
  metrics: Record<string, number>;
}
