/**
 * Seeded random streams for everything that is not a reference reproduction (DECISIONS: HelixDesk
 * dynamics, action sampling, shuffling, curriculum draws, GRPO sampling, vector-env member seeds).
 *
 * Scheme: a stream is named by the run seed and a path of labels; its seedrandom (ARC4) key is the
 * string `queue-rl/<seed>/<label>/<label>…`. Two streams with different paths are independent; the
 * same seed and path always give the same numbers, on any machine.
 */
import seedrandom from 'seedrandom';

export type StreamLabel = string | number;

export interface RandomStream {
  /** Uniform float in [0, 1) with 53 bits of randomness. */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Full internal state (ARC4), for exact checkpoints and env snapshots. */
  state(): RandomStreamState;
}

/** The ARC4 state of seedrandom: i, j and the 256-entry permutation. */
export interface RandomStreamState {
  readonly i: number;
  readonly j: number;
  readonly S: readonly number[];
}

export function streamKey(seed: number, path: readonly StreamLabel[]): string {
  return ['queue-rl', String(seed), ...path.map(String)].join('/');
}

class ArcStream implements RandomStream {
  constructor(private readonly prng: seedrandom.StatefulPRNG<seedrandom.State.Arc4>) {}

  next(): number {
    return this.prng.double();
  }

  int(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`RandomStream.int: n must be a positive integer (got ${n})`);
    return Math.floor(this.prng.double() * n);
  }

  state(): RandomStreamState {
    const st = this.prng.state();
    return { i: st.i, j: st.j, S: [...st.S] };
  }
}

/** A stream derived from a run seed and a path of labels. */
export function createStream(seed: number, ...path: StreamLabel[]): RandomStream {
  return new ArcStream(seedrandom(streamKey(seed, path), { state: true }));
}

/** A stream continued from a saved state. */
export function restoreStream(state: RandomStreamState): RandomStream {
  return new ArcStream(seedrandom('', { state: { i: state.i, j: state.j, S: [...state.S] } }));
}

/** A 32-bit unsigned seed derived from a run seed and a path (e.g. the seed of episode k of env i). */
export function deriveSeed(seed: number, ...path: StreamLabel[]): number {
  return seedrandom(streamKey(seed, path)).int32() >>> 0;
}
