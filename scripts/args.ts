/** Command-line parsing and value checks with errors that name the option and what it accepts. */

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type OptionKind = 'string' | 'boolean';
export type OptionSpec = Readonly<Record<string, OptionKind>>;

export type OptionValues<S extends OptionSpec> = { [K in keyof S]?: S[K] extends 'boolean' ? true : string };

export interface ParsedOptions<S extends OptionSpec> {
  values: OptionValues<S>;
  positionals: string[];
  /** `--field value` pairs for names the spec does not hold but `acceptsOverride` accepts (config fields). */
  overrides: [string, string][];
}

export interface ParseOptionsSettings {
  /** Allow bare arguments (file names); otherwise a bare argument is an error. */
  positionals?: boolean;
  /**
   * Names outside the spec that are still accepted as `--name value` (config field paths); the rest are unknown
   * options.
   */
  acceptsOverride?: (name: string) => boolean;
  /** How to describe those extra names in the unknown-option error, e.g. 'a config field such as --n-steps'. */
  overrideHint?: string;
}

/**
 * Parses `--name value`, `--name=value` and boolean `--flag`s (plus `-h`). A value is taken as given,
 * whatever it looks like — `--seeds -1`, `--temperature -0.5` — except a following `--option`,
 * which means the value is missing. An unknown name is an error listing the options, before any
 * value is asked for. The last occurrence of a repeated option wins.
 */
export function parseOptions<S extends OptionSpec>(
  argv: readonly string[],
  spec: S,
  settings: ParseOptionsSettings = {},
): ParsedOptions<S> {
  const values: Record<string, string | true> = {};
  const positionals: string[] = [];
  const overrides: [string, string][] = [];
  const known = (): string => {
    const names = Object.keys(spec).map((n) => `--${n}`);
    return `${names.join(', ')}${settings.overrideHint ? `, or ${settings.overrideHint}` : ''}`;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-h' && spec.help === 'boolean') {
      values.help = true;
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') {
      if (settings.positionals && arg !== '--') {
        positionals.push(arg);
        continue;
      }
      throw new UsageError(`unexpected argument '${arg}'; options are --name value (options: ${known()})`);
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    const kind = Object.hasOwn(spec, name) ? spec[name] : settings.acceptsOverride?.(name) ? 'string' : undefined;
    if (kind === undefined) throw new UsageError(`unknown option --${name}; options: ${known()}`);
    if (kind === 'boolean') {
      if (eq > 0) throw new UsageError(`--${name} takes no value (got '${arg.slice(eq + 1)}')`);
      values[name] = true;
      continue;
    }
    let value: string;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2))
        throw new UsageError(`--${name} needs a value`);
      value = next;
      i++;
    }
    if (Object.hasOwn(spec, name)) values[name] = value;
    else overrides.push([`--${name}`, value]);
  }
  return { values: values as OptionValues<S>, positionals, overrides };
}

/** Longest episode a command may ask for (--max-steps). */
export const MAX_EPISODE_STEPS = 1_000_000;

/** Most seeds a command runs in one go. */
export const MAX_SEEDS = 100_000;

/** `0-9,42` → [0, 1, …, 9, 42] (order kept, duplicates dropped); negative seeds are written `-3` or `-5--3`. */
export function parseSeeds(text: string, option = '--seeds'): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const p = part.trim();
    const range = /^(-?\d+)-(-?\d+)$/.exec(p);
    if (range) {
      const a = Number(range[1]);
      const b = Number(range[2]);
      if (b < a) throw new UsageError(`${option}: range '${p}' is empty (write low-high)`);
      if (b - a >= MAX_SEEDS)
        throw new UsageError(`${option}: range '${p}' holds ${b - a + 1} seeds; allowed: at most ${MAX_SEEDS} seeds`);
      for (let s = a; s <= b; s++) out.push(s);
    } else if (/^-?\d+$/.test(p)) {
      out.push(Number(p));
    } else {
      throw new UsageError(`${option}: '${p}' is not a seed; use integers and ranges, e.g. 0-9,42`);
    }
    if (out.length > MAX_SEEDS)
      throw new UsageError(`${option}: more than ${MAX_SEEDS} seeds; allowed: at most ${MAX_SEEDS}`);
  }
  if (out.some((s) => !Number.isSafeInteger(s)))
    throw new UsageError(`${option}: seeds must be integers in ±${Number.MAX_SAFE_INTEGER}`);
  return [...new Set(out)];
}

