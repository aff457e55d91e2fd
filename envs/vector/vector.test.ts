import { describe, expect, it } from 'vitest';
import { HelixRuleAgent } from '../../agents/helixdesk-rule.js';
import { runHelixTask } from '../../agents/run-helixdesk.js';
import { UnknownIdError } from '../core/errors.js';
import { GovWorkflowRlEnv } from '../gov-workflow/adapter/rl-env.js';
import { HelixDeskEnv } from '../helixdesk/env.js';
import { envIds, resolveEnv } from '../registry.js';
import './faulty-env.fixture.js';
import type { HelixAgentInput } from '../../agents/types.js';
import { fingerprintRollout } from './rollout-hash.js';
import { memberSeed } from './slice.js';
import { SyncVectorEnv } from './sync.js';
import type { VectorEnv } from './vector-env.js';
import { VectorEnvError } from './vector-env.js';
import { WorkerVectorEnv } from './workers.js';

/** What a HelixDesk agent acts on, for an observation of `env`. */
function inputOf(env: HelixDeskEnv, observation: Float32Array): HelixAgentInput {
  const nvec = [...env.actionSpace.nvec];
  return { observation, mask: new Uint8Array(nvec.reduce((a, b) => a + b, 0)).fill(1), nvec };
}

const FIXTURE = new URL('./faulty-env.fixture.ts', import.meta.url).href;

/** The rollout fingerprint, reduced to what must agree across implementations. */
async function hashRollout(
  vec: VectorEnv,
  seed: number,
  steps: number,
): Promise<{ hash: string; episodes: number; scores: (number | null)[] }> {
  const f = await fingerprintRollout(vec, seed, steps);
  return { hash: f.hash, episodes: f.episodes.length, scores: f.episodes.map((e) => e.score) };
}

describe('sync and worker vector envs agree bit for bit, whatever the worker count', () => {
  it.each([
    ['gov-workflow/mixed_urgency_medium', 7, 160],
    ['helixdesk/easy', 6, 120],
  ])('%s, %i envs', async (id, n, steps) => {
    const sync = await hashRollout(new SyncVectorEnv(id, n), 3, steps);
    expect(sync.episodes).toBeGreaterThan(0);
    for (const workers of [1, 2, 4]) {
      const vec = await WorkerVectorEnv.create(id, n, { workers });
      try {
        expect(await hashRollout(vec, 3, steps)).toEqual(sync);
      } finally {
        await vec.close();
      }
    }
    expect((await hashRollout(new SyncVectorEnv(id, n), 4, steps)).hash).not.toBe(sync.hash);
  });
});

describe('same-step autoreset', () => {
  it(
    'a finished HelixDesk easy episode: final observation, truncation, return, length and score match a ' +
      'single env',
    async () => {
      const vec = new SyncVectorEnv('helixdesk/easy', 3);
      const agent = new HelixRuleAgent();
      let r = await vec.reset(11);
      // Replay env 1 alone with the same seed and the same (rule-agent) actions.
      const single = new HelixDeskEnv();
      let obs = single.reset({ seed: memberSeed(11, 1) }).observation;
      let total = 0;
      for (let t = 1; t <= 20; t++) {
        for (let i = 0; i < 3; i++)
          vec.actionBuffer.set(agent.act(inputOf(single, r.observations.subarray(i * 42, (i + 1) * 42))), i * 4);
        const action = agent.act(inputOf(single, obs));
        expect([...vec.actionBuffer.subarray(4, 8)]).toEqual([...action]);
        const s = await vec.step();
        const one = single.step(action);
        total += one.reward;
        obs = one.observation;
        if (t < 20) {
          expect([...s.observations.subarray(42, 84)]).toEqual([...obs]);
          expect(s.episodes).toEqual([]);
        } else {
          expect([s.terminated[1], s.truncated[1]]).toEqual([0, 1]); // a task time limit, not a terminal state
          expect([...s.finalObservations.subarray(42, 84)]).toEqual([...obs]);
          // reset inside the step
          expect([...s.observations.subarray(42, 84)]).toEqual([...single.reset().observation]);
          const ep = s.episodes.find((e) => e.envIndex === 1);
          expect(ep?.length).toBe(20);
          expect(ep?.return).toBeCloseTo(total, 10);
          expect(ep?.score).toBe((await runHelixTask(new HelixRuleAgent(), 'easy', memberSeed(11, 1))).score);
          expect(ep?.metrics).toHaveProperty('flagged');
          expect(s.episodes.map((e) => e.envIndex)).toEqual([0, 1, 2]);
        }
        r = s;
      }
    },
  );

  it('a Gov Workflow episode ends with the grader score and the masks of the new episode', async () => {
    const vec = new SyncVectorEnv('gov-workflow/district_backlog_easy', 2, { variant: 'reference' });
    await vec.reset(5);
    const single = new GovWorkflowRlEnv({ taskId: 'district_backlog_easy', variant: 'reference' });
    single.reset({ seed: memberSeed(5, 0) });
    for (let t = 0; t < 30; t++) {
      vec.actionBuffer.fill(20); // advance_time everywhere
      const s = await vec.step();
      single.step(20);
      if (t < 29) continue;
      expect(s.truncated[0]).toBe(1);
      const ep = s.episodes[0];
      expect(ep?.score).toBe(single.grade().score);
      expect(ep?.metrics.total_completed).toBe(single.inner.state().total_completed);
      expect([...s.masks.subarray(0, 31)].reduce((a, b) => a + b, 0)).toBe(1); // day 0 of the new episode: only advance
    }
  });
});

