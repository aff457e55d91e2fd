/**
 * What a Gov Workflow agent acts on at a step — rule agents, LLM policies and the agents behind the
 * policy server alike: the JSON observation, the RL adapter's mask and features, and the JSON action
 * each allowed index stands for. Never the env itself. GovAgentView computes it from a live env;
 * the policy server builds the same from a prompt's observation block.
 */
import type { GovAction } from '../actions.js';
import type { GovWorkflowEnv } from '../env.js';
import type { GovObservation } from '../observation.js';
import { ACTION_TYPES } from '../types.js';
import { computeActionMask, DEFAULT_MAX_NON_ADVANCE_STREAK, decodeAction, N_ACTIONS } from './action-table.js';
import type { AdapterTrace } from './features.js';
import { buildFeatures, N_FEATURES } from './features.js';

export interface GovAgentInput {
  readonly task: string;
  /** The episode's seed. */
  readonly seed: number;
  /** Steps taken so far in the episode. */
  readonly step: number;
  /** The env's JSON observation (the reference's ObservationModel). */
  readonly observation: GovObservation;
  /** The RL adapter's mask over its N_ACTIONS indices (1 = allowed). */
  readonly mask: Uint8Array;
  /** The RL adapter's features (what a neural policy reads). */
  readonly features: Float32Array;
  /** The JSON action an allowed index stands for now. */
  actionAt(index: number): GovAction;
}

const ADVANCE_TYPE = ACTION_TYPES.indexOf('advance_time');

/**
 * GovAgentInput of a live env, computed when read (the mask and features are reused buffers, valid
 * until the next step); `record` after each step keeps the adapter's streak trace.
 */
export class GovAgentView implements GovAgentInput {
  readonly trace: AdapterTrace;
  private seedValue = 0;
  private steps = 0;
  private observationValue: GovObservation | null = null;
  private readonly maskBuffer = new Uint8Array(N_ACTIONS);
  private readonly featureBuffer = new Float32Array(N_FEATURES);
  private maskFresh = false;
  private featuresFresh = false;

  constructor(
    readonly env: GovWorkflowEnv,
    maxNonAdvanceStreak = DEFAULT_MAX_NON_ADVANCE_STREAK,
  ) {
    this.trace = { lastActionType: ADVANCE_TYPE, nonAdvanceStreak: 0, maxNonAdvanceStreak };
  }

  get task(): string {
    return this.env.taskConfig.taskId;
  }

  get seed(): number {
    return this.seedValue;
  }

  get step(): number {
    return this.steps;
  }

  get observation(): GovObservation {
    this.observationValue ??= this.env.observation();
    return this.observationValue;
  }

  get mask(): Uint8Array {
    if (!this.maskFresh)
      computeActionMask(this.env, this.trace.nonAdvanceStreak, this.trace.maxNonAdvanceStreak, this.maskBuffer);
    this.maskFresh = true;
    return this.maskBuffer;
  }

  get features(): Float32Array {
    if (!this.featuresFresh) buildFeatures(this.env, this.trace, this.featureBuffer);
    this.featuresFresh = true;
    return this.featureBuffer;
  }

  actionAt(index: number): GovAction {
    return decodeAction(index, this.env);
  }

  /** A new episode started (after env.reset). */
  begin(seed: number): void {
    this.seedValue = seed;
    this.steps = 0;
    this.trace.lastActionType = ADVANCE_TYPE;
    this.trace.nonAdvanceStreak = 0;
    this.invalidate();
  }

  /** A step was taken with `action` (null: no usable action, an invalid step); `invalid`: the env refused it. */
  record(action: GovAction | null, invalid: boolean): void {
    if (action) this.trace.lastActionType = ACTION_TYPES.indexOf(action.action_type);
    const advanced = action?.action_type === 'advance_time' && !invalid;
    this.trace.nonAdvanceStreak = advanced ? 0 : this.trace.nonAdvanceStreak + 1;
    this.steps++;
    this.invalidate();
  }

  private invalidate(): void {
    this.observationValue = null;
    this.maskFresh = false;
    this.featuresFresh = false;
  }
}

/** The input of a live env when the caller keeps the trace, step and seed itself (GRPO's walkers, benchmarks). */
export function govAgentInputAt(env: GovWorkflowEnv, trace: AdapterTrace, step: number, seed: number): GovAgentInput {
  let observation: GovObservation | undefined;
  let mask: Uint8Array | undefined;
  let features: Float32Array | undefined;
  return {
    task: env.taskConfig.taskId,
    seed,
    step,
    get observation() {
      observation ??= env.observation();
      return observation;
    },
    get mask() {
      mask ??= computeActionMask(env, trace.nonAdvanceStreak, trace.maxNonAdvanceStreak, new Uint8Array(N_ACTIONS));
      return mask;
    },
    get features() {
      features ??= buildFeatures(env, trace, new Float32Array(N_FEATURES));
      return features;
    },
    actionAt: (index) => decodeAction(index, env),
  };
}
