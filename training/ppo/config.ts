/**
 * PPO run configuration: every hyperparameter named, defaulted and validated with zod. Field names
 * are Stable-Baselines3's (`learning_rate`, `n_steps`, `batch_size`, …) so a config can be diffed
 * against an SB3/MaskablePPO one; defaults are SB3's unless a field says otherwise.
 * The resolved config is echoed into every run's results (config.json) and checkpoint (state.json).
 *
 * Files: JSON or YAML (`training/configs/<name>.yaml`, or any path). A config may `extends` another
 * (by name or path): the child's fields override the parent's, objects merged key by key.
 * Command-line flags override any field: `--learning-rate 1e-4`, `--net-arch 64,64`,
 * `--eval.seeds 100-104`, `--env.options.variant reference` (see applyOverrides).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BACKEND_PREFERENCES } from '../../agents/policy/backend.js';
import { InvalidConfigError } from '../../envs/core/errors.js';
import { EnvOptionsSchema } from '../../envs/registry.js';
import { parseRemoteId } from '../../envs/vector/remote.js';
import { MAX_NUM_ENVS, MAX_WORKERS } from '../../envs/vector/vector-env.js';

/** training/configs/, from the sources or from dist/ (the YAML files are not compiled). */
export const CONFIGS_DIR = ((): string => {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', 'configs'), join(here, '..', '..', '..', 'training', 'configs')];
  return candidates.find((d) => existsSync(d)) ?? (candidates[0] as string);
})();

const positiveInt = z.number().int().positive();

/** Bounds of a PPO config (docs/limits.md). */
export const MAX_TOTAL_TIMESTEPS = 1e12;
/** n_steps × n_envs: 2^20 samples hold ~700 MB of Gov Workflow observations. */
export const MAX_ROLLOUT_SAMPLES = 1_048_576;
export const MAX_LAYER_UNITS = 8192;
export const MAX_LAYERS = 16;
export const MAX_EVAL_SEEDS = 10_000;
const fraction = z.number().min(0).max(1);

/** One curriculum stage: until `until` (fraction of total_timesteps) episodes draw their task from `weights`. */
export const CurriculumStageSchema = z
  .object({
    until: z.number().gt(0).max(1),
    weights: z.record(z.string(), z.number().nonnegative()),
  })
  .strict();

