/**
 * The masked-random agent: a uniform choice among the RL adapter's allowed actions (the input's
 * mask), decoded into the env's JSON action. Its stream is derived from the episode seed, so a baseline run
 * is reproducible: seedrandom key `queue-rl/<seed>/agent/random`.
 */

import type { RandomStream } from '../envs/core/random/streams.js';
import { createStream } from '../envs/core/random/streams.js';
import type { GovAction } from '../envs/gov-workflow/actions.js';
import { ADVANCE_INDEX } from '../envs/gov-workflow/adapter/action-table.js';
import type { GovAgent, GovAgentInput } from './types.js';

export class MaskedRandomAgent implements GovAgent {
  readonly name = 'random';
  private rng: RandomStream = createStream(0, 'agent', 'random');

  reset(seed: number): void {
    this.rng = createStream(seed, 'agent', 'random');
  }

  act(input: GovAgentInput): GovAction {
    const mask = input.mask;
    let allowed = 0;
    for (const m of mask) allowed += m;
    let k = this.rng.int(allowed);
    let index = ADVANCE_INDEX;
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] === 1 && k-- === 0) {
        index = i;
        break;
      }
    }
    return input.actionAt(index);
  }
}
