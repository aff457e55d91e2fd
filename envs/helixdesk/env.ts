import type { Env, ResetOptions, ResetResult, Snapshotable, StepResult } from '../core/env.js';
import { EpisodeEndedError, InvalidActionError, NotResetError } from '../core/errors.js';
import type { RandomStream, RandomStreamState } from '../core/random/streams.js';
import { createStream, restoreStream } from '../core/random/streams.js';
import { Box, MultiDiscrete } from '../core/spaces.js';
import { SimClock } from './clock.js';
import type { HelixConfig, HelixConfigInput } from './config.js';
import { observationSize, parseHelixConfig } from './config.js';
import type { EmailData, Priority } from './emails.js';
import { Email, EmailGenerator, PRIORITIES } from './emails.js';
import type { EmployeeData } from './employees.js';
import { EmployeeSimulator } from './employees.js';
import type { KbEntry } from './knowledge-base.js';
import { KnowledgeBase } from './knowledge-base.js';
import { buildObservation } from './observation.js';
import type { Ticket } from './queue.js';
import { TicketQueue } from './queue.js';
import type { RewardEvent } from './reward.js';
import { computeHelixReward } from './reward.js';
import { TrendWatchdog } from './trends.js';

export const CLASSIFICATIONS = ['query', 'complaint', 'flag_for_review'] as const;
export const SECONDARY_ACTIONS = ['auto_reply_from_kb', 'alert_gm', 'none'] as const;
export const ACTION_DIMENSIONS = ['classify', 'priority', 'assign', 'secondary'] as const;

export interface HelixResetInfo {
  step: number;
  email_id: string;
  sim_time: number;
  seed: number;
}

/** Step info, with the reference's fields. */
export interface HelixStepInfo {
  step: number;
  sim_time_minutes: number;
  email_id: string;
  /** The agent's classification. */
  ticket_type: 'query' | 'complaint' | 'pending_review';
  priority: Priority;
  /** The employee index for a complaint with an assignment, else null (even if the employee was full). */
  assigned_to: number | null;
  /** Every reward event of the step, in order (duplicates kept). */
  reward_breakdown: RewardEvent[];
  /** Sum before the clip to [−1, 1]. */
  reward_unclipped: number;
  /** The env's own (clipped) reward, when a task env pays another (reward modes, docs/envs.md). */
  env_reward?: number;
  queue_depth: number;
  overdue_count: number;
  trend_alerts_active: number;
  /** CSAT of the first ticket resolved this step, or null. */
  csat_score: number | null;
  episode_reward_so_far: number;
  /** Whether the acted-on email carried the keyword flag (graders count flagged emails). */
  keyword_flag: boolean;
}

export interface HelixSnapshot {
  readonly seed: number;
  readonly streams: { clock: RandomStreamState; emails: RandomStreamState; employees: RandomStreamState };
  readonly minutes: number;
  readonly stepCount: number;
  readonly episodeReward: number;
  readonly ended: boolean;
  readonly email: EmailData | null;
  readonly queue: { tickets: Ticket[]; nextId: number };
  readonly employees: EmployeeData[];
  readonly previousLoads: number[];
  readonly kb: { entries: KbEntry[]; autoCounter: number };
  readonly trends: number[][];
}

/**
 * HelixDesk OpenEnv, ported from the public reference (nottherajyk/HelixDesk-AI-Agent; the seed
 * README's semantics): an agent triages a stream of customer emails — classify, prioritise, assign,
 * optionally auto-reply from the knowledge base or alert the general manager — with
 * MultiDiscrete([3, 4, n_employees + 1, 3]) actions and a 42-dim observation (5 employees), in the
 * reference's step order, from three seeded streams per episode (clock, emails, employees; reset()
 * without a seed continues them). Terminated after episode_emails. docs/envs.md#helixdesk.
 */