export const PpoConfigSchema = z
  .object({
    /** Free text: which config this is (echoed in results). */
    name: z.string().default('custom'),
    /** A label for results and checkpoints ('phase1', 'phase2', …). */
    phase: z.string().default('phase1'),
    env: z
      .object({
        /** A registered env id, e.g. gov-workflow/district_backlog_easy or helixdesk/medium. */
        id: z.string().default('gov-workflow/district_backlog_easy'),
        options: EnvOptionsSchema.default({}),
        /**
         * Env servers (serve-env) to step the training envs on, member i on servers[i mod n]; empty = in this
         * process. Results do not depend on it. `id: remote:<id>@<url>[,<url>…]` is the same thing.
         */
        servers: z.array(z.string().min(1)).max(MAX_NUM_ENVS).default([]),
      })
      .strict()
      .transform((env, ctx) => {
        let remote: ReturnType<typeof parseRemoteId> = null;
        try {
          remote = parseRemoteId(env.id);
        } catch (err) {
          ctx.addIssue({ code: 'custom', path: ['id'], message: (err as Error).message });
          return z.NEVER;
        }
        if (remote === null) return env;
        if (remote.envId === null) {
          ctx.addIssue({
            code: 'custom',
            path: ['id'],
            message: 'a training config names its env: remote:<family>/<task>@ws://host:port[,…]',
          });
          return z.NEVER;
        }
        return { ...env, id: remote.envId, servers: [...env.servers, ...remote.urls] };
      })
      .default({ id: 'gov-workflow/district_backlog_easy', options: {}, servers: [] }),
    /**
     * Gov Workflow curriculum (Phase 2): stages in increasing `until`; the last must reach 1. Each
     * episode's task is drawn when it starts, from the stage the run's progress is in. Null: the
     * env id's task only.
     */
    curriculum: z.array(CurriculumStageSchema).min(1).nullable().default(null),
    seed: z.number().int().nonnegative().default(0),
    /** Parallel envs (SB3 n_envs), at most MAX_NUM_ENVS. */
    n_envs: positiveInt.max(MAX_NUM_ENVS).default(4),
    /** Worker threads stepping the envs; 0 = in the training thread (SyncVectorEnv). Results do not depend on it. */
    workers: z.number().int().nonnegative().max(MAX_WORKERS).default(0),
    /**
     * Threads for the update: 2 runs the critic's half on a worker thread (critic-worker.ts), 1 keeps
     * it in the training thread, 'auto' = 2 when the machine has 2 or more cores and a tower has a
     * layer of 128 units or more (smaller nets lose more to the threads' meetings than they gain).
     * Results are the same bit for bit.
     */
    update_threads: z.union([z.literal(1), z.literal(2), z.literal('auto')]).default('auto'),
    total_timesteps: positiveInt.max(MAX_TOTAL_TIMESTEPS).default(200_000),
    learning_rate: z.number().positive().default(3e-4),
    /** 'constant' (SB3 default) or 'linear' (lr × progress remaining, CleanRL's anneal_lr). */
    lr_schedule: z.enum(['constant', 'linear']).default('constant'),
    n_steps: positiveInt.max(MAX_ROLLOUT_SAMPLES).default(2048),
    batch_size: z.number().int().min(2).default(64),
    n_epochs: positiveInt.max(1000).default(10),
    gamma: fraction.default(0.99),
    gae_lambda: fraction.default(0.95),
    clip_range: z.number().positive().default(0.2),
    /** null: no value clipping (SB3 default). */
    clip_range_vf: z.number().positive().nullable().default(null),
    normalize_advantage: z.boolean().default(true),
    ent_coef: z.number().nonnegative().default(0),
    vf_coef: z.number().nonnegative().default(0.5),
    max_grad_norm: z.number().positive().default(0.5),
    /** null: no early stop; else stop the epochs at the first minibatch with approx_kl > 1.5 × target_kl. */
    target_kl: z.number().positive().nullable().default(null),
    net_arch: z
      .object({
        pi: z.array(positiveInt.max(MAX_LAYER_UNITS)).min(1).max(MAX_LAYERS),
        vf: z.array(positiveInt.max(MAX_LAYER_UNITS)).min(1).max(MAX_LAYERS),
      })
      .strict()
      .default({ pi: [64, 64], vf: [64, 64] }),
    activation_fn: z.enum(['tanh', 'relu']).default('tanh'),
    ortho_init: z.boolean().default(true),
    adam: z
      .object({
        beta1: fraction.default(0.9),
        beta2: fraction.default(0.999),
        eps: z.number().positive().default(1e-5),
      })
      .strict()
      .default({ beta1: 0.9, beta2: 0.999, eps: 1e-5 }),
    /** Running mean/variance observation normalisation (SB3 VecNormalize's obs part); saved with checkpoints. */
    normalize_observations: z.boolean().default(false),
    clip_observations: z.number().positive().default(10),
    /**
     * Reward scaling by the running std of the discounted return (SB3 VecNormalize's norm_reward):
     * keeps the critic's gradients from dwarfing the actor's under global-norm clipping when rewards
     * are large (Gov Workflow medium/hard episodes sum to −1,000…−10,000). Logged rewards stay raw.
     */
    normalize_reward: z.boolean().default(false),
    clip_reward: z.number().positive().default(10),
    /** Episodes in the rollout/ep_* means (SB3 stats_window_size). */
    stats_window_size: positiveInt.max(1_000_000).default(100),
    eval: z
      .object({
        /** Evaluate every `freq` env steps (at the end of the iteration that crosses it); 0 = only at the end. */
        freq: z.number().int().nonnegative().default(20_480),
        /** Held-out episode seeds (training envs use derived 32-bit seeds; see envs/vector/slice.ts). */
        seeds: z
          .array(z.number().int().nonnegative().max(0xffffffff))
          .min(1)
          .max(MAX_EVAL_SEEDS)
          .default([1000, 1001, 1002, 1003, 1004]),
        /** Tasks to evaluate (the env family's); empty = the env id's task, or the curriculum's tasks. */
        tasks: z.array(z.string()).default([]),
        /** Best checkpoint = highest mean grader score over tasks (falls back to mean reward when ungraded). */
        deterministic: z.boolean().default(true),
      })
      .strict()
      .default({ freq: 20_480, seeds: [1000, 1001, 1002, 1003, 1004], tasks: [], deterministic: true }),
    checkpoint: z
      .object({
        /** Save every `freq` env steps (at iteration ends); 0 = only at the end and on SIGINT. */
        freq: z.number().int().nonnegative().default(50_000),
        /** Periodic checkpoints kept (best and final are kept apart). */
        keep_last: positiveInt.default(2),
      })
      .strict()
      .default({ freq: 50_000, keep_last: 2 }),
    /** Warm start: a checkpoint directory whose weights initialise the policy (Phase 2 from Phase 1). */
    init_from: z.string().nullable().default(null),
    /**
     * Imitation warm start: before PPO, behaviour cloning of this baseline agent of the env (e.g.
     * heuristic, search, rule) on its masked actions, and the critic fitted to the demonstrations'
     * returns (docs/ppo.md#imitation-warm-start). After init_from, if both are set. Null: none.
     */
    init_from_agent: z.string().min(1).nullable().default(null),
    imitation: z
      .object({
        /** Demonstration episodes per training task. */
        episodes: positiveInt.max(100_000).default(30),
        epochs: positiveInt.max(10_000).default(30),
        batch_size: positiveInt.max(65_536).default(256),
        learning_rate: z.number().positive().max(1).default(1e-3),
        /** Fit the critic to the demonstrations' discounted returns (skipped with normalize_reward). */
        value_pretrain: z.boolean().default(true),
        /**
         * DAgger rounds after cloning: the policy plays `episodes` new episodes per task, the agent
         * labels every state it visits, and the policy trains on all the labels so far.
         */
        dagger_rounds: z.number().int().nonnegative().max(100).default(0),
        /** Maximum-entropy cloning: −log p(a) − entropy_coef × H(π), so PPO can still explore. */
        entropy_coef: z.number().nonnegative().max(100).default(0),
      })
      .strict()
      .default({
        episodes: 30,
        epochs: 30,
        batch_size: 256,
        learning_rate: 1e-3,
        value_pretrain: true,
        dagger_rounds: 0,
        entropy_coef: 0,
      }),
    /**
     * A penalty coef × KL(π_warm ‖ π) toward the warm start (init_from or init_from_agent), added to
     * the policy loss; 'linear' decays the coefficient to 0 over the run. 0: off.
     */
    init_kl: z
      .object({
        coef: z.number().nonnegative().max(1e6).default(0),
        decay: z.enum(['constant', 'linear']).default('linear'),
      })
      .strict()
      .default({ coef: 0, decay: 'linear' }),
    backend: z.enum(BACKEND_PREFERENCES).default('auto'),
  })
  .strict()
  .superRefine((c, ctx) => {
    const buffer = c.n_steps * c.n_envs;
    if (buffer > MAX_ROLLOUT_SAMPLES)
      ctx.addIssue({
        code: 'custom',
        path: ['n_steps'],
        message:
          `n_steps × n_envs = ${buffer} samples per rollout is more than the ${MAX_ROLLOUT_SAMPLES} allowed ` +
          `(docs/limits.md)`,
      });
    if (c.batch_size > buffer)
      ctx.addIssue({ code: 'custom', path: ['batch_size'], message: `must be at most n_steps × n_envs = ${buffer}` });
    if (c.curriculum) {
      let last = 0;
      c.curriculum.forEach((stage, k) => {
        if (stage.until <= last)
          ctx.addIssue({
            code: 'custom',
            path: ['curriculum', k, 'until'],
            message: 'stages must have increasing `until`',
          });
        last = stage.until;
        if (Object.values(stage.weights).every((w) => w === 0))
          ctx.addIssue({ code: 'custom', path: ['curriculum', k, 'weights'], message: 'needs a positive weight' });
      });
      if (last !== 1)
        ctx.addIssue({ code: 'custom', path: ['curriculum'], message: 'the last stage must have until: 1' });
    }
  });

