/**
 * An env checker in the spirit of Gymnasium's `check_env` (gymnasium/utils/env_checker.py and the
 * passive checker): spaces, reset and step signatures and output types, observations inside the
 * observation space, finite rewards, seeded determinism of reset and step, `reset(options={})`,
 * idempotent close — plus queue-rl's own contracts where an env offers them: masks of the right
 * length that allow the sampled actions, and snapshot/restore that reproduces the continuation.
 *
 * Returns a report; `assertEnvChecks` throws with every failure listed.
 */
import type { Env } from './env.js';
import { createStream } from './random/streams.js';
import type { RandomStream } from './random/streams.js';
import { Box, Discrete, JsonSpace, MultiDiscrete } from './spaces.js';
import type { Space } from './spaces.js';

/** Any env, whatever its info and reset-option types. */
export type CheckableEnv<Obs, Act> = Env<Obs, Act, unknown, unknown, never>;

export interface CheckEnvOptions<Act> {
  /** Steps per determinism rollout (default 50). */
  steps?: number;
  /** Seed of the checker's own action sampling (default 0). */
  seed?: number;
  /**
   * How to pick an action. Required for Json action spaces; Discrete and MultiDiscrete spaces are
   * sampled uniformly (among masked-in actions when the env has actionMasks()).
   */
  sampleAction?: (env: CheckableEnv<unknown, Act>, rng: RandomStream) => Act;
}

export interface CheckEnvReport {
  envId: string;
  ok: boolean;
  failures: string[];
  warnings: string[];
  /** Steps taken in total while checking. */
  stepsTaken: number;
}

interface MaskableLike {
  actionMasks(): Uint8Array;
}
interface SnapshotLike {
  snapshot(): unknown;
  restore(s: unknown): void;
}

function isMaskable(env: object): env is MaskableLike {
  return typeof (env as Partial<MaskableLike>).actionMasks === 'function';
}
function isSnapshotable(env: object): env is SnapshotLike {
  return (
    typeof (env as Partial<SnapshotLike>).snapshot === 'function' &&
    typeof (env as Partial<SnapshotLike>).restore === 'function'
  );
}

