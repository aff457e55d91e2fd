/** The agent contract for Gov Workflow baselines: act on the JSON observation through the public env API. */
import type { GovAction } from '../envs/gov-workflow/actions.js';
import type { GovWorkflowEnv } from '../envs/gov-workflow/env.js';
import type { GovObservation } from '../envs/gov-workflow/observation.js';
import type { HelixDeskEnv } from '../envs/helixdesk/env.js';

export interface GovAgent {
  readonly name: string;
  /** Start of an episode; `seed` is the episode seed (agents with randomness derive their stream from it). */
  reset(seed: number): void;
  /** The next action. `env` may be read (masks, current priority mode), never stepped. */
  act(observation: GovObservation, env: GovWorkflowEnv): GovAction;
}

/** The agent contract for HelixDesk: act on the observation vector (the env may be read, never stepped). */
export interface HelixAgent {
  readonly name: string;
  reset(seed: number): void;
  act(observation: Float32Array, env: HelixDeskEnv): Int32Array;
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
  /** Grader metrics plus the env's episode totals. */
  metrics: Record<string, number>;
}
