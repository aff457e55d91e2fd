/**
 * Env ids → factories and spaces, for the vector envs and the CLI.
 *
 *   gov-workflow/<task>   the Gov Workflow RL adapter: Box(0, 1, [163]), Discrete(31) with masks.
 *                         Options: { variant?: 'corrected' | 'reference', maxNonAdvanceStreak?: number }
 *   gov-workflow/curriculum   the same spaces; each episode's task drawn from options.curriculum
 *                         ({ stages: [{ until, weights: { task: w } }], totalTimesteps, numEnvs }),
 *                         see vector/curriculum-member.ts. Not part of the default task list.
 *   helixdesk/<task>      HelixDesk: Box(−1, 1, [24 + 2n + C]), MultiDiscrete([3, 4, n + 1, 3]), all
 *                         actions allowed; episodes last the task's length (easy: 20 emails,
 *                         truncated) and end with the task's grader score.
 *                         Options: { config?: HelixDesk config (partial, as in config.yaml) }
 */
import { z } from 'zod';
import { InvalidConfigError, UnknownIdError } from './core/errors.js';
import { Discrete, MultiDiscrete } from './core/spaces.js';
import { DEFAULT_MAX_NON_ADVANCE_STREAK, N_ACTIONS } from './gov-workflow/adapter/action-table.js';
import { N_FEATURES } from './gov-workflow/adapter/features.js';
import { TASK_IDS } from './gov-workflow/tasks.js';
import { VARIANTS } from './gov-workflow/types.js';
import { observationSize, parseHelixConfig } from './helixdesk/config.js';
import { HELIX_TASK_IDS } from './helixdesk/graders.js';
import type { HelixTaskId } from './helixdesk/graders.js';
import type { VecEnvMember } from './vector/member.js';
import { curriculumMetricNames, GovCurriculumMember } from './vector/curriculum-member.js';
import { GOV_MEMBER_METRICS, GovMember, HelixMember, helixMemberMetrics } from './vector/members.js';

/** An env family: its tasks and how to build the spec of one of them. */
export interface EnvFamilyDefinition {
  readonly tasks: readonly string[];
  /** Tasks that resolve but are not part of the family's default list (`--task all`), e.g. gov-workflow/curriculum. */
  readonly extraTasks?: readonly string[];
  resolve(task: string, options: EnvOptions): EnvSpec;
}

const FAMILIES = new Map<string, EnvFamilyDefinition>();

/**
 * Adds an env family (ids `<family>/<task>`). The built-in ones are registered below; a module that
 * registers its own can be loaded into worker threads with WorkerVectorEnv's `setupModules`.
 */
export function registerEnvFamily(family: string, definition: EnvFamilyDefinition): void {
  if (FAMILIES.has(family)) throw new Error(`env family '${family}' is already registered`);
  FAMILIES.set(family, definition);
}

/** Every registered env id. */
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

/** Env options (plain JSON: they travel to worker threads). */
export const EnvOptionsSchema = z
  .object({
    variant: z.enum(VARIANTS).optional(),
    maxNonAdvanceStreak: z.number().int().positive().optional(),
    config: z.record(z.string(), z.unknown()).optional(),
    /** gov-workflow/curriculum: each episode's task drawn from stages over the training progress (curriculum-member.ts). */
    curriculum: z
      .object({
        stages: z
          .array(
            z
              .object({
                until: z.number().gt(0).max(1),
                weights: z.partialRecord(z.enum(TASK_IDS), z.number().nonnegative()),
              })
              .strict(),
          )
          .min(1),
        totalTimesteps: z.number().int().positive(),
        numEnvs: z.number().int().positive(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type EnvOptions = z.infer<typeof EnvOptionsSchema>;

export interface EnvSpec {
  readonly id: string;
  readonly family: string;
  readonly task: string;
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
  /** A member for env `index` of a vector env. */
  makeMember(index: number): VecEnvMember;
}

/** Resolves an env id with its options; unknown ids and misplaced options raise errors that list what is allowed. */
export function resolveEnv(id: string, options: EnvOptions = {}): EnvSpec {
  const slash = id.indexOf('/');
  const family = slash < 0 ? id : id.slice(0, slash);
  const task = slash < 0 ? '' : id.slice(slash + 1);
  const definition = FAMILIES.get(family);
  if (!definition || !(definition.tasks.includes(task) || definition.extraTasks?.includes(task)))
    throw new UnknownIdError('env id', id, envIds());
  const parsed = EnvOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const prefix = issue && issue.path.length > 0 ? `${issue.path.join('.')}.` : '';
    const field =
      issue?.code === 'unrecognized_keys' ? `${prefix}${issue.keys.join(', ')}` : (issue?.path.join('.') ?? '');
    throw new InvalidConfigError(
      `options.${field}`,
      'variant, maxNonAdvanceStreak (gov-workflow) or config (helixdesk and others)',
      issue?.message ?? 'is invalid',
    );
  }
  return definition.resolve(task, parsed.data);
}

registerEnvFamily('gov-workflow', {
  tasks: TASK_IDS,
  extraTasks: ['curriculum'],
  resolve(task, opts) {
    if (opts.config !== undefined)
      throw new InvalidConfigError(
        'options.config',
        'variant, maxNonAdvanceStreak, curriculum for gov-workflow',
        'is not a gov-workflow option',
      );
    const config = {
      variant: opts.variant ?? 'corrected',
      maxNonAdvanceStreak: opts.maxNonAdvanceStreak ?? DEFAULT_MAX_NON_ADVANCE_STREAK,
    };
    if ((task === 'curriculum') !== (opts.curriculum !== undefined)) {
      throw new InvalidConfigError(
        'options.curriculum',
        '{ stages, totalTimesteps, numEnvs } with the id gov-workflow/curriculum, and only there',
        task === 'curriculum' ? 'is missing' : 'needs the id gov-workflow/curriculum',
      );
    }
    const curriculum = opts.curriculum;
    const gov = {
      family: 'gov-workflow',
      task,
      options: opts,
      observationSize: N_FEATURES,
      actionSpace: new Discrete(N_ACTIONS),
      actionDims: 1,
      maskLength: N_ACTIONS,
      graded: true,
    } as const;
    if (curriculum) {
      return {
        ...gov,
        id: 'gov-workflow/curriculum',
        metricNames: curriculumMetricNames(),
        makeMember: () => new GovCurriculumMember(curriculum, config),
      };
    }
    return {
      ...gov,
      id: `gov-workflow/${task}`,
      metricNames: GOV_MEMBER_METRICS,
      makeMember: () => new GovMember(task, config),
    };
  },
});

registerEnvFamily('helixdesk', {
  tasks: HELIX_TASK_IDS,
  resolve(task, opts) {
    if (opts.variant !== undefined || opts.maxNonAdvanceStreak !== undefined) {
      throw new InvalidConfigError(
        opts.variant !== undefined ? 'options.variant' : 'options.maxNonAdvanceStreak',
        'config for helixdesk',
        'is a gov-workflow option',
      );
    }
    const config = parseHelixConfig(opts.config ?? {});
    const nvec = [3, 4, config.env.n_employees + 1, 3];
    return {
      id: `helixdesk/${task}`,
      family: 'helixdesk',
      task,
      options: opts,
      observationSize: observationSize(config),
      actionSpace: new MultiDiscrete(nvec),
      actionDims: nvec.length,
      maskLength: nvec.reduce((a, b) => a + b, 0),
      graded: true,
      metricNames: helixMemberMetrics(task as HelixTaskId),
      makeMember: () => new HelixMember(task as HelixTaskId, config),
    };
  },
});
