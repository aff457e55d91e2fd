/**
 * What a PPO run does on a schedule, each with its own state (saved in every checkpoint):
 *   EvalCallback        SB3's: every eval.freq steps (and at the end) the policy plays the held-out
 *                       seeds; eval.csv gets a row; the best by grader score is saved as `best`.
 *   CheckpointCallback  SB3's: every checkpoint.freq steps a checkpoint step-<n>, the `latest`
 *                       pointer moved, all but the last keep_last periodic ones pruned.
 */
import { join } from 'node:path';
import type { EpisodeRecord } from '../../agents/types.js';
import { evaluatePolicy, meanOf, stdOf } from '../evaluation.js';
import type { MetricRow } from '../logger.js';
import { csvWriter, fmt, Logger } from '../logger.js';
import { pruneKeepLast } from '../run-io.js';
import type { CheckpointState } from './checkpoint.js';
import type { PpoConfig } from './config.js';
import { trainingTasks } from './config.js';
import type { PpoRun } from './run.js';

/** Saves the run as checkpoint `name` (callbacks.ts's callers pass trainPpo's saver). */
export type SaveCheckpoint = (name: string, kind: CheckpointState['kind'], updateLatest: boolean) => Promise<string>;

export interface BestModel {
  score: number;
  numTimesteps: number;
}

/** Env ids evaluated during training: eval.tasks, or the trained task(s), in the config's env family. */
export function evaluationEnvIds(config: PpoConfig): string[] {
  const family = config.env.id.split('/')[0] as string;
  const tasks = config.eval.tasks.length > 0 ? config.eval.tasks : trainingTasks(config);
  return tasks.map((t) => `${family}/${t}`);
}

export class EvalCallback {
  nextEvalAt: number;
  best: BestModel | null;
  bestDir: string | null;
  readonly rows: Logger;
  private readonly envIds: string[];

  constructor(
    private readonly config: PpoConfig,
    resultsDir: string,
    checkpointDir: string,
    resumed: CheckpointState | null,
  ) {
    this.envIds = evaluationEnvIds(config);
    this.nextEvalAt = resumed
      ? (resumed.nextEvalAt ?? Number.POSITIVE_INFINITY)
      : config.eval.freq > 0
        ? config.eval.freq
        : Number.POSITIVE_INFINITY;
    this.best = resumed?.best ?? null;
    this.bestDir = this.best ? join(checkpointDir, 'best') : null;
    this.rows = new Logger([csvWriter(join(resultsDir, 'eval.csv'))], resumed ? resumed.history.eval : []);
  }

  /** Evaluates when due (or when the run completes its budget); saves `best` on a new high score. */
  async onIterationEnd(
    run: PpoRun,
    finishing: boolean,
    save: SaveCheckpoint,
    log: (line: string) => void,
  ): Promise<void> {
    const steps = run.state.numTimesteps;
    if (!(steps >= this.nextEvalAt || (finishing && steps >= this.config.total_timesteps))) return;
    while (this.nextEvalAt <= steps)
      this.nextEvalAt += this.config.eval.freq > 0 ? this.config.eval.freq : Number.POSITIVE_INFINITY;
    const started = performance.now();
    this.rows.recordAll(await this.evaluate(run));
    run.timing.evalSeconds += (performance.now() - started) / 1000;
    const row = this.rows.dump();
    // Best by grader score; by mean reward for envs without a grader.
    const score = (row['eval/grader_score'] ?? row['eval/mean_reward']) as number;
    const isBest = this.best === null || score > this.best.score;
    log(
      `[ppo] eval at ${steps}: grader_score ${fmt(row['eval/grader_score'], 4)} mean_reward ` +
        `${fmt(row['eval/mean_reward'])}${isBest ? ' (best)' : ''}`,
    );
    if (isBest) {
      this.best = { score, numTimesteps: steps };
      this.bestDir = await save('best', 'best', false);
    }
  }

  /** The policy on every evaluation env id over eval.seeds: one eval.csv row. */
  private async evaluate(run: PpoRun): Promise<MetricRow> {
    const { curriculum: _curriculum, ...options } = run.env.options;
    void _curriculum;
    const all: EpisodeRecord[] = [];
    const row: MetricRow = { 'time/total_timesteps': run.state.numTimesteps };
    const perTask: number[] = [];
    for (const id of this.envIds) {
      const records = await evaluatePolicy(run.policy, id, options, this.config.eval.seeds, {
        deterministic: this.config.eval.deterministic,
      });
      all.push(...records);
      const task = id.split('/')[1] as string;
      const score = meanOf(records, (r) => r.score);
      perTask.push(score);
      row[`eval/grader_score/${task}`] = score;
      row[`eval/mean_reward/${task}`] = meanOf(records, (r) => r.reward);
    }
    row['eval/grader_score'] = perTask.reduce((a, b) => a + b, 0) / perTask.length;
    row['eval/mean_reward'] = meanOf(all, (r) => r.reward);
    row['eval/std_reward'] = stdOf(all, (r) => r.reward);
    row['eval/mean_ep_length'] = meanOf(all, (r) => r.steps);
    return row;
  }
}

export class CheckpointCallback {
  nextCheckpointAt: number;

  constructor(
    private readonly config: PpoConfig,
    private readonly checkpointDir: string,
    resumed: CheckpointState | null,
  ) {
    this.nextCheckpointAt = resumed
      ? (resumed.nextCheckpointAt ?? Number.POSITIVE_INFINITY)
      : config.checkpoint.freq > 0
        ? config.checkpoint.freq
        : Number.POSITIVE_INFINITY;
  }

  /** A periodic checkpoint when due (not on the last iteration: the final checkpoint follows). */
  async onIterationEnd(run: PpoRun, finishing: boolean, save: SaveCheckpoint): Promise<void> {
    const steps = run.state.numTimesteps;
    if (steps < this.nextCheckpointAt || finishing) return;
    while (this.nextCheckpointAt <= steps) this.nextCheckpointAt += this.config.checkpoint.freq;
    await save(stepName(steps), 'periodic', true);
    pruneKeepLast(this.checkpointDir, /^step-\d{9}$/, this.config.checkpoint.keep_last);
  }
}

export function stepName(steps: number): string {
  return `step-${String(steps).padStart(9, '0')}`;
}
