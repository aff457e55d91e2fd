/**
 * What a Gov Workflow agent acts on at a step — rule agents, LLM policies and the agents behind the
 * policy server alike: the JSON observation, the RL adapter's mask and features, and the JSON action
 * each allowed index stands for. Never the env itself. GovAgentView computes it from a live env;
 * the policy server builds the same from a prompt's observation block.
 */
import type { GovAction } from '../actions.js';
import type { GovEnvSnapshot, GovWorkflowEnv } from '../env.js';
import type { GovObservation } from '../observation.js';
import type { GovActionTable, GovAdapterVersion } from './action-table.js';
import { DEFAULT_MAX_NON_ADVANCE_STREAK, govActionTable } from './action-table.js';
import { buildFeatures, govFeatureSize } from './features.js';
import type { AdapterTrace } from './trace.js';
import { freshTrace, recordAction, resetTrace } from './trace.js';

/** A copy of the state that a planning agent may simulate from in an env of its own. */
export interface GovStateCopy {
  readonly env: GovEnvSnapshot;
  readonly trace: Readonly<AdapterTrace>;
}

export interface GovAgentInput {
  readonly task: string;
  /** The episode's seed. */
  readonly seed: number;
  /** Steps taken so far in the episode. */
  readonly step: number;
  /** The env's JSON observation (the reference's ObservationModel). */
  readonly observation: GovObservation;
  /** The RL adapter's mask over its action table's indices (1 = allowed). */
  readonly mask: Uint8Array;
  /** The RL adapter's features (what a neural policy reads). */
  readonly features: Float32Array;
  /** The JSON action an allowed index stands for now. */
  actionAt(index: number): GovAction;
  /** The state, for agents that plan by simulation (search); absent where no live env exists (policy server). */
  snapshot?(): GovStateCopy;
}

export interface GovAgentViewOptions {
  maxNonAdvanceStreak?: number;
  adapter?: GovAdapterVersion;
}

/**
 * GovAgentInput of a live env, computed when read (the mask and features are reused buffers, valid
 * until the next step); `record` after each step keeps the adapter's trace.
 */
export class GovAgentView implements GovAgentInput {
  readonly trace: AdapterTrace;
  readonly table: GovActionTable;
  private seedValue = 0;
  private steps = 0;
  /** The day of the state the current input describes (the day an action chosen now is taken on). */
  private day = 0;
  private observationValue: GovObservation | null = null;
  private readonly maskBuffer: Uint8Array;
  private readonly featureBuffer: Float32Array;
  private maskFresh = false;
  private featuresFresh = false;

  constructor(
    readonly env: GovWorkflowEnv,
    options: GovAgentViewOptions = {},
  ) {
    this.trace = freshTrace(options.maxNonAdvanceStreak ?? DEFAULT_MAX_NON_ADVANCE_STREAK);
    this.table = govActionTable(options.adapter ?? 'v1');
    this.maskBuffer = new Uint8Array(this.table.size);
    this.featureBuffer = new Float32Array(govFeatureSize(this.table.version));
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
    if (!this.maskFresh) this.table.mask(this.env, this.trace, this.maskBuffer);
    this.maskFresh = true;
    return this.maskBuffer;
  }

  get features(): Float32Array {
    if (!this.featuresFresh) buildFeatures(this.env, this.trace, this.featureBuffer);
    this.featuresFresh = true;
    return this.featureBuffer;
  }

  actionAt(index: number): GovAction {
    return this.table.decode(index, this.env);
  }

  snapshot(): GovStateCopy {
    return { env: this.env.snapshot(), trace: { ...this.trace } };
  }

  /** A new episode started (after env.reset). */
  begin(seed: number): void {
    this.seedValue = seed;
    this.steps = 0;
    resetTrace(this.trace);
    this.invalidate();
  }

  /** A step was taken with `action` (null: no usable action, an invalid step); `invalid`: the env refused it. */
  record(action: GovAction | null, invalid: boolean): void {
    const advanced = action?.action_type === 'advance_time' && !invalid;
    recordAction(this.trace, action?.action_type ?? null, this.day, advanced);
    this.steps++;
    this.invalidate();
  }

  private invalidate(): void {
    this.observationValue = null;
    this.maskFresh = false;
    this.featuresFresh = false;
    this.day = this.env.current.counters.day;
  }
}

/** The input of a live env when the caller keeps the trace, step and seed itself (GRPO's walkers, benchmarks). */
export function govAgentInputAt(
  env: GovWorkflowEnv,
  trace: AdapterTrace,
  step: number,
  seed: number,
  table: GovActionTable = govActionTable('v1'),
): GovAgentInput {
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
      mask ??= table.mask(env, trace, new Uint8Array(table.size));
      return mask;
    },
    get features() {
      features ??= buildFeatures(env, trace, new Float32Array(govFeatureSize(table.version)));
      return features;
    },
    actionAt: (index) => table.decode(index, env),
    snapshot: () => ({ env: env.snapshot(), trace: { ...trace } }),
  };
}
