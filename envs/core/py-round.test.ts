import { describe, expect, it } from 'vitest';
import { pyRound } from './py-round.js';

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
