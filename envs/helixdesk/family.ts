/**
 * The `helixdesk` env family (envs/core/registry.ts): `helixdesk/<task>` is HelixDesk with Box(−1, 1,
 * [24 + 2n + C]) observations, MultiDiscrete([3, 4, n + 1, 3]) actions (all allowed), episodes as
 * long as the task (easy: 20 emails, truncated) ending with the task's grader score.
 *
 * Options: `config` (a partial HelixDesk config, as in config.yaml) and `reward` ({ mode: 'env' | 'grader' |
 * 'mix', graderScale, envWeight }: what a step pays, docs/envs.md#reward-modes).
 */
import { z } from 'zod';
import type { EnvOptions } from '../core/registry.js';
import { parseEnvOptions, registerEnvFamily } from '../core/registry.js';
import { RewardSettingsSchema } from '../core/reward-mode.js';
import { MultiDiscrete } from '../core/spaces.js';
import { observationSize, parseHelixConfig } from './config.js';
import type { HelixTaskId } from './graders.js';
import { HELIX_TASK_IDS } from './graders.js';
import { helixTaskMetrics } from './task-env.js';
import { HelixMember } from './vector-member.js';

export const HelixEnvOptionsSchema = z
  .object({ config: z.record(z.string(), z.unknown()).optional(), reward: RewardSettingsSchema.optional() })
  .strict();
export type HelixEnvOptions = z.infer<typeof HelixEnvOptionsSchema>;

/** HelixDesk options out of generic env options (errors name the option). */
export function helixEnvOptions(options: EnvOptions): HelixEnvOptions {
  return parseEnvOptions(HelixEnvOptionsSchema, options, 'config, reward for helixdesk');
}

registerEnvFamily('helixdesk', {
  tasks: HELIX_TASK_IDS,
  module: import.meta.url,
  resolve(task, options) {
    const opts = helixEnvOptions(options);
    const config = parseHelixConfig(opts.config ?? {});
    const nvec = [3, 4, config.env.n_employees + 1, 3];
    return {
      id: `helixdesk/${task}`,
      family: 'helixdesk',
      task,
      options,
      module: import.meta.url,
      observationSize: observationSize(config),
      actionSpace: new MultiDiscrete(nvec),
      actionDims: nvec.length,
      maskLength: nvec.reduce((a, b) => a + b, 0),
      graded: true,
      metricNames: helixTaskMetrics(task as HelixTaskId),
      makeMember: () => new HelixMember(task as HelixTaskId, config, opts.reward),
    };
  },
});
