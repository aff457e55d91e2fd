/**
 * The `gov-workflow` env family (envs/core/registry.ts):
 *
 *   gov-workflow/<task>        the RL adapter: Box(0, 1, [163]), Discrete(31) with masks.
 *   gov-workflow/curriculum    the same spaces; each episode's task drawn from `options.curriculum`
 *                              (curriculum-member.ts). Not in the default task list.
 *
 * Options: `variant` ('corrected' | 'reference'), `maxNonAdvanceStreak`, and `curriculum` (only with
 * the id gov-workflow/curriculum).
 */
import { z } from 'zod';
import { InvalidConfigError } from '../core/errors.js';
import type { EnvOptions } from '../core/registry.js';
import { parseEnvOptions, registerEnvFamily } from '../core/registry.js';
import { Discrete } from '../core/spaces.js';
import { DEFAULT_MAX_NON_ADVANCE_STREAK, N_ACTIONS } from './adapter/action-table.js';
import { N_FEATURES } from './adapter/features.js';
import { curriculumMetricNames, GovCurriculumMember } from './curriculum-member.js';
import { GOV_EPISODE_METRICS } from './episode-summary.js';
import { TASK_IDS } from './tasks.js';
import { VARIANTS } from './types.js';
import { GovMember } from './vector-member.js';

export const GovEnvOptionsSchema = z
  .object({
    variant: z.enum(VARIANTS).optional(),
    maxNonAdvanceStreak: z.number().int().positive().optional(),
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
  return parseEnvOptions(GovEnvOptionsSchema, options, 'variant, maxNonAdvanceStreak, curriculum for gov-workflow');
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
      options,
      module: import.meta.url,
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
      metricNames: GOV_EPISODE_METRICS,
      makeMember: () => new GovMember(task, config),
    };
  },
});
