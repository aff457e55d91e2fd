import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { ActorCriticPolicy } from '../../agents/policy/policy.js';
import { InvalidConfigError } from '../../envs/core/errors.js';
import { evaluatePolicy } from '../evaluation.js';
import { loadCheckpoint } from './checkpoint.js';
import type { PpoConfigInput } from './config.js';
import { applyOverrides, loadPpoConfig, parsePpoConfig } from './config.js';
import type { MetricRow } from './ppo.js';
import { policySpecFor, trainPpo } from './ppo.js';
import { RewardNormalizer } from './reward-normalizer.js';
import { RolloutBuffer } from './rollout-buffer.js';
import './toy-envs.fixture.js';
import { resolveEnv } from '../../envs/registry.js';
import { BANDIT, CHAIN_LENGTH, MULTI } from './toy-envs.fixture.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'queue-rl-ppo-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const quiet = (): void => undefined;

function toyConfig(over: PpoConfigInput): ReturnType<typeof parsePpoConfig> {
  return parsePpoConfig({
    env: { id: 'toy/bandit', options: {} },
    n_envs: 4,
    n_steps: 32,
    batch_size: 32,
    n_epochs: 4,
    total_timesteps: 128,
    net_arch: { pi: [16], vf: [16] },
    learning_rate: 3e-3,
    update_threads: 1,
    eval: { freq: 0, seeds: [1, 2, 3, 4, 5, 6, 7, 8] },
    checkpoint: { freq: 0 },
    backend: 'cpu',
    ...over,
  });
}

describe('GAE (RolloutBuffer)', () => {
  it('matches a hand computation with a truncation (bootstrapped reward) and a termination', () => {
    // One env, 5 steps: episode A = steps 0–1, truncated after step 1 (its reward already carries
    // γ·V(final obs) = 0.9·2 = 1.8, added by the collector); episode B = steps 2–3, terminated after
    // step 3; episode C starts at step 4 and is still running (bootstrapped with lastValue).
    const gamma = 0.9;
    const lambda = 0.8;
    const buf = new RolloutBuffer(5, 1, 1, 1, 1);
    const rewards = [1, 1 + 1.8, 0.5, 2, -1];
    const values = [0.5, 1.0, 0.2, 0.4, 0.3];
    const starts = [1, 0, 1, 0, 1];
    for (let t = 0; t < 5; t++) {
      buf.store(
        t,
        Float32Array.of(t),
        Int32Array.of(0),
        Uint8Array.of(1),
        Uint8Array.of(starts[t] as number),
        Float32Array.of(values[t] as number),
        Float64Array.of(0),
      );
      buf.storeRewards(t, Float32Array.of(rewards[t] as number));
    }
    const lastValue = 0.7;
    buf.computeReturnsAndAdvantage(Float32Array.of(lastValue), Uint8Array.of(0), gamma, lambda);
    // by hand, backwards
    const f = Math.fround;
    const d4 = f(-1) + gamma * lastValue - f(0.3);
    const a4 = d4;
    const d3 = 2 - f(0.4); // terminal: no bootstrap, no carry
    const a3 = d3;
    const d2 = 0.5 + gamma * f(0.4) - f(0.2);
    const a2 = d2 + gamma * lambda * a3;
    const d1 = f(2.8) - 1.0; // episode end (its bootstrap is inside the reward)
    const a1 = d1;
    const d0 = 1 + gamma * 1.0 - 0.5;
    const a0 = d0 + gamma * lambda * a1;
    const expected = [a0, a1, a2, a3, a4];
    expected.forEach((a, t) => {
      expect(buf.advantages[t]).toBeCloseTo(a, 6);
      expect(buf.returns[t]).toBeCloseTo(a + (values[t] as number), 6);
    });
  });
});

describe('RewardNormalizer', () => {
  it('scales rewards by the running std of the discounted return, clips, and resets returns at episode ends', () => {
    const n = new RewardNormalizer(2, 0.5, 10);
    const out = new Float32Array(2);
    n.normalize(Float32Array.of(2, 4), Uint8Array.of(0, 1), out);
    // returns [2, 4]: batch mean 3, var 1; with the 1e-4 prior count, mean ≈ 3, var ≈ 1
    expect(n.mean).toBeCloseTo(3, 3);
    expect(n.var).toBeCloseTo(1, 3);
    expect(out[0]).toBeCloseTo(2 / Math.sqrt(n.var + 1e-8), 5);
    expect([...n.returns]).toEqual([2, 0]); // env 1's episode ended
    n.normalize(Float32Array.of(1, 1), Uint8Array.of(0, 0), out);
    expect([...n.returns]).toEqual([2 * 0.5 + 1, 1]);
    const big = new RewardNormalizer(1, 0.9, 1.5);
    big.normalize(Float32Array.of(1), Uint8Array.of(0), out);
    big.normalize(Float32Array.of(1000), Uint8Array.of(0), out);
    expect(out[0]).toBe(1.5); // 1000 / std ≈ 2, clipped at 1.5
  });
});

