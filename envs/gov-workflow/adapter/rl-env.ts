import type { Env, Gradable, Maskable, ResetOptions, ResetResult, Snapshotable, StepResult } from '../../core/env.js';
import { InvalidActionError } from '../../core/errors.js';
import { Box, Discrete } from '../../core/spaces.js';
import type { GovAction } from '../actions.js';
import type { GovEnvSnapshot, GovResetInfo, GovResetOptions, GovWorkflowEnvConfig } from '../env.js';
import { GovWorkflowEnv } from '../env.js';
import type { GovGradeResult } from '../graders.js';
import type { RewardBreakdown } from '../reward.js';
import { ACTION_TYPES } from '../types.js';
import {
  ADVANCE_INDEX,
  actionTypeOf,
  computeActionMask,
  DEFAULT_MAX_NON_ADVANCE_STREAK,
  decodeAction,
  describeAction,
  N_ACTIONS,
} from './action-table.js';
import type { AdapterTrace } from './features.js';
import { buildFeatures, N_FEATURES } from './features.js';

export interface GovRlEnvConfig extends GovWorkflowEnvConfig {
  /** After this many consecutive non-advance actions only advance_time is allowed (default 3). */
  maxNonAdvanceStreak?: number;
}

export interface GovRlStepInfo {
  /** The JSON action the index was decoded to. */
  action: GovAction;
  invalid_action: boolean;
  reward_breakdown: RewardBreakdown;
}

export interface GovRlSnapshot {
  readonly env: GovEnvSnapshot;
  readonly trace: Readonly<AdapterTrace>;
}

/** An action index that the current mask forbids. */
export class MaskedActionError extends Error {
  override readonly name = 'MaskedActionError';
  constructor(index: number, allowed: readonly number[]) {
    super(`action ${index} (${describeAction(index)}) is masked out in this state; allowed: ${allowed.join(', ')}`);
  }
}

const OBSERVATION_SPACE = new Box(0, 1, [N_FEATURES]);
const ACTION_SPACE = new Discrete(N_ACTIONS);
const ADVANCE_TYPE = ACTION_TYPES.indexOf('advance_time');

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
  readonly observationSpace = OBSERVATION_SPACE;
  readonly actionSpace = ACTION_SPACE;
  /** The underlying JSON env (read it freely; step it only through this adapter). */
  readonly inner: GovWorkflowEnv;
  private readonly trace: AdapterTrace;
  private readonly mask = new Uint8Array(N_ACTIONS);
  private maskFresh = false;

  constructor(config: GovRlEnvConfig = {}) {
    const maxStreak = config.maxNonAdvanceStreak ?? DEFAULT_MAX_NON_ADVANCE_STREAK;
    if (!Number.isInteger(maxStreak) || maxStreak < 1) {
      throw new RangeError(`maxNonAdvanceStreak must be a positive integer (got ${maxStreak})`);
    }
    this.inner = new GovWorkflowEnv(config);
    this.trace = { lastActionType: ADVANCE_TYPE, nonAdvanceStreak: 0, maxNonAdvanceStreak: maxStreak };
  }

  get id(): string {
    return this.inner.id;
  }

  reset(args: ResetOptions<GovResetOptions> = {}): ResetResult<Float32Array, GovResetInfo> {
    const { info } = this.inner.reset(args);
    this.trace.lastActionType = ADVANCE_TYPE;
    this.trace.nonAdvanceStreak = 0;
    this.maskFresh = false;
    return { observation: this.observe(), info };
  }

  /** One step; the next observation is written into `observationOut` when given (no allocation). */
  step(action: number, observationOut?: Float32Array): StepResult<Float32Array, GovRlStepInfo> {
    if (!ACTION_SPACE.contains(action)) {
      throw new InvalidActionError('action', `an integer in [0, ${N_ACTIONS - 1}]`, `got ${JSON.stringify(action)}`);
    }
    const mask = this.actionMasks();
    if (mask[action] !== 1) {
      throw new MaskedActionError(
        action,
        [...mask.keys()].filter((i) => mask[i] === 1),
      );
    }
    const json = decodeAction(action, this.inner);
    const outcome = this.inner.stepParsed(json);
    this.trace.lastActionType = ACTION_TYPES.indexOf(actionTypeOf(action));
    this.trace.nonAdvanceStreak = action === ADVANCE_INDEX ? 0 : this.trace.nonAdvanceStreak + 1;
    this.maskFresh = false;
    return {
      observation: this.observe(observationOut),
      reward: outcome.reward.total_reward,
      terminated: outcome.terminated,
      truncated: outcome.truncated,
      info: { action: json, invalid_action: outcome.invalidAction, reward_breakdown: outcome.reward },
    };
  }

  /** The current feature vector written into `out` (no allocation). */
  observe(out: Float32Array = new Float32Array(N_FEATURES)): Float32Array {
    return buildFeatures(this.inner, this.trace, out);
  }

  /** Mask for the current observation (1 = allowed). A copy; see actionMasksInto for no allocation. */
  actionMasks(): Uint8Array {
    return this.actionMasksInto(new Uint8Array(N_ACTIONS));
  }

  actionMasksInto(out: Uint8Array): Uint8Array {
    if (!this.maskFresh) {
      computeActionMask(this.inner, this.trace.nonAdvanceStreak, this.trace.maxNonAdvanceStreak, this.mask);
      this.maskFresh = true;
    }
    out.set(this.mask);
    return out;
  }

  /** The JSON action an index stands for now (for logs and LLM prompts). */
  decode(action: number): GovAction {
    return decodeAction(action, this.inner);
  }

  grade(): GovGradeResult {
    return this.inner.grade();
  }

  snapshot(): GovRlSnapshot {
    return { env: this.inner.snapshot(), trace: { ...this.trace } };
  }

  restore(snap: GovRlSnapshot): void {
    this.inner.restore(snap.env);
    this.trace.lastActionType = snap.trace.lastActionType;
    this.trace.nonAdvanceStreak = snap.trace.nonAdvanceStreak;
    this.maskFresh = false;
  }

  close(): void {
    this.inner.close();
  }
}
