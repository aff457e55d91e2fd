/**
 * Python's built-in `round(x, n)` for floats.
 *
 * CPython rounds the *exact* binary value of the double to n decimals, sending exact ties to the even
 * digit, then converts the decimal result back to the nearest double. `toFixed` (ties away from zero)
 * and `Math.round(x * 10**n) / 10**n` (the product is itself rounded) both differ on real inputs:
 * round(16.625, 2) = 16.62, round(10.375, 2) = 10.38, round(0.0625, 3) = 0.062, round(-0.15625, 4) = -0.1562.
 *
 * Fast path: y = x·10ⁿ is one correctly rounded multiplication, so it is within half an ulp of the exact
 * product; when y's fractional part is clearly away from one half the direction is already decided and
 * q / 10ⁿ (a correctly rounded division of two exact doubles) equals CPython's result. Near a half,
 * and for huge values, the exact decision is made with BigInt arithmetic on the double's bits.
 */

const POW10: readonly number[] = Array.from({ length: 23 }, (_, i) => 10 ** i); // exact up to 1e22
const TWO_POW_52 = 4503599627370496;

export function pyRound(x: number, ndigits: number): number {
  if (!Number.isInteger(ndigits) || ndigits < 0 || ndigits > 22) {
    throw new RangeError(`pyRound: ndigits must be an integer in [0, 22] (got ${ndigits})`);
  }
  if (!Number.isFinite(x) || x === 0) return x;
  const p = POW10[ndigits] as number;
  const y = x * p;
  const ay = Math.abs(y);
  if (ay < TWO_POW_52) {
    const fl = Math.floor(y);
    const frac = y - fl; // exact: y and fl are close doubles
    // |exact - y| <= ulp(y)/2 <= ay * 2^-53; keep a safe margin.
    const margin = ay * 2.3e-16 + 1e-300;
    if (Math.abs(frac - 0.5) > margin) {
      const q = frac < 0.5 ? fl : fl + 1;
      // Python keeps the sign of x on a zero result (round(-0.001, 2) == -0.0).
      return q === 0 ? (x < 0 ? -0 : 0) : q / p;
    }
  }
  return exactRound(x, ndigits);
}

/** Decompose a finite non-zero double into (mantissa, exponent) with x = m · 2^e exactly. */
function decompose(x: number): { m: bigint; e: number } {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, Math.abs(x));
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (biased === 0) {
    e = -1074; // subnormal
  } else {
    m |= 1n << 52n;
    e = biased - 1075;
  }
  return { m, e };
}

/** round-half-even(|x| · 10ⁿ) as an integer, computed on the exact binary value of x (finite, non-zero). */
function scaledMagnitude(x: number, ndigits: number): bigint {
  const { m, e } = decompose(x);
  const scale = 10n ** BigInt(ndigits);
  if (e >= 0) return (m << BigInt(e)) * scale; // already an integer after scaling: no rounding needed
  const num = m * scale;
  const den = 1n << BigInt(-e);
  let q = num / den;
  const twiceRem = (num - q * den) * 2n;
  if (twiceRem > den || (twiceRem === den && (q & 1n) === 1n)) q += 1n;
  return q;
}

function exactRound(x: number, ndigits: number): number {
  const q = scaledMagnitude(x, ndigits);
  const magnitude = q === 0n ? 0 : Number(`${q}e-${ndigits}`); // correctly rounded decimal → double
  return x < 0 ? -magnitude : magnitude;
}

/**
 * Python's `format(x, '.{digits}f')` (`f"{x:.2f}"`): the exact binary value rounded half to even,
 * every digit written out (no exponent, however large x is), the sign kept on −0 and on negative
 * values that round to zero (`-0.00`), and `nan`, `inf`, `-inf` for the non-finite values.
 */
export function pyFixed(x: number, digits: number): string {
  if (!Number.isInteger(digits) || digits < 0 || digits > 100) {
    throw new RangeError(`pyFixed: digits must be an integer in [0, 100] (got ${digits})`);
  }
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const text = (x === 0 ? 0n : scaledMagnitude(x, digits)).toString().padStart(digits + 1, '0');
  const whole = text.slice(0, text.length - digits);
  return digits === 0 ? `${sign}${whole}` : `${sign}${whole}.${text.slice(text.length - digits)}`;
}
