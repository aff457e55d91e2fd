import { describe, expect, it } from 'vitest';
import { createStream, deriveSeed, restoreStream, streamKey } from './streams.js';

describe('seeded streams', () => {
  it('are named by seed and path, reproducible and independent', () => {
    expect(streamKey(7, ['agent', 'random'])).toBe('queue-rl/7/agent/random');
    const a = createStream(7, 'agent', 'random');
    const b = createStream(7, 'agent', 'random');
    const c = createStream(7, 'agent', 'other');
    const xa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xa);
    expect(xa.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('continue exactly from a saved state', () => {
    const s = createStream(1, 'x');
    for (let i = 0; i < 17; i++) s.next();
    const saved = s.state();
    const next = Array.from({ length: 10 }, () => s.int(1000));
    const r = restoreStream(saved);
    expect(Array.from({ length: 10 }, () => r.int(1000))).toEqual(next);
  });

  it('derived seeds are 32-bit, stable and path-dependent', () => {
    const d = deriveSeed(42, 'env', 3);
    expect(d).toBe(deriveSeed(42, 'env', 3));
    expect(d).not.toBe(deriveSeed(42, 'env', 4));
    expect(Number.isInteger(d) && d >= 0 && d < 2 ** 32).toBe(true);
    expect(() => createStream(1, 'x').int(0)).toThrow(/positive integer/);
  });
});