describe('PPO on toy envs', () => {
  it(
    'ratio is exactly 1 and approx_kl exactly 0 on the first minibatch of the first epoch; masks are ' + 're-applied',
    async () => {
      const seen: { iteration: number; epoch: number; index: number; ratioDev: number; kl: number }[] = [];
      const dir = tempDir();
      await trainPpo({
        config: toyConfig({ total_timesteps: 256, n_steps: 16, batch_size: 16, env: { id: 'toy/multi', options: {} } }),
        resultsDir: join(dir, 'r'),
        checkpointDir: join(dir, 'c'),
        log: quiet,
        onMinibatch: ({ iteration, epoch, index, stats }) =>
          seen.push({ iteration, epoch, index, ratioDev: stats.ratioMaxDeviation, kl: stats.approxKl }),
      });
      const firsts = seen.filter((s) => s.epoch === 0 && s.index === 0);
      expect(firsts.length).toBe(4); // one per iteration
      for (const s of firsts) {
        expect(s.ratioDev).toBe(0);
        expect(s.kl).toBe(0);
      }
      // later minibatches do move the policy
      expect(seen.some((s) => s.ratioDev > 0)).toBe(true);
    },
  );

  it('bootstraps truncated episodes from the final observation, never the reset one', async () => {
    const dir = tempDir();
    const gamma = 0.95;
    const checks: number[] = [];
    await trainPpo({
      config: toyConfig({
        env: { id: 'toy/chain', options: {} },
        gamma,
        n_steps: 12,
        total_timesteps: 96,
        batch_size: 16,
      }),
      resultsDir: join(dir, 'r'),
      checkpointDir: join(dir, 'c'),
      log: quiet,
      onRollout: ({ buffer, policy }) => {
        const vFinal = new Float32Array(1);
        policy.predictValues(Float32Array.of(1, 1), 1, vFinal); // the chain's final observation [5/5, 1]
        const vReset = new Float32Array(1);
        policy.predictValues(Float32Array.of(0, 1), 1, vReset);
        expect(Math.abs((vFinal[0] as number) - (vReset[0] as number))).toBeGreaterThan(1e-4);
        for (let k = 0; k < buffer.size; k++) {
          const t = Math.round((buffer.observations[k * 2] as number) * CHAIN_LENGTH);
          if (t === CHAIN_LENGTH - 1) {
            expect(buffer.rewards[k]).toBeCloseTo(1 + gamma * (vFinal[0] as number), 5);
            checks.push(k);
          } else {
            expect(buffer.rewards[k]).toBe(1);
          }
        }
      },
    });
    expect(checks.length).toBeGreaterThan(10);
  });

  for (const envId of ['toy/bandit', 'toy/multi'] as const) {
    it(`solves the masked bandit ${envId} within a fixed budget, never sampling a masked action`, async () => {
      const dir = tempDir();
      const result = await trainPpo({
        config: toyConfig({
          env: { id: envId, options: {} },
          total_timesteps: 3072,
          n_steps: 64,
          batch_size: 64,
          n_epochs: 4,
          ent_coef: 0.0,
        }),
        resultsDir: join(dir, 'r'),
        checkpointDir: join(dir, 'c'),
        log: quiet,
      });
      // The env throws on a masked action, so finishing at all means none was sampled.
      expect(result.numTimesteps).toBe(3072);
      const spec = resolveEnv(envId);
      const policy = new ActorCriticPolicy(
        policySpecFor(toyConfig({ env: { id: envId, options: {} } }), spec),
        result.parameters,
      );
      const records = await evaluatePolicy(
        policy,
        envId,
        {},
        Array.from({ length: 40 }, (_, i) => i),
      );
      const best = envId === 'toy/bandit' ? 1 : MULTI.nvec.length;
      for (const r of records) expect(r.reward).toBe(best);
      const last = result.metrics[result.metrics.length - 1] as MetricRow;
      expect(last['rollout/ep_rew_mean'] as number).toBeGreaterThan(0.9 * best);
      policy.dispose();
      void BANDIT;
    });
  }

  it('keeps tfjs tensor counts flat across iterations', async () => {
    const dir = tempDir();
    const counts: number[] = [];
    await trainPpo({
      config: toyConfig({ total_timesteps: 640, n_steps: 16, batch_size: 16 }),
      resultsDir: join(dir, 'r'),
      checkpointDir: join(dir, 'c'),
      log: quiet,
      onIteration: () => counts.push(tf.memory().numTensors),
    });
    expect(counts.length).toBe(10);
    expect(new Set(counts.slice(1)).size).toBe(1);
  });
});

