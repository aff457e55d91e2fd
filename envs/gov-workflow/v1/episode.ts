/** A v1 policy playing the v1 env, as the episode runner drives it (agents/run-episode.ts). */

import { GovWorkflowV1Env } from './env.js';
import type { V1Action, V1Observation, V1StepInfo } from './model.js';
import type { V1PolicyName } from './policies.js';
import { v1Policy } from './policies.js';

export interface V1EpisodeEnv {
  readonly family: 'gov-workflow';
  readonly task: string;
  reset(seed: number): V1Observation;
  step(action: V1Action): {
    input: V1Observation;
    reward: number;
    terminated: boolean;
    truncated: boolean;
    info: V1StepInfo;
  };
  summary(): { score: number; metrics: Record<string, number> };
}

export function v1EpisodeEnv(task: string): V1EpisodeEnv {
  const env = new GovWorkflowV1Env(task);
  return {
    family: 'gov-workflow',
    task,
    reset: (seed) => env.reset({ seed }).observation,
    step(action) {
      const r = env.step(action);
      return { input: r.observation, reward: r.reward, terminated: r.terminated, truncated: r.truncated, info: r.info };
    },
    summary() {
      const g = env.grade();
      const s = env.state();
      return {
        score: g.score,
        metrics: {
          ...g.metrics,
          total_cases_arrived: s.metrics.total_arrived,
          total_completed: s.total_completed,
          total_sla_breached: s.total_sla_breaches,
          total_backlog: s.total_backlog,
          total_invalid_actions: s.metrics.total_invalid_actions,
          days: s.day,
        },
      };
    },
  };
}

/** A v1 policy as a runner policy. */
export function v1Agent(name: V1PolicyName): { name: string; reset(): void; act(obs: V1Observation): V1Action } {
  return { name, reset() {}, act: (obs) => v1Policy(name, obs) };
}
