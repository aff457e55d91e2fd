/**
 * Daily events (reference `app/event_engine.py`). Each day draws from its own CPython RNG seeded
 * with `seed + day·31337`, independent of the main RNG: one draw per allowed event, in the task's
 * listed order, `no_event` skipped without a draw.
 */
import { firstRandomsOfSeed } from '../core/random/cpython-random.js';
import type { EventType, ScenarioMode } from './types.js';
import { EVENT_TYPES } from './types.js';

type RealEvent = Exclude<EventType, 'no_event'>;

const SCENARIO_MULTIPLIER: Readonly<Record<ScenarioMode, number>> = { normal: 1.0, crisis: 2.0, extreme_overload: 3.5 };

const BASE_PROBABILITY: Readonly<Record<RealEvent, number>> = {
  surge_applications: 0.08,
  officer_unavailable: 0.07,
  document_rejection_spike: 0.1,
  revenue_db_delay: 0.06,
  sla_escalation_order: 0.05,
};

/** Effect magnitude per event and scenario. */
const EFFECT: Readonly<Record<RealEvent, Readonly<Record<ScenarioMode, number>>>> = {
  surge_applications: { normal: 1.3, crisis: 1.5, extreme_overload: 2.0 },
  officer_unavailable: { normal: 1, crisis: 1, extreme_overload: 2 },
  document_rejection_spike: { normal: 0.15, crisis: 0.2, extreme_overload: 0.35 },
  revenue_db_delay: { normal: 0.3, crisis: 0.4, extreme_overload: 0.6 },
  sla_escalation_order: { normal: 0.5, crisis: 0.5, extreme_overload: 0.4 },
};

/** What the day's events change. */
export interface DayEventParams {
  /** The day's events in task order, or `['no_event']`. */
  readonly activeEvents: readonly EventType[];
  readonly arrivalMultiplier: number;
  readonly officerReduction: number;
  readonly docDefectRateBoost: number;
  /** Read by nothing in the reference (revenue_db_delay has no effect); kept for the record. */
  readonly systemDependencyBoost: number;
  readonly slaWindowMultiplier: number;
}

export const NO_EVENTS: DayEventParams = {
  activeEvents: ['no_event'],
  arrivalMultiplier: 1.0,
  officerReduction: 0,
  docDefectRateBoost: 0.0,
  systemDependencyBoost: 0.0,
  slaWindowMultiplier: 1.0,
};

const DRAWS = new Float64Array(EVENT_TYPES.length);

/** The events of one day and their combined parameters. */
export function eventsForDay(
  seed: number,
  day: number,
  allowed: readonly EventType[],
  scenario: ScenarioMode,
): DayEventParams {
  const real = allowed.filter((e): e is RealEvent => e !== 'no_event');
  if (real.length === 0) return NO_EVENTS; // the reference seeds a day RNG but never draws from it
  // Random(seed + 31337·day), one random() per allowed event, in order.
  const draws = firstRandomsOfSeed(seed + day * 31337, real.length, DRAWS);
  const multiplier = SCENARIO_MULTIPLIER[scenario];
  const fired: RealEvent[] = [];
  real.forEach((event, k) => {
    const p = Math.min(0.8, BASE_PROBABILITY[event] * multiplier);
    if ((draws[k] as number) < p) fired.push(event);
  });
  if (fired.length === 0) return NO_EVENTS;

  let arrivalMultiplier = 1.0;
  let officerReduction = 0;
  let docDefectRateBoost = 0.0;
  let systemDependencyBoost = 0.0;
  let slaWindowMultiplier = 1.0;
  for (const event of fired) {
    const magnitude = EFFECT[event][scenario];
    switch (event) {
      case 'surge_applications':
        arrivalMultiplier *= magnitude;
        break;
      case 'officer_unavailable':
        officerReduction += Math.trunc(magnitude);
        break;
      case 'document_rejection_spike':
        docDefectRateBoost += magnitude;
        break;
      case 'revenue_db_delay':
        systemDependencyBoost += magnitude;
        break;
      case 'sla_escalation_order':
        slaWindowMultiplier = Math.min(slaWindowMultiplier, magnitude);
        break;
    }
  }
  return {
    activeEvents: fired,
    arrivalMultiplier,
    officerReduction,
    docDefectRateBoost,
    systemDependencyBoost,
    slaWindowMultiplier,
  };
}
