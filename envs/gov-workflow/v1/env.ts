/**
 * The Gov Workflow v1 env (app/env.py @ 1a2660b3), step for step: seeded with CPython's Mersenne
 * Twister exactly as v1 draws (random(), choice(), randint()), the same case order, reward, flags
 * and observation. `reset()` without a seed uses the task's seed (v1's only mode). Actions are v1's
 * ActionModel; an invalid one costs v1's penalty and changes nothing else. docs/envs.md#gov-workflow-v1.
 */
import { InvalidActionError, InvalidConfigError } from '../../core/errors.js';
import { pyRound } from '../../core/py-round.js';
import { PyRandom } from '../../core/random/cpython-random.js';
import { deriveSeed } from '../../core/random/streams.js';
import type {
  V1Action,
  V1Case,
  V1GradeResult,
  V1Metrics,
  V1Observation,
  V1OfficerPool,
  V1PriorityMode,
  V1QueueSnapshot,
  V1Reward,
  V1Service,
  V1Stage,
  V1State,
  V1StepInfo,
} from './model.js';
import { V1_STAGES, V1ActionSchema, zeroMetrics } from './model.js';
import { advanceCase, compareKeys, completionFairnessGap, priorityKey, v1Grade, v1Reward } from './rules.js';
import type { V1Task } from './tasks.js';
import { V1_MAX_STEPS_PER_EPISODE, V1_TASK_IDS, V1_TASKS } from './tasks.js';

/** An action v1 rejects: its message is the observation's last_action_message. */
class V1Rejected extends Error {}

interface DayMetrics {
  newArrivals: number;
  newCompletions: number;
  stageAdvances: number;
  newSlaBreaches: number;
  idleCapacity: number;
}

const noDay = (): DayMetrics => ({
  newArrivals: 0,
  newCompletions: 0,
  stageAdvances: 0,
  newSlaBreaches: 0,
  idleCapacity: 0,
});

export interface V1StepResult {
  observation: V1Observation;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: V1StepInfo;
}

export class GovWorkflowV1Env {
  private task: V1Task;
  private rng: PyRandom;
  private seedValue: number;
  private episodeId = '';
  private caseCounter = 0;
  private day = 0;
  private totalSteps = 0;
  private terminated = false;
  private truncated = false;
  private priorityMode: V1PriorityMode = 'balanced';
  private pool: V1OfficerPool = { allocations: {}, reserve_officers: 0 };
  private active: V1Case[] = [];
  private completed: V1Case[] = [];
  private escalationBudget = 0;
  private arrived = new Map<V1Service, number>();
  private completedBy = new Map<V1Service, number>();
  private metrics: V1Metrics = zeroMetrics();
  private historyCount = 0;
  private lastValid = true;
  private lastMessage = '';

  constructor(taskId = 'district_backlog_easy') {
    this.task = v1Task(taskId);
    this.seedValue = this.task.seed;
    this.rng = new PyRandom(this.seedValue);
  }

  get taskId(): string {
    return this.task.taskId;
  }

  reset(args: { seed?: number; taskId?: string } = {}): {
    observation: V1Observation;
    info: { task_id: string; seed: number };
  } {
    if (args.taskId !== undefined) this.task = v1Task(args.taskId);
    if (args.seed !== undefined && !Number.isSafeInteger(args.seed))
      throw new RangeError(`reset: seed must be an integer (got ${args.seed})`);
    this.seedValue = args.seed ?? this.task.seed;
    this.rng = new PyRandom(this.seedValue);
    // v1 appends 8 random hex digits; ours come from the seed so that runs stay reproducible.
    const hex = deriveSeed(this.seedValue, 'v1-episode-id').toString(16).padStart(8, '0');
    this.episodeId = `${this.task.taskId}-${this.seedValue}-${hex}`;
    this.caseCounter = 0;
    this.day = 0;
    this.totalSteps = 0;
    this.terminated = false;
    this.truncated = false;
    this.priorityMode = 'balanced';
    this.pool = { allocations: { ...this.task.officerPool }, reserve_officers: this.task.reserveOfficers };
    this.active = [];
    this.completed = [];
    this.escalationBudget = this.task.escalationBudget;
    this.arrived = new Map(this.task.services.map((s) => [s, 0]));
    this.completedBy = new Map(this.task.services.map((s) => [s, 0]));
    this.metrics = zeroMetrics();
    this.historyCount = 0;
    this.lastValid = true;
    this.lastMessage = 'reset';
    for (const [service, count] of Object.entries(this.task.initialCasesByService) as [V1Service, number][])
      for (let k = 0; k < count; k++) this.active.push(this.newCase(service));
    return { observation: this.observation(), info: { task_id: this.task.taskId, seed: this.seedValue } };
  }

