/**
 * The HelixDesk reward (reference `helixdesk/rewards.py`): the events a step triggers, weighted by
 * config, summed in this order and clipped to [−1, 1]. "Raw" means the action as sent (the env forces
 * priority/assignment/secondary on flag-for-review; the reward still sees the raw values).
 *
 *   1 correct_classification (+correct_priority) or misclassification (−); flag-for-review neither
 *   2 keyword_flag_missed: flagged email not classified complaint; keyword_not_critical: flagged
 *     and raw priority ≠ critical (both weighted keyword_flag_missed; both can fire)
 *   3 per employee event: resolve_on_time, plus csat_high (CSAT ≥ 4) or bad_autoreply (≤ 2);
 *     missed_deadline
 *   4 trend_prevented for each alerting category when the raw secondary is alert_gm
 *   5 balanced_assignment when the population std of loads fell
 *   6 kb_updated
 *   7 unnecessary_escalation: raw flag-for-review on a calm (sentiment < 0.5), unflagged email
 *   8 (agentic, opt-in) ambiguity_resolved / acted_on_ambiguity on conflicting signals:
 *     (s > 0.6 and not flagged) or (flagged and s > 0.8)
 *   9 (agentic, opt-in) critical complaint: risky_assignment if not to employee 0,
 *     gm_not_alerted if the GM is not alerted
 * complaint_reopened keeps its config weight but never fires (nothing reopens a complaint).
 * Pure function.
 */
import type { HelixConfig } from './config.js';
import type { ResolutionEvent } from './employees.js';

export const REWARD_EVENT_TYPES = [
  'correct_classification',
  'misclassification',
  'keyword_flag_missed',
  'keyword_not_critical',
  'resolve_on_time',
  'csat_high',
  'bad_autoreply',
  'missed_deadline',
  'trend_prevented',
  'balanced_assignment',
  'kb_updated',
  'unnecessary_escalation',
  'ambiguity_resolved',
  'acted_on_ambiguity',
  'risky_assignment',
  'gm_not_alerted',
] as const;
export type RewardEventType = (typeof REWARD_EVENT_TYPES)[number];

export interface RewardEvent {
  readonly type: RewardEventType;
  readonly value: number;
}

export interface HelixRewardInputs {
  /** Raw action: [classify, priority, assign, secondary]. */
  readonly action: ArrayLike<number>;
  readonly email: { readonly type: 'query' | 'complaint'; readonly keywordFlag: boolean; readonly sentiment: number };
  readonly resolutions: readonly ResolutionEvent[];
  /** Number of categories alerting after this step's watchdog tick. */
  readonly trendAlerts: number;
  readonly kbUpdated: boolean;
  readonly loads: ArrayLike<number>;
  readonly previousLoads: ArrayLike<number>;
}

export interface HelixReward {
  /** Sum of the event values, clipped to [−1, 1]. */
  readonly total: number;
  /** Unclipped sum. */
  readonly raw: number;
  readonly events: RewardEvent[];
}

const PREDICTED = ['query', 'complaint', 'pending_review'] as const;

/** Population standard deviation (numpy's np.std). */
export function populationStd(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i] as number;
  mean /= n;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += ((values[i] as number) - mean) ** 2;
  return Math.sqrt(sq / n);
}

export function computeHelixReward(cfg: HelixConfig['rewards'], x: HelixRewardInputs): HelixReward {
  const events: RewardEvent[] = [];
  const add = (type: RewardEventType, value: number): void => {
    events.push({ type, value });
  };
  const classify = x.action[0] as number;
  const priority = x.action[1] as number;
  const assign = x.action[2] as number;
  const secondary = x.action[3] as number;
  const predicted = PREDICTED[classify];
  const { email } = x;

  if (predicted === email.type) add('correct_classification', cfg.correct_priority);
  else if (predicted !== 'pending_review') add('misclassification', cfg.misclassification);

  if (email.keywordFlag && predicted !== 'complaint') add('keyword_flag_missed', cfg.keyword_flag_missed);
  if (email.keywordFlag && priority !== 0) add('keyword_not_critical', cfg.keyword_flag_missed);

  for (const ev of x.resolutions) {
    if (ev.resolved) {
      add('resolve_on_time', cfg.resolve_on_time);
      if (ev.csat !== null && ev.csat >= 4) add('csat_high', cfg.csat_high);
      else if (ev.csat !== null && ev.csat <= 2) add('bad_autoreply', cfg.bad_autoreply);
    } else {
      add('missed_deadline', cfg.missed_deadline);
    }
  }

  if (secondary === 1) for (let i = 0; i < x.trendAlerts; i++) add('trend_prevented', cfg.trend_prevented);

  if (x.loads.length > 0 && x.previousLoads.length > 0 && populationStd(x.loads) < populationStd(x.previousLoads)) {
    add('balanced_assignment', cfg.balanced_assignment);
  }

  if (x.kbUpdated) add('kb_updated', cfg.kb_updated);

  if (classify === 2 && email.sentiment < 0.5 && !email.keywordFlag)
    add('unnecessary_escalation', cfg.unnecessary_escalation);

  if (cfg.agentic.enabled) {
    const ambiguous = (email.sentiment > 0.6 && !email.keywordFlag) || (email.keywordFlag && email.sentiment > 0.8);
    if (ambiguous) {
      if (classify === 2) add('ambiguity_resolved', cfg.agentic.ambiguity_resolved);
      else add('acted_on_ambiguity', cfg.agentic.acted_on_ambiguity);
    }
    if (priority === 0 && classify === 1) {
      if (assign !== 0) add('risky_assignment', cfg.agentic.risky_assignment);
      if (secondary !== 1) add('gm_not_alerted', cfg.agentic.gm_not_alerted);
    }
  }

  let raw = 0;
  for (const e of events) raw += e.value;
  return { total: Math.max(-1, Math.min(1, raw)), raw, events };
}