export type PpoConfig = z.infer<typeof PpoConfigSchema>;
export type PpoConfigInput = z.input<typeof PpoConfigSchema>;

/** Validates a config object, with an error naming the first bad field and what it accepts. */
export function parsePpoConfig(input: unknown, source = 'config'): PpoConfig {
  return parseConfigWith(PpoConfigSchema, input, source, 'a PPO config');
}

/**
 * Validates `input` with a config schema (PPO, GRPO); the first issue becomes an InvalidConfigError
 * naming the field and what it accepts (an unknown field lists the fields of its object).
 */
export function parseConfigWith<T extends z.ZodType>(
  schema: T,
  input: unknown,
  source: string,
  what: string,
): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (!issue) throw new InvalidConfigError(source, what, 'is invalid');
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length > 0 ? `${issue.path.join('.')}.` : '';
    throw new InvalidConfigError(
      `${source}: ${where}${issue.keys.join(', ')}`,
      `the fields of ${describeFields(schema, issue.path)}`,
      'is not a known field',
    );
  }
  const field = issue.path.join('.') || '(root)';
  throw new InvalidConfigError(`${source}: ${field}`, allowedFor(issue), issue.message);
}

function allowedFor(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_value') return issue.values.map(String).join(', ');
  if (issue.code === 'too_small')
    return (
      `${issue.origin === 'array' ? 'a list of length' : 'a value'} ${issue.inclusive === false ? '>' : '>='} ` +
      `${String(issue.minimum)}`
    );
  if (issue.code === 'too_big')
    return (
      `${issue.origin === 'array' ? 'a list of length' : 'a value'} ${issue.inclusive === false ? '<' : '<='} ` +
      `${String(issue.maximum)}`
    );
  if (issue.code === 'invalid_type') return `a ${issue.expected}`;
  return 'see training/configs/README or the README';
}

