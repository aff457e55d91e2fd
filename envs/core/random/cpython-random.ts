/**
 * CPython-compatible `random.Random` on top of the `mersenne-twister` package.
 *
 * The MT19937 core (seeding by `init_by_array`, 32-bit outputs) comes from the package; this file
 * only adds CPython's layer: how an integer seed becomes the init key, `random()` from two 32-bit
 * words, `getrandbits`, `randbelow` by rejection, `randint`, `randrange`, `choice`, `choices`,
 * `shuffle` and `uniform`. Same seed, same calls → the same numbers as CPython 3.x.
 */
import MersenneTwister from 'mersenne-twister';

/** The complete generator state: the 624-word vector and the position in it. */
export interface PyRandomState {
  readonly mt: readonly number[];
  readonly mti: number;
}

/** CPython splits |seed| into 32-bit words, least significant first (`random_seed` in _randommodule.c). */
export function cpythonSeedKey(seed: number | bigint): number[] {
  let n: bigint;
  if (typeof seed === 'bigint') {
    n = seed < 0n ? -seed : seed;
  } else {
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`seed must be a safe integer or a bigint (got ${seed})`);
    }
    n = BigInt(Math.abs(seed));
  }
  if (n === 0n) return [0];
  const key: number[] = [];
  while (n > 0n) {
    key.push(Number(n & 0xffffffffn));
    n >>= 32n;
  }
  return key;
}

/** The package keeps its state in two plain properties that its typings do not declare. */
interface TwisterCore {
  mt: number[];
  mti: number;
  init_by_array(key: number[], keyLength: number): void;
  random_int(): number;
}

export class PyRandom {
  private readonly core: TwisterCore;

  constructor(seed: number | bigint) {
    const key = cpythonSeedKey(seed);
    // An array seed makes the package run init_by_array(key) directly, as CPython's seed() does.
    this.core = new MersenneTwister(key) as unknown as TwisterCore;
  }

  /** Re-seed as `random.seed(int)` does. */
  seed(seed: number | bigint): void {
    const key = cpythonSeedKey(seed);
    this.core.init_by_array(key, key.length);
  }

  /** Next 32-bit output of the twister, as an unsigned integer. */
  nextUint32(): number {
    return this.core.random_int();
  }

  /** `random.random()`: 53-bit float in [0, 1) built from two words (genrand_res53). */
  random(): number {
    const a = this.core.random_int() >>> 5;
    const b = this.core.random_int() >>> 6;
    return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
  }

  /** `random.getrandbits(k)` for 0 ≤ k ≤ 53 (as a number); see getrandbitsBig for wider draws. */
  getrandbits(k: number): number {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`getrandbits: k must be a non-negative integer (got ${k})`);
    if (k > 53) throw new RangeError(`getrandbits: k > 53 is not supported as a number; use getrandbitsBig`);
    if (k === 0) return 0;
    if (k <= 32) return this.core.random_int() >>> (32 - k);
    // CPython fills 32-bit words least significant first; the last word keeps its top bits.
    const low = this.core.random_int();
    const high = this.core.random_int() >>> (64 - k);
    return high * 4294967296 + low;
  }

  /** `random.getrandbits(k)` for any k, as a bigint. */
  getrandbitsBig(k: number): bigint {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`getrandbits: k must be a non-negative integer (got ${k})`);
    let result = 0n;
    let shift = 0n;
    let remaining = k;
    while (remaining > 0) {
      let word = this.core.random_int();
      if (remaining < 32) word >>>= 32 - remaining;
      result |= BigInt(word) << shift;
      shift += 32n;
      remaining -= 32;
    }
    return result;
  }

  /** `Random._randbelow(n)`: rejection sampling on getrandbits(n.bit_length()). */
  randbelow(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0)
      throw new RangeError(`randbelow: n must be a positive safe integer (got ${n})`);
    const k = bitLength(n);
    let r = this.getrandbits(k);
    while (r >= n) r = this.getrandbits(k);
    return r;
  }

  /** `random.randint(a, b)`, both ends included. */
  randint(a: number, b: number): number {
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b))
      throw new RangeError(`randint: bounds must be integers (got ${a}, ${b})`);
    if (b < a) throw new RangeError(`randint: empty range (${a}, ${b})`);
    return a + this.randbelow(b - a + 1);
  }

  /** `random.randrange(start, stop)` with step 1, or `randrange(stop)`. */
  randrange(start: number, stop?: number): number {
    if (stop === undefined) return this.randbelow(start);
    if (stop <= start) throw new RangeError(`randrange: empty range (${start}, ${stop})`);
    return start + this.randbelow(stop - start);
  }

  /** `random.choice(seq)`. */
  choice<T>(seq: readonly T[]): T {
    if (seq.length === 0) throw new RangeError('choice: cannot choose from an empty sequence');
    return seq[this.randbelow(seq.length)] as T;
  }

  /**
   * `random.choices(population, weights, k=1)`: without weights `floor(random() * n)`; with weights a
   * bisect-right of `random() * total` into the cumulative weights (CPython 3.9+).
   */
  choices<T>(population: readonly T[], weights?: readonly number[], k = 1): T[] {
    const n = population.length;
    if (n === 0) throw new RangeError('choices: population is empty');
    const out: T[] = [];
    if (weights === undefined) {
      for (let i = 0; i < k; i++) out.push(population[Math.floor(this.random() * n)] as T);
      return out;
    }
    if (weights.length !== n) throw new RangeError('choices: the number of weights does not match the population');
    const cum: number[] = [];
    let acc = 0;
    for (const w of weights) {
      acc += w;
      cum.push(acc);
    }
    const total = acc;
    if (!(total > 0) || !Number.isFinite(total))
      throw new RangeError('choices: total of weights must be greater than zero');
    const hi = n - 1;
    for (let i = 0; i < k; i++) {
      const x = this.random() * total;
      // bisect_right(cum, x, 0, hi)
      let lo = 0;
      let h = hi;
      while (lo < h) {
        const mid = (lo + h) >> 1;
        if (x < (cum[mid] as number)) h = mid;
        else lo = mid + 1;
      }
      out.push(population[lo] as T);
    }
    return out;
  }

  /** `random.shuffle(x)` in place (Fisher–Yates from the end, with randbelow). */
  shuffle<T>(items: T[]): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.randbelow(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
  }

  /** `random.uniform(a, b)` = a + (b - a) * random(). */
  uniform(a: number, b: number): number {
    return a + (b - a) * this.random();
  }

  getState(): PyRandomState {
    return { mt: this.core.mt.slice(), mti: this.core.mti };
  }

  setState(state: PyRandomState): void {
    if (state.mt.length !== 624)
      throw new RangeError(`PyRandom state: mt must have 624 words (got ${state.mt.length})`);
    this.core.mt = state.mt.slice();
    this.core.mti = state.mti;
  }

  /** An independent generator in the same state. */
  clone(): PyRandom {
    const copy = new PyRandom(0);
    copy.setState(this.getState());
    return copy;
  }
}