describe('failures never hang', () => {
  it('an exception in an env inside a worker names the env index, env id, message and stack', async () => {
    const vec = await WorkerVectorEnv.create('faulty/throw', 6, {
      workers: 3,
      envOptions: { config: { member: 4, step: 3 } },
      setupModules: [FIXTURE],
    });
    try {
      await vec.reset(0);
      await vec.step(new Int32Array(6));
      await vec.step(new Int32Array(6));
      const err = await vec.step(new Int32Array(6)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VectorEnvError);
      expect((err as VectorEnvError).envIndex).toBe(4);
      expect((err as VectorEnvError).message).toMatch(/^env 4 \(faulty\/throw\) failed: injected failure at step 3/);
      expect((err as VectorEnvError).originalStack).toMatch(/faulty-env\.fixture\.ts/);
      await expect(vec.step(new Int32Array(6))).rejects.toThrow(/failed earlier and cannot be used/);
    } finally {
      await vec.close();
    }
  });

  it('the same failure in SyncVectorEnv', async () => {
    const vec = new SyncVectorEnv('faulty/throw', 3, { config: { member: 2, step: 1 } });
    await vec.reset(0);
    await expect(vec.step(new Int32Array(3))).rejects.toThrow(
      /env 2 \(faulty\/throw\) failed: injected failure at step 1/,
    );
    await expect(vec.step(new Int32Array(3))).rejects.toThrow(/failed earlier and cannot be used/);
  });

  it('a worker that dies is detected', async () => {
    const vec = await WorkerVectorEnv.create('faulty/exit', 4, {
      workers: 2,
      envOptions: { config: { member: 3, step: 2 } },
      setupModules: [FIXTURE],
    });
    try {
      await vec.reset(0);
      await vec.step(new Int32Array(4));
      await expect(vec.step(new Int32Array(4))).rejects.toThrow(
        /faulty\/exit: worker 1 \(envs 2–3\) exited unexpectedly \(exit code 7\)/,
      );
    } finally {
      await vec.close();
    }
  });

  it('a worker that stops answering fails the call after the timeout, with a clear message', async () => {
    const vec = await WorkerVectorEnv.create('faulty/hang', 2, {
      workers: 2,
      timeoutMs: 300,
      envOptions: { config: { member: 0, step: 1 } },
      setupModules: [FIXTURE],
    });
    await vec.reset(0);
    const t0 = performance.now();
    await expect(vec.step(new Int32Array(2))).rejects.toThrow(
      /faulty\/hang: worker 0 \(env 0\) did not finish 'step' within 300 ms/,
    );
    expect(performance.now() - t0).toBeLessThan(5000);
    await vec.close(); // terminates the spinning worker
    expect(vec.threads.every((t) => t.threadId === -1)).toBe(true);
  });

  it('close() ends every worker and can be called again', async () => {
    const vec = await WorkerVectorEnv.create('helixdesk/medium', 4, { workers: 2 });
    await vec.reset(1);
    const exits = vec.threads.map((t) => new Promise<number>((resolve) => t.once('exit', resolve)));
    await vec.close();
    expect(await Promise.all(exits)).toEqual([0, 0]);
    await vec.close();
    await expect(vec.step()).rejects.toThrow(/closed/);
  });
});

describe('bad input', () => {
  it('unknown ids list the ids; misplaced options name the option', () => {
    expect(() => resolveEnv('gov-workflow/nope')).toThrow(UnknownIdError);
    expect(() => resolveEnv('gov-workflow/nope')).toThrow(/gov-workflow\/district_backlog_easy, .*helixdesk\/expert/);
    expect(() => resolveEnv('helixdesk/easy', { variant: 'reference' })).toThrow(
      /'options.variant'.*allowed: config, reward for helixdesk/,
    );
    expect(() => resolveEnv('gov-workflow/mixed_urgency_medium', { config: {} })).toThrow(/'options.config'/);
    expect(() => resolveEnv('helixdesk/easy', { colour: 'red' } as never)).toThrow(/'options.colour'/);
    expect(envIds()).toContain('helixdesk/medium');
    // A known family's unknown task is only listed; an unknown family says how families get registered.
    expect(() => resolveEnv('gov-workflow/nope')).not.toThrow(/is not registered/);
    expect(() => resolveEnv('gymworld/cartpole')).toThrow(
      /env family 'gymworld' is not registered; .* register when envs\/registry\.js is imported/,
    );
  });

  it('action counts and call order are checked', async () => {
    const vec = new SyncVectorEnv('helixdesk/medium', 2);
    await expect(vec.step()).rejects.toThrow(/call reset\(seed\) before step\(\)/);
    await vec.reset(0);
    await expect(vec.step([1, 2, 3])).rejects.toThrow(/expected 8 action integers \(2 envs × 4\), got 3/);
    await expect(vec.step([1, 2, 3, 1, 9, 0, 0, 0])).rejects.toThrow(
      /env 1 \(helixdesk\/medium\) failed: .*'action\[0\] \(classify\)' got 9/,
    );
  });
});
