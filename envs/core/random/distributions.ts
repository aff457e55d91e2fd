/**
 * Continuous distributions on a RandomStream, for simulations that need the reference's
 * distributions but not its bits (HelixDesk: numpy Beta sentiments).
 * Each draw consumes a variable but deterministic number of uniforms, so a stream stays reproducible.
 */
import type { RandomStream } from './streams.js';

/** Standard normal by Box–Muller (two uniforms per draw, no cached spare: nothing hidden in state). */
export function normal(rng: RandomStream): number {
  let u = rng.next();
  while (u <= 0) u = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** Gamma(shape, 1) by Marsaglia & Tsang (2000); shape < 1 via Gamma(shape + 1)·U^(1/shape). */
export function gamma(rng: RandomStream, shape: number): number {
  if (!(shape > 0)) throw new RangeError(`gamma: shape must be > 0 (got ${shape})`);
  if (shape < 1) {
    let u = rng.next();
    while (u <= 0) u = rng.next();
    return gamma(rng, shape + 1) * u ** (1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta(a, b) = X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b), as numpy does for a, b > 1. */
export function beta(rng: RandomStream, a: number, b: number): number {
  const x = gamma(rng, a);
  const y = gamma(rng, b);
  return x / (x + y);
}

/** Uniform integer in [low, high) — numpy's `integers(low, high)`. */
export function integers(rng: RandomStream, low: number, high: number): number {
  return low + rng.int(high - low);
}