describe('checkpoints and exact resume', () => {
  for (const backend of ['cpu', 'wasm', 'native'] as const) {
    it(`training 2N steps equals training N, stopping, and resuming for N more, bit for bit (${backend}, ` +
      `gov-workflow)`, async () => {
      const config = parsePpoConfig({
        env: { id: 'gov-workflow/district_backlog_easy', options: {} },
        seed: 5,
        n_envs: 3,
        n_steps: 40,
        batch_size: 30,
        n_epochs: 2,
        total_timesteps: 480,
        net_arch: { pi: [16, 16], vf: [8] },
        ent_coef: 0.01,
        normalize_observations: true,
        normalize_reward: true,
        lr_schedule: 'linear',
        eval: { freq: 240, seeds: [7, 8] },
        checkpoint: { freq: 0 },
        update_threads: 1,
        backend,
      });
      const a = tempDir();
      const full = await trainPpo({ config, resultsDir: join(a, 'r'), checkpointDir: join(a, 'c'), log: quiet });
      const b = tempDir();
      const first = await trainPpo({
        config,
        resultsDir: join(b, 'r'),
        checkpointDir: join(b, 'c'),
        log: quiet,
        stopAt: 240,
      });
      expect(first.numTimesteps).toBe(240);
      expect(first.interrupted).toBe(true);
      // resumed with env workers and the critic on its own thread: neither changes a bit
      const resumed = await trainPpo({
        config: { ...config, workers: 2, update_threads: 2 },
        resultsDir: join(b, 'r2'),
        checkpointDir: join(b, 'c'),
        log: quiet,
        resume: join(b, 'c'),
      });
      expect(resumed.numTimesteps).toBe(480);
      expect(resumed.parameters).toEqual(full.parameters);
      const strip = (rows: MetricRow[]): MetricRow[] =>
        rows.map((r) =>
          Object.fromEntries(
            Object.entries(r).filter(
              ([k]) => !k.startsWith('time/') || k === 'time/total_timesteps' || k === 'time/iterations',
            ),
          ),
        );
      expect(strip(resumed.metrics)).toEqual(strip(full.metrics));
      expect(resumed.evaluations).toEqual(full.evaluations);
      const fa = loadCheckpoint(join(a, 'c'));
      const fb = loadCheckpoint(join(b, 'c'));
      expect(fb.state.kind).toBe('final');
      expect(fb.adam.m).toEqual(fa.adam.m);
      expect(fb.adam.v).toEqual(fa.adam.v);
      expect(fb.state.rng).toEqual(fa.state.rng);
      expect(fb.state.obsNormalizer).toEqual(fa.state.obsNormalizer);
      expect(fb.state.rewardNormalizer?.count).toBeGreaterThan(400);
      expect(fb.state.rewardNormalizer).toEqual(fa.state.rewardNormalizer);
      expect(fb.envSnapshot?.observations).toEqual(fa.envSnapshot?.observations);
    }, 60_000);
  }

  it.each(['wasm', 'native'] as const)(
    'the critic on a second thread gives bit-identical training (target_kl early stops included, %s)',
    async (backend) => {
      const base: PpoConfigInput = {
        env: { id: 'toy/multi', options: {} },
        total_timesteps: 512,
        n_steps: 32,
        batch_size: 24,
        n_epochs: 3,
        target_kl: 0.002,
        clip_range_vf: 0.5,
        net_arch: { pi: [16, 8], vf: [12] },
      };
      const runs = [];
      for (const threads of [1, 2] as const) {
        const dir = tempDir();
        const stops: number[] = [];
        runs.push({
          result: await trainPpo({
            config: toyConfig({ ...base, update_threads: threads, backend }),
            resultsDir: join(dir, 'r'),
            checkpointDir: join(dir, 'c'),
            log: (l) => (l.includes('early stop') ? stops.push(1) : undefined),
          }),
          stops: stops.length,
        });
      }
      const [one, two] = runs as [(typeof runs)[number], (typeof runs)[number]];
      expect(one.stops).toBeGreaterThan(0);
      expect(two.stops).toBe(one.stops);
      expect(two.result.parameters).toEqual(one.result.parameters);
      const strip = (rows: MetricRow[]): MetricRow[] =>
        rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('time/'))));
      expect(strip(two.result.metrics)).toEqual(strip(one.result.metrics));
    },
  );

  it('writes a tfjs layers model that tf.loadLayersModel reads back with the same outputs', async () => {
    const dir = tempDir();
    const config = toyConfig({ total_timesteps: 128, net_arch: { pi: [8, 6], vf: [5] } });
    const result = await trainPpo({ config, resultsDir: join(dir, 'r'), checkpointDir: join(dir, 'c'), log: quiet });
    const ckpt = loadCheckpoint(result.finalCheckpoint);
    expect(ckpt.parameters).toEqual(result.parameters);
    expect(readFileSync(join(dir, 'c', 'latest'), 'utf8').trim()).toBe('final');
    const model = await tf.loadLayersModel({
      load: async () => {
        const j = JSON.parse(readFileSync(join(result.finalCheckpoint, 'model.json'), 'utf8'));
        const bin = readFileSync(join(result.finalCheckpoint, 'weights.bin'));
        return {
          modelTopology: j.modelTopology,
          weightSpecs: j.weightsManifest.flatMap((g: { weights: tf.io.WeightsManifestEntry[] }) => g.weights),
          weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
        };
      },
    });
    const obs = Float32Array.of(0, 1, 0, 0, 1, 0, 0, 0);
    const [logits, value] = model.predict(tf.tensor2d(obs, [2, 4])) as tf.Tensor[];
    const policy = new ActorCriticPolicy(policySpecFor(config, resolveEnv('toy/bandit')), ckpt.parameters);
    const ours = { logits: new Float32Array(12), values: new Float32Array(2) };
    policy.engine.forward(obs, 2, ours.logits, ours.values);
    const theirs = (logits as tf.Tensor).dataSync();
    for (let i = 0; i < 12; i++) expect(theirs[i]).toBeCloseTo(ours.logits[i] as number, 5);
    expect((value as tf.Tensor).dataSync()[1]).toBeCloseTo(ours.values[1] as number, 5);
    model.dispose();
    tf.dispose([logits as tf.Tensor, value as tf.Tensor]);
    policy.dispose();
    expect(existsSync(join(result.finalCheckpoint, 'optimizer.bin'))).toBe(true);
  });
});

