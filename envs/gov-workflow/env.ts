import { z } from 'zod';
import type { Env, Gradable, ResetOptions, ResetResult, Snapshotable, StepResult } from '../core/env.js';
import { EpisodeEndedError, InvalidConfigError, NotResetError } from '../core/errors.js';
import { pyRound } from '../core/py-round.js';
import { deriveSeed } from '../core/random/streams.js';
import { JsonSpace } from '../core/spaces.js';
import type { GovAction } from './actions.js';
import { GovActionSchema, parseGovAction } from './actions.js';
import type { EpisodeSnapshot, StepOutcome } from './episode.js';
import { GovEpisode } from './episode.js';
import type { GovGradeResult } from './graders.js';
import { gradeEpisode } from './graders.js';
import type { GovObservation, OfficerPool, QueueStats } from './observation.js';
import { allocationRecord, buildObservation, GovObservationSchema } from './observation.js';
import type { RewardBreakdown } from './reward.js';
import { zeroReward } from './reward.js';
import type { TaskConfig } from './tasks.js';
import { getTask, TASK_IDS } from './tasks.js';
import type { EventType, PriorityMode, ScenarioMode, Variant } from './types.js';
import { VARIANTS } from './types.js';

export interface GovWorkflowEnvConfig {
  /** One of TASK_IDS; default `district_backlog_easy` (the reference's default). */
  taskId?: string;
  /** Case-flow variant; default `corrected`. */
  variant?: Variant;
}

export const GovEnvConfigSchema = z.object({
  taskId: z.string().optional(),
  variant: z.enum(VARIANTS).optional(),
});

export const GovResetOptionsSchema = z.object({
  /** Switch the env to another task (reference behaviour). */
  task_id: z.string().optional(),
  /** Step cap; default max_days × 10. */
  max_steps_per_episode: z.number().int().positive().optional(),
});
export type GovResetOptions = z.infer<typeof GovResetOptionsSchema>;

export interface GovResetInfo {
  task_id: string;
  seed: number;
  episode_id: string;
  max_days: number;
}

/** The reference's StepInfoModel. */
export interface GovStepInfo {
  reward_breakdown: RewardBreakdown;
  newly_arrived_cases: number;
  newly_completed_cases: number;
  newly_sla_breached_cases: number;
  newly_resolved_doc_cases: number;
  invalid_action: boolean;
  action_explanation: string;
  active_events: EventType[];
  grader_preview_score: number;
  effects_resolved_this_step: string[];
}

/** The reference's EpisodeStateModel (what `state()` returns and the graders read). */
export interface GovState {
  episode_id: string;
  task_id: string;
  seed: number;
  scenario_mode: ScenarioMode;
  day: number;
  max_days: number;
  terminated: boolean;
  truncated: boolean;
  total_steps: number;
  total_completed: number;
  total_backlog: number;
  total_sla_breaches: number;
  total_rejected: number;
  action_history_count: number;
  cumulative_reward: number;
  cumulative_reward_breakdown: RewardBreakdown;
  officer_pool: OfficerPool;
  pending_effects_count: number;
  active_events_today: EventType[];
  fairness_gap: number;
  total_arrived: number;
  total_docs_requested: number;
  total_docs_cleared: number;
  total_idle_officer_days: number;
  total_capacity_days: number;
  total_urgent_arrived: number;
  total_urgent_completed: number;
  total_escalations_used: number;
  total_wasted_escalations: number;
  total_invalid_actions: number;
  avg_waiting_days: number;
  action_history?: {
    step: number;
    day: number;
    action: GovAction;
    invalid: boolean;
    message: string;
    reward: number;
  }[];
}

export interface GovEnvSnapshot {
  readonly variant: Variant;
  readonly episodeId: string;
  readonly episode: EpisodeSnapshot;
}

const ACTION_SPACE = new JsonSpace(GovActionSchema, 'GovWorkflowAction');
const OBSERVATION_SPACE = new JsonSpace(GovObservationSchema, 'GovWorkflowObservation');

/**
 * Gov Workflow OpenEnv, ported from the public v2 reference (SiddharajShirke/OPENENV_RL @ d01bbe51):
 * a district office's service queues, stepped with the reference's JSON actions and observed as its
 * JSON observation; `grade()` is the task's grader. `reset({seed})` starts the episode the reference
 * starts with that seed; `reset()` uses the task's seed on a fresh env, then continues the seeded
 * sequence (next seed = deriveSeed(previous, 'next-episode')). Snapshotable. docs/envs.md#gov-workflow.
 */