/** `all` or a comma-separated subset of `known`, validated. */
export function parseList(text: string, known: readonly string[], option: string): string[] {
  if (text.trim() === 'all') return [...known];
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length === 0)
    throw new UsageError(`${option}: give 'all' or a comma-separated list of: ${known.join(', ')}`);
  for (const item of items) {
    if (!known.includes(item))
      throw new UsageError(`${option}: unknown value '${item}'; allowed: all, ${known.join(', ')}`);
  }
  return [...new Set(items)];
}

export function parseChoice<T extends string>(text: string, allowed: readonly T[], option: string): T {
  if (!(allowed as readonly string[]).includes(text))
    throw new UsageError(`${option}: '${text}' is not allowed; allowed: ${allowed.join(', ')}`);
  return text as T;
}

const fmt = (n: number): string =>
  Number.isSafeInteger(n) && Math.abs(n) >= 10_000 ? n.toLocaleString('en-US') : String(n);

/** An integer in [min, max]: the error names the option and the range. */
export function parseIntInRange(text: string, option: string, min: number, max: number): number {
  const t = text.trim();
  const allowed = `an integer in ${fmt(min)}…${fmt(max)}`;
  if (!/^[+-]?\d+$/.test(t)) throw new UsageError(`${option}: '${text}' is not an integer; allowed: ${allowed}`);
  const n = Number(t);
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(`${option}: ${t} is out of range; allowed: ${allowed}`);
  return n === 0 ? 0 : n; // never −0
}

/** A positive integer up to `max` (default: any safe integer). */
export function parsePositiveInt(text: string, option: string, max = Number.MAX_SAFE_INTEGER): number {
  return parseIntInRange(text, option, 1, max);
}

/** A finite number in [min, max]. */
export function parseNumberInRange(text: string, option: string, min: number, max: number): number {
  const t = text.trim();
  const n = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : Number.NaN;
  if (!Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`${option}: '${text}' is not allowed; allowed: a number in [${min}, ${max}]`);
  return n === 0 ? 0 : n;
}

/** `--env-servers a,b`: env server URLs (ws://, wss://, http:// or https://), checked before any work. */
export function parseServers(text: string | undefined, option = '--env-servers'): string[] {
  if (text === undefined) return [];
  const urls = text.split(',').map((u) => u.trim());
  for (const u of urls) {
    let ok = false;
    try {
      ok = ['ws:', 'wss:', 'http:', 'https:'].includes(new URL(u).protocol);
    } catch {
      ok = false;
    }
    if (!ok)
      throw new UsageError(
        `${option}: '${u.slice(0, 80)}' is not a server URL; allowed: ws://host:port, http://host:port`,
      );
  }
  return urls;
}

/**
 * Commands whose agents read an env's JSON state (rule agents, LLM prompts, GRPO branching) run their
 * envs in-process: a `remote:` id gets a clear refusal naming what does run on env servers.
 */
export function refuseRemoteEnv(value: string | undefined, command: string): void {
  if (value?.startsWith('remote:'))
    throw new UsageError(
      `--env ${value.slice(0, 60)}: ${command} runs its envs in-process (its agents read the env's JSON state); ` +
        'env servers serve rollout, train (--env.servers), evaluate (--env-servers) and HelixDesk baselines ' +
        '(baseline --env helixdesk --env-servers)',
    );
}
