import { describe, expect, it } from 'vitest';
import { bitLength, cpythonSeedKey, firstRandomsOfSeed, PyRandom } from './cpython-random.js';

// Expected values were printed by CPython 3.11 (`random.Random(seed)`), not by this code.
describe('PyRandom reproduces CPython random.Random', () => {
  it('random() for known seeds', () => {
    expect(new PyRandom(42).random()).toBe(0.6394267984578837);
    expect(new PyRandom(123).random()).toBe(0.052363598850944326);
    expect(new PyRandom(0).random()).toBe(0.8444218515250481);
    expect(new PyRandom(-5).random()).toBe(0.6229016948897019); // |seed| is used
    expect(new PyRandom(2 ** 40 + 7).random()).toBe(0.6137037779936511); // two 32-bit key words
    expect(new PyRandom(2n ** 64n + 3n).random()).toBe(0.9129684455472157); // three words
  });

  it('a day RNG of the Gov env: Random(999 + 31337·60)', () => {
    const r = new PyRandom(999 + 31337 * 60);
    expect([r.random(), r.random(), r.random()]).toEqual([0.7519809394761384, 0.1445853124784401, 0.17955576766888637]);
  });

  it('randint, getrandbits, choice, choices, randrange, shuffle, uniform', () => {
    expect(new PyRandom(42).randint(1, 100)).toBe(82);
    const g = new PyRandom(42);
    g.random();
    expect(g.getrandbits(32)).toBe(107420369);
    const r = new PyRandom(7);
    expect(Array.from({ length: 10 }, () => r.randint(2, 3))).toEqual([3, 2, 3, 2, 2, 2, 3, 2, 2, 2]);
    expect(r.choice([10, 20, 30, 40, 50])).toBe(10);
    expect(r.choices(['a', 'b', 'c'], [0.2, 0.4, 0.4], 5)).toEqual(['b', 'a', 'a', 'b', 'c']);
    expect(r.randrange(1000)).toBe(126);
    expect(r.getrandbitsBig(70)).toBe(741987795020538450013n);
    const s = new PyRandom(7);
    const items = [1, 2, 3, 4, 5, 6, 7, 8];
    s.shuffle(items);
    expect(items).toEqual([7, 8, 3, 5, 1, 4, 2, 6]);
    expect(new PyRandom(11).uniform(2, 5)).toBe(3.357138660529456);
  });

  it('seed keys are the 32-bit words of |seed|, least significant first', () => {
    expect(cpythonSeedKey(0)).toEqual([0]);
    expect(cpythonSeedKey(42)).toEqual([42]);
    expect(cpythonSeedKey(-42)).toEqual([42]);
    expect(cpythonSeedKey(2 ** 32 + 5)).toEqual([5, 1]);
    expect(() => cpythonSeedKey(1.5)).toThrow(/safe integer/);
  });

  it('state round-trips: a restored generator continues identically', () => {
    const a = new PyRandom(99);
    for (let i = 0; i < 700; i++) a.random(); // crosses a 624-word regeneration
    const state = a.getState();
    const next = Array.from({ length: 50 }, () => a.random());
    const b = new PyRandom(1);
    b.setState(state);
    expect(Array.from({ length: 50 }, () => b.random())).toEqual(next);
    const c = a.clone();
    expect(c.random()).toBe(a.random());
  });

  it('rejects bad arguments with clear errors', () => {
    const r = new PyRandom(1);
    expect(() => r.randint(5, 1)).toThrow(/empty range/);
    expect(() => r.choice([])).toThrow(/empty/);
    expect(() => r.getrandbits(60)).toThrow(/getrandbitsBig/);
    expect(() => r.setState({ mt: [1, 2, 3], mti: 0 })).toThrow(/624/);
  });

  it('bitLength matches int.bit_length()', () => {
    expect([1, 2, 3, 255, 256, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 1].map(bitLength)).toEqual([1, 2, 2, 8, 9, 32, 33, 41]);
  });
});

describe('firstRandomsOfSeed (the per-day event fast path)', () => {
  it('equals the first draws of a package-backed PyRandom for many seeds', () => {
    const out = new Float64Array(8);
    for (let i = 0; i < 3000; i++) {
      const seed = i * 7919 + (i % 3 === 0 ? 2 ** 33 : 0); // one- and two-word keys
      firstRandomsOfSeed(seed, 8, out);
      const r = new PyRandom(seed);
      for (let k = 0; k < 8; k++) {
        if (out[k] !== r.random()) throw new Error(`seed ${seed} draw ${k} differs`);
      }
    }
    expect(firstRandomsOfSeed(42, 1)[0]).toBe(0.6394267984578837);
  });

  it('limits count to the draws an untwisted state can give', () => {
    expect(() => firstRandomsOfSeed(1, 114)).toThrow(/count/);
  });
});