export class GovWorkflowEnv
  implements
    Env<GovObservation, GovAction, GovStepInfo, GovResetInfo, GovResetOptions>,
    Snapshotable<GovEnvSnapshot>,
    Gradable
{
  readonly observationSpace = OBSERVATION_SPACE;
  readonly actionSpace = ACTION_SPACE;
  readonly variant: Variant;
  private task: TaskConfig;
  private episode: GovEpisode | undefined;
  private episodeId = '';
  private lastSeed: number | undefined;

  constructor(config: GovWorkflowEnvConfig = {}) {
    const parsed = GovEnvConfigSchema.safeParse(config);
    if (!parsed.success) {
      const field = parsed.error.issues[0]?.path.join('.') || 'config';
      const allowed =
        field === 'variant'
          ? VARIANTS.join(' | ')
          : field === 'taskId'
            ? TASK_IDS.join(' | ')
            : '{ taskId?, variant? }';
      throw new InvalidConfigError(field, allowed, `got ${JSON.stringify((config as Record<string, unknown>)[field])}`);
    }
    this.task = getTask(config.taskId ?? 'district_backlog_easy');
    this.variant = config.variant ?? 'corrected';
  }

  get id(): string {
    return `gov-workflow/${this.task.taskId}`;
  }

  get taskConfig(): TaskConfig {
    return this.task;
  }

  /** The current priority mode (not part of the reference observation; the RL adapter reads it). */
  get priorityMode(): PriorityMode {
    return this.requireEpisode().counters.priorityMode;
  }

  /** Internal episode (read-only use: feature builders, masks, agents that need exact internals). */
  get current(): GovEpisode {
    return this.requireEpisode();
  }

  reset(args: ResetOptions<GovResetOptions> = {}): ResetResult<GovObservation, GovResetInfo> {
    const parsedOptions = GovResetOptionsSchema.safeParse(args.options ?? {});
    if (!parsedOptions.success) {
      const field = parsedOptions.error.issues[0]?.path.join('.') ?? '';
      const allowed =
        field === 'task_id'
          ? TASK_IDS.join(' | ')
          : field === 'max_steps_per_episode'
            ? 'a positive integer'
            : '{ task_id?, max_steps_per_episode? }';
      throw new InvalidConfigError(
        `options.${field}`,
        allowed,
        `got ${JSON.stringify((args.options as Record<string, unknown> | undefined)?.[field])}`,
      );
    }
    const options = parsedOptions.data;
    if (options.task_id !== undefined) this.task = getTask(options.task_id);
    let seed: number;
    if (args.seed !== undefined) {
      if (!Number.isSafeInteger(args.seed)) throw new RangeError(`reset: seed must be an integer (got ${args.seed})`);
      seed = args.seed;
    } else {
      seed = this.lastSeed === undefined ? this.task.seed : deriveSeed(this.lastSeed, 'next-episode');
    }
    this.lastSeed = seed;
    const maxSteps = options.max_steps_per_episode ?? Math.max(1, this.task.maxDays * 10);
    this.episode = new GovEpisode(this.task, this.variant, seed, maxSteps);
    // The reference appends 6 random hex digits; ours are derived from the seed so runs stay reproducible.
    const hex = deriveSeed(seed, 'episode-id').toString(16).padStart(8, '0').slice(0, 6);
    this.episodeId = `${this.task.taskId}-s${seed}-${hex}`;
    return {
      observation: this.observation(),
      info: { task_id: this.task.taskId, seed, episode_id: this.episodeId, max_days: this.task.maxDays },
    };
  }

  /** Validate and apply a JSON action. Malformed input throws InvalidActionError and changes nothing. */
  step(action: unknown): StepResult<GovObservation, GovStepInfo> {
    const parsed = this.checkStep(action);
    const outcome = this.stepParsed(parsed);
    return {
      observation: this.observation(),
      reward: outcome.reward.total_reward,
      terminated: outcome.terminated,
      truncated: outcome.truncated,
      info: this.stepInfo(outcome),
    };
  }

  /** Validates that a step may happen now and that the action is well-formed. */
  checkStep(action: unknown): GovAction {
    const ep = this.requireEpisode();
    if (ep.counters.terminated || ep.counters.truncated) throw new EpisodeEndedError(this.id);
    return parseGovAction(action);
  }

  /**
   * The fast path for adapters: apply an already validated action without building the JSON
   * observation. Call checkStep() (or guarantee its conditions) first.
   */
  stepParsed(action: GovAction): StepOutcome {
    const ep = this.requireEpisode();
    if (ep.counters.terminated || ep.counters.truncated) throw new EpisodeEndedError(this.id);
    return ep.step(action);
  }

  /**
   * An invalid step without an action: the reward's invalid-action penalty, the invalid-action
   * count, the day unchanged — exactly what a well-formed action the env cannot apply gets. For
   * callers whose agent produced no usable action (an unparseable LLM answer); `reason` becomes
   * the step's explanation. The action history records `{ action_type: 'set_priority_mode',
   * notes: 'no usable action: <reason>' }` with invalid = true.
   */
  stepInvalid(reason: string): StepResult<GovObservation, GovStepInfo> {
    const ep = this.requireEpisode();
    if (ep.counters.terminated || ep.counters.truncated) throw new EpisodeEndedError(this.id);
    const outcome = ep.step(
      { action_type: 'set_priority_mode', notes: `no usable action: ${reason}` },
      `no usable action: ${reason}`,
    );
    return {
      observation: this.observation(),
      reward: outcome.reward.total_reward,
      terminated: outcome.terminated,
      truncated: outcome.truncated,
      info: this.stepInfo(outcome),
    };
  }

  stepInfo(outcome: StepOutcome): GovStepInfo {
    const ep = this.requireEpisode();
    return {
      reward_breakdown: outcome.reward,
      newly_arrived_cases: outcome.day.newArrivals,
      newly_completed_cases: outcome.day.newCompletions,
      newly_sla_breached_cases: outcome.day.newSlaBreaches,
      newly_resolved_doc_cases: outcome.day.newlyUnblockedMissing,
      invalid_action: outcome.invalidAction,
      action_explanation: ep.counters.lastActionExplanation,
      active_events: [...outcome.day.activeEvents],
      grader_preview_score: 0.0,
      effects_resolved_this_step: [],
    };
  }

  /** Per-service statistics of the current state (shared buffer, recomputed after each step). */
  queueStats(): QueueStats {
    return this.requireEpisode().queueStats();
  }

  observation(): GovObservation {
    const ep = this.requireEpisode();
    const c = ep.counters;
    return buildObservation(
      {
        taskId: this.task.taskId,
        episodeId: this.episodeId,
        day: c.day,
        maxDays: this.task.maxDays,
        scenarioMode: this.task.scenarioMode,
        enabledServices: this.task.enabledServices,
        serviceIndices: ep.serviceIndices,
        totalOfficers: ep.totalOfficers,
        availableOfficers: ep.availableOfficers,
        allocated: ep.allocated,
        totalBacklog: ep.totalBacklog,
        totalCompleted: c.totalCompleted,
        totalSlaBreaches: c.totalSlaBreaches,
        escalationBudgetRemaining: c.escalationBudgetRemaining,
        activeEvents: c.lastActiveEvents,
        lastActionValid: c.lastActionValid,
        lastActionMessage: c.lastActionMessage,
        lastActionExplanation: c.lastActionExplanation,
      },
      this.queueStats(),
    );
  }

  /** The episode state (reference `state()`); the action history only when asked for. */
  state(options: { includeActionHistory?: boolean } = {}): GovState {
    const ep = this.requireEpisode();
    const c = ep.counters;
    const state: GovState = {
      episode_id: this.episodeId,
      task_id: this.task.taskId,
      seed: ep.seed,
      scenario_mode: this.task.scenarioMode,
      day: c.day,
      max_days: this.task.maxDays,
      terminated: c.terminated,
      truncated: c.truncated,
      total_steps: c.totalSteps,
      total_completed: c.totalCompleted,
      total_backlog: ep.totalBacklog,
      total_sla_breaches: c.totalSlaBreaches,
      total_rejected: 0,
      action_history_count: ep.actionHistory.length,
      cumulative_reward: c.cumulativeReward,
      cumulative_reward_breakdown: zeroReward(),
      officer_pool: {
        total_officers: ep.totalOfficers,
        available_officers: ep.availableOfficers,
        allocated: allocationRecord(this.task.enabledServices, ep.allocated),
        pending_reallocation: {},
      },
      pending_effects_count: 0,
      active_events_today: [],
      fairness_gap: pyRound(ep.fairnessGap(), 4),
      total_arrived: c.totalArrived,
      total_docs_requested: c.totalDocsRequested,
      total_docs_cleared: c.totalDocsCleared,
      total_idle_officer_days: c.totalIdleOfficerDays,
      total_capacity_days: c.totalCapacityDays,
      total_urgent_arrived: c.totalUrgentArrived,
      total_urgent_completed: c.totalUrgentCompleted,
      total_escalations_used: c.totalEscalationsUsed,
      total_wasted_escalations: c.totalWastedEscalations,
      total_invalid_actions: c.totalInvalidActions,
      avg_waiting_days: c.totalCompleted > 0 ? pyRound(c.completedWaitingDays / c.totalCompleted, 2) : 0.0,
    };
    if (options.includeActionHistory) state.action_history = ep.actionHistory.map((e) => ({ ...e }));
    return state;
  }

  /** The task's grader applied to the current state. */
  grade(): GovGradeResult {
    return gradeEpisode(this.task.grader, this.state());
  }

  snapshot(): GovEnvSnapshot {
    return { variant: this.variant, episodeId: this.episodeId, episode: this.requireEpisode().snapshot() };
  }

  restore(snap: GovEnvSnapshot): void {
    if (snap.variant !== this.variant)
      throw new Error(`restore: snapshot is of the '${snap.variant}' variant, this env is '${this.variant}'`);
    const task = getTask(snap.episode.taskId);
    const ep = this.episode;
    if (
      !ep ||
      ep.task !== task ||
      ep.seed !== snap.episode.seed ||
      ep.maxStepsPerEpisode !== snap.episode.maxStepsPerEpisode
    ) {
      this.task = task;
      this.episode = new GovEpisode(task, this.variant, snap.episode.seed, snap.episode.maxStepsPerEpisode);
    }
    (this.episode as GovEpisode).restore(snap.episode);
    this.episodeId = snap.episodeId;
    this.lastSeed = snap.episode.seed;
  }

  close(): void {
    this.episode = undefined;
  }

  private requireEpisode(): GovEpisode {
    if (!this.episode) throw new NotResetError(this.id);
    return this.episode;
  }
}
