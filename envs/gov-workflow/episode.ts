/**
 * The mutable state of one Gov Workflow episode and the step logic that changes it (reference
 * `GovWorkflowEnv.step` / `_apply_action` / `_advance_one_day`). env.ts wraps it in the
 * Gymnasium-shaped API; this file holds no I/O and builds no JSON except the step info.
 */

import type { PyRandomState } from '../core/random/cpython-random.js';
import { PyRandom } from '../core/random/cpython-random.js';
import type { ActionTarget, GovAction } from './actions.js';
import {
  assignCapacity,
  escalateService,
  InvalidStepError,
  reallocateOfficers,
  requestMissingDocuments,
  setPriorityMode,
} from './actions.js';
import type { CaseTableData } from './case-table.js';
import { CaseTable } from './case-table.js';
import type { DayResult } from './day.js';
import { emptyDayResult, simulateDay } from './day.js';
import { QueueStats } from './observation.js';
import { TopKSelector } from './queue-order.js';
import type { RewardBreakdown } from './reward.js';
import { completionFairnessGap, computeReward } from './reward.js';
import type { TaskConfig } from './tasks.js';
import type { EventType, PriorityMode, Variant } from './types.js';
import { SERVICES } from './types.js';

/** Episode counters (reference `EpisodeMetrics` plus the env's own scalars). */
export interface EpisodeCounters {
  day: number;
  totalSteps: number;
  terminated: boolean;
  truncated: boolean;
  priorityMode: PriorityMode;
  escalationBudgetRemaining: number;
  totalArrived: number;
  totalCompleted: number;
  totalSlaBreaches: number;
  totalInvalidActions: number;
  totalEscalationsUsed: number;
  totalWastedEscalations: number;
  totalDocsRequested: number;
  totalDocsCleared: number;
  totalIdleOfficerDays: number;
  totalCapacityDays: number;
  totalUrgentArrived: number;
  totalUrgentCompleted: number;
  /** Sum of waiting_days over completed cases (avg_waiting_days = this / totalCompleted). */
  completedWaitingDays: number;
  cumulativeReward: number;
  lastActionValid: boolean;
  lastActionMessage: string;
  lastActionExplanation: string;
  lastActiveEvents: readonly EventType[];
}

export interface ActionHistoryEntry {
  step: number;
  day: number;
  action: GovAction;
  invalid: boolean;
  message: string;
  reward: number;
}

/** What one step produced, before any observation is built. */
export interface StepOutcome {
  reward: RewardBreakdown;
  terminated: boolean;
  truncated: boolean;
  invalidAction: boolean;
  day: DayResult;
}

/** A deep copy of an episode (RNG included). */
export interface EpisodeSnapshot {
  readonly taskId: string;
  readonly seed: number;
  readonly maxStepsPerEpisode: number;
  readonly counters: Readonly<EpisodeCounters>;
  readonly rng: PyRandomState;
  readonly table: CaseTableData;
  readonly allocated: Int32Array;
  readonly arrivedByService: Int32Array;
  readonly completedByService: Int32Array;
  readonly actionHistory: readonly ActionHistoryEntry[];
}

function freshCounters(task: TaskConfig): EpisodeCounters {
  return {
    day: 0,
    totalSteps: 0,
    terminated: false,
    truncated: false,
    priorityMode: 'balanced',
    escalationBudgetRemaining: task.escalationBudget,
    totalArrived: 0,
    totalCompleted: 0,
    totalSlaBreaches: 0,
    totalInvalidActions: 0,
    totalEscalationsUsed: 0,
    totalWastedEscalations: 0,
    totalDocsRequested: 0,
    totalDocsCleared: 0,
    totalIdleOfficerDays: 0,
    totalCapacityDays: 0,
    totalUrgentArrived: 0,
    totalUrgentCompleted: 0,
    completedWaitingDays: 0,
    cumulativeReward: 0.0,
    lastActionValid: true,
    lastActionMessage: 'reset',
    lastActionExplanation: '',
    lastActiveEvents: [],
  };
}

