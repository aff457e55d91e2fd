/** v1's three tasks (app/tasks.py @ 1a2660b3): seeds 11 / 22 / 33, as the seed document's table runs them. */
import type { V1Service } from './model.js';

export interface V1Task {
  readonly taskId: string;
  readonly seed: number;
  readonly maxDays: number;
  readonly arrivalRate: number;
  readonly services: readonly V1Service[];
  readonly missingDocsProbability: number;
  readonly fieldVerificationProbability: number;
  readonly escalationBudget: number;
  /** Initial allocations, in the reference's key order (the observation keeps it). */
  readonly officerPool: Readonly<Partial<Record<V1Service, number>>>;
  readonly reserveOfficers: number;
  readonly initialCasesByService: Readonly<Partial<Record<V1Service, number>>>;
  readonly slaDays: Readonly<Partial<Record<V1Service, number>>>;
  readonly fairnessThreshold: number | null;
}

export const V1_TASKS: ReadonlyMap<string, V1Task> = new Map(
  (
    [
      {
        taskId: 'district_backlog_easy',
        seed: 11,
        maxDays: 20,
        arrivalRate: 2.0,
        services: ['birth_certificate', 'income_certificate', 'driving_license'],
        missingDocsProbability: 0.18,
        fieldVerificationProbability: 0.12,
        escalationBudget: 3,
        officerPool: { birth_certificate: 2, income_certificate: 2, driving_license: 1 },
        reserveOfficers: 1,
        initialCasesByService: { birth_certificate: 4, income_certificate: 4, driving_license: 3 },
        slaDays: { birth_certificate: 6, income_certificate: 7, driving_license: 10 },
        fairnessThreshold: null,
      },
      {
        taskId: 'mixed_urgency_medium',
        seed: 22,
        maxDays: 28,
        arrivalRate: 3.0,
        services: ['passport', 'driving_license', 'gst_registration', 'income_certificate'],
        missingDocsProbability: 0.24,
        fieldVerificationProbability: 0.28,
        escalationBudget: 4,
        officerPool: { passport: 2, driving_license: 2, gst_registration: 2, income_certificate: 1 },
        reserveOfficers: 1,
        initialCasesByService: { passport: 5, driving_license: 5, gst_registration: 4, income_certificate: 4 },
        slaDays: { passport: 12, driving_license: 10, gst_registration: 9, income_certificate: 7 },
        fairnessThreshold: 0.35,
      },
      {
        taskId: 'cross_department_hard',
        seed: 33,
        maxDays: 35,
        arrivalRate: 4.0,
        services: ['passport', 'gst_registration', 'caste_certificate', 'land_registration', 'birth_certificate'],
        missingDocsProbability: 0.3,
        fieldVerificationProbability: 0.42,
        escalationBudget: 5,
        officerPool: {
          passport: 2,
          gst_registration: 2,
          caste_certificate: 1,
          land_registration: 1,
          birth_certificate: 2,
        },
        reserveOfficers: 2,
        initialCasesByService: {
          passport: 6,
          gst_registration: 5,
          caste_certificate: 5,
          land_registration: 4,
          birth_certificate: 5,
        },
        slaDays: {
          passport: 12,
          gst_registration: 9,
          caste_certificate: 8,
          land_registration: 15,
          birth_certificate: 6,
        },
        fairnessThreshold: 0.25,
      },
    ] satisfies V1Task[]
  ).map((t) => [t.taskId, t]),
);

export const V1_TASK_IDS = [...V1_TASKS.keys()];
/** ENV_MAX_STEPS_PER_EPISODE's default: the step cap of every v1 episode. */
export const V1_MAX_STEPS_PER_EPISODE = 500;
