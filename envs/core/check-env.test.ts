import { describe, expect, it } from 'vitest';
import { checkEnv, deepEqual } from './check-env.js';
import type { Env, ResetOptions, ResetResult, StepResult } from './env.js';
import type { RandomStream, RandomStreamState } from './random/streams.js';
import { createStream, restoreStream as restoreRng } from './random/streams.js';
import { Box, Discrete } from './spaces.js';

interface ToySnapshot {
  pos: number;
  t: number;
  rng: RandomStreamState;
}

type Flaw = 'none' | 'unseeded' | 'out-of-space' | 'non-boolean-flag' | 'nan-reward' | 'bad-restore';

/** A tiny seeded random-walk env; each flaw breaks one contract the checker must catch. */
class ToyEnv implements Env<Float32Array, number> {
  readonly id = 'toy';
  readonly observationSpace = new Box(0, 1, [2]);
  readonly actionSpace = new Discrete(3);
  private rng: RandomStream = createStream(0, 'toy');
  private pos = 0.5;
  private t = 0;
  private static calls = 0;

  constructor(private readonly flaw: Flaw = 'none') {}

  reset(args: ResetOptions = {}): ResetResult<Float32Array, Record<string, unknown>> {
    const seed = this.flaw === 'unseeded' ? ToyEnv.calls++ : (args.seed ?? 0);
    this.rng = createStream(seed, 'toy');
    this.pos = this.rng.next();
    this.t = 0;
    return { observation: this.obs(), info: {} };
  }

  step(action: number): StepResult<Float32Array, Record<string, unknown>> {
    this.t++;
    this.pos = Math.min(1, Math.max(0, this.pos + (action - 1) * 0.1 * this.rng.next()));
    const terminated = this.t >= 30;
    return {
      observation: this.obs(),
      reward: this.flaw === 'nan-reward' ? Number.NaN : this.pos,
      terminated: this.flaw === 'non-boolean-flag' ? (0 as unknown as boolean) : terminated,
      truncated: false,
      info: {},
    };
  }

  snapshot(): ToySnapshot {
    return { pos: this.pos, t: this.t, rng: this.rng.state() };
  }

  restore(s: ToySnapshot): void {
    this.pos = s.pos;
    this.t = s.t;
    // The flawed version forgets the RNG state, so the continuation after a restore differs.
    if (this.flaw !== 'bad-restore') this.rng = restoreRng(s.rng);
  }

  private obs(): Float32Array {
    return Float32Array.of(this.pos, this.flaw === 'out-of-space' ? 2 : this.t / 30);
  }

  close(): void {}
}

describe('checkEnv', () => {
  it('passes a correct env', () => {
    const report = checkEnv(() => new ToyEnv());
    expect(report.failures).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.stepsTaken).toBeGreaterThan(50);
  });

  const flaws: [Flaw, RegExp][] = [
    ['unseeded', /reset\(\{seed: 123\}\) gives different observations/],
    ['out-of-space', /not in Box\(0, 1, \(2,\), float32\) \(index 1 = 2\)/],
    ['non-boolean-flag', /terminated and truncated must be booleans/],
    ['nan-reward', /reward must be a finite number/],
    ['bad-restore', /restore\(snapshot\(\)\) does not reproduce/],
  ];
  it.each(flaws)('catches a %s env', (flaw, message) => {
    const report = checkEnv(() => new ToyEnv(flaw));
    expect(report.ok).toBe(false);
    expect(report.failures.join('\n')).toMatch(message);
  });
});

describe('deepEqual', () => {
  it('compares typed arrays by type and content', () => {
    expect(deepEqual(Float32Array.of(1, 2), Float32Array.of(1, 2))).toBe(true);
    expect(deepEqual(Float32Array.of(1, 2), Float64Array.of(1, 2))).toBe(false);
    expect(deepEqual({ a: [1, { b: Int32Array.of(3) }] }, { a: [1, { b: Int32Array.of(3) }] })).toBe(true);
    expect(deepEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
  });
});
