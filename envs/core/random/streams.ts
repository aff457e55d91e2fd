/**
 * Seeded random streams for everything that is not a reference reproduction (docs/decisions.md: HelixDesk
 * dynamics, action sampling, shuffling, curriculum draws, GRPO sampling, vector-env member seeds).
 *
 * Scheme: a stream is named by the run seed and a path of labels; its seed string is
 * `queue-rl/<seed>/<label>/<label>…`, fed to seedrandom's Tyche-i generator. Two streams with
 * different paths are independent; the same seed and path always give the same numbers, anywhere.
 *
 * Why Tyche-i rather than seedrandom's default ARC4: a double costs ~7 ns instead of ~28 ns (the
 * HelixDesk env draws ~30 numbers per email), and its whole state is four 32-bit words, so env
 * snapshots and checkpoints stay tiny. It is one of seedrandom's own algorithms.
 */
import seedrandom from 'seedrandom';

export type StreamLabel = string | number;

export interface RandomStream {
  /** Uniform float in [0, 1) with 53 bits of randomness. */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** A signed 32-bit integer (all 32 bits random). */
  int32(): number;
  /** Full internal state, for exact checkpoints and env snapshots. */
  state(): RandomStreamState;
}

/** The Tyche-i state: four 32-bit words. */
export interface RandomStreamState {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly d: number;
}

export function streamKey(seed: number, path: readonly StreamLabel[]): string {
  return ['queue-rl', String(seed), ...path.map(String)].join('/');
}

class TycheStream implements RandomStream {
  constructor(private readonly prng: seedrandom.StatefulPRNG<seedrandom.State.Tychei>) {}

  next(): number {
    return this.prng.double();
  }

  int(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0)
      throw new RangeError(`RandomStream.int: n must be a positive integer (got ${n})`);
    return Math.floor(this.prng.double() * n);
  }

  int32(): number {
    return this.prng.int32();
  }

  state(): RandomStreamState {
    const st = this.prng.state();
    return { a: st.a, b: st.b, c: st.c, d: st.d };
  }
}

/** A stream derived from a run seed and a path of labels. */
export function createStream(seed: number, ...path: StreamLabel[]): RandomStream {
  return new TycheStream(seedrandom.tychei(streamKey(seed, path), { state: true }));
}

/** A stream continued from a saved state. */
export function restoreStream(state: RandomStreamState): RandomStream {
  return new TycheStream(seedrandom.tychei('', { state: { a: state.a, b: state.b, c: state.c, d: state.d } }));
}

/** A 32-bit unsigned seed derived from a run seed and a path (e.g. the seed of episode k of env i). */
export function deriveSeed(seed: number, ...path: StreamLabel[]): number {
  return seedrandom.tychei(streamKey(seed, path)).int32() >>> 0;
}
