/**
 * Env ids → specs (Gymnasium's `envs/registration.py`, for vector envs): a family registers its
 * tasks and how to resolve `<family>/<task>` with options into an EnvSpec — spaces, metric names and
 * a factory of vector-env members. The registry knows no specific env; queue-rl's own families
 * register themselves in envs/gov-workflow/family.ts and envs/helixdesk/family.ts, and
 * envs/registry.ts is the entry that loads both.
 */
import { z } from 'zod';
import { InvalidConfigError, UnknownIdError } from './errors.js';
import type { VecEnvMember } from './member.js';
import type { Discrete, MultiDiscrete } from './spaces.js';

/** Env options: plain JSON (they travel to worker threads and into checkpoints); each family validates its own. */
export type EnvOptions = Readonly<Record<string, unknown>>;
export const EnvOptionsSchema = z.record(z.string(), z.unknown());

/** An env family: its tasks and how to build the spec of one of them. */
export interface EnvFamilyDefinition {
  readonly tasks: readonly string[];
  /** Tasks that resolve but are not part of the family's default list (`--task all`), e.g. gov-workflow/curriculum. */
  readonly extraTasks?: readonly string[];
  /** URL of the module that registers the family: worker threads import it before resolving an id. */
  readonly module: string;
  /** Validates the options (errors name the option and what is allowed) and builds the spec. */
  resolve(task: string, options: EnvOptions): EnvSpec;
}

export interface EnvSpec {
  readonly id: string;
  readonly family: string;
  readonly task: string;
  /** The options as given (validated); what workers and snapshots carry. */
  readonly options: EnvOptions;
  readonly observationSize: number;
  readonly actionSpace: Discrete | MultiDiscrete;
  /** Integers per action: 1 (Discrete) or the number of dimensions (MultiDiscrete). */
  readonly actionDims: number;
  /** n (Discrete) or sum(nvec) (MultiDiscrete). */
  readonly maskLength: number;
  /** Whether completed episodes carry a grader score. */
  readonly graded: boolean;
  /** Names of the per-episode metrics, in the order members write them. */
  readonly metricNames: readonly string[];
  /** URL of the module that registers this spec's family (see EnvFamilyDefinition.module). */
  readonly module: string;
  /** A member for env `index` of a vector env. */
  makeMember(index: number): VecEnvMember;
}

const FAMILIES = new Map<string, EnvFamilyDefinition>();

/** Adds an env family (ids `<family>/<task>`). Registering a family twice from the same module is a no-op. */
export function registerEnvFamily(family: string, definition: EnvFamilyDefinition): void {
  const known = FAMILIES.get(family);
  if (known && known.module !== definition.module) throw new Error(`env family '${family}' is already registered`);
  FAMILIES.set(family, definition);
}

/** Every registered env id (default task lists). */
export function envIds(): string[] {
  return [...FAMILIES.entries()].flatMap(([family, f]) => f.tasks.map((t) => `${family}/${t}`));
}

/** The tasks of a family (the default task list of the CLI). */
export function familyTasks(family: string): readonly string[] {
  const f = FAMILIES.get(family);
  if (!f) throw new UnknownIdError('env', family, [...FAMILIES.keys()]);
  return f.tasks;
}

export function envFamilies(): string[] {
  return [...FAMILIES.keys()];
}

/** Resolves an env id with its options; unknown ids list the known ones, bad options name the option. */
export function resolveEnv(id: string, options: EnvOptions = {}): EnvSpec {
  const slash = id.indexOf('/');
  const family = slash < 0 ? id : id.slice(0, slash);
  const task = slash < 0 ? '' : id.slice(slash + 1);
  const definition = FAMILIES.get(family);
  if (!definition || !(definition.tasks.includes(task) || definition.extraTasks?.includes(task))) {
    const err = new UnknownIdError('env id', id, envIds());
    // The usual cause: the built-in families were never loaded (like a Gymnasium env package never imported).
    if (!definition)
      err.message +=
        ` (env family '${family}' is not registered; queue-rl's gov-workflow and helixdesk families ` +
        'register when envs/registry.js is imported)';
    throw err;
  }
  return definition.resolve(task, options);
}

/** A family's options parsed with its schema; the error names `options.<field>` and lists what the family takes. */
export function parseEnvOptions<T extends z.ZodType>(schema: T, options: EnvOptions, allowed: string): z.infer<T> {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const prefix = issue && issue.path.length > 0 ? `${issue.path.join('.')}.` : '';
  const field =
    issue?.code === 'unrecognized_keys' ? `${prefix}${issue.keys.join(', ')}` : (issue?.path.join('.') ?? '');
  throw new InvalidConfigError(`options.${field}`, allowed, issue?.message ?? 'is invalid');
}
