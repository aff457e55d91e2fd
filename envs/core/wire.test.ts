import { describe, expect, it } from 'vitest';
import {
  base64ToBytes,
  base64ToFloat32,
  bytesToBase64,
  decodePlain,
  encodePlain,
  exactNumber,
  float32ToBase64,
  parseExactNumber,
} from './wire.js';

const bitsOf = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('float32 vectors as base64 keep every bit', () => {
  it('round-trips −0, NaN payloads, ±Infinity, subnormals, the extremes and ordinary values', () => {
    const values = new Float32Array([
      0,
      -0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      1.4e-45,
      -1.4e-45,
      3.4028234663852886e38,
      -3.4028234663852886e38,
      0.1,
      -123.456,
    ]);
    new Uint32Array(values.buffer)[2] = 0x7fc01234; // a NaN with a payload
    const out = base64ToFloat32(float32ToBase64(values), new Float32Array(values.length), 'f');
    expect(bitsOf(out)).toEqual(bitsOf(values));
    expect(Object.is(out[1], -0)).toBe(true);
  });

  it('reads a view at an offset, and an empty vector', () => {
    const big = new Float32Array([9, 1, -0, 3]);
    const view = big.subarray(1, 3);
    const out = new Float32Array(4);
    base64ToFloat32(float32ToBase64(view), out.subarray(2, 4), 'f');
    expect(bitsOf(out.subarray(2, 4))).toEqual(bitsOf(view));
    expect(float32ToBase64(new Float32Array(0))).toBe('');
    expect(base64ToFloat32('', new Float32Array(0), 'f').length).toBe(0);
  });

  it('refuses text of the wrong length, not base64, or not a string, naming the field', () => {
    const b64 = float32ToBase64(new Float32Array([1, 2]));
    expect(() => base64ToFloat32(b64, new Float32Array(3), 'features_b64')).toThrow(
      /features_b64: expected base64 text of 12 bytes/,
    );
    expect(() => base64ToFloat32('@@@@@@@@', new Float32Array(1), 'features_b64')).toThrow(
      /features_b64: expected 4 bytes of base64, got 0/,
    );
    expect(() => base64ToFloat32('AAA@AA==', new Float32Array(1), 'features_b64')).toThrow(/expected 4 bytes/);
    expect(() => base64ToFloat32('AAA', new Float32Array(1), 'x')).toThrow(/x: expected base64/);
    expect(() => base64ToFloat32(42, new Float32Array(1), 'x')).toThrow(/x: expected base64/);
    expect(() => base64ToBytes(null, new Uint8Array(1), 'mask')).toThrow(/mask: expected base64/);
  });

  it('masks round-trip as bytes', () => {
    const m = new Uint8Array([1, 0, 0, 1, 1, 255]);
    expect(Array.from(base64ToBytes(bytesToBase64(m), new Uint8Array(6), 'm'))).toEqual(Array.from(m));
  });
});

describe('numbers JSON cannot carry', () => {
  it.each([
    [-0, '-0'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NEGATIVE_INFINITY, '-Infinity'],
  ])('%s ↔ %s', (x, text) => {
    expect(exactNumber(x)).toBe(text);
    expect(Object.is(parseExactNumber(JSON.parse(JSON.stringify(exactNumber(x))), 'r'), x)).toBe(true);
  });

  it('ordinary numbers stay numbers, negatives and the extremes exactly', () => {
    for (const x of [0, -1.25, 5e-324, -Number.MAX_VALUE, 0.1 + 0.2, -235.83249999999998]) {
      expect(exactNumber(x)).toBe(x);
      expect(parseExactNumber(JSON.parse(JSON.stringify(exactNumber(x))), 'r')).toBe(x);
    }
  });

  it('refuses anything else, naming the field', () => {
    for (const bad of ['0', 'nan', 'inf', null, undefined, {}, [], true])
      expect(() => parseExactNumber(bad, 'reward_exact')).toThrow(/reward_exact: expected a number or one of/);
  });
});

describe('plain data (member snapshots) over JSON', () => {
  it('round-trips nested objects with typed arrays and special numbers, bit for bit', () => {
    const f32 = new Float32Array([-0, 1.5, Number.NaN]);
    const state = {
      env: { rng: new Uint32Array([1, 2, 0xffffffff]), day: 3, neg: -0, gone: Number.NEGATIVE_INFINITY },
      trace: [new Int32Array([-5, 7]), new Uint8Array([0, 255]), new Float64Array([-0, 1e308, Number.NaN])],
      f32,
      text: 'x',
      flag: false,
      none: null,
      empty: [],
    };
    const back = decodePlain(JSON.parse(JSON.stringify(encodePlain(state)))) as typeof state;
    expect(Object.is(back.env.neg, -0)).toBe(true);
    expect(back.env.gone).toBe(Number.NEGATIVE_INFINITY);
    expect(back.env.rng).toBeInstanceOf(Uint32Array);
    expect(Array.from(back.env.rng)).toEqual([1, 2, 0xffffffff]);
    expect(back.trace[0]).toBeInstanceOf(Int32Array);
    expect(Array.from(back.trace[0] as Int32Array)).toEqual([-5, 7]);
    expect(Array.from(back.trace[1] as Uint8Array)).toEqual([0, 255]);
    const f64 = back.trace[2] as Float64Array;
    expect(Object.is(f64[0], -0) && f64[1] === 1e308 && Number.isNaN(f64[2])).toBe(true);
    expect(bitsOf(back.f32)).toEqual(bitsOf(f32));
    expect([back.text, back.flag, back.none, back.empty]).toEqual(['x', false, null, []]);
  });

  it('drops undefined fields as JSON does, and refuses what is not plain data', () => {
    expect(encodePlain({ a: undefined, b: 1 })).toEqual({ b: 1 });
    expect(() => encodePlain({ f: () => 1 })).toThrow(/not plain data/);
    expect(() => encodePlain(new BigInt64Array(1))).toThrow(/BigInt64Array is not supported/);
    expect(() => encodePlain({ '$queue-rl': 'x' })).toThrow(/cannot be encoded/);
  });

  it('refuses unknown tags and malformed bytes, naming where', () => {
    expect(() => decodePlain({ a: { '$queue-rl': 'Evil', base64: '' } })).toThrow(/state\.a: unknown tag 'Evil'/);
    expect(() => decodePlain({ a: [{ '$queue-rl': 'Float64Array', base64: 'AAAA' }] })).toThrow(
      /state\.a\[0\]: 3 bytes is not a whole Float64Array/,
    );
    expect(() => decodePlain({ '$queue-rl': 'number', value: 'lots' })).toThrow(/state: expected a number/);
  });
});
