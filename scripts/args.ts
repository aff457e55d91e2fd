/** Command-line value parsing with errors that name the option and what it accepts. */

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `0-9,42` → [0, 1, …, 9, 42] (order kept, duplicates dropped). */
export function parseSeeds(text: string, option = '--seeds'): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const p = part.trim();
    const range = /^(-?\d+)-(-?\d+)$/.exec(p);
    if (range) {
      const a = Number(range[1]);
      const b = Number(range[2]);
      if (b < a) throw new UsageError(`${option}: range '${p}' is empty (write low-high)`);
      if (b - a > 1_000_000) throw new UsageError(`${option}: range '${p}' is too long`);
      for (let s = a; s <= b; s++) out.push(s);
    } else if (/^-?\d+$/.test(p)) {
      out.push(Number(p));
    } else {
      throw new UsageError(`${option}: '${p}' is not a seed; use integers and ranges, e.g. 0-9,42`);
    }
  }
  if (out.some((s) => !Number.isSafeInteger(s))) throw new UsageError(`${option}: seeds must be safe integers`);
  return [...new Set(out)];
}

/** `all` or a comma-separated subset of `known`, validated. */
export function parseList(text: string, known: readonly string[], option: string): string[] {
  if (text.trim() === 'all') return [...known];
  const items = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new UsageError(`${option}: give 'all' or a comma-separated list of: ${known.join(', ')}`);
  for (const item of items) {
    if (!known.includes(item)) throw new UsageError(`${option}: unknown value '${item}'; allowed: all, ${known.join(', ')}`);
  }
  return [...new Set(items)];
}

export function parseChoice<T extends string>(text: string, allowed: readonly T[], option: string): T {
  if (!(allowed as readonly string[]).includes(text)) throw new UsageError(`${option}: '${text}' is not allowed; allowed: ${allowed.join(', ')}`);
  return text as T;
}

export function parsePositiveInt(text: string, option: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) <= 0) throw new UsageError(`${option}: '${text}' is not a positive integer`);
  return Number(text);
}
