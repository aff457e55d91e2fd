/**
 * Test fixture: small env families for PPO tests (real envs behind the registry, not mocks).
 *   toy/bandit   masked contextual bandit: 4 contexts (one-hot observation), Discrete(6); the right
 *                action pays 1, others 0; per context two actions are masked — among them the one
 *                paying 2 — and stepping a masked action throws. One-step episodes (terminated).
 *   toy/multi    the same with MultiDiscrete([3, 4]): each dimension has its own target and masks;
 *                reward = number of dimensions right (0–2).
 *   toy/chain    a time limit: observation [t/5, 1], Discrete(2), reward 1 per step, truncated (never
 *                terminated) after 5 steps — for truncation bootstrapping.
 * Contexts come from the member's stream `queue-rl/<seed>/toy`.
 */

import type { MemberStep, VecEnvMember } from '../../envs/core/member.js';
import type { RandomStream, RandomStreamState } from '../../envs/core/random/streams.js';
import { createStream, restoreStream } from '../../envs/core/random/streams.js';
import { Discrete, MultiDiscrete } from '../../envs/core/spaces.js';
import { envFamilies, registerEnvFamily } from '../../envs/registry.js';

export const CONTEXTS = 4;
/** Right action per context and dimension, and masked actions (the first one would pay 2 if allowed). */
export const BANDIT = {
  target: [1, 4, 0, 3],
  masked: [
    [2, 5],
    [0, 1],
    [3, 4],
    [1, 2],
  ],
} as const;
export const MULTI = {
  nvec: [3, 4],
  target: [
    [0, 3],
    [2, 1],
    [1, 0],
    [2, 2],
  ],
  masked: [
    [[1], [0]],
    [[0], [3]],
    [[2], [1]],
    [[1], [0, 3]],
  ],
} as const;

class BanditMember implements VecEnvMember {
  private rng: RandomStream | null = null;
  private context = 0;
  private readonly out: MemberStep = { reward: 0, terminated: true, truncated: false };

  constructor(private readonly multi: boolean) {}

  reset(seed: number | undefined, observation: Float32Array, mask: Uint8Array): void {
    if (seed !== undefined) this.rng = createStream(seed, 'toy');
    if (!this.rng) throw new Error('toy: first reset needs a seed');
    this.context = this.rng.int(CONTEXTS);
    this.observe(observation, mask);
  }

  step(action: Int32Array, observation: Float32Array, mask: Uint8Array): MemberStep {
    const c = this.context;
    let reward = 0;
    if (this.multi) {
      MULTI.nvec.forEach((_, d) => {
        const a = action[d] as number;
        if (((MULTI.masked[c]?.[d] ?? []) as readonly number[]).includes(a))
          throw new Error(`toy/multi: masked action ${a} in dimension ${d} (context ${c})`);
        if (a === MULTI.target[c]?.[d]) reward += 1;
      });
    } else {
      const a = action[0] as number;
      if ((BANDIT.masked[c] as readonly number[]).includes(a))
        throw new Error(`toy/bandit: masked action ${a} (context ${c})`);
      reward = a === BANDIT.target[c] ? 1 : 0;
    }
    this.out.reward = reward;
    this.observe(observation, mask); // the final observation: same context
    return this.out;
  }

  summarize(): number {
    return Number.NaN;
  }

  snapshot(): { rng: RandomStreamState | null; context: number } {
    return { rng: this.rng ? this.rng.state() : null, context: this.context };
  }

  restore(state: unknown): void {
    const s = state as { rng: RandomStreamState | null; context: number };
    this.rng = s.rng ? restoreStream(s.rng) : null;
    this.context = s.context;
  }

  private observe(observation: Float32Array, mask: Uint8Array): void {
    observation.fill(0);
    observation[this.context] = 1;
    mask.fill(1);
    if (this.multi) {
      let off = 0;
      MULTI.nvec.forEach((n, d) => {
        for (const a of MULTI.masked[this.context]?.[d] ?? []) mask[off + a] = 0;
        off += n;
      });
    } else {
      for (const a of BANDIT.masked[this.context] as readonly number[]) mask[a] = 0;
    }
  }
}

export const CHAIN_LENGTH = 5;

class ChainMember implements VecEnvMember {
  private t = 0;
  private readonly out: MemberStep = { reward: 1, terminated: false, truncated: false };

  reset(_seed: number | undefined, observation: Float32Array, mask: Uint8Array): void {
    this.t = 0;
    this.observe(observation, mask);
  }

  step(_action: Int32Array, observation: Float32Array, mask: Uint8Array): MemberStep {
    this.t++;
    this.out.truncated = this.t >= CHAIN_LENGTH;
    this.observe(observation, mask);
    return this.out;
  }

  summarize(): number {
    return Number.NaN;
  }

  snapshot(): { t: number } {
    return { t: this.t };
  }

  restore(state: unknown): void {
    this.t = (state as { t: number }).t;
  }

  private observe(observation: Float32Array, mask: Uint8Array): void {
    observation[0] = this.t / CHAIN_LENGTH;
    observation[1] = 1;
    mask.fill(1);
  }
}

if (!envFamilies().includes('toy')) {
  registerEnvFamily('toy', {
    tasks: ['bandit', 'multi', 'chain'],
    module: import.meta.url,
    resolve(task, options) {
      const multi = task === 'multi';
      const chain = task === 'chain';
      const space = multi ? new MultiDiscrete([...MULTI.nvec]) : new Discrete(chain ? 2 : 6);
      return {
        id: `toy/${task}`,
        family: 'toy',
        task,
        options,
        module: import.meta.url,
        observationSize: chain ? 2 : CONTEXTS,
        actionSpace: space,
        actionDims: multi ? 2 : 1,
        maskLength: multi ? 7 : chain ? 2 : 6,
        graded: false,
        metricNames: [],
        makeMember: () => (chain ? new ChainMember() : new BanditMember(multi)),
      };
    },
  });
}