function describeFields(root: z.ZodType, path: readonly PropertyKey[]): string {
  let shape: z.ZodType = root;
  for (const key of path) {
    const inner = unwrap(shape);
    if (inner instanceof z.ZodObject) shape = (inner.shape as Record<string, z.ZodType>)[String(key)] ?? inner;
  }
  const obj = unwrap(shape);
  return obj instanceof z.ZodObject ? Object.keys(obj.shape).join(', ') : 'the config';
}

function unwrap(t: z.ZodType): z.ZodType {
  let cur: z.ZodType = t;
  for (let i = 0; i < 8; i++) {
    if (cur instanceof z.ZodDefault || cur instanceof z.ZodNullable || cur instanceof z.ZodOptional)
      cur = cur.unwrap() as z.ZodType;
    else if (cur instanceof z.ZodPipe) cur = cur.in as z.ZodType;
    else break;
  }
  return cur;
}

/** Top-level field names of a config schema. */
export function configFieldNames(schema: z.ZodType): string[] {
  const inner = unwrap(schema);
  return inner instanceof z.ZodObject ? Object.keys(inner.shape) : [];
}

/**
 * Whether a flag name (`n-steps`, `eval.seeds`, `env.options.variant`) addresses one of the `known` top-level fields.
 */
export function isConfigFlag(name: string, known: readonly string[]): boolean {
  return known.includes(name.split('.')[0]?.replace(/-/g, '_') ?? '');
}

export const PPO_CONFIG_FIELDS: readonly string[] = configFieldNames(PpoConfigSchema);

/** Names of the built-in configs (files in training/configs/). */
export function builtinConfigNames(): string[] {
  return [
    'gov-phase1',
    'gov-phase2',
    'gov-phase1-tuned',
    'gov-phase2-tuned',
    'helixdesk-sb3',
    'helixdesk-tuned',
    'gov-main-phase1',
    'gov-main-phase2',
    'gov-main-phase1-full',
    'gov-main-phase2-full',
    'gov-main-phase2-full-easy',
    'gov-main-phase2-full-hard',
    'helixdesk-main',
    'helixdesk-main-full',
    'grpo-phase1',
    'grpo-phase2',
  ];
}

/** Resolves `name` (a built-in config) or a path to a JSON/YAML file. */
export function configPath(nameOrPath: string, relativeTo = process.cwd()): string {
  if (/\.(ya?ml|json)$/i.test(nameOrPath)) return isAbsolute(nameOrPath) ? nameOrPath : resolve(relativeTo, nameOrPath);
  for (const ext of ['.yaml', '.yml', '.json']) {
    const p = join(CONFIGS_DIR, `${nameOrPath}${ext}`);
    if (existsSync(p)) return p;
  }
  throw new InvalidConfigError(
    '--config',
    `a file path (.yaml, .yml, .json) or a built-in config: ${builtinConfigNames().join(', ')}`,
    `'${nameOrPath}' was not found`,
  );
}

