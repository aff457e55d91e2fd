/**
 * The masked-random agent: a uniform choice among the RL adapter's allowed actions (action-table.ts),
 * decoded into the env's JSON action. Its stream is derived from the episode seed, so a baseline run
 * is reproducible: seedrandom key `queue-rl/<seed>/agent/random`.
 */
import { createStream } from '../envs/core/random/streams.js';
import type { RandomStream } from '../envs/core/random/streams.js';
import type { GovAction } from '../envs/gov-workflow/actions.js';
import {
  ADVANCE_INDEX,
  computeActionMask,
  decodeAction,
  DEFAULT_MAX_NON_ADVANCE_STREAK,
  N_ACTIONS,
} from '../envs/gov-workflow/adapter/action-table.js';
import type { GovWorkflowEnv } from '../envs/gov-workflow/env.js';
import type { GovAgent } from './types.js';

export class MaskedRandomAgent implements GovAgent {
  readonly name = 'random';
  private rng: RandomStream = createStream(0, 'agent', 'random');
  private streak = 0;
  private readonly mask = new Uint8Array(N_ACTIONS);

  constructor(private readonly maxNonAdvanceStreak = DEFAULT_MAX_NON_ADVANCE_STREAK) {}

  reset(seed: number): void {
    this.rng = createStream(seed, 'agent', 'random');
    this.streak = 0;
  }

  act(_observation: unknown, env: GovWorkflowEnv): GovAction {
    const mask = computeActionMask(env, this.streak, this.maxNonAdvanceStreak, this.mask);
    let allowed = 0;
    for (const m of mask) allowed += m;
    let k = this.rng.int(allowed);
    let index = ADVANCE_INDEX;
    for (let i = 0; i < N_ACTIONS; i++) {
      if (mask[i] === 1 && k-- === 0) {
        index = i;
        break;
      }
    }
    this.streak = index === ADVANCE_INDEX ? 0 : this.streak + 1;
    return decodeAction(index, env);
  }
}
