/**
 * One simulated day (reference `DaySimulator.simulate_day`), in the reference's exact order:
 *
 *   1. events for the day          4. field verification due → resolved
 *   2. arrivals                    5. requested documents due → resolved
 *   3. officer reduction (a copy)  6. processing, service by service, in priority order
 *                                  7. completed cases leave the active lists
 *                                  8. end of day: every active case ages a day; new SLA breaches
 */

import type { PyRandom } from '../core/random/cpython-random.js';
import { spawnArrivals } from './arrivals.js';
import { AdvanceOutcome, advanceCase, resolveDue } from './case-flow.js';
import type { CaseTable } from './case-table.js';
import { eventsForDay } from './events.js';
import type { QueueStats } from './observation.js';
import type { TopKSelector } from './queue-order.js';
import type { TaskConfig } from './tasks.js';
import type { EventType, PriorityMode, Variant } from './types.js';
import { SERVICES } from './types.js';

export interface DayResult {
  newArrivals: number;
  /** New arrivals that were urgent at arrival (the env's total_urgent_arrived). */
  newUrgentArrivals: number;
  /** Arrivals per service, indexed like SERVICES. */
  arrivalsByService: Int32Array;
  newCompletions: number;
  /** Completions per service, indexed like SERVICES. */
  completionsByService: Int32Array;
  /** Sum of waiting_days of today's completed cases (for the state's avg_waiting_days). */
  completedWaitingDays: number;
  newSlaBreaches: number;
  totalCapacityDays: number;
  idleOfficerDays: number;
  stageAdvances: number;
  newlyUnblockedMissing: number;
  fieldVerificationCompleted: number;
  urgentCompleted: number;
  activeEvents: readonly EventType[];
}

export function emptyDayResult(): DayResult {
  return {
    newArrivals: 0,
    newUrgentArrivals: 0,
    arrivalsByService: new Int32Array(SERVICES.length),
    newCompletions: 0,
    completionsByService: new Int32Array(SERVICES.length),
    completedWaitingDays: 0,
    newSlaBreaches: 0,
    totalCapacityDays: 0,
    idleOfficerDays: 0,
    stageAdvances: 0,
    newlyUnblockedMissing: 0,
    fieldVerificationCompleted: 0,
    urgentCompleted: 0,
    activeEvents: [],
  };
}

export interface DayContext {
  readonly task: TaskConfig;
  readonly variant: Variant;
  /** Episode seed: the event RNG of day d is Random(seed + 31337·d). */
  readonly seed: number;
  /** The episode's main RNG (also used by document requests). */
  readonly rng: PyRandom;
  readonly table: CaseTable;
  readonly selector: TopKSelector;
  /** Tallied at the end of the day (the observation's queue statistics). */
  readonly stats: QueueStats;
  /** Positions of the task's enabled services in SERVICES, in task order. */
  readonly serviceIndices: readonly number[];
}

/** Simulates `day` (already incremented by the caller). `allocated` is per enabled service, in task order. */
export function simulateDay(ctx: DayContext, day: number, mode: PriorityMode, allocated: Int32Array): DayResult {
  const { task, table, variant, serviceIndices } = ctx;
  const result = emptyDayResult();

  // 1. Events.
  const params = eventsForDay(ctx.seed, day, task.allowedEvents, task.scenarioMode);
  result.activeEvents = params.activeEvents;

  // 2. Arrivals (appended to the active lists before anything else happens today).
  const firstNewRow = table.count;
  result.newArrivals = spawnArrivals(day, task, params, ctx.rng, table);
  for (let row = firstNewRow; row < table.count; row++) {
    const s = table.service[row] as number;
    result.arrivalsByService[s] = (result.arrivalsByService[s] as number) + 1;
    if (table.urgent[row] === 1) result.newUrgentArrivals++;
  }

  // 3. Officer reduction on a copy of the allocation: one officer at a time from the largest
  //    allocation (first in task order on ties).
  const effective = Int32Array.from(allocated);
  for (let k = 0; k < params.officerReduction; k++) {
    let target = -1;
    for (let i = 0; i < effective.length; i++) {
      if (target < 0 || (effective[i] as number) > (effective[target] as number)) target = i;
    }
    if (target < 0 || (effective[target] as number) <= 0) break;
    effective[target] = (effective[target] as number) - 1;
  }

  // 4–5. Field verifications and requested documents that are due.
  [result.fieldVerificationCompleted, result.newlyUnblockedMissing] = resolveDue(table, day, variant);

  // 6. Processing: each officer moves one case one step, highest priority first.
  for (let i = 0; i < serviceIndices.length; i++) {
    const s = serviceIndices[i] as number;
    const rows = table.activeRows[s] as Int32Array;
    const n = table.activeCount[s] as number;
    const capacity = effective[i] as number;
    result.totalCapacityDays += capacity;
    if (n === 0) {
      result.idleOfficerDays += capacity; // the only way idle time is counted
      continue;
    }
    const picked = ctx.selector.select(table, rows, n, mode, capacity, 'processing');
    const selected = ctx.selector.selected();
    for (let k = 0; k < picked; k++) {
      const row = selected[k] as number;
      const outcome = advanceCase(table, row);
      if (outcome === AdvanceOutcome.None) continue;
      result.stageAdvances++;
      if (outcome === AdvanceOutcome.Completed) {
        result.newCompletions++;
        result.completionsByService[s] = (result.completionsByService[s] as number) + 1;
        result.completedWaitingDays += table.waitingDays(row); // frozen from now on: aged through yesterday
        if (table.urgent[row] === 1) result.urgentCompleted++;
      }
    }
  }

  // 7. Completed cases leave the active lists.
  if (result.newCompletions > 0) table.removeCompleted(result.completionsByService);

  // 8. End of day: every active case ages a day and is checked for a new SLA breach; the same walk
  //    tallies the queue statistics of the day's final state.
  result.newSlaBreaches = ctx.stats.tally(table, serviceIndices, day, true);
  return result;
}