/** Structural equality that understands typed arrays (NaN equals NaN, as for np.array_equal on obs). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b) || a === b) return true;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = a as unknown as ArrayLike<number>;
    const y = b as unknown as ArrayLike<number>;
    if (a.constructor !== b.constructor || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i]) && x[i] !== y[i]) return false;
    return true;
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype;
}

function checkSpace(name: string, space: Space<unknown> | undefined, failures: string[], warnings: string[]): void {
  if (!space || typeof space.contains !== 'function' || typeof space.toJSON !== 'function') {
    failures.push(`${name}: missing or not a Space (needs contains() and toJSON())`);
    return;
  }
  const json = space.toJSON();
  if (space instanceof Box) {
    if (json.type !== 'Box' || json.low.length !== space.size || json.high.length !== space.size)
      failures.push(`${name}: Box low/high do not match its shape`);
    if (space.low.some((v, i) => v === space.high[i])) warnings.push(`${name}: Box has dimensions with low == high`);
    if (space.low.some((v) => !Number.isFinite(v)) || space.high.some((v) => !Number.isFinite(v)))
      warnings.push(`${name}: Box has infinite bounds`);
  } else if (space instanceof Discrete) {
    if (!(space.n > 0)) failures.push(`${name}: Discrete n must be > 0`);
  } else if (space instanceof MultiDiscrete) {
    if (space.nvec.some((n) => !(n > 0))) failures.push(`${name}: MultiDiscrete nvec must be > 0`);
  } else if (!(space instanceof JsonSpace)) {
    warnings.push(`${name}: unknown space type ${String(space)}`);
  }
}

function sampler<Act>(env: CheckableEnv<unknown, Act>, opts: CheckEnvOptions<Act>): (rng: RandomStream) => Act {
  if (opts.sampleAction) return (rng) => (opts.sampleAction as NonNullable<typeof opts.sampleAction>)(env, rng);
  const space = env.actionSpace as unknown as Space<unknown>;
  if (space instanceof Discrete) {
    return (rng) => space.sample(rng, isMaskable(env) ? env.actionMasks() : undefined) as unknown as Act;
  }
  if (space instanceof MultiDiscrete) {
    return (rng) => {
      const mask = isMaskable(env) ? env.actionMasks() : undefined;
      const out = new Int32Array(space.nvec.length);
      let offset = 0;
      space.nvec.forEach((n, d) => {
        const sub = new Discrete(n, space.start[d] as number);
        out[d] = sub.sample(rng, mask ? mask.subarray(offset, offset + n) : undefined);
        offset += n;
      });
      return out as unknown as Act;
    };
  }
  throw new Error(`checkEnv: pass options.sampleAction for the action space ${String(space)}`);
}

interface Transition {
  observation: unknown;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: unknown;
}

/** Runs the checks on fresh envs from `makeEnv` (each check gets its own instance). */
export function checkEnv<Obs, Act>(
  makeEnv: () => CheckableEnv<Obs, Act>,
  options: CheckEnvOptions<Act> = {},
): CheckEnvReport {
  const failures: string[] = [];
  const warnings: string[] = [];
  const steps = options.steps ?? 50;
  const seed = options.seed ?? 0;
  let stepsTaken = 0;
  const env = makeEnv();
  const id = env.id;
  const fail = (msg: string): void => {
    failures.push(msg);
  };

  // 1–2. Spaces.
  checkSpace('observationSpace', env.observationSpace as Space<unknown>, failures, warnings);
  checkSpace('actionSpace', env.actionSpace as Space<unknown>, failures, warnings);
  if (failures.length > 0) return { envId: id, ok: false, failures, warnings, stepsTaken };
  const obsSpace = env.observationSpace as Space<unknown>;

  const checkObservation = (where: string, obs: unknown): void => {
    const value: unknown = obs;
    if (!obsSpace.contains(obs)) {
      const detail =
        obsSpace instanceof Box && value instanceof Float32Array ? obsSpace.firstViolation(value) : undefined;
      fail(
        `${where}: observation is not in ${String(obsSpace)}${detail ? ` (index ${detail.index} = ${detail.value})` : ''}`,
      );
    }
  };

  // 3–4, 6. reset signatures and outputs.
  const checkReset = (where: string, call: () => unknown): unknown => {
    let result: unknown;
    try {
      result = call();
    } catch (err) {
      fail(`${where} threw: ${(err as Error).message}`);
      return undefined;
    }
    if (!isPlainObject(result) || !('observation' in result) || !('info' in result)) {
      fail(`${where} must return {observation, info}`);
      return undefined;
    }
    checkObservation(where, result.observation);
    if (!isPlainObject(result.info)) fail(`${where}: info must be a plain object`);
    return result.observation;
  };
  checkReset('reset()', () => env.reset());
  checkReset('reset({options: {}})', () => env.reset({ options: {} as never }));
  const first = checkReset('reset({seed: 123})', () => env.reset({ seed: 123 }));

  // 7. Step outputs on one rollout.
  const sample = sampler(env as unknown as CheckableEnv<unknown, Act>, options);
  const rollout = (
    e: CheckableEnv<Obs, Act>,
    resetSeed: number | undefined,
    actions: Act[] | undefined,
    n: number,
  ): { obs0: unknown; transitions: Transition[]; actions: Act[] } => {
    const obs0 = e.reset(resetSeed === undefined ? {} : { seed: resetSeed }).observation;
    const rng = createStream(seed, 'check-env', 'actions');
    const taken: Act[] = [];
    const transitions: Transition[] = [];
    for (let t = 0; t < n; t++) {
      const action = actions ? (actions[t] as Act) : sample(rng);
      if (actions && t >= actions.length) break;
      if (isMaskable(e)) {
        const mask = e.actionMasks();
        const space = e.actionSpace as unknown as Space<unknown>;
        if (space instanceof Discrete && mask.length !== space.n)
          fail(`actionMasks(): length ${mask.length}, expected ${space.n}`);
        if (space instanceof MultiDiscrete && mask.length !== space.maskLength)
          fail(`actionMasks(): length ${mask.length}, expected ${space.maskLength}`);
        if (space instanceof Discrete && mask.every((m) => m === 0))
          fail(`actionMasks(): no action allowed at step ${t}`);
      }
      taken.push(action);
      const r = e.step(action) as unknown;
      stepsTaken++;
      if (!isPlainObject(r) || !['observation', 'reward', 'terminated', 'truncated', 'info'].every((k) => k in r)) {
        fail('step() must return {observation, reward, terminated, truncated, info}');
        break;
      }
      const tr = r as unknown as Transition;
      if (typeof tr.terminated !== 'boolean' || typeof tr.truncated !== 'boolean')
        fail(`step ${t}: terminated and truncated must be booleans`);
      if (typeof tr.reward !== 'number' || !Number.isFinite(tr.reward))
        fail(`step ${t}: reward must be a finite number (got ${String(tr.reward)})`);
      if (!isPlainObject(tr.info)) fail(`step ${t}: info must be a plain object`);
      checkObservation(`step ${t}`, tr.observation);
      transitions.push(tr);
      if (tr.terminated || tr.truncated) break;
    }
    return { obs0, transitions, actions: taken };
  };

  const a = rollout(env, 123, undefined, steps);
  if (a.transitions.length > 0 && (a.transitions[0] as Transition).truncated)
    warnings.push('truncated is true after the first step');

  // 5. Seeded determinism of reset, and of reset() after a seeded reset.
  const envB = makeEnv();
  const b0 = envB.reset({ seed: 123 }).observation;
  if (!deepEqual(first, b0)) fail('reset({seed: 123}) gives different observations on two envs');
  const env1 = makeEnv();
  const env2 = makeEnv();
  env1.reset({ seed: 123 });
  env2.reset({ seed: 123 });
  if (!deepEqual(env1.reset().observation, env2.reset().observation))
    fail('reset({seed: 123}) then reset() is not reproducible');

  // 8. Step determinism: same seed, same actions → same transitions.
  const b = rollout(envB, 123, a.actions, a.actions.length);
  if (b.transitions.length !== a.transitions.length)
    fail('the same seed and actions gave episodes of different lengths');
  for (let t = 0; t < Math.min(a.transitions.length, b.transitions.length); t++) {
    if (!deepEqual(a.transitions[t], b.transitions[t])) {
      fail(`step ${t}: the same seed and actions gave a different transition`);
      break;
    }
  }

  // A different seed should change the episode somewhere (a warning, as in Gymnasium).
  const c = rollout(makeEnv(), 456, a.actions, a.actions.length);
  if (
    c.transitions.length === a.transitions.length &&
    c.transitions.every((tr, t) => deepEqual(tr, a.transitions[t]))
  ) {
    warnings.push('seeds 123 and 456 gave identical rollouts: is the seed used?');
  }

  // queue-rl: snapshot/restore reproduces the continuation exactly.
  const snapEnv = makeEnv();
  if (isSnapshotable(snapEnv) && a.actions.length >= 2) {
    const half = Math.floor(a.actions.length / 2);
    snapEnv.reset({ seed: 123 });
    for (let t = 0; t < half; t++) {
      snapEnv.step(a.actions[t] as Act);
      stepsTaken++;
    }
    const snap = snapEnv.snapshot();
    const rest: Transition[] = [];
    const replayRest = (): Transition[] => {
      const out: Transition[] = [];
      for (let t = half; t < a.actions.length; t++) {
        out.push(snapEnv.step(a.actions[t] as Act) as unknown as Transition);
        stepsTaken++;
      }
      return out;
    };
    rest.push(...replayRest());
    snapEnv.restore(snap);
    const again = replayRest();
    if (!deepEqual(rest, again)) fail('restore(snapshot()) does not reproduce the continuation');
    if (!deepEqual(rest, a.transitions.slice(half))) fail('a snapshotting env diverged from an unsnapshotted one');
  }

  // 9. close() twice.
  try {
    env.close();
    env.close();
  } catch (err) {
    fail(`close() twice threw: ${(err as Error).message}`);
  }
  return { envId: id, ok: failures.length === 0, failures, warnings, stepsTaken };
}

export function assertEnvChecks<Obs, Act>(
  makeEnv: () => CheckableEnv<Obs, Act>,
  options: CheckEnvOptions<Act> = {},
): CheckEnvReport {
  const report = checkEnv(makeEnv, options);
  if (!report.ok) throw new Error(`checkEnv(${report.envId}) failed:\n- ${report.failures.join('\n- ')}`);
  return report;
}
