/** One Gov Workflow episode of an agent, through the public env API, summarised as a record. */
import { GovWorkflowEnv } from '../envs/gov-workflow/env.js';
import type { Variant } from '../envs/gov-workflow/types.js';
import type { EpisodeRecord, GovAgent } from './types.js';

export type { EpisodeRecord } from './types.js';

export interface GovEpisodeOptions {
  taskId: string;
  seed: number;
  variant: Variant;
  /** Stop after this many steps even if the env has not ended (default: the env's own cap). */
  maxSteps?: number;
}

export function runGovEpisode(agent: GovAgent, opts: GovEpisodeOptions): EpisodeRecord {
  const env = new GovWorkflowEnv({ taskId: opts.taskId, variant: opts.variant });
  let observation = env.reset({ seed: opts.seed }).observation;
  agent.reset(opts.seed);
  const cap = opts.maxSteps ?? Number.POSITIVE_INFINITY;
  let reward = 0;
  let steps = 0;
  while (steps < cap) {
    const r = env.step(agent.act(observation, env));
    reward += r.reward;
    steps++;
    observation = r.observation;
    if (r.terminated || r.truncated) break;
  }
  return govEpisodeRecord(env, agent.name, opts.seed, reward, steps);
}

/** The record of a finished (or stopped) Gov Workflow episode: grader score and metrics plus the env's totals. */
export function govEpisodeRecord(
  env: GovWorkflowEnv,
  agent: string,
  seed: number,
  reward: number,
  steps: number,
  extra: Record<string, number> = {},
): EpisodeRecord {
  const state = env.state();
  const grade = env.grade();
  return {
    env: 'gov-workflow',
    task: state.task_id,
    agent,
    seed,
    score: grade.score,
    reward,
    steps,
    metrics: {
      ...grade.metrics,
      total_sla_breaches: state.total_sla_breaches,
      total_invalid_actions: state.total_invalid_actions,
      total_backlog: state.total_backlog,
      days: state.day,
      ...extra,
    },
  };
}