export class GovEpisode implements ActionTarget {
  readonly table: CaseTable;
  readonly selector = new TopKSelector();
  readonly rng: PyRandom;
  readonly serviceIndices: readonly number[];
  readonly availableOfficers: number;
  readonly totalOfficers: number;
  /** Officers per enabled service, in task order. */
  readonly allocated: Int32Array;
  /** Indexed like SERVICES. */
  readonly arrivedByService = new Int32Array(SERVICES.length);
  readonly completedByService = new Int32Array(SERVICES.length);
  counters: EpisodeCounters;
  actionHistory: ActionHistoryEntry[] = [];
  /** Queue statistics of the current state; the per-case part is tallied when stale. */
  private readonly stats = new QueueStats();
  private statsFresh = false;

  constructor(
    readonly task: TaskConfig,
    readonly variant: Variant,
    readonly seed: number,
    readonly maxStepsPerEpisode: number,
  ) {
    this.rng = new PyRandom(seed);
    this.serviceIndices = task.enabledServices.map((s) => SERVICES.indexOf(s));
    this.availableOfficers = task.availableOfficers;
    this.totalOfficers = task.totalOfficers;
    this.allocated = Int32Array.from(task.enabledServices, (s) => task.initialAllocation[s] ?? 0);
    const totalRate = task.enabledServices.reduce((acc, s) => acc + (task.arrivalRatePerDay[s] ?? 0), 0);
    this.table = new CaseTable(Math.ceil(task.maxDays * totalRate * 1.25) + 64);
    this.counters = freshCounters(task);
  }

  get totalBacklog(): number {
    return this.table.totalActive();
  }

