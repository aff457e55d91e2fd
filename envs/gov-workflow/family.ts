/**
 * The `gov-workflow` env family (envs/core/registry.ts):
 *
 *   gov-workflow/<task>        the RL adapter: Box(0, 1, [163]), Discrete(31) with masks (v1; v2 and v3: 166, 79).
 *   gov-workflow/curriculum    the same spaces; each episode's task drawn from `options.curriculum`
 *                              (curriculum-member.ts). Not in the default task list.
 *
 * Options: `variant` ('corrected' | 'reference'), `maxNonAdvanceStreak`, `adapter` ('v1' | 'v2' | 'v3'),
 * `reward` ({ mode: 'env' | 'grader' | 'mix', graderScale, envWeight }), and `curriculum` (only with
 * the id gov-workflow/curriculum).
 */
import { z } from 'zod';
import { InvalidConfigError } from '../core/errors.js';
import type { EnvOptions } from '../core/registry.js';
import { parseEnvOptions, registerEnvFamily } from '../core/registry.js';
import { RewardSettingsSchema } from '../core/reward-mode.js';
import { Discrete } from '../core/spaces.js';
import { DEFAULT_MAX_NON_ADVANCE_STREAK, GOV_ADAPTER_VERSIONS, govActionTable } from './adapter/action-table.js';
import { govFeatureSize } from './adapter/features.js';
import { curriculumMetricNames, GovCurriculumMember } from './curriculum-member.js';
import { GOV_EPISODE_METRICS } from './episode-summary.js';
import { TASK_IDS } from './tasks.js';
import { VARIANTS } from './types.js';
import { GovMember } from './vector-member.js';

export const GovEnvOptionsSchema = z
  .object({
    variant: z.enum(VARIANTS).optional(),
    maxNonAdvanceStreak: z.number().int().positive().optional(),
    /** The action table and features (docs/envs.md): v1 (default), v2 or v3. */
    adapter: z.enum(GOV_ADAPTER_VERSIONS).optional(),
    /** What a step pays (docs/envs.md#reward-modes); default the env's reward. */
    reward: RewardSettingsSchema.optional(),
    /** gov-workflow/curriculum: each episode's task drawn from stages over the training progress. */
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
export type GovEnvOptions = z.infer<typeof GovEnvOptionsSchema>;

/** Gov Workflow options out of generic env options (errors name the option). */
export function govEnvOptions(options: EnvOptions): GovEnvOptions {
  if (options.variant === 'v1')
    throw new InvalidConfigError(
      'options.variant',
      VARIANTS.join(' | '),
      "is 'v1': the v1 ruleset has no RL adapter (its observation and actions differ from v2's); it runs in " +
        '`baseline --variant v1` and `replay`',
    );
  return parseEnvOptions(
    GovEnvOptionsSchema,
    options,
    'variant, maxNonAdvanceStreak, adapter, reward, curriculum for gov-workflow',
  );
}

registerEnvFamily('gov-workflow', {
  tasks: TASK_IDS,
  extraTasks: ['curriculum'],
  module: import.meta.url,
  resolve(task, options) {
    const opts = govEnvOptions(options);
    const config = {
      variant: opts.variant ?? 'corrected',
      maxNonAdvanceStreak: opts.maxNonAdvanceStreak ?? DEFAULT_MAX_NON_ADVANCE_STREAK,
      adapter: opts.adapter ?? 'v1',
      ...(opts.reward !== undefined ? { reward: opts.reward } : {}),
    } as const;
    const table = govActionTable(config.adapter);
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
      options,
      module: import.meta.url,
      observationSize: govFeatureSize(config.adapter),
      actionSpace: new Discrete(table.size),
      actionDims: 1,
      maskLength: table.size,
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
      metricNames: GOV_EPISODE_METRICS,
      makeMember: () => new GovMember(task, config),
    };
  },
});