describe('PPO configs', () => {
  it('loads the built-in configs with the reference hyperparameters', () => {
    const p1 = loadPpoConfig('gov-phase1');
    expect([
      p1.learning_rate,
      p1.n_steps,
      p1.batch_size,
      p1.n_epochs,
      p1.gamma,
      p1.gae_lambda,
      p1.clip_range,
      p1.ent_coef,
      p1.vf_coef,
      p1.max_grad_norm,
      p1.n_envs,
    ]).toEqual([3e-4, 512, 64, 10, 0.99, 0.95, 0.2, 0.01, 0.5, 0.5, 4]);
    expect(p1.net_arch).toEqual({ pi: [256, 256], vf: [256, 256] });
    expect(p1.env.id).toBe('gov-workflow/district_backlog_easy');
    const p2 = loadPpoConfig('gov-phase2');
    expect(p2.curriculum?.map((s) => s.until)).toEqual([0.3, 0.7, 1]);
    expect(p2.curriculum?.[2]?.weights).toEqual({
      district_backlog_easy: 0.2,
      mixed_urgency_medium: 0.4,
      cross_department_hard: 0.4,
    });
    expect(p2.total_timesteps).toBe(500_000);
  });

  it('applies command-line overrides to any field', () => {
    const c = loadPpoConfig('gov-phase1', [
      ['--learning-rate', '1e-4'],
      ['--net-arch', '64,64'],
      ['--eval.seeds', '100-102,7'],
      ['--env.options.variant', 'reference'],
      ['--target-kl', '0.02'],
    ]);
    expect(c.learning_rate).toBe(1e-4);
    expect(c.net_arch).toEqual({ pi: [64, 64], vf: [64, 64] });
    expect(c.eval.seeds).toEqual([100, 101, 102, 7]);
    expect(c.env.options.variant).toBe('reference');
    expect(c.target_kl).toBe(0.02);
  });

  it('rejects bad fields with the field name and what is allowed', () => {
    expect(() => parsePpoConfig({ n_stepz: 5 })).toThrow(/n_stepz.*not a known field.*n_steps/s);
    expect(() => parsePpoConfig({ activation_fn: 'gelu' })).toThrow(InvalidConfigError);
    expect(() => parsePpoConfig({ activation_fn: 'gelu' })).toThrow(/activation_fn.*tanh, relu/);
    expect(() => parsePpoConfig({ n_steps: 0 })).toThrow(/n_steps/);
    expect(() => parsePpoConfig({ n_steps: 8, n_envs: 2, batch_size: 64 })).toThrow(
      /batch_size.*at most n_steps × n_envs = 16/,
    );
    expect(() => parsePpoConfig({ curriculum: [{ until: 0.5, weights: { a: 1 } }] })).toThrow(/curriculum.*until: 1/);
    expect(() => applyOverrides({}, [['--n-stepz', '3']])).toThrow(/--n-stepz.*--n-steps/);
    expect(() => loadPpoConfig('no-such-config')).toThrow(/--config.*gov-phase1/);
  });
});