export class HelixDeskEnv
  implements Env<Float32Array, Int32Array, HelixStepInfo, HelixResetInfo>, Snapshotable<HelixSnapshot>
{
  readonly id = 'helixdesk';
  readonly config: HelixConfig;
  readonly observationSpace: Box;
  readonly actionSpace: MultiDiscrete;

  private readonly clock = new SimClock();
  private readonly generator: EmailGenerator;
  private readonly employees: EmployeeSimulator;
  private readonly kb = new KnowledgeBase();
  private readonly trends: TrendWatchdog;
  private readonly queue = new TicketQueue();
  private clockRng: RandomStream;
  private emailRng: RandomStream;
  private employeeRng: RandomStream;
  private seed: number;
  private email: Email | null = null;
  private stepCount = 0;
  private episodeReward = 0;
  private ended = false;
  private previousLoads: Int32Array;
  private readonly loadsBuffer: Int32Array;

  constructor(config: HelixConfigInput | HelixConfig = {}) {
    this.config = parseHelixConfig(config);
    const n = this.config.env.n_employees;
    this.observationSpace = new Box(-1, 1, [observationSize(this.config)]);
    this.actionSpace = new MultiDiscrete([3, 4, n + 1, 3]);
    this.generator = new EmailGenerator(this.config);
    this.employees = new EmployeeSimulator(this.config);
    this.trends = new TrendWatchdog(this.config);
    this.previousLoads = new Int32Array(n);
    this.loadsBuffer = new Int32Array(n);
    this.seed = this.config.env.seed;
    [this.clockRng, this.emailRng, this.employeeRng] = this.streamsFor(this.seed);
  }

  private streamsFor(seed: number): [RandomStream, RandomStream, RandomStream] {
    return [
      createStream(seed, 'helixdesk', 'clock'),
      createStream(seed, 'helixdesk', 'emails'),
      createStream(seed, 'helixdesk', 'employees'),
    ];
  }

  reset(args: ResetOptions = {}): ResetResult<Float32Array, HelixResetInfo> {
    if (args.seed !== undefined) {
      if (!Number.isSafeInteger(args.seed)) throw new RangeError(`reset: seed must be an integer (got ${args.seed})`);
      this.seed = args.seed;
      [this.clockRng, this.emailRng, this.employeeRng] = this.streamsFor(args.seed);
    }
    this.clock.reset();
    this.employees.reset();
    this.trends.reset();
    this.kb.reset();
    this.queue.clear();
    this.stepCount = 0;
    this.episodeReward = 0;
    this.ended = false;
    this.previousLoads.fill(0);
    this.email = this.generator.next(this.emailRng, this.clock.minutes);
    return { observation: this.observe(), info: { step: 0, email_id: this.email.id, sim_time: 0, seed: this.seed } };
  }

  /** Validates an action; errors name the dimension and its range. */
  parseAction(action: unknown): Int32Array {
    const nvec = this.actionSpace.nvec;
    if (!(action instanceof Int32Array) && !Array.isArray(action) && !ArrayBuffer.isView(action)) {
      throw new InvalidActionError(
        'action',
        `an array of ${nvec.length} integers [${ACTION_DIMENSIONS.join(', ')}]`,
        `got ${JSON.stringify(action)}`,
      );
    }
    const values = action as ArrayLike<unknown>;
    if (values.length !== nvec.length) {
      throw new InvalidActionError(
        'action',
        `exactly ${nvec.length} integers [${ACTION_DIMENSIONS.join(', ')}]`,
        `has ${values.length} value(s)`,
      );
    }
    const out = new Int32Array(nvec.length);
    for (let d = 0; d < nvec.length; d++) {
      const v = values[d];
      const n = nvec[d] as number;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= n) {
        throw new InvalidActionError(
          `action[${d}] (${ACTION_DIMENSIONS[d]})`,
          `an integer in [0, ${n - 1}]`,
          `got ${JSON.stringify(v)}`,
        );
      }
      out[d] = v;
    }
    return out;
  }

  /** One step; the next observation is written into `observationOut` when given (no allocation). */
  step(action: Int32Array | readonly number[], observationOut?: Float32Array): StepResult<Float32Array, HelixStepInfo> {
    const email = this.email;
    if (!email) throw new NotResetError(this.id);
    if (this.ended) throw new EpisodeEndedError(this.id);
    const raw = this.parseAction(action);
    const cfg = this.config;
    const n = cfg.env.n_employees;
    this.stepCount++;

    // 1. Decode; flag-for-review forces (normal, no assignment, no secondary action).
    const classify = raw[0] as number;
    let priority = raw[1] as number;
    let assign = raw[2] as number;
    let secondary = raw[3] as number;
    if (classify === 2) [priority, assign, secondary] = [3, n, 2];
    const priorityLabel = PRIORITIES[priority] as Priority;

    // 2. The current email becomes a ticket.
    const now = this.clock.minutes;
    let kbUpdated = false;
    if (classify === 0) {
      const ticket = this.queue.add('query', 'normal', 'auto_replied', now, now + cfg.sla.normal_hours * 60, null);
      if (secondary === 0) {
        const found = this.kb.lookup(email.categoryName);
        if (found.entry !== null && found.similarity >= 0.5) {
          ticket.status = 'resolved_auto';
          this.kb.learn(email.categoryName);
          kbUpdated = true;
        }
      }
    } else if (classify === 1) {
      const deadline = now + slaHours(cfg, priorityLabel) * 60;
      const wantsEmployee = assign < n;
      const ticket = this.queue.add(
        'complaint',
        priorityLabel,
        'unassigned',
        now,
        deadline,
        wantsEmployee ? assign : null,
      );
      if (wantsEmployee && this.employees.assign(assign, ticket)) ticket.status = 'assigned';
      this.trends.record(email.category, now);
    } else {
      this.queue.add('pending_review', 'normal', 'pending_review', now, now + cfg.sla.normal_hours * 60, null);
    }

    // 3–6. Time passes; employees work; the trend watchdog and the SLA watch run.
    const later = this.clock.tick(this.clockRng);
    const resolutions = this.employees.tick(this.employeeRng, later);
    if (resolutions.length > 0) this.queue.removeDone();
    const alerts = this.trends.tick(later);
    const sla = this.queue.slaPass(later);

    // 7. Reward (on the raw action).
    const loads = this.employees.loads(this.loadsBuffer);
    const reward = computeHelixReward(cfg.rewards, {
      action: raw,
      email,
      resolutions,
      trendAlerts: alerts.length,
      kbUpdated,
      loads,
      previousLoads: this.previousLoads,
    });
    this.previousLoads.set(loads);
    this.episodeReward += reward.total;

    // 8–9. The next email, and the observation of it.
    this.email = this.generator.next(this.emailRng, later);
    const observation = observationOut ? this.observeInto(observationOut) : this.observe();
    const terminated = this.stepCount >= cfg.env.episode_emails;
    this.ended = terminated;

    const firstCsat = resolutions.find((r) => r.resolved && r.csat !== null);
    return {
      observation,
      reward: reward.total,
      terminated,
      truncated: false,
      info: {
        step: this.stepCount,
        sim_time_minutes: later,
        email_id: email.id,
        ticket_type: classify === 0 ? 'query' : classify === 1 ? 'complaint' : 'pending_review',
        priority: priorityLabel,
        assigned_to: classify === 1 && assign < n ? assign : null,
        reward_breakdown: reward.events,
        reward_unclipped: reward.raw,
        queue_depth: this.queue.tickets.length,
        overdue_count: sla.overdue,
        trend_alerts_active: alerts.length,
        csat_score: firstCsat ? firstCsat.csat : null,
        episode_reward_so_far: this.episodeReward,
        keyword_flag: email.keywordFlag,
      },
    };
  }

  /** The email the next action applies to (with its subject, body and sender). */
  currentEmail(): Email {
    if (!this.email) throw new NotResetError(this.id);
    return this.email;
  }

  /** Employee loads now (a copy). */
  employeeLoads(): Int32Array {
    return this.employees.loads();
  }

  /** The observation of the current state (a new array; see observeInto). */
  observe(): Float32Array {
    return this.observeInto(new Float32Array(this.observationSpace.size));
  }

  observeInto(out: Float32Array): Float32Array {
    const email = this.currentEmail();
    const now = this.clock.minutes;
    return buildObservation(
      this.config,
      {
        email,
        tickets: this.queue.tickets,
        loads: this.employees.loads(this.loadsBuffer),
        avgResolveMinutes: (i) => this.employees.avgResolveMinutes(i),
        now,
        hourOfDay: this.clock.hourOfDay,
        dayOfWeek: this.clock.dayOfWeek,
        growthRates: (o, offset) => this.trends.growthRates(now, o, offset),
        stepCount: this.stepCount,
        episodeReward: this.episodeReward,
      },
      out,
    );
  }

  /** Episode progress: steps taken, simulated minutes, reward so far. */
  progress(): { step: number; minutes: number; episodeReward: number; ended: boolean } {
    return { step: this.stepCount, minutes: this.clock.minutes, episodeReward: this.episodeReward, ended: this.ended };
  }

  snapshot(): HelixSnapshot {
    return {
      seed: this.seed,
      streams: { clock: this.clockRng.state(), emails: this.emailRng.state(), employees: this.employeeRng.state() },
      minutes: this.clock.minutes,
      stepCount: this.stepCount,
      episodeReward: this.episodeReward,
      ended: this.ended,
      email: this.email ? this.email.toData() : null,
      queue: this.queue.save(),
      employees: this.employees.save(),
      previousLoads: [...this.previousLoads],
      kb: this.kb.save(),
      trends: this.trends.save(),
    };
  }

  restore(s: HelixSnapshot): void {
    this.seed = s.seed;
    this.clockRng = restoreStream(s.streams.clock);
    this.emailRng = restoreStream(s.streams.emails);
    this.employeeRng = restoreStream(s.streams.employees);
    this.clock.minutes = s.minutes;
    this.stepCount = s.stepCount;
    this.episodeReward = s.episodeReward;
    this.ended = s.ended;
    this.email = s.email ? new Email(s.email, this.config.email_gen.categories) : null;
    const tickets = this.queue.load(s.queue);
    this.employees.restore(s.employees, tickets);
    this.previousLoads.set(s.previousLoads);
    this.kb.restore(s.kb);
    this.trends.restore(s.trends);
  }

  close(): void {
    this.email = null;
  }
}

function slaHours(cfg: HelixConfig, priority: Priority): number {
  switch (priority) {
    case 'critical':
      return cfg.sla.critical_hours;
    case 'high':
      return cfg.sla.high_hours;
    case 'medium':
      return cfg.sla.medium_hours;
    case 'normal':
      return cfg.sla.normal_hours;
  }
}
