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
import type { RandomStream } from './random/streams.js';
import { createStream } from './random/streams.js';
import type { Space } from './spaces.js';
import { Box, Discrete, JsonSpace, MultiDiscrete } from './spaces.js';

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

interface Rollout {
  obs0: unknown;
  transitions: Transition[];
  actions: unknown[];
}

/** The checks of checkEnv, with the failures and warnings they collect. */
class Checker<Obs, Act> {
  readonly failures: string[] = [];
  readonly warnings: string[] = [];
  stepsTaken = 0;
  private readonly sample: (rng: RandomStream) => Act;

  constructor(
    private readonly makeEnv: () => CheckableEnv<Obs, Act>,
    private readonly env: CheckableEnv<Obs, Act>,
    private readonly options: CheckEnvOptions<Act>,
  ) {
    this.sample = sampler(env as unknown as CheckableEnv<unknown, Act>, options);
  }

  fail(message: string): void {
    this.failures.push(message);
  }

  /** 1–2. Both spaces are Spaces; false when the rest cannot run. */
  spaces(): boolean {
    checkSpace('observationSpace', this.env.observationSpace as Space<unknown>, this.failures, this.warnings);
    checkSpace('actionSpace', this.env.actionSpace as Space<unknown>, this.failures, this.warnings);
    return this.failures.length === 0;
  }

  observation(where: string, obs: unknown): void {
    const space = this.env.observationSpace as Space<unknown>;
    const value: unknown = obs; // contains() narrows its argument
    if (space.contains(obs)) return;
    const detail = space instanceof Box && value instanceof Float32Array ? space.firstViolation(value) : undefined;
    this.fail(
      `${where}: observation is not in ${String(space)}${detail ? ` (index ${detail.index} = ${detail.value})` : ''}`,
    );
  }

  /** 3–4, 6. reset signatures and outputs; returns the observation. */
  reset(where: string, call: () => unknown): unknown {
    let result: unknown;
    try {
      result = call();
    } catch (err) {
      this.fail(`${where} threw: ${(err as Error).message}`);
      return undefined;
    }
    if (!isPlainObject(result) || !('observation' in result) || !('info' in result)) {
      this.fail(`${where} must return {observation, info}`);
      return undefined;
    }
    this.observation(where, result.observation);
    if (!isPlainObject(result.info)) this.fail(`${where}: info must be a plain object`);
    return result.observation;
  }

  /** 7. A rollout from `resetSeed`, with the given actions or sampled ones, checking every step. */
  rollout(
    e: CheckableEnv<Obs, Act>,
    resetSeed: number | undefined,
    actions: readonly Act[] | undefined,
    n: number,
  ): Rollout {
    const obs0 = e.reset(resetSeed === undefined ? {} : { seed: resetSeed }).observation;
    const rng = createStream(this.options.seed ?? 0, 'check-env', 'actions');
    const taken: Act[] = [];
    const transitions: Transition[] = [];
    for (let t = 0; t < n; t++) {
      if (actions && t >= actions.length) break;
      const action = actions ? (actions[t] as Act) : this.sample(rng);
      if (isMaskable(e)) this.mask(e, t);
      taken.push(action);
      const r = e.step(action) as unknown;
      this.stepsTaken++;
      if (!isPlainObject(r) || !['observation', 'reward', 'terminated', 'truncated', 'info'].every((k) => k in r)) {
        this.fail('step() must return {observation, reward, terminated, truncated, info}');
        break;
      }
      const tr = r as unknown as Transition;
      this.transition(t, tr);
      transitions.push(tr);
      if (tr.terminated || tr.truncated) break;
    }
    return { obs0, transitions, actions: taken };
  }

  private mask(e: CheckableEnv<Obs, Act> & MaskableLike, t: number): void {
    const mask = e.actionMasks();
    const space = e.actionSpace as unknown as Space<unknown>;
    if (space instanceof Discrete && mask.length !== space.n)
      this.fail(`actionMasks(): length ${mask.length}, expected ${space.n}`);
    if (space instanceof MultiDiscrete && mask.length !== space.maskLength)
      this.fail(`actionMasks(): length ${mask.length}, expected ${space.maskLength}`);
    if (space instanceof Discrete && mask.every((m) => m === 0))
      this.fail(`actionMasks(): no action allowed at step ${t}`);
  }

