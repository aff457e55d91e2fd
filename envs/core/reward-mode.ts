/**
 * What an RL env pays per step (docs/envs.md#reward-modes): the reference reward (`env`), the
 * change of the task grader's score that the step caused (`grader`, scaled: an episode's return is
 * then its final score × scale), or a weighted sum of both (`mix`). Pure functions of the step.
 */
import { z } from 'zod';

export const REWARD_MODES = ['env', 'grader', 'mix'] as const;
export type RewardMode = (typeof REWARD_MODES)[number];

export const DEFAULT_GRADER_SCALE = 100;
export const DEFAULT_MIX_ENV_WEIGHT = 0.01;

export const RewardSettingsSchema = z
  .object({
    mode: z.enum(REWARD_MODES),
    /** Multiplies the grader-score change (grader and mix). */
    graderScale: z.number().positive().max(1e6).optional(),
    /** Multiplies the env reward in `mix`. */
    envWeight: z.number().nonnegative().max(1e6).optional(),
  })
  .strict();
export type RewardSettingsInput = z.infer<typeof RewardSettingsSchema>;

export interface RewardSettings {
  readonly mode: RewardMode;
  readonly graderScale: number;
  readonly envWeight: number;
}

export const ENV_REWARD: RewardSettings = { mode: 'env', graderScale: DEFAULT_GRADER_SCALE, envWeight: 1 };

export function rewardSettings(input: RewardSettingsInput | undefined): RewardSettings {
  if (input === undefined) return ENV_REWARD;
  return {
    mode: input.mode,
    graderScale: input.graderScale ?? DEFAULT_GRADER_SCALE,
    envWeight: input.mode === 'env' ? 1 : input.mode === 'grader' ? 0 : (input.envWeight ?? DEFAULT_MIX_ENV_WEIGHT),
  };
}

/** Whether the mode needs the grader's score after every step. */
export function needsGrader(settings: RewardSettings): boolean {
  return settings.mode !== 'env';
}

/**
 * The step's reward. `scoreBefore` is the grader's score before the step (0 before the first step,
 * so the return of a whole episode telescopes to scale × its final score) and `scoreAfter` after it.
 */
export function shapedReward(
  settings: RewardSettings,
  envReward: number,
  scoreBefore: number,
  scoreAfter: number,
): number {
  if (settings.mode === 'env') return envReward;
  const graderReward = settings.graderScale * (scoreAfter - scoreBefore);
  return settings.mode === 'grader' ? graderReward : graderReward + settings.envWeight * envReward;
}
