import type { Env, Gradable, Maskable, ResetOptions, ResetResult, Snapshotable, StepResult } from '../../core/env.js';
import { InvalidActionError, MaskedActionError } from '../../core/errors.js';
import type { RewardSettings, RewardSettingsInput } from '../../core/reward-mode.js';
import { needsGrader, rewardSettings, shapedReward } from '../../core/reward-mode.js';
import { Box, Discrete } from '../../core/spaces.js';
import type { GovAction } from '../actions.js';
import type { GovEnvSnapshot, GovResetInfo, GovResetOptions, GovWorkflowEnvConfig } from '../env.js';
import { GovWorkflowEnv } from '../env.js';
import type { StepOutcome } from '../episode.js';
import type { GovGradeResult } from '../graders.js';
import type { RewardBreakdown } from '../reward.js';
import type { ActionType } from '../types.js';
import type { GovActionTable, GovAdapterVersion } from './action-table.js';
import { ADVANCE_INDEX, DEFAULT_MAX_NON_ADVANCE_STREAK, govActionTable } from './action-table.js';
import { buildFeatures, govFeatureSize } from './features.js';
import type { AdapterTrace } from './trace.js';
import { freshTrace, recordAction, resetTrace, restoreTrace } from './trace.js';

export interface GovRlEnvConfig extends GovWorkflowEnvConfig {
  /** After this many consecutive non-advance actions only advance_time is allowed (default 3). */
  maxNonAdvanceStreak?: number;
  /** The action table and features: v1 (31 actions, 163 features; default) or v2 (79, 166). */
  adapter?: GovAdapterVersion;
  /** What a step pays: the reference reward (default), the grader-score change, or a mix. */
  reward?: RewardSettingsInput;
}

export interface GovRlStepInfo {
  /** The JSON action the index was decoded to. */
  action: GovAction;
  invalid_action: boolean;
  reward_breakdown: RewardBreakdown;
  /** The reference reward of the step (what `reward` is in the env mode). */
  env_reward: number;
}

export interface GovRlSnapshot {
  readonly env: GovEnvSnapshot;
  readonly trace: Readonly<AdapterTrace>;
  /** The grader's score before the next step (grader and mix rewards). */
  readonly scoreBefore?: number;
}

export { MaskedActionError };

/**
 * The Gov Workflow env as PPO and evaluation see it: Box(0, 1, [163]) observations (features.ts),
 * Discrete(31) actions (action-table.ts) with masks (sb3-contrib's `action_masks()`), the env's
 * reward; snapshotable and gradable. Stepping a masked-out index throws MaskedActionError and
 * changes nothing: a correct masked policy never samples one, so it is a bug to surface, not to repair.
 */
