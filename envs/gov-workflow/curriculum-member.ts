/**
 * A Gov Workflow vector-env member that draws each episode's task from a curriculum (the
 * reference's Phase 2; docs/ppo.md, configs): stages [{ until, weights }] over the training
 * progress, e.g. 0–30 % easy only; 30–70 % easy or medium; 70–100 % easy/medium/hard 0.2/0.4/0.4.
 *
 * Progress is the member's own step count × numEnvs / totalTimesteps: every env of a vector env
 * steps once per vector step, so this equals the learner's global step count without any message
 * from it (and works the same in worker threads). Draws come from the member's stream
 * `queue-rl/<member seed>/curriculum`; episode seeds continue Gymnasium-style from the member seed
 * (deriveSeed(previous, 'next-episode')), whatever the task. All tasks share the RL adapter's
 * observation and action spaces. Snapshots carry the draw stream, step count and seed chain.
 */
import type { MemberStep, VecEnvMember } from '../core/member.js';
import { isRecord } from '../core/plain-data.js';
import type { RandomStream, RandomStreamState } from '../core/random/streams.js';
import { createStream, deriveSeed, restoreStream } from '../core/random/streams.js';
import { weightedChoice } from '../core/random/weighted.js';
import type { GovRlEnvConfig, GovRlSnapshot } from './adapter/rl-env.js';
import { GovWorkflowRlEnv } from './adapter/rl-env.js';
import { GOV_EPISODE_METRICS } from './episode-summary.js';
import { summarizeGov } from './vector-member.js';

export interface CurriculumStage {
  /** Fraction of total_timesteps up to which this stage applies. */
  readonly until: number;
  readonly weights: Readonly<Partial<Record<string, number>>>;
}

export interface CurriculumSpec {
  readonly stages: readonly CurriculumStage[];
  readonly totalTimesteps: number;
  readonly numEnvs: number;
}

/** Metrics of a curriculum member: the Gov ones plus which task the episode ran (index in `tasks`). */
export function curriculumMetricNames(): readonly string[] {
  return [...GOV_EPISODE_METRICS, 'task_index'];
}

/** The tasks a curriculum uses, in first-seen order (task_index refers to this list). */
export function curriculumTasks(spec: CurriculumSpec): string[] {
  const tasks: string[] = [];
  for (const s of spec.stages)
    for (const [t, w] of Object.entries(s.weights)) if (w !== undefined && w > 0 && !tasks.includes(t)) tasks.push(t);
  return tasks;
}

/** The task drawn at a given progress: weighted choice within the stage the progress falls in. */
export function drawCurriculumTask(spec: CurriculumSpec, progress: number, rng: RandomStream): string {
  const stage = spec.stages.find((s) => progress < s.until) ?? spec.stages[spec.stages.length - 1];
  if (!stage) throw new Error('curriculum has no stages');
  return weightedChoice(stage.weights, rng);
}

interface CurriculumMemberState {
  task: string | null;
  steps: number;
  lastSeed: number | null;
  rng: RandomStreamState | null;
  env: GovRlSnapshot | null;
}

export class GovCurriculumMember implements VecEnvMember {
  private readonly envs = new Map<string, GovWorkflowRlEnv>();
  private readonly tasks: string[];
  private readonly out: MemberStep = { reward: 0, terminated: false, truncated: false };
  private task: string | null = null;
  private steps = 0;
  private lastSeed: number | null = null;
  private rng: RandomStream | null = null;

  constructor(
    private readonly spec: CurriculumSpec,
    private readonly config: Omit<GovRlEnvConfig, 'taskId'>,
  ) {
    this.tasks = curriculumTasks(spec);
  }

  reset(seed: number | undefined, observation: Float32Array, mask: Uint8Array): void {
    if (seed !== undefined) {
      this.rng = createStream(seed, 'curriculum');
      this.steps = 0;
    } else if (this.lastSeed === null || !this.rng) {
      throw new Error('curriculum member: the first reset needs a seed');
    }
    const episodeSeed = seed ?? deriveSeed(this.lastSeed as number, 'next-episode');
    this.lastSeed = episodeSeed;
    const progress = (this.steps * this.spec.numEnvs) / this.spec.totalTimesteps;
    this.task = drawCurriculumTask(this.spec, progress, this.rng as RandomStream);
    const env = this.env(this.task);
    env.reset({ seed: episodeSeed });
    env.observe(observation);
    env.actionMasksInto(mask);
  }

  step(action: Int32Array, observation: Float32Array, mask: Uint8Array): MemberStep {
    const env = this.env(this.requireTask());
    const r = env.step(action[0] as number, observation);
    env.actionMasksInto(mask);
    this.steps++;
    this.out.reward = r.reward;
    this.out.terminated = r.terminated;
    this.out.truncated = r.truncated;
    return this.out;
  }

  summarize(metrics: Float64Array): number {
    const task = this.requireTask();
    const score = summarizeGov(this.env(task), metrics);
    metrics[GOV_EPISODE_METRICS.length] = this.tasks.indexOf(task);
    return score;
  }

  snapshot(): CurriculumMemberState {
    return {
      task: this.task,
      steps: this.steps,
      lastSeed: this.lastSeed,
      rng: this.rng ? this.rng.state() : null,
      env: this.task ? this.env(this.task).snapshot() : null,
    };
  }

  restore(state: unknown): void {
    if (!isRecord(state) || typeof state.steps !== 'number' || !('task' in state) || !('env' in state)) {
      throw new TypeError(
        'GovCurriculumMember.restore: expected { task, steps, lastSeed, rng, env } from GovCurriculumMember.snapshot()',
      );
    }
    const s = state as unknown as CurriculumMemberState;
    if (s.task !== null && !this.tasks.includes(s.task))
      throw new TypeError(
        `GovCurriculumMember.restore: task '${s.task}' is not in this curriculum (${this.tasks.join(', ')})`,
      );
    this.task = s.task;
    this.steps = s.steps;
    this.lastSeed = s.lastSeed;
    this.rng = s.rng ? restoreStream(s.rng) : null;
    if (s.task && s.env) this.env(s.task).restore(s.env);
  }

  private requireTask(): string {
    if (this.task === null) throw new Error('curriculum member: reset() first');
    return this.task;
  }

  private env(task: string): GovWorkflowRlEnv {
    let env = this.envs.get(task);
    if (!env) {
      env = new GovWorkflowRlEnv({ ...this.config, taskId: task });
      this.envs.set(task, env);
    }
    return env;
  }
}
