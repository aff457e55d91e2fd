/**
 * The HelixDesk observation (seed README table; reference `env._build_observation`): a Float32Array in
 * [−1, 1] describing the *next* email to act on and the state after the last step. Default layout
 * (5 employees, 8 categories) is 42 values; it grows by 2 per extra employee and 1 per extra category.
 *
 *   0        sentiment intensity                 1     keyword flag
 *   2–4      tier one-hot (enterprise, standard, free)
 *   5–9      category: cats 0–4 one-hot in 5–9; cat c ≥ 5 sets dim 5 + (c − 5) mod 4 and dim 9
 *            (the reference's overflow code: cat 5 = [1,0,0,0,1], which collides with a pure cat 0 + 4)
 *   10–13    queue tickets by priority (critical, high, medium, normal), excluding pending review,
 *            each / max_employee_load                14    pending-review tickets / 10
 *   15+2i    employee i load / max_employee_load   16+2i employee i mean resolve minutes / normal-SLA minutes
 *   then 4   overdue share of the queue, near-deadline share, SLA pressure, any critical overdue
 *   then C   per-category growth over the trend window, clipped to [−1, 1]
 *   then 2   hour of day / 24 (episodes start at 09:00), day of week / 7 (Monday)
 *   then 3   emails remaining / episode_emails, clip(episode reward / episode_emails), confidence (1)
 */
import type { HelixConfig } from './config.js';
import { observationLayout } from './config.js';
import type { Email } from './emails.js';
import { TIERS } from './emails.js';
import type { Ticket } from './queue.js';
import { NEAR_DEADLINE_MINUTES } from './queue.js';

export interface ObservationInputs {
  readonly email: Email;
  readonly tickets: readonly Ticket[];
  readonly loads: ArrayLike<number>;
  readonly avgResolveMinutes: (employee: number) => number;
  readonly now: number;
  readonly hourOfDay: number;
  readonly dayOfWeek: number;
  readonly growthRates: (out: Float32Array, offset: number) => void;
  readonly stepCount: number;
  readonly episodeReward: number;
}

const PRIORITY_INDEX: Readonly<Record<string, number>> = { critical: 0, high: 1, medium: 2, normal: 3 };

export function buildObservation(cfg: HelixConfig, x: ObservationInputs, out: Float32Array): Float32Array {
  const layout = observationLayout(cfg);
  if (out.length !== layout.size)
    throw new RangeError(`observation buffer has ${out.length} values, the config needs ${layout.size}`);
  out.fill(0);
  const maxLoad = Math.max(cfg.sla.max_employee_load, 1);
  const slaMinutes: Readonly<Record<string, number>> = {
    critical: cfg.sla.critical_hours * 60,
    high: cfg.sla.high_hours * 60,
    medium: cfg.sla.medium_hours * 60,
    normal: cfg.sla.normal_hours * 60,
  };

  // Current (next) email.
  const e = x.email;
  out[0] = e.sentiment;
  out[1] = e.keywordFlag ? 1 : 0;
  out[2 + TIERS.indexOf(e.tier)] = 1;
  if (e.category < 5) out[5 + e.category] = 1;
  else {
    out[5 + ((e.category - 5) % 4)] = 1;
    out[9] = 1;
  }

  // Queue and SLA state in one pass.
  let review = 0;
  let overdue = 0;
  let nearDeadline = 0;
  let criticalOverdue = 0;
  let pressure = 0;
  let working = 0;
  for (const t of x.tickets) {
    if (t.status === 'pending_review') review++;
    else {
      const p = PRIORITY_INDEX[t.priority] as number;
      out[10 + p] = (out[10 + p] as number) + 1;
    }
    if (t.status === 'overdue') {
      overdue++;
      if (t.priority === 'critical') criticalOverdue = 1;
    }
    if (t.status !== 'resolved_auto' && t.status !== 'pending_review') {
      const remaining = t.deadline - x.now;
      if (t.status !== 'overdue' && remaining > 0 && remaining < NEAR_DEADLINE_MINUTES) nearDeadline++;
      working++;
      pressure += 1 - Math.max(remaining, 0) / Math.max(slaMinutes[t.priority] as number, 1);
    }
  }
  for (let p = 0; p < 4; p++) out[10 + p] = (out[10 + p] as number) / maxLoad;
  out[14] = review / 10;

  // Team.
  const normalMinutes = Math.max(slaMinutes.normal as number, 1);
  for (let i = 0; i < cfg.env.n_employees; i++) {
    out[layout.team + 2 * i] = (x.loads[i] as number) / maxLoad;
    out[layout.team + 2 * i + 1] = x.avgResolveMinutes(i) / normalMinutes;
  }

  const total = Math.max(x.tickets.length, 1);
  out[layout.sla] = overdue / total;
  out[layout.sla + 1] = nearDeadline / total;
  out[layout.sla + 2] = working > 0 ? pressure / working : 0;
  out[layout.sla + 3] = criticalOverdue;

  x.growthRates(out, layout.trend);

  out[layout.time] = x.hourOfDay / 24;
  out[layout.time + 1] = x.dayOfWeek / 7;

  const emails = Math.max(cfg.env.episode_emails, 1);
  out[layout.progress] = (cfg.env.episode_emails - x.stepCount) / emails;
  out[layout.progress + 1] = x.episodeReward / emails;
  out[layout.progress + 2] = 1.0; // agent confidence (constant, as in the reference)

  for (let i = 0; i < out.length; i++) out[i] = Math.max(-1, Math.min(1, out[i] as number));
  return out;
}
