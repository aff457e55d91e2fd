/**
 * Replay of v1 traces (format gov-workflow-trace/1 with env `gov-workflow-v1`; the fixtures'
 * README lists how v1's records differ from v2's): every step's reward, breakdown, flags, info and
 * observation, then the final state and the grader, compared as v2 traces are (trace.ts).
 */
import type { GovTrace, ReplayResult } from '../trace.js';
import { replayWith } from '../trace.js';
import { GovWorkflowV1Env } from './env.js';

export const V1_TRACE_ENV = 'gov-workflow-v1';

export function replayV1Trace(trace: GovTrace): ReplayResult {
  const env = new GovWorkflowV1Env(trace.task_id);
  return replayWith(trace, {
    reset: () => env.reset({ seed: trace.seed }),
    step(action) {
      const r = env.step(action);
      return {
        t: env.state().total_steps,
        reward: r.reward,
        reward_breakdown: r.info.reward_breakdown,
        terminated: r.terminated,
        truncated: r.truncated,
        invalid_action: r.info.invalid_action,
        info: { newly_arrived_cases: r.info.newly_arrived_cases, newly_completed_cases: r.info.newly_completed_cases },
        obs: r.observation,
      };
    },
    finalState: () => env.state(),
    grade: () => env.grade(),
  });
}
