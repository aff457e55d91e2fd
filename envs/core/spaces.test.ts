import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStream } from './random/streams.js';
import { Box, Discrete, JsonSpace, MultiDiscrete } from './spaces.js';

describe('spaces', () => {
  it('Box: membership checks type, length and bounds (NaN is outside)', () => {
    const box = new Box(0, 1, [3]);
    expect(box.contains(Float32Array.of(0, 0.5, 1))).toBe(true);
    expect(box.contains(Float32Array.of(0, 1.5, 1))).toBe(false);
    expect(box.contains(Float32Array.of(0, Number.NaN, 1))).toBe(false);
    expect(box.contains([0, 0.5, 1])).toBe(false);
    expect(box.contains(Float32Array.of(0, 0.5))).toBe(false);
    expect(box.firstViolation(Float32Array.of(0, 2, 1))).toEqual({ index: 1, value: 2 });
    expect(box.toJSON()).toEqual({ type: 'Box', low: [0, 0, 0], high: [1, 1, 1], shape: [3], dtype: 'float32' });
    expect(String(box)).toBe('Box(0, 1, (3,), float32)');
    expect(() => new Box(1, 0, [2])).toThrow(/low\[0\] = 1 is above high\[0\] = 0/);
    expect(() => new Box(0, [1, 1], [3])).toThrow(/high has 2 values, shape needs 3/);
  });

  it('Discrete: membership, JSON, masked sampling', () => {
    const d = new Discrete(5);
    expect([d.contains(0), d.contains(4), d.contains(5), d.contains(1.5), d.contains('1')]).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
    expect(d.toJSON()).toEqual({ type: 'Discrete', n: 5, start: 0 });
    const rng = createStream(3, 'spaces');
    const mask = Uint8Array.of(0, 1, 0, 1, 0);
    const draws = Array.from({ length: 200 }, () => d.sample(rng, mask));
    expect(new Set(draws)).toEqual(new Set([1, 3]));
    expect(d.sample(rng, new Uint8Array(5))).toBe(0); // all masked: start, as Gymnasium
    expect(String(new Discrete(3, -1))).toBe('Discrete(3, start=-1)');
    expect(() => new Discrete(0)).toThrow(/positive integer/);
  });

  it('MultiDiscrete: membership, JSON and flat mask length', () => {
    const md = new MultiDiscrete([3, 4, 6, 3]);
    expect(md.contains(Int32Array.of(2, 3, 5, 0))).toBe(true);
    expect(md.contains(Int32Array.of(3, 0, 0, 0))).toBe(false);
    expect(md.maskLength).toBe(16);
    expect(md.toJSON()).toEqual({ type: 'MultiDiscrete', nvec: [3, 4, 6, 3], start: [0, 0, 0, 0] });
    expect(String(md)).toBe('MultiDiscrete([3 4 6 3])');
  });

  it('JsonSpace: membership is the schema; the description is its JSON Schema', () => {
    const space = new JsonSpace(z.object({ action_type: z.enum(['a', 'b']) }), 'Toy');
    expect(space.contains({ action_type: 'a' })).toBe(true);
    expect(space.contains({ action_type: 'c' })).toBe(false);
    const json = space.toJSON();
    expect(json.type).toBe('Json');
    expect(JSON.stringify(json)).toContain('"enum":["a","b"]');
  });
});
