/**
 * Golden-trace replay (format `gov-workflow-trace/1`; docs/parity.md).
 *
 * A trace records, for one (task, seed, action script), every step's reward, breakdown, flags, step
 * info and an observation subset, then the final state and the grader output. `replayTrace` runs the
 * same actions through our env and reports the first field that differs: integers, booleans and
 * strings exactly, floats within 1e-9 absolute. Recorded objects are compared on the keys they
 * record; nested objects (queue snapshots, officer pool…) must have the same keys in the same order.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { GovStepInfo } from './env.js';
import { GovWorkflowEnv } from './env.js';
import type { Variant } from './types.js';

const JsonValue: z.ZodType<unknown> = z.unknown();
const JsonObject = z.record(z.string(), JsonValue);

export const TraceStepSchema = z.object({
  t: z.number().int(),
  reward: z.number(),
  reward_breakdown: JsonObject,
  terminated: z.boolean(),
  truncated: z.boolean(),
  invalid_action: z.boolean(),
  info: JsonObject,
  obs: JsonObject,
});

export const GovTraceSchema = z.object({
  format: z.literal('gov-workflow-trace/1'),
  env: z.string(),
  task_id: z.string(),
  seed: z.number().int(),
  policy: z.string(),
  max_steps_per_episode: z.number().int().positive(),
  actions: z.array(JsonValue),
  reset: z.object({ info: JsonObject, obs: JsonObject }),
  steps: z.array(TraceStepSchema),
  final_state: JsonObject,
  grader: JsonObject,
  summary: JsonObject.optional(),
});
export type GovTrace = z.infer<typeof GovTraceSchema>;

export interface TraceMismatch {
  /** 0 = reset, i ≥ 1 = after the i-th action; 'final_state' / 'grader' / 'header' after the run. */
  step: number | 'header' | 'final_state' | 'grader';
  path: string;
  expected: unknown;
  got: unknown;
}

export type ReplayResult = { ok: true; steps: number } | { ok: false; steps: number; mismatch: TraceMismatch };

export const FLOAT_TOLERANCE = 1e-9;

/** Paths (relative to a step record, or absolute) whose recorded objects are subsets of ours. */
const SUBSET_PATHS: ReadonlySet<string> = new Set([
  '',
  'obs',
  'info',
  'reset.obs',
  'reset.info',
  'final_state',
  'grader',
]);

/**
 * First difference between a recorded value and ours, or undefined. Objects at SUBSET_PATHS are
 * compared on the recorded keys only; every other object must have the same keys in the same order.
 */
