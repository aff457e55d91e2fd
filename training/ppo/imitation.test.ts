import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collectDemonstrations } from '../../agents/demonstrations.js';
import { initBackend } from '../../agents/policy/backend.js';
import { ActorCriticPolicy } from '../../agents/policy/policy.js';
import { createStream } from '../../envs/core/random/streams.js';
import { resolveEnv } from '../../envs/registry.js';
import { runBaselines } from '../baselines.js';
import { evaluatePolicy } from '../evaluation.js';
import { loadCheckpoint } from './checkpoint.js';
import { parsePpoConfig } from './config.js';
import { cloneBehaviour } from './imitation.js';
import { anchorKlGrad } from './losses.js';
import type { MetricRow } from './ppo.js';
import { trainPpo } from './ppo.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'queue-rl-imitation-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const quiet = (): void => undefined;
const GOV_V2 = { variant: 'corrected', adapter: 'v2', reward: { mode: 'grader', graderScale: 100 } };
const GOV_V3 = { ...GOV_V2, adapter: 'v3' };
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('demonstrations', () => {
  it('keep what the policy sees and does; with the grader reward and γ = 1 the first return is 100 × the score', () => {
    const demos = collectDemonstrations({
      family: 'gov-workflow',
      tasks: ['district_backlog_easy'],
      envOptions: GOV_V2,
      agent: 'heuristic',
      episodesPerTask: 2,
      seed: 3,
      gamma: 1,
    });
    expect(demos.episodes).toHaveLength(2);
    expect(demos.observationSize).toBe(166);
    expect(demos.maskLength).toBe(79);
    expect(demos.inexpressible).toBe(0);
    expect(demos.size).toBe(demos.episodes.reduce((a, e) => a + e.steps, 0));
    expect(demos.returns[0]).toBeCloseTo(100 * (demos.episodes[0]?.score ?? Number.NaN), 3);
    for (let i = 0; i < demos.size; i++) expect(demos.masks[i * 79 + (demos.actions[i] as number)]).toBe(1);
    // The seeds derive from the run seed: another seed, other episodes; the same seed, the same ones.
    const again = collectDemonstrations({ ...baseRequest(), seed: 3 });
    expect(again.observations).toEqual(demos.observations);
    expect(collectDemonstrations({ ...baseRequest(), seed: 4 }).episodes[0]?.seed).not.toBe(demos.episodes[0]?.seed);
  });

  it('counts actions the table cannot say (invalid ones) and keeps their rewards in the returns', () => {
    const demos = collectDemonstrations({
      family: 'gov-workflow',
      tasks: ['mixed_urgency_medium'],
      envOptions: { adapter: 'v1' },
      agent: 'urgent_first',
      episodesPerTask: 1,
      seed: 0,
      gamma: 0.5,
    });
    expect(demos.inexpressible).toBeGreaterThan(0);
    expect(demos.size).toBe((demos.episodes[0]?.steps ?? 0) - demos.inexpressible);
  });

  it('rejects a gamma outside [0, 1] and an unknown agent', () => {
    expect(() => collectDemonstrations({ ...baseRequest(), gamma: 1.5 })).toThrow(/gamma must be in \[0, 1\]/);
    expect(() => collectDemonstrations({ ...baseRequest(), gamma: Number.NaN })).toThrow(/gamma/);
    expect(() => collectDemonstrations({ ...baseRequest(), agent: 'oracle' })).toThrow(/oracle.*heuristic/);
  });

  function baseRequest() {
    return {
      family: 'gov-workflow' as const,
      tasks: ['district_backlog_easy'],
      envOptions: GOV_V2,
      agent: 'heuristic',
      episodesPerTask: 2,
      seed: 3,
      gamma: 1,
    };
  }
});