/** Reads a config file (following `extends`), without validating: overrides come first. */
export function readConfigObject(nameOrPath: string, seen: string[] = []): Record<string, unknown> {
  const path = configPath(nameOrPath, seen.length > 0 ? dirname(seen[seen.length - 1] as string) : process.cwd());
  if (seen.includes(path))
    throw new InvalidConfigError('extends', 'a config that does not extend itself', `cycle through ${path}`);
  const text = readFileSync(path, 'utf8');
  let raw: unknown;
  try {
    raw = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new InvalidConfigError(path, 'valid JSON or YAML', (err as Error).message);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new InvalidConfigError(path, 'a mapping of config fields', 'is not a mapping');
  const { extends: parent, ...own } = raw as Record<string, unknown>;
  if (parent === undefined) return own;
  if (typeof parent !== 'string')
    throw new InvalidConfigError(`${path}: extends`, 'a config name or path', 'is not a string');
  return mergeConfig(readConfigObject(parent, [...seen, path]), own);
}

/** Objects merge key by key; arrays and scalars replace. */
export function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? mergeConfig(b, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Applies `--field value` overrides to a raw config. Field paths use kebab or snake case and dots
 * (`--n-steps 256`, `--eval.freq 0`, `--net-arch 64,64`). Values are parsed as JSON when they
 * look like it, as comma-separated number lists, as seed ranges for `eval.seeds`, else as strings.
 * `--net-arch a,b` sets both `pi` and `vf`. Unknown fields are rejected with the list of fields.
 */
export function applyOverrides(
  raw: Record<string, unknown>,
  overrides: ReadonlyArray<readonly [string, string]>,
  knownFields?: readonly string[],
): Record<string, unknown> {
  let out = raw;
  for (const [flag, text] of overrides) {
    const path = flag
      .replace(/^--/, '')
      .split('.')
      .map((p) => p.replace(/-/g, '_'));
    const head = path[0] as string;
    const known = knownFields ?? PPO_CONFIG_FIELDS;
    if (!known.includes(head))
      throw new InvalidConfigError(
        `--${flag.replace(/^--/, '')}`,
        known.map((k) => `--${k.replace(/_/g, '-')}`).join(', '),
        'is not a config field',
      );
    let value: unknown = parseValue(text, path.join('.'));
    if (path.length === 1 && head === 'net_arch' && Array.isArray(value)) value = { pi: value, vf: value };
    const patch: Record<string, unknown> = {};
    let cursor = patch;
    path.forEach((key, k) => {
      if (k === path.length - 1) cursor[key] = value;
      else {
        const next: Record<string, unknown> = {};
        cursor[key] = next;
        cursor = next;
      }
    });
    out = mergeConfig(out, patch);
  }
  return out;
}

function parseValue(text: string, field: string): unknown {
  const t = text.trim();
  if (field === 'eval.seeds' && /^[\d,\s-]+$/.test(t)) {
    const seeds: number[] = [];
    for (const part of t.split(',')) {
      const m = /^(\d+)-(\d+)$/.exec(part.trim());
      if (m) for (let s = Number(m[1]); s <= Number(m[2]); s++) seeds.push(s);
      else seeds.push(Number(part));
    }
    return seeds;
  }
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?(,\s*-?\d+(\.\d+)?([eE][-+]?\d+)?)+$/.test(t)) return t.split(',').map(Number);
  if (field === 'net_arch' || field.endsWith('.pi') || field.endsWith('.vf') || field === 'eval.seeds') {
    if (/^\d+$/.test(t)) return [Number(t)];
  }
  if (field === 'env.servers') return t === '' ? [] : t.split(',').map((s) => s.trim());
  if (field === 'eval.tasks') return t === '' ? [] : t.split(',').map((s) => s.trim());
  try {
    return JSON.parse(t);
  } catch {
    return t;
  }
}

/** Loads a built-in config or file, applies overrides and validates. */
export function loadPpoConfig(nameOrPath: string, overrides: ReadonlyArray<readonly [string, string]> = []): PpoConfig {
  const raw = applyOverrides(readConfigObject(nameOrPath), overrides);
  return parsePpoConfig(raw, nameOrPath);
}

/** The env ids the config trains on: the env id, or one per curriculum task. */
export function trainingTasks(config: PpoConfig): string[] {
  const [family, task] = config.env.id.split('/') as [string, string];
  if (!config.curriculum) return [task];
  const tasks = new Set<string>();
  for (const stage of config.curriculum) for (const [t, w] of Object.entries(stage.weights)) if (w > 0) tasks.add(t);
  void family;
  return [...tasks];
}