  private transition(t: number, tr: Transition): void {
    if (typeof tr.terminated !== 'boolean' || typeof tr.truncated !== 'boolean')
      this.fail(`step ${t}: terminated and truncated must be booleans`);
    if (typeof tr.reward !== 'number' || !Number.isFinite(tr.reward))
      this.fail(`step ${t}: reward must be a finite number (got ${String(tr.reward)})`);
    if (!isPlainObject(tr.info)) this.fail(`step ${t}: info must be a plain object`);
    this.observation(`step ${t}`, tr.observation);
  }

  /** 5 and 8. Seeded determinism of reset and step; a different seed should change something. */
  determinism(first: unknown, a: Rollout): void {
    const envB = this.makeEnv();
    if (!deepEqual(first, envB.reset({ seed: 123 }).observation))
      this.fail('reset({seed: 123}) gives different observations on two envs');
    const env1 = this.makeEnv();
    const env2 = this.makeEnv();
    env1.reset({ seed: 123 });
    env2.reset({ seed: 123 });
    if (!deepEqual(env1.reset().observation, env2.reset().observation))
      this.fail('reset({seed: 123}) then reset() is not reproducible');
    const actions = a.actions as Act[];
    const b = this.rollout(envB, 123, actions, actions.length);
    if (b.transitions.length !== a.transitions.length)
      this.fail('the same seed and actions gave episodes of different lengths');
    const differs = a.transitions.findIndex((tr, t) => t < b.transitions.length && !deepEqual(tr, b.transitions[t]));
    if (differs >= 0) this.fail(`step ${differs}: the same seed and actions gave a different transition`);
    // A different seed should change the episode somewhere (a warning, as in Gymnasium).
    const c = this.rollout(this.makeEnv(), 456, actions, actions.length);
    if (
      c.transitions.length === a.transitions.length &&
      c.transitions.every((tr, t) => deepEqual(tr, a.transitions[t]))
    ) {
      this.warnings.push('seeds 123 and 456 gave identical rollouts: is the seed used?');
    }
  }

  /** queue-rl: snapshot/restore reproduces the continuation exactly. */
  snapshots(a: Rollout): void {
    const env = this.makeEnv();
    if (!isSnapshotable(env) || a.actions.length < 2) return;
    const actions = a.actions as Act[];
    const half = Math.floor(actions.length / 2);
    env.reset({ seed: 123 });
    for (let t = 0; t < half; t++) this.step(env, actions[t] as Act);
    const snap = env.snapshot();
    const replayRest = (): Transition[] => actions.slice(half).map((action) => this.step(env, action));
    const rest = replayRest();
    env.restore(snap);
    if (!deepEqual(rest, replayRest())) this.fail('restore(snapshot()) does not reproduce the continuation');
    if (!deepEqual(rest, a.transitions.slice(half))) this.fail('a snapshotting env diverged from an unsnapshotted one');
  }

  private step(env: CheckableEnv<Obs, Act>, action: Act): Transition {
    this.stepsTaken++;
    return env.step(action) as unknown as Transition;
  }

  /** 9. close() twice. */
  close(): void {
    try {
      this.env.close();
      this.env.close();
    } catch (err) {
      this.fail(`close() twice threw: ${(err as Error).message}`);
    }
  }
}

/** Runs the checks on fresh envs from `makeEnv` (each check gets its own instance). */
export function checkEnv<Obs, Act>(
  makeEnv: () => CheckableEnv<Obs, Act>,
  options: CheckEnvOptions<Act> = {},
): CheckEnvReport {
  const env = makeEnv();
  const c = new Checker(makeEnv, env, options);
  const report = (): CheckEnvReport => ({
    envId: env.id,
    ok: c.failures.length === 0,
    failures: c.failures,
    warnings: c.warnings,
    stepsTaken: c.stepsTaken,
  });
  if (!c.spaces()) return report();
  c.reset('reset()', () => env.reset());
  c.reset('reset({options: {}})', () => env.reset({ options: {} as never }));
  const first = c.reset('reset({seed: 123})', () => env.reset({ seed: 123 }));
  const a = c.rollout(env, 123, undefined, options.steps ?? 50);
  if (a.transitions.length > 0 && (a.transitions[0] as Transition).truncated)
    c.warnings.push('truncated is true after the first step');
  c.determinism(first, a);
  c.snapshots(a);
  c.close();
  return report();
}

export function assertEnvChecks<Obs, Act>(
  makeEnv: () => CheckableEnv<Obs, Act>,
  options: CheckEnvOptions<Act> = {},
): CheckEnvReport {
  const report = checkEnv(makeEnv, options);
  if (!report.ok) throw new Error(`checkEnv(${report.envId}) failed:\n- ${report.failures.join('\n- ')}`);
  return report;
}