  /** One step with a v1 ActionModel (validated: unknown keys ignored, bad fields refused naming them). */
  step(input: unknown): V1StepResult {
    if (this.terminated || this.truncated) throw new Error('Episode ended. Call reset().');
    const action = parseV1Action(input);
    this.totalSteps++;
    const notes: string[] = [];
    let invalid = false;
    let day = noDay();
    try {
      day = this.apply(action, notes);
      this.lastValid = true;
      this.lastMessage = notes.at(-1) ?? 'ok';
    } catch (err) {
      if (!(err instanceof V1Rejected)) throw err;
      invalid = true;
      this.metrics.total_invalid_actions++;
      this.lastValid = false;
      this.lastMessage = err.message;
      notes.push(err.message);
    }
    const reward: V1Reward = v1Reward({
      stageAdvances: day.stageAdvances,
      completions: day.newCompletions,
      activeBacklog: this.active.length,
      newSlaBreaches: day.newSlaBreaches,
      fairnessGap: completionFairnessGap(this.arrived, this.completedBy),
      fairnessThreshold: this.task.fairnessThreshold,
      invalidAction: invalid,
      idleCapacity: day.idleCapacity,
    });
    this.terminated = this.active.length === 0 && this.day > 0;
    this.truncated = this.day >= this.task.maxDays && !this.terminated;
    this.historyCount++;
    if (this.totalSteps >= V1_MAX_STEPS_PER_EPISODE && !this.terminated) this.truncated = true;
    return {
      observation: this.observation(),
      reward: reward.total_reward,
      terminated: this.terminated,
      truncated: this.truncated,
      info: {
        reward_breakdown: reward,
        newly_arrived_cases: day.newArrivals,
        newly_completed_cases: day.newCompletions,
        invalid_action: invalid,
        last_action_error: invalid ? this.lastMessage : null,
        grader_preview_score: null,
        notes,
      },
    };
  }

  state(): V1State {
    return {
      episode_id: this.episodeId,
      seed: this.seedValue,
      task_id: this.task.taskId,
      day: this.day,
      terminated: this.terminated,
      truncated: this.truncated,
      total_steps: this.totalSteps,
      total_completed: this.completed.length,
      total_backlog: this.active.length,
      total_sla_breaches: this.metrics.total_sla_breaches,
      action_history_count: this.historyCount,
      fairness_gap: completionFairnessGap(this.arrived, this.completedBy),
      escalation_budget_remaining: this.escalationBudget,
      priority_mode: this.priorityMode,
      metrics: { ...this.metrics },
    };
  }

  grade(): V1GradeResult {
    return v1Grade(this.task.taskId, this.metrics, completionFairnessGap(this.arrived, this.completedBy));
  }

