/**
 * The HelixDesk random agent: each action dimension uniform (gymnasium's MultiDiscrete.sample), from a
 * stream derived from the episode seed (key `queue-rl/<seed>/agent/helixdesk-random`).
 */

import type { RandomStream } from '../envs/core/random/streams.js';
import { createStream } from '../envs/core/random/streams.js';
import type { HelixAgent, HelixAgentInput } from './types.js';

export class HelixRandomAgent implements HelixAgent {
  readonly name = 'random';
  private rng: RandomStream = createStream(0, 'agent', 'helixdesk-random');

  reset(seed: number): void {
    this.rng = createStream(seed, 'agent', 'helixdesk-random');
  }

  act({ nvec }: HelixAgentInput): Int32Array {
    const out = new Int32Array(nvec.length);
    for (let d = 0; d < nvec.length; d++) out[d] = this.rng.int(nvec[d] as number);
    return out;
  }
}
