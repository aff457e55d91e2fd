/**
 * The JSON action (reference `ActionModel`): schema, validation with field-naming errors, and the
 * handlers of the five administrative actions (advance_time is the day simulation, in env.ts).
 *
 * Two kinds of bad action, as in the reference:
 * - malformed (unknown action_type, bad enum value, non-integer officer count, wrong JSON type):
 *   rejected before the step by `parseGovAction` with an InvalidActionError naming the field and the
 *   allowed values; the env does not change and no step is counted (HTTP 422 in the reference);
 * - well-formed but not applicable now (no blocked case, budget spent, delta not summing to 0…):
 *   the handler throws InvalidStepError and the env records an invalid step with the −1.5 penalty.
 * Unknown top-level keys (such as the v1 name `service`) are ignored.
 */
import { z } from 'zod';
import { InvalidActionError } from '../core/errors.js';
import type { PyRandom } from '../core/random/cpython-random.js';
import type { CaseTable } from './case-table.js';
import { NO_DAY } from './case-table.js';
import type { TopKSelector } from './queue-order.js';
import { keyBefore } from './queue-order.js';
import type { TaskConfig } from './tasks.js';
import type { PriorityMode, Service } from './types.js';
import { ACTION_TYPES, PRIORITY_MODES, SERVICES } from './types.js';

const ServiceSchema = z.enum(SERVICES);
const OfficerCount = z.number().int().refine(Number.isSafeInteger, 'officer count out of range');
const OfficerDelta = z.record(z.string(), OfficerCount);

export const GovActionSchema = z.object({
  action_type: z.enum(ACTION_TYPES),
  service_target: ServiceSchema.nullish(),
  priority_mode: z.enum(PRIORITY_MODES).nullish(),
  reallocation_delta: OfficerDelta.nullish(),
  escalation_target: ServiceSchema.nullish(),
  capacity_assignment: OfficerDelta.nullish(),
  notes: z.string().nullish(),
});

/** A validated Gov Workflow action (the JSON the env accepts, unknown keys dropped). */
export type GovAction = z.infer<typeof GovActionSchema>;

const ALLOWED_BY_FIELD: Readonly<Record<string, string>> = {
  action_type: ACTION_TYPES.join(' | '),
  service_target: `${SERVICES.join(' | ')} | null`,
  escalation_target: `${SERVICES.join(' | ')} | null`,
  priority_mode: `${PRIORITY_MODES.join(' | ')} | null`,
  reallocation_delta: 'an object {service: integer officer change} or null',
  capacity_assignment: 'an object {service: integer officer count} or null',
  notes: 'a string or null',
};