  observation(): V1Observation {
    const snapshots: V1QueueSnapshot[] = this.task.services.map((service) => {
      const cases = this.active.filter((c) => c.service === service);
      const stageCounts = Object.fromEntries(V1_STAGES.map((s) => [s, 0])) as Record<V1Stage, number>;
      for (const c of cases) stageCounts[c.stage]++;
      const age = cases.reduce((a, c) => a + c.total_days, 0);
      return {
        service,
        stage_counts: stageCounts,
        active_cases: cases.length,
        missing_docs_cases: cases.filter((c) => c.has_missing_documents).length,
        escalated_cases: cases.filter((c) => c.escalated).length,
        urgent_cases: cases.filter((c) => c.urgency === 3).length,
        breached_cases: cases.filter((c) => c.sla_breached).length,
        avg_age_days: cases.length > 0 ? pyRound(age / cases.length, 2) : 0,
      };
    });
    return {
      task_id: this.task.taskId,
      day: this.day,
      max_days: this.task.maxDays,
      priority_mode: this.priorityMode,
      officer_pool: { allocations: { ...this.pool.allocations }, reserve_officers: this.pool.reserve_officers },
      queue_snapshots: snapshots,
      total_backlog: this.active.length,
      total_completed: this.completed.length,
      total_sla_breaches: this.metrics.total_sla_breaches,
      fairness_gap: completionFairnessGap(this.arrived, this.completedBy),
      escalation_budget_remaining: this.escalationBudget,
      last_action_valid: this.lastValid,
      last_action_message: this.lastMessage,
    };
  }

  private apply(a: V1Action, notes: string[]): DayMetrics {
    const alloc = this.pool.allocations;
    switch (a.action_type) {
      case 'set_priority_mode':
        if (!a.priority_mode) throw new V1Rejected('priority_mode required for set_priority_mode');
        this.priorityMode = a.priority_mode;
        notes.push(`Priority mode set to ${a.priority_mode}`);
        return noDay();
      case 'assign_capacity':
        if (!a.service || a.officer_delta <= 0)
          throw new V1Rejected('service + positive officer_delta required for assign_capacity');
        if (a.officer_delta > this.pool.reserve_officers) throw new V1Rejected('not enough reserve officers');
        alloc[a.service] = (alloc[a.service] ?? 0) + a.officer_delta;
        this.pool.reserve_officers -= a.officer_delta;
        notes.push(`Assigned ${a.officer_delta} officers to ${a.service}`);
        return noDay();
      case 'request_missing_documents': {
        if (!a.service) throw new V1Rejected('service required for request_missing_documents');
        const candidates = this.active
          .filter((c) => c.service === a.service && c.has_missing_documents)
          .sort((x, y) => compareKeys([x.due_day, -x.urgency, x.case_id], [y.due_day, -y.urgency, y.case_id]));
        const c = candidates[0];
        if (!c) throw new V1Rejected('no missing-document case available');
        c.has_missing_documents = false;
        this.metrics.total_docs_requested++;
        this.metrics.total_docs_cleared++;
        notes.push(`Resolved missing docs for ${c.case_id}`);
        return noDay();
      }
      case 'escalate_service': {
        if (this.escalationBudget <= 0) {
          this.metrics.total_wasted_escalations++;
          throw new V1Rejected('escalation budget exhausted');
        }
        const candidates = this.active.filter(
          (c) => !c.escalated && (!a.service || c.service === a.service) && (!a.case_id || c.case_id === a.case_id),
        );
        if (candidates.length === 0) {
          this.metrics.total_wasted_escalations++;
          throw new V1Rejected('no eligible case to escalate');
        }
        const key = (c: V1Case) => [c.due_day, -c.urgency, -c.total_days, c.case_id];
        const c = candidates.sort((x, y) => compareKeys(key(x), key(y)))[0] as V1Case;
        c.escalated = true;
        this.escalationBudget--;
        this.metrics.total_escalations_used++;
        notes.push(`Escalated ${c.case_id}`);
        return noDay();
      }
      case 'reallocate_officers': {
        if (!a.service || !a.target_service || a.officer_delta <= 0)
          throw new V1Rejected('service, target_service + positive officer_delta required');
        if (a.service === a.target_service) throw new V1Rejected('source and target services must differ');
        const current = alloc[a.service] ?? 0;
        if (current < a.officer_delta) throw new V1Rejected('not enough officers in source service');
        alloc[a.service] = current - a.officer_delta;
        alloc[a.target_service] = (alloc[a.target_service] ?? 0) + a.officer_delta;
        notes.push(`Reallocated ${a.officer_delta} officers: ${a.service} → ${a.target_service}`);
        return noDay();
      }
      case 'advance_time': {
        const day = this.advanceOneDay();
        notes.push('Advanced simulation by one day');
        return day;
      }
    }
  }