  /** The reference env's fairness gap over the enabled services (unrounded). */
  fairnessGap(): number {
    const n = this.serviceIndices.length;
    const arrived = new Array<number>(n);
    const completed = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const s = this.serviceIndices[i] as number;
      arrived[i] = this.arrivedByService[s] as number;
      completed[i] = this.completedByService[s] as number;
    }
    return completionFairnessGap(arrived, completed);
  }

  /** One env step with an already validated action. */
  /**
   * One step. With `rejection`, the action is not applied: the step is an invalid step with that
   * message (as for a well-formed action the env cannot apply), e.g. an LLM answer that was not an
   * action at all.
   */
  step(action: GovAction, rejection?: string): StepOutcome {
    const c = this.counters;
    c.totalSteps += 1;
    let invalidAction = false;
    let day = EMPTY_DAY;
    try {
      let message: string;
      if (rejection !== undefined) {
        throw new InvalidStepError(rejection);
      } else if (action.action_type === 'advance_time') {
        day = this.advanceOneDay();
        message = `Day ${c.day} simulated`;
      } else {
        message = this.applyAdmin(action);
      }
      c.lastActionValid = true;
      c.lastActionMessage = message || 'ok';
      c.lastActionExplanation = c.lastActionMessage;
    } catch (err) {
      if (!(err instanceof InvalidStepError)) throw err;
      invalidAction = true;
      c.totalInvalidActions += 1;
      c.lastActionValid = false;
      c.lastActionMessage = err.message;
      c.lastActionExplanation = `Invalid: ${err.message}`;
    }

    const backlog = this.totalBacklog;
    const reward = computeReward({
      stageAdvances: day.stageAdvances,
      completions: day.newCompletions,
      activeBacklog: backlog,
      newSlaBreaches: day.newSlaBreaches,
      fairnessGap: this.fairnessGap(),
      fairnessTolerance: this.task.fairnessThreshold ?? 0.0,
      invalidAction,
      idleOfficerDays: day.idleOfficerDays,
      stabilityEligible: action.action_type === 'advance_time',
    });
    c.cumulativeReward += reward.total_reward;
    c.terminated = backlog === 0 && c.day > 0 && !invalidAction;
    c.truncated = (c.day >= this.task.maxDays || c.totalSteps >= this.maxStepsPerEpisode) && !c.terminated;
    c.lastActiveEvents = day.activeEvents;
    // advance_time tallied the statistics at the end of its day. Other actions change them only
    // through the case table or the allocation: a priority change or a rejected action leaves them
    // (assign_capacity applies entry by entry, so even a rejected one may have moved an officer).
    if (action.action_type === 'advance_time') this.statsFresh = true;
    else if (action.action_type !== 'set_priority_mode' && (!invalidAction || action.action_type === 'assign_capacity'))
      this.statsFresh = false;
    this.actionHistory.push({
      step: c.totalSteps,
      day: c.day,
      action,
      invalid: invalidAction,
      message: c.lastActionMessage,
      reward: reward.total_reward,
    });
    return { reward, terminated: c.terminated, truncated: c.truncated, invalidAction, day };
  }

  private applyAdmin(action: GovAction): string {
    switch (action.action_type) {
      case 'set_priority_mode':
        return setPriorityMode(this, action);
      case 'assign_capacity':
        return assignCapacity(this, action);
      case 'request_missing_documents':
        return requestMissingDocuments(this, action);
      case 'escalate_service':
        return escalateService(this, action);
      case 'reallocate_officers':
        return reallocateOfficers(this, action);
      case 'advance_time':
        throw new Error('advance_time is not an administrative action');
    }
  }

  private advanceOneDay(): DayResult {
    const c = this.counters;
    c.day += 1;
    const result = simulateDay(
      {
        task: this.task,
        variant: this.variant,
        seed: this.seed,
        rng: this.rng,
        table: this.table,
        selector: this.selector,
        stats: this.stats,
        serviceIndices: this.serviceIndices,
      },
      c.day,
      c.priorityMode,
      this.allocated,
    );
    for (const s of this.serviceIndices) {
      this.completedByService[s] = (this.completedByService[s] as number) + (result.completionsByService[s] as number);
      this.arrivedByService[s] = (this.arrivedByService[s] as number) + (result.arrivalsByService[s] as number);
    }
    c.totalArrived += result.newArrivals;
    c.totalUrgentArrived += result.newUrgentArrivals;
    c.totalCompleted += result.newCompletions;
    c.completedWaitingDays += result.completedWaitingDays;
    c.totalSlaBreaches += result.newSlaBreaches;
    c.totalIdleOfficerDays += result.idleOfficerDays;
    c.totalCapacityDays += result.totalCapacityDays;
    c.totalUrgentCompleted += result.urgentCompleted;
    c.totalDocsCleared += result.newlyUnblockedMissing;
    return result;
  }

  /** Statistics of the current queues (a shared buffer, valid until the next step). */
  queueStats(): QueueStats {
    if (!this.statsFresh) {
      this.stats.tally(this.table, this.serviceIndices, this.counters.day, false);
      this.statsFresh = true;
    }
    this.stats.computeSignals(this.serviceIndices, this.completedByService, this.allocated, this.availableOfficers);
    return this.stats;
  }

  snapshot(): EpisodeSnapshot {
    return {
      taskId: this.task.taskId,
      seed: this.seed,
      maxStepsPerEpisode: this.maxStepsPerEpisode,
      counters: { ...this.counters },
      rng: this.rng.getState(),
      table: this.table.save(),
      allocated: this.allocated.slice(),
      arrivedByService: this.arrivedByService.slice(),
      completedByService: this.completedByService.slice(),
      actionHistory: this.actionHistory.slice(),
    };
  }

  /** Load a snapshot taken from an episode of the same task, variant and seed. */
  restore(snap: EpisodeSnapshot): void {
    this.counters = { ...snap.counters };
    this.rng.setState(snap.rng);
    this.table.load(snap.table);
    this.allocated.set(snap.allocated);
    this.arrivedByService.set(snap.arrivedByService);
    this.completedByService.set(snap.completedByService);
    this.actionHistory = snap.actionHistory.slice();
    this.statsFresh = false;
  }
}

/** The day result of a non-advance step: nothing happened. Shared and never mutated. */
const EMPTY_DAY: DayResult = Object.freeze(emptyDayResult());