describe('behaviour cloning', () => {
  it('reaches the rule agents on a small budget (Gov heuristic; HelixDesk rule), reproducibly', async () => {
    await initBackend('cpu');
    const gov = resolveEnv('gov-workflow/mixed_urgency_medium', GOV_V2);
    const demos = collectDemonstrations({
      family: 'gov-workflow',
      tasks: ['mixed_urgency_medium'],
      envOptions: GOV_V2,
      agent: 'heuristic',
      episodesPerTask: 8,
      seed: 1,
      gamma: 1,
    });
    const spec = {
      shape: { observationSize: gov.observationSize, nvec: [gov.maskLength] },
      arch: { pi: [64, 64], vf: [64, 64] },
      activation: 'tanh' as const,
      normalizeObservations: null,
    };
    const settings = { epochs: 25, batchSize: 128, learningRate: 3e-3, valuePretrain: true, adam: ADAM };
    const train = (): ActorCriticPolicy => {
      const p = new ActorCriticPolicy(spec, initial(spec));
      cloneBehaviour(p, demos, settings, createStream(1, 'bc'));
      return p;
    };
    const policy = train();
    const twin = train();
    expect(twin.parameters).toEqual(policy.parameters);
    const seeds = [100, 101, 102, 103, 104];
    const cloned = await evaluatePolicy(policy, 'gov-workflow/mixed_urgency_medium', GOV_V2, seeds);
    const rule = await runBaselines('gov-workflow', ['mixed_urgency_medium'], ['heuristic'], seeds);
    expect(mean(cloned.map((r) => r.score))).toBeGreaterThan(mean(rule.map((r) => r.score)) - 0.003);

    const helixOptions = { reward: { mode: 'grader' } };
    const helix = resolveEnv('helixdesk/easy', helixOptions);
    const hDemos = collectDemonstrations({
      family: 'helixdesk',
      tasks: ['easy'],
      envOptions: helixOptions,
      agent: 'rule',
      episodesPerTask: 100,
      seed: 1,
      gamma: 1,
    });
    const hSpec = { ...spec, shape: { observationSize: helix.observationSize, nvec: [3, 4, 6, 3] } };
    const hPolicy = new ActorCriticPolicy(hSpec, initial(hSpec));
    const epochs = cloneBehaviour(hPolicy, hDemos, { ...settings, epochs: 60 }, createStream(2, 'bc'));
    expect(epochs[epochs.length - 1]?.accuracy).toBeGreaterThan(epochs[0]?.accuracy ?? 1);
    const hScores = await evaluatePolicy(hPolicy, 'helixdesk/easy', helixOptions, seeds);
    expect(mean(hScores.map((r) => r.score))).toBeGreaterThanOrEqual(0.99);
    policy.dispose();
    twin.dispose();
    hPolicy.dispose();
  }, 120_000);

  it('rejects demonstrations that do not fit the policy, or none', () => {
    const spec = {
      shape: { observationSize: 4, nvec: [3] },
      arch: { pi: [4], vf: [4] },
      activation: 'tanh' as const,
      normalizeObservations: null,
    };
    const policy = new ActorCriticPolicy(spec);
    const demos = {
      size: 0,
      observationSize: 4,
      maskLength: 3,
      actionDims: 1,
      observations: new Float32Array(0),
      masks: new Uint8Array(0),
      actions: new Int32Array(0),
      returns: new Float32Array(0),
      episodes: [],
      inexpressible: 0,
    };
    const settings = { epochs: 1, batchSize: 4, learningRate: 1e-3, valuePretrain: false, adam: ADAM };
    expect(() => cloneBehaviour(policy, demos, settings, createStream(0, 'x'))).toThrow(/hold no step/);
    expect(() => cloneBehaviour(policy, { ...demos, size: 1, maskLength: 5 }, settings, createStream(0, 'x'))).toThrow(
      /demonstrations of 4 features and 5 logits, the policy has 4 and 3/,
    );
    policy.dispose();
  });
});

