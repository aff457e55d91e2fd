/**
 * The four Gov Workflow tasks of the v2 reference (`app/tasks.py` at d01bbe51). Service order is
 * significant: arrivals, processing, snapshots and officer reductions all walk services in this order.
 */
import { UnknownIdError } from '../core/errors.js';
import type { EventType, ScenarioMode, Service } from './types.js';
import { EVENT_TYPES } from './types.js';

export type GraderName = 'easy' | 'medium' | 'hard';

export interface TaskConfig {
  readonly taskId: string;
  readonly displayName: string;
  readonly difficulty: 'easy' | 'medium' | 'hard';
  readonly scenarioMode: ScenarioMode;
  /** Seed used when reset() is given none on a fresh env (the reference's task seed). */
  readonly seed: number;
  readonly maxDays: number;
  readonly enabledServices: readonly Service[];
  /** Arrivals per day by service (same order as enabledServices). */
  readonly arrivalRatePerDay: Readonly<Partial<Record<Service, number>>>;
  readonly digitalIntakeRatio: number;
  readonly totalOfficers: number;
  readonly availableOfficers: number;
  /** Initial officer allocation, keyed in enabledServices order. */
  readonly initialAllocation: Readonly<Partial<Record<Service, number>>>;
  readonly missingDocsProbabilityOverride: Readonly<Partial<Record<Service, number>>>;
  readonly fieldVerificationProbabilityOverride: Readonly<Partial<Record<Service, number>>>;
  readonly escalationBudget: number;
  /** Fairness tolerance used by the reward; null means 0 (the reference passes `threshold or 0.0`). */
  readonly fairnessThreshold: number | null;
  /** Declared by the reference but never read by its engine; kept for the record. */
  readonly eventProbability: number;
  readonly allowedEvents: readonly EventType[];
  readonly grader: GraderName;
}

const FIVE_SERVICES: readonly Service[] = [
  'income_certificate',
  'land_registration',
  'passport',
  'driving_license',
  'aadhaar_card',
];

const DISTRICT_BACKLOG_EASY: TaskConfig = {
  taskId: 'district_backlog_easy',
  displayName: 'District Backlog Clearance — Revenue Office',
  difficulty: 'easy',
  scenarioMode: 'normal',
  seed: 42,
  maxDays: 30,
  enabledServices: ['income_certificate'],
  arrivalRatePerDay: { income_certificate: 12.0 },
  digitalIntakeRatio: 0.65,
  totalOfficers: 8,
  availableOfficers: 8,
  initialAllocation: { income_certificate: 8 },
  missingDocsProbabilityOverride: { income_certificate: 0.2 },
  fieldVerificationProbabilityOverride: { income_certificate: 0.15 },
  escalationBudget: 5,
  fairnessThreshold: null,
  eventProbability: 0.05,
  allowedEvents: ['no_event'],
  grader: 'easy',
};

const MIXED_URGENCY_MEDIUM: TaskConfig = {
  taskId: 'mixed_urgency_medium',
  displayName: 'Mixed Urgency Backlog — Taluka Office',
  difficulty: 'medium',
  scenarioMode: 'normal',
  seed: 123,
  maxDays: 45,
  enabledServices: FIVE_SERVICES,
  arrivalRatePerDay: {
    income_certificate: 8.0,
    land_registration: 4.0,
    passport: 4.0,
    driving_license: 5.0,
    aadhaar_card: 6.0,
  },
  digitalIntakeRatio: 0.72,
  totalOfficers: 14,
  availableOfficers: 14,
  initialAllocation: { income_certificate: 4, land_registration: 2, passport: 2, driving_license: 3, aadhaar_card: 3 },
  missingDocsProbabilityOverride: {},
  fieldVerificationProbabilityOverride: {},
  escalationBudget: 8,
  fairnessThreshold: null,
  eventProbability: 0.15,
  allowedEvents: ['document_rejection_spike'],
  grader: 'medium',
};

const CROSS_DEPARTMENT_HARD: TaskConfig = {
  taskId: 'cross_department_hard',
  displayName: 'Cross-Department Crisis — District Collectorate',
  difficulty: 'hard',
  scenarioMode: 'crisis',
  seed: 999,
  maxDays: 60,
  enabledServices: FIVE_SERVICES,
  arrivalRatePerDay: {
    income_certificate: 11.0,
    land_registration: 6.0,
    passport: 6.0,
    driving_license: 7.0,
    aadhaar_card: 8.0,
  },
  digitalIntakeRatio: 0.8,
  totalOfficers: 18,
  availableOfficers: 18,
  initialAllocation: { income_certificate: 5, land_registration: 3, passport: 3, driving_license: 3, aadhaar_card: 4 },
  missingDocsProbabilityOverride: {},
  fieldVerificationProbabilityOverride: {},
  escalationBudget: 10,
  fairnessThreshold: 0.7,
  eventProbability: 0.3,
  allowedEvents: [
    'surge_applications',
    'officer_unavailable',
    'document_rejection_spike',
    'revenue_db_delay',
    'sla_escalation_order',
  ],
  grader: 'hard',
};

/** The reference's `make_extreme_variant`: same task, extreme scenario, every real event allowed. */
function extremeVariant(base: TaskConfig): TaskConfig {
  return {
    ...base,
    taskId: `${base.taskId}_extreme`,
    displayName: `${base.displayName} [EXTREME]`,
    scenarioMode: 'extreme_overload',
    eventProbability: Math.min(1.0, base.eventProbability * 3.0),
    allowedEvents: EVENT_TYPES.filter((e) => e !== 'no_event'),
  };
}

export const TASKS: ReadonlyMap<string, TaskConfig> = new Map(
  [DISTRICT_BACKLOG_EASY, MIXED_URGENCY_MEDIUM, CROSS_DEPARTMENT_HARD, extremeVariant(DISTRICT_BACKLOG_EASY)].map(
    (t) => [t.taskId, t],
  ),
);

export const TASK_IDS: readonly string[] = [...TASKS.keys()];

/** The reference's benchmark list (easy, medium, hard). */
export const BENCHMARK_TASK_IDS: readonly string[] = [
  'district_backlog_easy',
  'mixed_urgency_medium',
  'cross_department_hard',
];

export function getTask(taskId: string): TaskConfig {
  const task = TASKS.get(taskId);
  if (!task) throw new UnknownIdError('task', taskId, TASK_IDS);
  return task;
}
