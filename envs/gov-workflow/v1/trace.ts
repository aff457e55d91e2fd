/**
 * Replay of v1 traces (format gov-workflow-trace/1 with env `gov-workflow-v1`; the fixtures'
 * README lists how v1's records differ from v2's): every step's reward, breakdown, flags, info and
 * observation, then the final state and the grader, compared as v2 traces are (trace.ts).
 */
import type { GovTrace, ReplayResult, TraceMismatch } from '../trace.js';
import { firstDifference } from '../trace.js';
import { GovWorkflowV1Env } from './env.js';

export const V1_TRACE_ENV = 'gov-workflow-v1';

export function replayV1Trace(trace: GovTrace): ReplayResult {
  const fail = (steps: number, mismatch: TraceMismatch): ReplayResult => ({ ok: false, steps, mismatch });
  const env = new GovWorkflowV1Env(trace.task_id);
  const reset = env.reset(trace.seed === undefined ? {} : { seed: trace.seed });
  let d =
    firstDifference(trace.reset.info, reset.info, 'reset.info') ??
    firstDifference(trace.reset.obs, reset.observation, 'reset.obs');
  if (d) return fail(0, { step: 0, ...d });
  if (trace.steps.length !== trace.actions.length)
    return fail(0, { step: 'header', path: 'steps.length', expected: trace.actions.length, got: trace.steps.length });
  for (let i = 0; i < trace.actions.length; i++) {
    let r: ReturnType<GovWorkflowV1Env['step']>;
    try {
      r = env.step(trace.actions[i]);
    } catch (err) {
      return fail(i, { step: i + 1, path: 'action', expected: 'a step', got: `error: ${(err as Error).message}` });
    }
    const got = {
      t: env.state().total_steps,
      reward: r.reward,
      reward_breakdown: r.info.reward_breakdown,
      terminated: r.terminated,
      truncated: r.truncated,
      invalid_action: r.info.invalid_action,
      info: { newly_arrived_cases: r.info.newly_arrived_cases, newly_completed_cases: r.info.newly_completed_cases },
      obs: r.observation,
    };
    d = firstDifference(trace.steps[i], got, '');
    if (d) return fail(i + 1, { step: i + 1, ...d });
  }
  const last = trace.steps.length;
  d = firstDifference(trace.final_state, env.state(), 'final_state');
  if (d) return fail(last, { step: 'final_state', ...d });
  d = firstDifference(trace.grader, env.grade(), 'grader');
  if (d) return fail(last, { step: 'grader', ...d });
  return { ok: true, steps: last };
}
