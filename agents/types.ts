/** The agent contract for Gov Workflow baselines: act on the JSON observation through the public env API. */
import type { GovAction } from '../envs/gov-workflow/actions.js';
import type { GovWorkflowEnv } from '../envs/gov-workflow/env.js';
import type { GovObservation } from '../envs/gov-workflow/observation.js';

export interface GovAgent {
  readonly name: string;
  /** Start of an episode; `seed` is the episode seed (agents with randomness derive their stream from it). */
  reset(seed: number): void;
  /** The next action. `env` may be read (masks, current priority mode), never stepped. */
  act(observation: GovObservation, env: GovWorkflowEnv): GovAction;
}
