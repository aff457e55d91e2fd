/**
 * Test fixture: an env family `faulty/<throw|exit|hang|ok|construct>` whose member
 * `options.config.member` misbehaves from step `options.config.step` on — throws, ends its worker
 * thread, or spins for 30 s — or, for `construct`, cannot be built at all. Loaded into workers
 * through WorkerVectorEnv's `setupModules` (a real module, not a mock: the failure happens inside a
 * real worker thread).
 */

import type { MemberStep, VecEnvMember } from '../core/member.js';
import { envFamilies, registerEnvFamily } from '../core/registry.js';
import { Discrete } from '../core/spaces.js';

const TASKS = ['throw', 'exit', 'hang', 'ok', 'construct'] as const;

class FaultyMember implements VecEnvMember {
  private t = 0;
  private readonly out: MemberStep = { reward: 0, terminated: false, truncated: false };

  constructor(
    private readonly task: (typeof TASKS)[number],
    private readonly faulty: boolean,
    private readonly atStep: number,
  ) {}

  reset(_seed: number | undefined, observation: Float32Array, mask: Uint8Array): void {
    this.t = 0;
    observation.fill(0);
    mask.fill(1);
  }

  step(action: Int32Array, observation: Float32Array, mask: Uint8Array): MemberStep {
    this.t++;
    if (this.faulty && this.t >= this.atStep) {
      if (this.task === 'throw') throw new Error(`injected failure at step ${this.t}`);
      if (this.task === 'exit') process.exit(7);
      if (this.task === 'hang') {
        const until = Date.now() + 30_000;
        while (Date.now() < until) {
          /* spin */
        }
      }
    }
    observation[0] = this.t / 100;
    observation[1] = action[0] as number;
    mask.fill(1);
    this.out.reward = 1;
    this.out.terminated = this.t >= 10;
    this.out.truncated = false;
    return this.out;
  }

  summarize(): number {
    return Number.NaN;
  }

  snapshot(): { t: number } {
    return { t: this.t };
  }

  restore(state: unknown): void {
    const t = (state as { t?: unknown } | null)?.t;
    if (typeof t !== 'number') throw new TypeError('FaultyMember.restore: expected { t: number }');
    this.t = t;
  }
}

if (!envFamilies().includes('faulty')) {
  registerEnvFamily('faulty', {
    tasks: TASKS,
    module: import.meta.url,
    resolve(task, options) {
      const cfg = (options.config ?? {}) as { member?: number; step?: number };
      return {
        id: `faulty/${task}`,
        module: import.meta.url,
        family: 'faulty',
        task,
        options,
        observationSize: 2,
        actionSpace: new Discrete(2),
        actionDims: 1,
        maskLength: 2,
        graded: false,
        metricNames: [],
        makeMember: (index: number) => {
          if (task === 'construct') throw new Error('injected failure building a member');
          return new FaultyMember(task as (typeof TASKS)[number], index === (cfg.member ?? 0), cfg.step ?? 3);
        },
      };
    },
  });
}
