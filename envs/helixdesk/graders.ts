/**
 * The four graded HelixDesk tasks, with the seed README's semantics as the reference v1 graders
 * compute them (docs/decisions.md; the v2 "hardened" graders crash or are trivially gamed and are not
 * ported). HelixTaskScorer scores a run step by step; task-env.ts plays a task as an env with it.
 *
 *   easy    20 emails: the share of keyword-flagged emails (read from the observation before acting)
 *           classified complaint + critical; 1.0 when none was flagged
 *   medium  one episode: steps with a resolve_on_time event / steps whose raw action assigns an
 *           employee (assign < n_employees, whatever the classification)
 *   hard    one episode: min(1, mean of three parts) —
 *             trend   = surge steps on which the GM was alerted / steps with a surge active
 *             csat    = min(1, mean CSAT of the steps that resolved a ticket / 4.5)
 *             overdue = max(0, 1 − Σ per-step overdue counts / max(0.10 × steps, 1))
 *   expert  one episode: sqrt(keyword × classify × review) —
 *             keyword  = 1 with no keyword_flag_missed event, else 0 (the reference divides the misses
 *                        by themselves: max(0, 1 − 4·missed/missed))
 *             classify = min(1, correct / max(0.95 · (correct + misclassified), 1))
 *             review   = max(0, 1 − flag-for-review actions / max(0.05 × steps, 1))
 *
 * The reference read events from a dict keyed by event type, so a step counts once however many
 * tickets it resolved; medium and hard keep that (the README leaves the counting open, and this keeps
 * scores comparable with the published ones).
 */
import type { HelixStepInfo } from './env.js';

export const HELIX_TASK_IDS = ['easy', 'medium', 'hard', 'expert'] as const;
export type HelixTaskId = (typeof HELIX_TASK_IDS)[number];

export const HELIX_TASKS: Readonly<
  Record<HelixTaskId, { difficulty: string; description: string; steps: number | 'episode' }>
> = {
  easy: {
    difficulty: 'easy',
    description: 'keyword-flagged emails classified complaint + critical (20 emails)',
    steps: 20,
  },
  medium: {
    difficulty: 'medium',
    description: 'assigned complaints resolved within SLA (one episode)',
    steps: 'episode',
  },
  hard: { difficulty: 'hard', description: 'trend alerts, CSAT and overdue control (one episode)', steps: 'episode' },
  expert: {
    difficulty: 'expert',
    description: 'keyword handling × classification accuracy × review restraint (one episode)',
    steps: 'episode',
  },
};

export function isHelixTask(id: string): id is HelixTaskId {
  return (HELIX_TASK_IDS as readonly string[]).includes(id);
}

const clamp01 = (x: number): number => Math.max(0, Math.min(1, x));

/** Steps a task's graded run lasts: 20 emails for easy, one whole episode otherwise. */
export function taskStepLimit(task: HelixTaskId): number {
  return task === 'easy' ? 20 : Number.POSITIVE_INFINITY;
}

/** The names of a task's score parts, in a fixed order (vector-env metrics rely on it). */
export const HELIX_TASK_PARTS: Readonly<Record<HelixTaskId, readonly string[]>> = {
  easy: ['flagged', 'correct'],
  medium: ['resolving_steps', 'assigning_steps', 'resolve_on_time_events'],
  hard: ['trend', 'csat', 'overdue', 'surge_steps', 'alerted_surge_steps', 'overdue_sum'],
  expert: ['keyword', 'classify', 'review', 'flagged_emails', 'keyword_missed', 'review_flags'],
};

/** The running counters of a HelixTaskScorer (plain numbers; see save()/load()). */
export interface HelixScorerState {
  steps: number;
  flagged: number;
  flaggedCorrect: number;
  assigning: number;
  resolvingSteps: number;
  resolveEvents: number;
  surgeSteps: number;
  alertedSurge: number;
  overdueSum: number;
  csatSum: number;
  csatCount: number;
  flaggedEmails: number;
  keywordMissed: number;
  correct: number;
  wrong: number;
  reviews: number;
}

const SCORER_FIELDS: readonly (keyof HelixScorerState)[] = [
  'steps',
  'flagged',
  'flaggedCorrect',
  'assigning',
  'resolvingSteps',
  'resolveEvents',
  'surgeSteps',
  'alertedSurge',
  'overdueSum',
  'csatSum',
  'csatCount',
  'flaggedEmails',
  'keywordMissed',
  'correct',
  'wrong',
  'reviews',
];

/**
 * Scores one graded run step by step: feed every step (whether the email was flagged in the
 * observation the agent acted on, the action, the step info), then read the score. The graders and
 * the vector env (which scores episodes as they end) share it; save()/load() checkpoint a run in
 * progress.
 */
export class HelixTaskScorer {
  private steps = 0;
  private flagged = 0;
  private flaggedCorrect = 0;
  private assigning = 0;
  private resolvingSteps = 0;
  private resolveEvents = 0;
  private surgeSteps = 0;
  private alertedSurge = 0;
  private overdueSum = 0;
  private csatSum = 0;
  private csatCount = 0;
  private flaggedEmails = 0;
  private keywordMissed = 0;
  private correct = 0;
  private wrong = 0;
  private reviews = 0;