  private advanceOneDay(): DayMetrics {
    const m = noDay();
    this.day++;
    m.newArrivals = this.spawnArrivals();
    const completedIds = new Set<string>();
    const progressedIds = new Set<string>();
    for (const service of this.task.services) {
      const capacity = this.pool.allocations[service] ?? 0;
      this.metrics.total_capacity_days += capacity;
      const ordered = this.active
        .filter((c) => c.service === service && !c.completed)
        .map((c) => ({ c, key: priorityKey(c, this.priorityMode, this.day) }))
        .sort((x, y) => compareKeys(x.key, y.key))
        .map((x) => x.c);
      const batch = ordered.slice(0, Math.max(0, capacity));
      const idle = Math.max(0, capacity - batch.length);
      m.idleCapacity += idle;
      this.metrics.total_idle_officer_days += idle;
      for (const c of batch) {
        const [progressed, done] = advanceCase(c);
        if (progressed) {
          m.stageAdvances++;
          progressedIds.add(c.case_id);
        }
        if (done) {
          completedIds.add(c.case_id);
          this.completedBy.set(c.service, (this.completedBy.get(c.service) ?? 0) + 1);
          this.metrics.total_completed++;
          m.newCompletions++;
          if (c.urgency === 3) this.metrics.total_urgent_completed++;
        }
      }
    }
    if (completedIds.size > 0) {
      const still: V1Case[] = [];
      for (const c of this.active) (completedIds.has(c.case_id) ? this.completed : still).push(c);
      this.active = still;
    }
    for (const c of this.active) {
      c.total_days++;
      if (!progressedIds.has(c.case_id)) c.days_in_stage++;
      if (this.day > c.due_day && !c.sla_breached) {
        c.sla_breached = true;
        m.newSlaBreaches++;
        this.metrics.total_sla_breaches++;
      }
    }
    return m;
  }

  private spawnArrivals(): number {
    let arrivals = Math.trunc(this.task.arrivalRate);
    if (this.rng.random() < this.task.arrivalRate - arrivals) arrivals++;
    for (let k = 0; k < arrivals; k++) {
      const services = this.task.services;
      this.active.push(this.newCase(services[this.rng.randbelow(services.length)] as V1Service));
    }
    return arrivals;
  }

  private newCase(service: V1Service): V1Case {
    this.caseCounter++;
    this.arrived.set(service, (this.arrived.get(service) ?? 0) + 1);
    this.metrics.total_arrived++;
    const urgency = this.rng.randint(1, 3);
    if (urgency === 3) this.metrics.total_urgent_arrived++;
    return {
      case_id: `case-${String(this.caseCounter).padStart(5, '0')}`,
      service,
      stage: 'submission',
      arrival_day: this.day,
      due_day: this.day + (this.task.slaDays[service] ?? 0),
      urgency,
      has_missing_documents: this.rng.random() < this.task.missingDocsProbability,
      field_verification_required: this.rng.random() < this.task.fieldVerificationProbability,
      escalated: false,
      total_days: 0,
      days_in_stage: 0,
      sla_breached: false,
      completed: false,
    };
  }
}

function v1Task(taskId: string): V1Task {
  const t = V1_TASKS.get(taskId);
  if (!t) throw new InvalidConfigError('task_id', V1_TASK_IDS.join(' | '), `got ${JSON.stringify(taskId)}`);
  return t;
}

/** A v1 ActionModel; errors name the field and what it allows. */
export function parseV1Action(input: unknown): V1Action {
  const parsed = V1ActionSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.join('.') || '(action)';
  throw new InvalidActionError(field, 'a v1 ActionModel field (docs/envs.md#gov-workflow-v1)', issue?.message ?? '');
}