function describe(value: unknown): string {
  if (value === undefined) return 'is missing';
  const text = JSON.stringify(value);
  return `got ${text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** Validates an action; throws InvalidActionError naming the first bad field and what it allows. */
export function parseGovAction(input: unknown): GovAction {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidActionError(
      '(action)',
      `a JSON object with action_type (${ACTION_TYPES.join(' | ')})`,
      describe(input),
    );
  }
  const parsed = GovActionSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0] as z.core.$ZodIssue;
  const path = issue.path.map(String);
  const top = path[0] ?? '(action)';
  const field = path.join('.') || '(action)';
  let allowed = ALLOWED_BY_FIELD[top] ?? 'see the action schema';
  if (path.length > 1 && (top === 'reallocation_delta' || top === 'capacity_assignment'))
    allowed = 'an integer number of officers';
  throw new InvalidActionError(field, allowed, describe(valueAt(input, issue.path)));
}

/** A well-formed action that cannot be applied now: the env records an invalid step. */
export class InvalidStepError extends Error {
  override readonly name = 'InvalidStepError';
}

/** The episode counters the handlers read and change. */
export interface ActionCounters {
  day: number;
  priorityMode: PriorityMode;
  escalationBudgetRemaining: number;
  totalDocsRequested: number;
  totalEscalationsUsed: number;
  totalWastedEscalations: number;
}

/** What the handlers may read and change. */
export interface ActionTarget {
  readonly task: TaskConfig;
  readonly table: CaseTable;
  readonly rng: PyRandom;
  readonly selector: TopKSelector;
  readonly serviceIndices: readonly number[];
  /** Per enabled service, in task order. */
  readonly allocated: Int32Array;
  readonly availableOfficers: number;
  readonly counters: ActionCounters;
}

/** Position of a service key among the task's enabled services, or throws like the reference. */
function enabledPosition(target: ActionTarget, key: string, notEnabled: (svc: string) => string): number {
  if (!(SERVICES as readonly string[]).includes(key)) throw new InvalidStepError(`'${key}' is not a valid ServiceType`);
  const pos = target.task.enabledServices.indexOf(key as Service);
  if (pos < 0) throw new InvalidStepError(notEnabled(key));
  return pos;
}

function idleOfficers(target: ActionTarget): number {
  let sum = 0;
  for (const n of target.allocated) sum += n;
  return target.availableOfficers - sum;
}

export function setPriorityMode(target: ActionTarget, action: GovAction): string {
  if (action.priority_mode == null) throw new InvalidStepError('priority_mode required for set_priority_mode');
  const old = target.counters.priorityMode;
  target.counters.priorityMode = action.priority_mode;
  return `Priority mode changed: ${old} -> ${action.priority_mode}`;
}

export function assignCapacity(target: ActionTarget, action: GovAction): string {
  const cap = action.capacity_assignment;
  if (!cap || Object.keys(cap).length === 0)
    throw new InvalidStepError('capacity_assignment dict required for assign_capacity');
  let message = '';
  // Applied entry by entry, as the reference does.
  for (const [key, delta] of Object.entries(cap)) {
    const pos = enabledPosition(target, key, (s) => `${s} is not enabled in this task`);
    if (delta <= 0) throw new InvalidStepError('capacity delta must be positive');
    const idle = idleOfficers(target);
    if (delta > idle) throw new InvalidStepError(`Only ${idle} idle officers available; requested ${delta}`);
    target.allocated[pos] = (target.allocated[pos] as number) + delta;
    message = `Assigned ${delta} officer(s) to ${key}`;
  }
  return message;
}

export function requestMissingDocuments(target: ActionTarget, action: GovAction): string {
  const svc = action.service_target;
  if (svc == null) throw new InvalidStepError('service_target required for request_missing_documents');
  const s = SERVICES.indexOf(svc);
  const { table } = target;
  // Candidates sorted by (−sla_risk, arrival_day), stable; up to 3 get a request, in that order.
  const picked = target.task.enabledServices.includes(svc)
    ? target.selector.select(
        table,
        table.activeRows[s] as Int32Array,
        table.activeCount[s] as number,
        'most_at_risk',
        3,
        'blocked',
      )
    : 0;
  if (picked === 0) throw new InvalidStepError(`No BLOCKED_MISSING_DOCS cases for ${svc}`);
  const rows = target.selector.selected();
  const c = target.counters;
  for (let k = 0; k < picked; k++) {
    const row = rows[k] as number;
    table.docRequestSentDay[row] = c.day;
    if (table.docResolutionDay[row] === NO_DAY) table.documentWatch.push(row); // a re-request only moves the day
    table.docResolutionDay[row] = c.day + target.rng.randint(2, 3);
    c.totalDocsRequested++;
  }
  return `Sent missing-doc requests for ${picked} case(s) in ${svc}`;
}

export function escalateService(target: ActionTarget, action: GovAction): string {
  const c = target.counters;
  if (c.escalationBudgetRemaining <= 0) {
    c.totalWastedEscalations++;
    throw new InvalidStepError('Escalation budget exhausted');
  }
  const svc = action.escalation_target ?? action.service_target ?? null;
  const { table, selector } = target;
  // The reference takes max(sla_risk, −arrival_day) over the whole active list (first on ties),
  // i.e. the first case in (−sla_risk, arrival_day) order, lowest row on ties.
  let best = -1;
  const bestKey = new Float64Array(3);
  const key = new Float64Array(3);
  for (const s of target.serviceIndices) {
    if (svc !== null && SERVICES[s] !== svc) continue;
    if (
      selector.select(
        table,
        table.activeRows[s] as Int32Array,
        table.activeCount[s] as number,
        'most_at_risk',
        1,
        'not_urgent',
      ) === 0
    )
      continue;
    const row = selector.selected()[0] as number;
    selector.selectedKey(0, key);
    if (best < 0 || keyBefore(key, bestKey) || (!keyBefore(bestKey, key) && row < best)) {
      best = row;
      bestKey.set(key);
    }
  }
  if (best < 0) {
    c.totalWastedEscalations++;
    throw new InvalidStepError('No eligible non-urgent cases to escalate');
  }
  table.markUrgent(best);
  c.escalationBudgetRemaining--;
  c.totalEscalationsUsed++;
  return `Escalated case case-${String(best + 1).padStart(6, '0')} (${SERVICES[table.service[best] as number]})`;
}

export function reallocateOfficers(target: ActionTarget, action: GovAction): string {
  const delta = action.reallocation_delta;
  const entries = delta ? Object.entries(delta) : [];
  if (entries.length < 2) throw new InvalidStepError('reallocation_delta must have at least 2 entries');
  const total = entries.reduce((acc, [, change]) => acc + change, 0);
  if (total !== 0) throw new InvalidStepError(`reallocation_delta must sum to 0 (got ${total})`);
  const positions: number[] = [];
  for (const [key, change] of entries) {
    const pos = enabledPosition(target, key, (s) => `${s} not in enabled services`);
    const current = target.allocated[pos] as number;
    if (current + change < 0)
      throw new InvalidStepError(`Cannot reduce ${key} below 0 (current=${current}, change=${change})`);
    positions.push(pos);
  }
  entries.forEach(([, change], i) => {
    const pos = positions[i] as number;
    target.allocated[pos] = (target.allocated[pos] as number) + change;
  });
  return `Officers reallocated: ${entries.map(([k, v]) => `${k}:${v > 0 ? '+' : ''}${v}`).join(', ')}`;
}