/** Number of bits needed to represent a positive integer (Python's int.bit_length). */
export function bitLength(n: number): number {
  if (n < 4294967296) return 32 - Math.clz32(n);
  return n.toString(2).length;
}

/**
 * `[Random(seed).random() for _ in range(count)]` without building a generator — a verified fast
 * path for the Gov env's per-day event RNG, which seeds a fresh Random(seed + 31337·day) every day
 * and draws at most five numbers from it.
 *
 * Why it exists: seeding through the package costs ~22 µs (init_by_array plus a full 624-word twist),
 * about a third of a whole simulated day. This does CPython's init_by_array with Math.imul on a
 * typed array and twists only the words it needs (for the first 227 words the twist reads only
 * untwisted state), ~3.5 µs. The main generator stays the package; a test checks both agree.
 */
export function firstRandomsOfSeed(
  seed: number | bigint,
  count: number,
  out: Float64Array = new Float64Array(count),
): Float64Array {
  if (!Number.isInteger(count) || count < 0 || count > 113)
    throw new RangeError(`firstRandomsOfSeed: count must be in [0, 113] (got ${count})`);
  const key = cpythonSeedKey(seed);
  const mt = FRESH_STATE;
  mt.set(GENRAND_19650218); // init_by_array starts from init_genrand(19650218), the same for every key
  let i = 1;
  let j = 0;
  for (let k = Math.max(624, key.length); k > 0; k--) {
    const s = (mt[i - 1] as number) ^ ((mt[i - 1] as number) >>> 30);
    mt[i] = ((mt[i] as number) ^ Math.imul(s, 1664525)) + (key[j] as number) + j;
    i++;
    j++;
    if (i >= 624) {
      mt[0] = mt[623] as number;
      i = 1;
    }
    if (j >= key.length) j = 0;
  }
  for (let k = 623; k > 0; k--) {
    const s = (mt[i - 1] as number) ^ ((mt[i - 1] as number) >>> 30);
    mt[i] = ((mt[i] as number) ^ Math.imul(s, 1566083941)) - i;
    i++;
    if (i >= 624) {
      mt[0] = mt[623] as number;
      i = 1;
    }
  }
  mt[0] = 0x80000000;
  for (let n = 0; n < count; n++) {
    const a = temperedTwistWord(mt, 2 * n) >>> 5;
    const b = temperedTwistWord(mt, 2 * n + 1) >>> 6;
    out[n] = (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
  }
  return out;
}

const FRESH_STATE = new Uint32Array(624);

/** MT19937 state after init_genrand(19650218). */
const GENRAND_19650218 = (() => {
  const mt = new Uint32Array(624);
  mt[0] = 19650218;
  for (let i = 1; i < 624; i++) {
    const s = (mt[i - 1] as number) ^ ((mt[i - 1] as number) >>> 30);
    mt[i] = Math.imul(s, 1812433253) + i;
  }
  return mt;
})();

/** Output word kk (< 227) of the first twist of an untwisted state, tempered. */
function temperedTwistWord(mt: Uint32Array, kk: number): number {
  const y = ((mt[kk] as number) & 0x80000000) | ((mt[kk + 1] as number) & 0x7fffffff);
  let v = (mt[kk + 397] as number) ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
  v ^= v >>> 11;
  v ^= (v << 7) & 0x9d2c5680;
  v ^= (v << 15) & 0xefc60000;
  v ^= v >>> 18;
  return v >>> 0;
}
