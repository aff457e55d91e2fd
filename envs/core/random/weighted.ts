import type { RandomStream } from './streams.js';

/** A key of `weights` drawn with probability proportional to its weight (entries ≤ 0 never), one uniform draw. */
export function weightedChoice(weights: Readonly<Partial<Record<string, number>>>, rng: RandomStream): string {
  const entries = Object.entries(weights).filter((e): e is [string, number] => e[1] !== undefined && e[1] > 0);
  if (entries.length === 0) throw new Error('weightedChoice: no positive weight');
  const total = entries.reduce((a, [, w]) => a + w, 0);
  let u = rng.next() * total;
  for (const [key, w] of entries) {
    if (u < w) return key;
    u -= w;
  }
  return (entries[entries.length - 1] as [string, number])[0];
}