export class GovWorkflowRlEnv
  implements
    Env<Float32Array, number, GovRlStepInfo, GovResetInfo, GovResetOptions>,
    Maskable,
    Snapshotable<GovRlSnapshot>,
    Gradable
{
  readonly observationSpace: Box;
  readonly actionSpace: Discrete;
  readonly table: GovActionTable;
  readonly reward: RewardSettings;
  /** The underlying JSON env (read it freely; step it only through this adapter). */
  readonly inner: GovWorkflowEnv;
  private readonly trace: AdapterTrace;
  private readonly mask: Uint8Array;
  private maskFresh = false;
  private scoreBefore = 0;
  /** The JSON env's outcome of the last step (for the reference's step info; valid until the next step). */
  lastOutcome: StepOutcome | null = null;

  constructor(config: GovRlEnvConfig = {}) {
    const maxStreak = config.maxNonAdvanceStreak ?? DEFAULT_MAX_NON_ADVANCE_STREAK;
    if (!Number.isInteger(maxStreak) || maxStreak < 1) {
      throw new RangeError(`maxNonAdvanceStreak must be a positive integer (got ${maxStreak})`);
    }
    this.table = govActionTable(config.adapter ?? 'v1');
    this.reward = rewardSettings(config.reward);
    this.observationSpace = new Box(0, 1, [govFeatureSize(this.table.version)]);
    this.actionSpace = new Discrete(this.table.size);
    this.mask = new Uint8Array(this.table.size);
    this.inner = new GovWorkflowEnv(config);
    this.trace = freshTrace(maxStreak);
  }

  get id(): string {
    return this.inner.id;
  }

  reset(args: ResetOptions<GovResetOptions> = {}): ResetResult<Float32Array, GovResetInfo> {
    const { info } = this.inner.reset(args);
    resetTrace(this.trace);
    this.maskFresh = false;
    this.scoreBefore = 0;
    return { observation: this.observe(), info };
  }

  /** One step; the next observation is written into `observationOut` when given (no allocation). */
  step(action: number, observationOut?: Float32Array): StepResult<Float32Array, GovRlStepInfo> {
    if (!this.actionSpace.contains(action)) {
      throw new InvalidActionError(
        'action',
        `an integer in [0, ${this.table.size - 1}]`,
        `got ${JSON.stringify(action)}`,
      );
    }
    const mask = this.actionMasks();
    if (mask[action] !== 1) {
      throw new MaskedActionError(
        action,
        this.table.describe(action),
        [...mask.keys()].filter((i) => mask[i] === 1),
      );
    }
    const json = this.table.decode(action, this.inner);
    return this.apply(json, this.table.actionTypeOf(action), action === ADVANCE_INDEX, observationOut);
  }

  /**
   * One step with the env's own JSON action (what the seeds' clients send over the wire): no mask,
   * the env judges the action as the JSON env does (an invalid one costs its penalty); the adapter's
   * trace, features and reward follow as for an index.
   */
  stepAction(action: GovAction, observationOut?: Float32Array): StepResult<Float32Array, GovRlStepInfo> {
    return this.apply(action, action.action_type, action.action_type === 'advance_time', observationOut);
  }

  private apply(
    json: GovAction,
    type: ActionType,
    advanced: boolean,
    observationOut: Float32Array | undefined,
  ): StepResult<Float32Array, GovRlStepInfo> {
    const day = this.inner.current.counters.day;
    const outcome = this.inner.stepParsed(json);
    this.lastOutcome = outcome;
    recordAction(this.trace, type, day, advanced);
    this.maskFresh = false;
    const envReward = outcome.reward.total_reward;
    let reward = envReward;
    if (needsGrader(this.reward)) {
      const scoreAfter = this.inner.grade().score;
      reward = shapedReward(this.reward, envReward, this.scoreBefore, scoreAfter);
      this.scoreBefore = scoreAfter;
    }
    return {
      observation: this.observe(observationOut),
      reward,
      terminated: outcome.terminated,
      truncated: outcome.truncated,
      info: {
        action: json,
        invalid_action: outcome.invalidAction,
        reward_breakdown: outcome.reward,
        env_reward: envReward,
      },
    };
  }

  /** The current feature vector written into `out` (no allocation). */
  observe(out: Float32Array = new Float32Array(this.observationSpace.shape[0] as number)): Float32Array {
    return buildFeatures(this.inner, this.trace, out);
  }

  /** Mask for the current observation (1 = allowed). A copy; see actionMasksInto for no allocation. */
  actionMasks(): Uint8Array {
    return this.actionMasksInto(new Uint8Array(this.table.size));
  }

  actionMasksInto(out: Uint8Array): Uint8Array {
    if (!this.maskFresh) {
      this.table.mask(this.inner, this.trace, this.mask);
      this.maskFresh = true;
    }
    out.set(this.mask);
    return out;
  }

  /** The JSON action an index stands for now (for logs and LLM prompts). */
  decode(action: number): GovAction {
    return this.table.decode(action, this.inner);
  }

  grade(): GovGradeResult {
    return this.inner.grade();
  }

  snapshot(): GovRlSnapshot {
    return { env: this.inner.snapshot(), trace: { ...this.trace }, scoreBefore: this.scoreBefore };
  }

  restore(snap: GovRlSnapshot): void {
    this.inner.restore(snap.env);
    restoreTrace(this.trace, snap.trace);
    this.scoreBefore = snap.scoreBefore ?? 0;
    this.maskFresh = false;
  }

  close(): void {
    this.inner.close();
  }
}
