import type { Env, Gradable, GradeResult, ResetOptions, ResetResult, Snapshotable, StepResult } from '../core/env.js';
import { UnknownIdError } from '../core/errors.js';
import { isRecord, isTypedArray } from '../core/plain-data.js';
import type { RewardSettings, RewardSettingsInput } from '../core/reward-mode.js';
import { needsGrader, rewardSettings, shapedReward } from '../core/reward-mode.js';
import type { HelixConfig, HelixConfigInput } from './config.js';
import type { HelixResetInfo, HelixSnapshot, HelixStepInfo } from './env.js';
import { HelixDeskEnv } from './env.js';
import type { HelixScorerState, HelixTaskId } from './graders.js';
import { HELIX_TASK_IDS, HELIX_TASK_PARTS, HelixTaskScorer, isHelixTask, taskStepLimit } from './graders.js';
import { REWARD_EVENT_TYPES } from './reward.js';

/** A task env's snapshot: the env's, the scorer's counters, the event counts and the step count of the episode. */
export interface HelixTaskSnapshot {
  env: HelixSnapshot;
  scorer: HelixScorerState;
  events: Float64Array;
  steps: number;
  /** The task score the next step is measured from (grader and mix rewards). */
  scoreBefore?: number;
}

/** Metric names of a task's episodes: the task's score parts, then the count of each reward event. */
export function helixTaskMetrics(task: HelixTaskId): readonly string[] {
  return [...HELIX_TASK_PARTS[task], ...REWARD_EVENT_TYPES.map((t) => `events_${t}`)];
}

/**
 * One graded HelixDesk task as an env, Gymnasium's TimeLimit and RecordEpisodeStatistics in one:
 * the task's length (easy: 20 emails) ends an episode as a truncation, the task's scorer sees every
 * step, reward events are counted, and `grade()` / `summary()` give the score with its parts.
 * Baselines, evaluation, vector-env members and LLM runs all play HelixDesk tasks through it.
 */
export class HelixTaskEnv
  implements
    Env<Float32Array, Int32Array | readonly number[], HelixStepInfo, HelixResetInfo>,
    Snapshotable<HelixTaskSnapshot>,
    Gradable
{
  readonly inner: HelixDeskEnv;
  readonly task: HelixTaskId;
  readonly id: string;
  private readonly scorer: HelixTaskScorer;
  private readonly limit: number;
  private readonly events = new Float64Array(REWARD_EVENT_TYPES.length);
  private readonly metricNames: readonly string[];
  private steps = 0;
  /** The task score before the next step (grader and mix rewards; 0 before the first step). */
  private scoreBefore = 0;
  readonly reward: RewardSettings;
  /** Whether the current observation (the one the next action is chosen on) shows the keyword flag. */
  private flagged = false;

  constructor(task: string, config: HelixConfigInput | HelixConfig = {}, reward?: RewardSettingsInput) {
    if (!isHelixTask(task)) throw new UnknownIdError('task', task, HELIX_TASK_IDS);
    this.reward = rewardSettings(reward);
    this.task = task;
    this.id = `helixdesk/${task}`;
    this.inner = new HelixDeskEnv(config);
    this.scorer = new HelixTaskScorer(task, this.inner.config.env.n_employees);
    this.limit = taskStepLimit(task);
    this.metricNames = helixTaskMetrics(task);
  }

  get observationSpace(): HelixDeskEnv['observationSpace'] {
    return this.inner.observationSpace;
  }

  get actionSpace(): HelixDeskEnv['actionSpace'] {
    return this.inner.actionSpace;
  }

  reset(args: ResetOptions = {}, observationOut?: Float32Array): ResetResult<Float32Array, HelixResetInfo> {
    const { info } = this.inner.reset(args);
    const observation = observationOut ? this.inner.observeInto(observationOut) : this.inner.observe();
    this.scorer.reset();
    this.events.fill(0);
    this.steps = 0;
    this.scoreBefore = 0;
    this.flagged = (observation[1] as number) > 0.5;
    return { observation, info };
  }

  /** One step; the next observation is written into `observationOut` when given (no allocation). */
  step(action: Int32Array | readonly number[], observationOut?: Float32Array): StepResult<Float32Array, HelixStepInfo> {
    const r = this.inner.step(action, observationOut);
    this.steps++;
    this.scorer.record(this.flagged, action, r.info);
    for (const e of r.info.reward_breakdown) {
      const k = REWARD_EVENT_TYPES.indexOf(e.type);
      this.events[k] = (this.events[k] as number) + 1;
    }
    this.flagged = (r.observation[1] as number) > 0.5;
    // The task's own length is a time limit, not a terminal state.
    if (!r.terminated && this.steps >= this.limit) r.truncated = true;
    r.info.env_reward = r.reward;
    if (needsGrader(this.reward)) {
      const scoreAfter = this.scorer.result().score;
      r.reward = shapedReward(this.reward, r.reward, this.scoreBefore, scoreAfter);
      this.scoreBefore = scoreAfter;
    }
    return r;
  }

  grade(): GradeResult {
    const { score, metrics } = this.summary();
    return { grader_name: this.id, score, metrics };
  }

  /** The task's score, and the metrics in helixTaskMetrics order (parts, then event counts). */
  summary(): { score: number; metrics: Record<string, number> } {
    const { score, parts } = this.scorer.result();
    const metrics: Record<string, number> = {};
    for (const name of HELIX_TASK_PARTS[this.task]) metrics[name] = parts[name] ?? Number.NaN;
    REWARD_EVENT_TYPES.forEach((t, k) => {
      metrics[`events_${t}`] = this.events[k] as number;
    });
    return { score, metrics };
  }

  /** The summary's metrics written into `out` in helixTaskMetrics order; returns the score. */
  summarizeInto(out: Float64Array): number {
    const { score, metrics } = this.summary();
    this.metricNames.forEach((name, k) => {
      out[k] = metrics[name] as number;
    });
    return score;
  }

  snapshot(): HelixTaskSnapshot {
    return {
      env: this.inner.snapshot(),
      scorer: this.scorer.save(),
      events: this.events.slice(),
      steps: this.steps,
      scoreBefore: this.scoreBefore,
    };
  }

  restore(state: HelixTaskSnapshot): void {
    if (
      !isRecord(state) ||
      !isRecord(state.env) ||
      !isRecord(state.scorer) ||
      !isTypedArray(state.events, 'Float64Array') ||
      state.events.length !== this.events.length ||
      typeof state.steps !== 'number' ||
      !Number.isInteger(state.steps)
    ) {
      throw new TypeError(
        `HelixTaskEnv.restore: expected { env, scorer, events: Float64Array(${this.events.length}), steps } from ` +
          `snapshot()`,
      );
    }
    // The scorer first: it checks its counters, and the env's restore is the last thing that can fail.
    this.scorer.load(state.scorer);
    this.inner.restore(state.env);
    this.events.set(state.events);
    this.steps = state.steps;
    this.scoreBefore = typeof state.scoreBefore === 'number' ? state.scoreBefore : 0;
    this.flagged = ((this.inner.observe()[1] as number) ?? 0) > 0.5;
  }

  close(): void {
    this.inner.close();
  }
}