  constructor(
    readonly task: HelixTaskId,
    private readonly nEmployees: number,
  ) {}

  reset(): void {
    this.steps = this.flagged = this.flaggedCorrect = this.assigning = this.resolvingSteps = this.resolveEvents = 0;
    this.surgeSteps = this.alertedSurge = this.overdueSum = this.csatSum = this.csatCount = 0;
    this.flaggedEmails = this.keywordMissed = this.correct = this.wrong = this.reviews = 0;
  }

  /** The counters so far, as plain numbers (for snapshots). */
  save(): HelixScorerState {
    return {
      steps: this.steps,
      flagged: this.flagged,
      flaggedCorrect: this.flaggedCorrect,
      assigning: this.assigning,
      resolvingSteps: this.resolvingSteps,
      resolveEvents: this.resolveEvents,
      surgeSteps: this.surgeSteps,
      alertedSurge: this.alertedSurge,
      overdueSum: this.overdueSum,
      csatSum: this.csatSum,
      csatCount: this.csatCount,
      flaggedEmails: this.flaggedEmails,
      keywordMissed: this.keywordMissed,
      correct: this.correct,
      wrong: this.wrong,
      reviews: this.reviews,
    };
  }

  /** Puts counters from save() back (checked: every field must be a finite number). */
  load(state: HelixScorerState): void {
    for (const name of SCORER_FIELDS) {
      const v = (state as unknown as Record<string, unknown> | null)?.[name];
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new TypeError(`HelixTaskScorer.load: '${name}' must be a finite number (got ${JSON.stringify(v)})`);
    }
    this.steps = state.steps;
    this.flagged = state.flagged;
    this.flaggedCorrect = state.flaggedCorrect;
    this.assigning = state.assigning;
    this.resolvingSteps = state.resolvingSteps;
    this.resolveEvents = state.resolveEvents;
    this.surgeSteps = state.surgeSteps;
    this.alertedSurge = state.alertedSurge;
    this.overdueSum = state.overdueSum;
    this.csatSum = state.csatSum;
    this.csatCount = state.csatCount;
    this.flaggedEmails = state.flaggedEmails;
    this.keywordMissed = state.keywordMissed;
    this.correct = state.correct;
    this.wrong = state.wrong;
    this.reviews = state.reviews;
  }

  record(flaggedInObservation: boolean, action: ArrayLike<number>, info: HelixStepInfo): void {
    this.steps++;
    if (flaggedInObservation) {
      this.flagged++;
      if (action[0] === 1 && action[1] === 0) this.flaggedCorrect++;
    }
    if ((action[2] as number) < this.nEmployees) this.assigning++;
    if (action[0] === 2) this.reviews++;
    if (info.keyword_flag) this.flaggedEmails++;
    if (info.trend_alerts_active > 0) {
      this.surgeSteps++;
      if (action[3] === 1) this.alertedSurge++;
    }
    this.overdueSum += info.overdue_count;
    if (info.csat_score !== null) {
      this.csatSum += info.csat_score;
      this.csatCount++;
    }
    let resolved = false;
    for (const e of info.reward_breakdown) {
      if (e.type === 'resolve_on_time') {
        resolved = true;
        this.resolveEvents++;
      } else if (e.type === 'keyword_flag_missed') this.keywordMissed++;
      else if (e.type === 'correct_classification') this.correct++;
      else if (e.type === 'misclassification') this.wrong++;
    }
    if (resolved) this.resolvingSteps++;
  }

  result(): { score: number; parts: Record<string, number> } {
    switch (this.task) {
      case 'easy':
        return {
          score: this.flagged === 0 ? 1.0 : this.flaggedCorrect / this.flagged,
          parts: { flagged: this.flagged, correct: this.flaggedCorrect },
        };
      case 'medium':
        return {
          score: clamp01(this.resolvingSteps / Math.max(this.assigning, 1)),
          parts: {
            resolving_steps: this.resolvingSteps,
            assigning_steps: this.assigning,
            resolve_on_time_events: this.resolveEvents,
          },
        };
      case 'hard': {
        const trend = this.surgeSteps === 0 ? 1.0 : this.alertedSurge / this.surgeSteps;
        const csat = Math.min(1, this.csatSum / Math.max(this.csatCount, 1) / 4.5);
        const overdue = Math.max(0, 1 - this.overdueSum / Math.max(0.1 * this.steps, 1));
        return {
          score: clamp01((trend + csat + overdue) / 3),
          parts: {
            trend,
            csat,
            overdue,
            surge_steps: this.surgeSteps,
            alerted_surge_steps: this.alertedSurge,
            overdue_sum: this.overdueSum,
          },
        };
      }
      case 'expert': {
        const keyword = this.keywordMissed === 0 ? 1.0 : 0.0;
        const classify = Math.min(1, this.correct / Math.max(0.95 * (this.correct + this.wrong), 1));
        const review = Math.max(0, 1 - this.reviews / Math.max(0.05 * this.steps, 1));
        return {
          score: clamp01(Math.sqrt(keyword * classify * review)),
          parts: {
            keyword,
            classify,
            review,
            flagged_emails: this.flaggedEmails,
            keyword_missed: this.keywordMissed,
            review_flags: this.reviews,
          },
        };
      }
    }
  }
}
