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
    this.core = new MersenneTwister(0) as unknown as TwisterCore;
    this.seed(seed);
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
    if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`randbelow: n must be a positive safe integer (got ${n})`);
    const k = bitLength(n);
    let r = this.getrandbits(k);
    while (r >= n) r = this.getrandbits(k);
    return r;
  }

  /** `random.randint(a, b)`, both ends included. */
  randint(a: number, b: number): number {
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b)) throw new RangeError(`randint: bounds must be integers (got ${a}, ${b})`);
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
    if (!(total > 0) || !Number.isFinite(total)) throw new RangeError('choices: total of weights must be greater than zero');
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
    if (state.mt.length !== 624) throw new RangeError(`PyRandom state: mt must have 624 words (got ${state.mt.length})`);
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