export function firstDifference(
  expected: unknown,
  got: unknown,
  path: string,
): { path: string; expected: unknown; got: unknown } | undefined {
  const subset = SUBSET_PATHS.has(path);
  if (typeof expected === 'number') {
    if (typeof got !== 'number') return { path, expected, got };
    const equal =
      Number.isInteger(expected) && Number.isInteger(got)
        ? expected === got
        : Math.abs(expected - got) <= FLOAT_TOLERANCE;
    return equal ? undefined : { path, expected, got };
  }
  if (expected === null || typeof expected !== 'object') {
    return expected === got ? undefined : { path, expected, got };
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(got) || got.length !== expected.length) return { path, expected, got };
    for (let i = 0; i < expected.length; i++) {
      const d = firstDifference(expected[i], got[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (got === null || typeof got !== 'object' || Array.isArray(got)) return { path, expected, got };
  const e = expected as Record<string, unknown>;
  const g = got as Record<string, unknown>;
  const eKeys = Object.keys(e);
  if (!subset) {
    const gKeys = Object.keys(g);
    if (eKeys.join('\u0000') !== gKeys.join('\u0000')) return { path: `${path} (keys)`, expected: eKeys, got: gKeys };
  }
  for (const key of eKeys) {
    if (!(key in g)) return { path: path ? `${path}.${key}` : key, expected: e[key], got: undefined };
    const d = firstDifference(e[key], g[key], path ? `${path}.${key}` : key);
    if (d) return d;
  }
  return undefined;
}

export function stepRecord(
  total_steps: number,
  reward: number,
  terminated: boolean,
  truncated: boolean,
  info: GovStepInfo,
  obs: unknown,
): Record<string, unknown> {
  return {
    t: total_steps,
    reward,
    reward_breakdown: info.reward_breakdown,
    terminated,
    truncated,
    invalid_action: info.invalid_action,
    info: {
      newly_arrived_cases: info.newly_arrived_cases,
      newly_completed_cases: info.newly_completed_cases,
      newly_sla_breached_cases: info.newly_sla_breached_cases,
      newly_resolved_doc_cases: info.newly_resolved_doc_cases,
    },
    obs,
  };
}

/** Replays a parsed trace (reference variant unless told otherwise). */
export function replayTrace(trace: GovTrace, variant: Variant = 'reference'): ReplayResult {
  const env = new GovWorkflowEnv({ taskId: trace.task_id, variant });
  return replayWith(trace, {
    reset() {
      const r = env.reset({ seed: trace.seed, options: { task_id: trace.task_id } });
      const cap = env.current.maxStepsPerEpisode;
      if (cap !== trace.max_steps_per_episode)
        return { step: 'header', path: 'max_steps_per_episode', expected: trace.max_steps_per_episode, got: cap };
      return { info: r.info, observation: r.observation };
    },
    step(action) {
      const r = env.step(action);
      return stepRecord(env.current.counters.totalSteps, r.reward, r.terminated, r.truncated, r.info, r.observation);
    },
    finalState: () => env.state(),
    grade: () => env.grade(),
  });
}

/** What replayWith needs of an env version: its reset (or a header mismatch), step records, final state, grade. */
export interface ReplayTarget {
  reset(): { info: unknown; observation: unknown } | TraceMismatch;
  /** The step's record in the trace's layout (t, reward, reward_breakdown, flags, info, obs). */
  step(action: unknown): Record<string, unknown>;
  finalState(): unknown;
  grade(): unknown;
}

/** Replays a trace through an env version and reports the first difference (shared by v2 and v1). */
export function replayWith(trace: GovTrace, target: ReplayTarget): ReplayResult {
  const fail = (steps: number, mismatch: TraceMismatch): ReplayResult => ({ ok: false, steps, mismatch });
  const reset = target.reset();
  if ('path' in reset) return fail(0, reset);
  let d =
    firstDifference(trace.reset.info, reset.info, 'reset.info') ??
    firstDifference(trace.reset.obs, reset.observation, 'reset.obs');
  if (d) return fail(0, { step: 0, ...d });
  if (trace.steps.length !== trace.actions.length) {
    return fail(0, { step: 'header', path: 'steps.length', expected: trace.actions.length, got: trace.steps.length });
  }
  for (let i = 0; i < trace.actions.length; i++) {
    let got: Record<string, unknown>;
    try {
      got = target.step(trace.actions[i]);
    } catch (err) {
      return fail(i, { step: i + 1, path: 'action', expected: 'a step', got: `error: ${(err as Error).message}` });
    }
    d = firstDifference(trace.steps[i], got, '');
    if (d) return fail(i + 1, { step: i + 1, ...d });
  }
  const last = trace.steps.length;
  d = firstDifference(trace.final_state, target.finalState(), 'final_state');
  if (d) return fail(last, { step: 'final_state', ...d });
  d = firstDifference(trace.grader, target.grade(), 'grader');
  if (d) return fail(last, { step: 'grader', ...d });
  return { ok: true, steps: last };
}

/** Reads and validates a trace file; throws with the file name and the first schema problem. */
export function loadTrace(file: string): GovTrace {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not readable JSON (${(err as Error).message})`);
  }
  const parsed = GovTraceSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${file}: not a gov-workflow-trace/1 file: field '${issue?.path.join('.') || '(root)'}' ${issue?.message}`,
    );
  }
  return parsed.data;
}

export function formatMismatch(file: string, m: TraceMismatch): string {
  const where = typeof m.step === 'number' ? (m.step === 0 ? 'reset' : `step ${m.step}`) : m.step;
  return (
    `FAIL ${file}: ${where}: ${m.path || '(record)'}: expected ${JSON.stringify(m.expected)}, got ` +
    `${JSON.stringify(m.got)}`
  );
}
