import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pyFixed, pyRound } from './py-round.js';
import { createStream } from './random/streams.js';

describe('pyRound is Python round(x, n)', () => {
  it('sends exact ties to the even digit, decided on the exact binary value', () => {
    expect(pyRound(16.625, 2)).toBe(16.62);
    expect(pyRound(10.375, 2)).toBe(10.38);
    expect(pyRound(0.0625, 3)).toBe(0.062);
    expect(pyRound(0.8125, 3)).toBe(0.812);
    expect(pyRound(-0.15625, 4)).toBe(-0.1562);
    // Not ties at all in binary, although they look like ties in decimal:
    expect(pyRound(2.675, 2)).toBe(2.67);
    expect(pyRound(1.005, 2)).toBe(1.0);
  });

  it('differs from toFixed and Math.round where the reference needs it', () => {
    expect(Number((16.625).toFixed(2))).toBe(16.63); // why pyRound exists
    expect(Math.round(0.0625 * 1000) / 1000).toBe(0.063);
  });

  // [x, n, CPython 3.11 round(x, n)]
  const table: [number, number, number][] = [
    [-61615.625, 2, -61615.62],
    [-19906.625, 2, -19906.62],
    [-104.982666015625, 2, -104.98],
    [34942.5, 2, 34942.5],
    [3011.55078125, 2, 3011.55],
    [134.99609375, 2, 135.0],
    [7147.5625, 3, 7147.562],
    [676.328125, 3, 676.328],
    [50749.3125, 3, 50749.312],
    [-2980.609375, 3, -2980.609],
    [425.72998046875, 3, 425.73],
    [-1741.703125, 3, -1741.703],
    [12626.96875, 4, 12626.9688],
    [-122128.0, 4, -122128.0],
    [2276.8125, 4, 2276.8125],
    [6789.265625, 4, 6789.2656],
    [7414.1015625, 4, 7414.1016],
    [-919.0259017063844, 1, -919.0],
    [523.8359722408773, 6, 523.835972],
    [-482.2430484897093, 4, -482.243],
    [-361.552271658109, 4, -361.5523],
    [608.7627068930412, 3, 608.763],
    [227.372707605879, 2, 227.37],
    [560.7391928226104, 1, 560.7],
    [0.125, 2, 0.12],
    [0.375, 2, 0.38],
    [2.5, 0, 2.0],
    [3.5, 0, 4.0],
    [-2.5, 0, -2.0],
    [1.0000000000000002e16, 2, 1.0000000000000002e16],
    [123456789.125, 2, 123456789.12],
    [5e-324, 3, 0.0],
    [0.00015, 4, 0.0001],
    [-5e-5, 4, -0.0001],
  ];
  it.each(table)('round(%s, %s) = %s', (x, n, expected) => {
    expect(pyRound(x, n)).toBe(expected);
  });

  it('keeps the sign of a zero result, as Python does', () => {
    expect(Object.is(pyRound(-0.001, 2), -0)).toBe(true);
    expect(Object.is(pyRound(0.001, 2), 0)).toBe(true);
  });

  it('rejects ndigits outside [0, 22]', () => {
    expect(() => pyRound(1.5, -1)).toThrow(/ndigits/);
    expect(() => pyRound(1.5, 1.5)).toThrow(/ndigits/);
  });
});

/** A float.hex() string (or 'nan' / 'inf' / '-inf') back to the exact double. */
function fromPythonHex(text: string): number {
  if (text === 'nan') return Number.NaN;
  if (text === 'inf') return Number.POSITIVE_INFINITY;
  if (text === '-inf') return Number.NEGATIVE_INFINITY;
  const m = /^(-?)0x([01])\.([0-9a-f]*)p([+-]\d+)$/.exec(text);
  if (!m) throw new Error(`not a float.hex() value: ${text}`);
  const [, sign, lead, frac, exp] = m as unknown as [string, string, string, string, string];
  const mantissa = Number(BigInt(`0x${lead}${frac}`)); // ≤ 53 significant bits: exact
  const e = Number(exp) - 4 * frac.length;
  // Two exact scalings keep intermediate values normal (subnormal results are exact: they came from a double).
  const half = Math.trunc(e / 2);
  const v = mantissa * 2 ** half * 2 ** (e - half);
  return sign === '-' ? -v : v;
}

describe('pyFixed is Python format(x, ".nf")', () => {
  const golden = JSON.parse(readFileSync(new URL('./py-fixed.golden.json', import.meta.url), 'utf8')) as {
    python: string;
    rows: [string, number, string][];
  };

  it(
    `matches CPython ${golden.python} on ${golden.rows.length} values (negatives, ±0, exact ties, subnormals, ` +
      `1e308, NaN, ±inf)`,
    () => {
      const wrong: string[] = [];
      for (const [hex, digits, expected] of golden.rows) {
        const got = pyFixed(fromPythonHex(hex), digits);
        if (got !== expected) wrong.push(`${hex} .${digits}f: expected ${expected}, got ${got}`);
      }
      expect(wrong.slice(0, 5)).toEqual([]);
      expect(golden.rows.filter(([hex]) => hex.startsWith('-')).length).toBeGreaterThan(1000); // the sign is exercised
    },
  );

  it('keeps the minus sign: on negatives, on -0 and on negatives that round to zero', () => {
    expect(pyFixed(-1.5, 2)).toBe('-1.50');
    expect(pyFixed(-1254.59, 2)).toBe('-1254.59');
    expect(pyFixed(-0, 2)).toBe('-0.00');
    expect(pyFixed(-0.001, 2)).toBe('-0.00');
    expect(pyFixed(0, 0)).toBe('0');
    expect(pyFixed(-2.5, 0)).toBe('-2');
  });

  it('property: parses back to within half a unit of the last digit, with the sign of x', () => {
    const rng = createStream(7, 'py-fixed-property');
    for (let i = 0; i < 20_000; i++) {
      const x = (rng.next() - 0.5) * 10 ** (rng.int(16) - 4);
      const digits = rng.int(5);
      const text = pyFixed(x, digits);
      expect(text.startsWith('-')).toBe(x < 0 || Object.is(x, -0));
      expect(text).toMatch(digits === 0 ? /^-?\d+$/ : new RegExp(`^-?\\d+\\.\\d{${digits}}$`));
      expect(Math.abs(Number(text) - x)).toBeLessThanOrEqual(0.5 * 10 ** -digits * (1 + 1e-9) + Math.abs(x) * 1e-15);
      expect(Number(text)).toBe(pyRound(x, digits)); // the same decimal as round(), −0 included
    }
  });

  it('writes every digit of huge values (no exponent) and rejects bad digit counts', () => {
    expect(pyFixed(1e21, 2)).toBe('1000000000000000000000.00');
    expect(pyFixed(-1e22, 0)).toBe('-10000000000000000000000');
    expect(() => pyFixed(1, -1)).toThrow(/digits/);
    expect(() => pyFixed(1, 1.5)).toThrow(/digits/);
  });
});