describe('the KL penalty toward the warm start', () => {
  it('its gradient is coef/B × (p − p_warm) per allowed logit, zero at the warm start, none for masked ones', () => {
    const nvec = [3, 2];
    const logits = Float32Array.of(0.3, -1.2, 2, 0.5, -0.5, 1, 1, -3, 0.25, 0);
    const anchor = Float32Array.of(-0.7, 0.4, 1, 0, 0.2, 2, -1, 0.5, 0.25, 0);
    const masks = Uint8Array.of(1, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const kl = (l: Float32Array): number => anchorKlGrad(nvec, l, anchor, masks, 2, 1, new Float32Array(10));
    const d = new Float32Array(10);
    const value = anchorKlGrad(nvec, logits, anchor, masks, 2, 0.5, d);
    expect(value).toBeGreaterThan(0);
    expect(d[1]).toBe(0);
    for (let k = 0; k < 10; k++) {
      if (masks[k] === 0) continue;
      const h = 1e-3;
      const up = logits.slice();
      up[k] = (up[k] as number) + h;
      const down = logits.slice();
      down[k] = (down[k] as number) - h;
      expect(d[k]).toBeCloseTo((0.5 * (kl(up) - kl(down))) / (2 * h), 4);
    }
    expect(anchorKlGrad(nvec, anchor, anchor, masks, 2, 1, new Float32Array(10))).toBeCloseTo(0, 12);
  });
});

describe('warm-started runs', () => {
  const config = (over: Record<string, unknown> = {}) =>
    parsePpoConfig({
      env: { id: 'gov-workflow/cross_department_hard', options: GOV_V3 },
      seed: 2,
      n_envs: 2,
      n_steps: 64,
      batch_size: 32,
      n_epochs: 2,
      total_timesteps: 512,
      gamma: 1,
      net_arch: { pi: [16], vf: [16] },
      init_from_agent: 'heuristic',
      imitation: { episodes: 2, epochs: 3, batch_size: 32, dagger_rounds: 1, entropy_coef: 0.2 },
      init_kl: { coef: 0.2, decay: 'linear' },
      eval: { freq: 256, seeds: [9] },
      checkpoint: { freq: 0 },
      update_threads: 1,
      backend: 'cpu',
      ...over,
    });

  it('log the imitation, save the warm start, and resume bit for bit with the KL anchor', async () => {
    const a = tempDir();
    const full = await trainPpo({
      config: config(),
      resultsDir: join(a, 'r'),
      checkpointDir: join(a, 'c'),
      log: quiet,
    });
    const csv = readFileSync(join(a, 'r', 'imitation.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(csv[0]).toBe(
      'imitation/round,imitation/epoch,imitation/samples,imitation/loss,imitation/accuracy,imitation/value_loss',
    );
    expect(csv).toHaveLength(1 + 2 * 3); // two rounds (cloning, one DAgger round) of three epochs
    const warm = loadCheckpoint(join(a, 'c', 'warm-start'));
    expect(warm.state.kind).toBe('warm-start');
    expect(warm.state.numTimesteps).toBe(0);
    expect(warm.anchor).toEqual(warm.parameters);
    // The coefficient decays with the progress after each rollout (as the learning rate does): 0.2 → 0.
    expect(full.metrics.map((r) => r['train/kl_coef'])).toEqual([0.15, 0.1, 0.05, 0].map((x) => expect.closeTo(x, 12)));
    expect(full.metrics[1]?.['train/kl_to_warm_start']).toBeGreaterThan(0);
    expect(loadCheckpoint(join(a, 'c', 'final')).anchor).toEqual(warm.parameters);

    const b = tempDir();
    await trainPpo({
      config: config(),
      resultsDir: join(b, 'r'),
      checkpointDir: join(b, 'c'),
      log: quiet,
      stopAt: 256,
    });
    const resumed = await trainPpo({
      config: config(),
      resultsDir: join(b, 'r2'),
      checkpointDir: join(b, 'c'),
      log: quiet,
      resume: join(b, 'c'),
    });
    expect(resumed.parameters).toEqual(full.parameters);
    const keep = (rows: MetricRow[]) =>
      rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('time/'))));
    expect(keep(resumed.metrics)).toEqual(keep(full.metrics));
  }, 60_000);

  it('the same config gives the same run; another reward mode or agent, another one', async () => {
    const run = async (over: Record<string, unknown>) => {
      const d = tempDir();
      return trainPpo({
        config: config({ total_timesteps: 128, eval: { freq: 0, seeds: [9] }, ...over }),
        resultsDir: join(d, 'r'),
        checkpointDir: join(d, 'c'),
        log: quiet,
      });
    };
    const one = await run({});
    expect((await run({})).parameters).toEqual(one.parameters);
    const envReward = await run({ env: { id: 'gov-workflow/cross_department_hard', options: { adapter: 'v3' } } });
    expect(envReward.parameters).not.toEqual(one.parameters);
    const v2 = await run({ env: { id: 'gov-workflow/cross_department_hard', options: GOV_V2 } });
    expect(v2.parameters).not.toEqual(one.parameters); // the masks differ once a document request is open
    expect((await run({ init_from_agent: 'oldest_first' })).parameters).not.toEqual(one.parameters);
  }, 60_000);

  it('refuse a KL penalty without a warm start, and an agent the env does not have', async () => {
    const d = tempDir();
    await expect(
      trainPpo({ config: config({ init_from_agent: null }), resultsDir: join(d, 'r'), checkpointDir: join(d, 'c') }),
    ).rejects.toThrow(/init_kl.coef.*needs a warm start/);
    await expect(
      trainPpo({
        config: config({ init_from_agent: 'oracle' }),
        resultsDir: join(d, 'r'),
        checkpointDir: join(d, 'c'),
        log: quiet,
      }),
    ).rejects.toThrow(/agent.*oracle/);
  });
});

const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-5 };

function initial(spec: ConstructorParameters<typeof ActorCriticPolicy>[0]): Float32Array {
  const p = new ActorCriticPolicy(spec);
  const theta = p.layout.initialize(createStream(0, 'init'), true);
  p.dispose();
  return theta;
}
