/**
 * One env of the env server (a `/ws` connection, or a Gov Workflow HTTP session): reset options in,
 * OpenEnv observations out. The session steps a vector-env member through its SessionDriver, so an
 * episode over the wire is the local episode; docs/serve-env.md has the message fields.
 */
import { z } from 'zod';
import type { GradeResult } from '../core/env.js';
import { FieldError, MaskedActionError, UnknownIdError } from '../core/errors.js';
import { canonicalJson, isRecord } from '../core/plain-data.js';
import type { EnvOptions, EnvSpec } from '../core/registry.js';
import { resolveEnv } from '../core/registry.js';
import type { SessionDriver } from '../core/session-driver.js';
import { bytesToBase64, decodePlain, encodePlain, exactNumber, float32ToBase64 } from '../core/wire.js';
import { makeDriver } from './driver.js';

export const OBSERVATION_FORMATS = ['full', 'compact'] as const;
export type ObservationFormat = (typeof OBSERVATION_FORMATS)[number];

/** OpenEnv's error codes (conventions §1.3). */
export type WireErrorCode =
  | 'INVALID_JSON'
  | 'UNKNOWN_TYPE'
  | 'VALIDATION_ERROR'
  | 'EXECUTION_ERROR'
  | 'CAPACITY_REACHED'
  | 'FACTORY_ERROR'
  | 'SESSION_ERROR';

/** A pydantic-style error entry (FastAPI's 422 `detail`). */
export interface ValidationDetail {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export class SessionError extends Error {
  override readonly name = 'SessionError';
  constructor(
    readonly code: WireErrorCode,
    message: string,
    readonly errors: ValidationDetail[] = [],
  ) {
    super(message);
  }
}

/** The reset fields the session reads itself; every other key is an env option of the family. */
const ResetFieldsSchema = z.object({
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullish(),
  episode_id: z.string().max(255).nullish(),
  task_id: z.string().nullish(),
  member_index: z.number().int().min(0).max(65535).optional(),
  observation_format: z.enum(OBSERVATION_FORMATS).optional(),
  /** The Gov Workflow seed's `options` ({task_id?, max_steps_per_episode?}); handed to the env's reset. */
  options: z.record(z.string(), z.unknown()).optional(),
});
const RESET_FIELDS = Object.keys(ResetFieldsSchema.shape);

export interface SessionDefaults {
  /** The family served (`gov-workflow`, `helixdesk`, or any registered one). */
  readonly family: string;
  readonly task: string;
  /** Env options a reset does not name (e.g. `--variant`). */
  readonly options: EnvOptions;
}

/** An observation reply (OpenEnv's {observation, reward, done}). */
export interface WireObservation {
  observation: Record<string, unknown>;
  reward: number | null;
  done: boolean;
}

export class EnvSession {
  private driver: SessionDriver | null = null;
  private driverKey = '';
  private obs = new Float32Array(0);
  private mask = new Uint8Array(0);
  private action = new Int32Array(0);
  private metrics = new Float64Array(0);
  private format: ObservationFormat = 'full';
  private episodeId = '';
  private stepCount = 0;
  private episodeCount = 0;
  private done = false;
  private lastInfo: unknown = null;
  /** The last reset's info (Gov Workflow's {task_id, seed, episode_id, max_days}). */
  resetInfo: unknown = null;
  lastActive = Date.now();

  constructor(
    readonly defaults: SessionDefaults,
    /** A label for generated episode ids (the session id). */
    readonly label: string,
  ) {}

  get spec(): EnvSpec | null {
    return this.driver?.spec ?? null;
  }

  get isDone(): boolean {
    return this.done;
  }

  reset(data: unknown): WireObservation {
    this.lastActive = Date.now();
    const fields = parseFields(data);
    const taskFromOptions = fields.options?.task_id;
    const task = fields.task_id ?? (typeof taskFromOptions === 'string' ? taskFromOptions : undefined);
    const envOptions: Record<string, unknown> = { ...this.defaults.options };
    for (const [k, v] of Object.entries(isRecord(data) ? data : {})) if (!RESET_FIELDS.includes(k)) envOptions[k] = v;
    const spec = this.resolve(task ?? this.spec?.task ?? this.defaults.task, envOptions);
    const memberIndex = fields.member_index ?? 0;
    const key = `${spec.id}|${canonicalJson(spec.options)}|${memberIndex}`;
    if (this.driver === null || key !== this.driverKey) {
      this.driver = this.guard('FACTORY_ERROR', () => makeDriver(spec, memberIndex));
      this.driverKey = key;
      this.obs = new Float32Array(spec.observationSize);
      this.mask = new Uint8Array(spec.maskLength);
      this.action = new Int32Array(spec.actionDims);
      this.metrics = new Float64Array(spec.metricNames.length);
    }
    this.format = fields.observation_format ?? this.format;
    const driver = this.driver;
    const extra = { ...(fields.options ?? {}) };
    delete extra.task_id;
    try {
      this.resetInfo = this.guard('VALIDATION_ERROR', () =>
        driver.reset(fields.seed ?? undefined, extra, this.obs, this.mask),
      );
    } catch (err) {
      // No half-reset env: the next step asks for a reset instead of stepping a stale episode.
      this.driver = null;
      this.driverKey = '';
      throw err;
    }
    this.episodeCount++;
    const infoId = isRecord(this.resetInfo) ? this.resetInfo.episode_id : undefined;
    this.episodeId = fields.episode_id ?? (typeof infoId === 'string' ? infoId : `${this.label}-${this.episodeCount}`);
    this.stepCount = 0;
    this.done = false;
    this.lastInfo = null;
    const reply = this.reply(null, false, false, Number.NaN);
    reply.observation.env = { id: spec.id, options: spec.options };
    return reply;
  }

  /** The current observation (no step). */
  observe(): WireObservation {
    if (this.driver === null) throw new SessionError('SESSION_ERROR', 'no episode: send reset first');
    return this.reply(null, false, false, Number.NaN);
  }

  /** One step: `{"action_index": n | [n, …]}`, or the family's own JSON action. */
  step(data: unknown): WireObservation {
    this.lastActive = Date.now();
    const driver = this.driver;
    if (driver === null) throw new SessionError('SESSION_ERROR', 'no episode: send reset before step');
    if (this.done)
      throw new SessionError('SESSION_ERROR', `the episode ${this.episodeId} has ended: send reset before step`);
    if (!isRecord(data)) throw validation(['action'], 'the action must be a JSON object', 'type_error.dict');
    let r: ReturnType<SessionDriver['step']> | null;
    const withInfo = this.format === 'full';
    if ('action_index' in data) {
      for (const k in data)
        if (k !== 'action_index')
          throw validation(['action', k], 'extra fields not permitted beside action_index', 'extra_forbidden');
      this.loadIndex(driver.spec, data.action_index);
      r = this.guard('VALIDATION_ERROR', () => driver.step(this.action, this.obs, this.mask, withInfo));
    } else {
      r = this.guard('VALIDATION_ERROR', () => driver.stepNative(data, this.obs, this.mask, withInfo));
      if (r === null)
        throw validation(['action', 'action_index'], `field required: ${describeActionIndex(driver.spec)}`, 'missing');
    }
    this.stepCount++;
    this.lastInfo = r.info;
    this.done = r.terminated || r.truncated;
    const score = this.done ? driver.summarize(this.metrics) : Number.NaN;
    return this.reply(r.reward, r.terminated, r.truncated, score);
  }

  /** OpenEnv's state: episode_id, step_count and the family's state fields. */
  state(options: { includeActionHistory?: boolean } = {}): Record<string, unknown> {
    this.lastActive = Date.now();
    if (this.driver === null) return { episode_id: null, step_count: 0 };
    return { ...this.driver.stateJson(options), episode_id: this.episodeId, step_count: this.stepCount };
  }

  /** The task grader's verdict so far (null: no episode, or a family without graders). */
  grade(): GradeResult | null {
    return this.driver?.grade() ?? null;
  }

  /** The current action mask and each index's label. */
  currentMask(): { mask: Uint8Array; labels: (index: number) => string } {
    const driver = this.driver;
    if (driver === null) throw new SessionError('SESSION_ERROR', 'no episode: send reset first');
    return { mask: this.mask, labels: (i) => driver.describeAction(i) };
  }

  /** The episode's score and metrics so far (queue-rl's `summary` message; an episode stopped early). */
  summary(): { score: number | string | null; metric_names: readonly string[]; metrics: (number | string)[] } {
    this.lastActive = Date.now();
    const driver = this.driver;
    if (driver === null) throw new SessionError('SESSION_ERROR', 'no episode: send reset first');
    const score = this.guard('EXECUTION_ERROR', () => driver.summarize(this.metrics));
    return {
      score: driver.spec.graded && !Number.isNaN(score) ? exactNumber(score) : null,
      metric_names: driver.spec.metricNames,
      metrics: Array.from(this.metrics, exactNumber),
    };
  }

  /** The last step's info (the family's step info; null after reset). */
  get info(): unknown {
    return this.lastInfo;
  }

  /** The member's exact state as JSON-safe data (queue-rl's `snapshot` message). */
  snapshot(): unknown {
    this.lastActive = Date.now();
    const driver = this.driver;
    if (driver === null) throw new SessionError('SESSION_ERROR', 'no episode: send reset before snapshot');
    return this.guard('EXECUTION_ERROR', () => encodePlain(driver.snapshot()));
  }

  /** Puts a snapshot() of a member of the same env and options back (queue-rl's `restore` message). */
  restore(state: unknown): void {
    this.lastActive = Date.now();
    const driver = this.driver;
    if (driver === null) throw new SessionError('SESSION_ERROR', 'no env yet: send reset (with the options) first');
    this.guard('VALIDATION_ERROR', () => driver.restore(decodePlain(state)));
    this.stepCount = 0;
    this.done = false;
    this.lastInfo = null;
  }

  private resolve(task: string, options: EnvOptions): EnvSpec {
    try {
      return resolveEnv(`${this.defaults.family}/${task}`, options);
    } catch (err) {
      if (err instanceof UnknownIdError)
        throw validation(['task_id'], `unknown task '${task}'; ${err.message}`, 'value_error');
      if (err instanceof FieldError) throw validation([err.field], err.message, 'value_error');
      throw err;
    }
  }

  private loadIndex(spec: EnvSpec, value: unknown): void {
    const space = spec.actionSpace;
    const nvec = 'nvec' in space ? space.nvec : [space.n];
    const values = Array.isArray(value) ? value : [value];
    const ok =
      values.length === nvec.length &&
      values.every((v, k) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < (nvec[k] as number));
    if (!ok)
      throw validation(['action', 'action_index'], `${describeActionIndex(spec)}; got ${short(value)}`, 'value_error');
    values.forEach((v, k) => {
      this.action[k] = v as number;
    });
  }

  private reply(reward: number | null, terminated: boolean, truncated: boolean, score: number): WireObservation {
    const spec = this.driver?.spec as EnvSpec;
    const done = terminated || truncated;
    const observation: Record<string, unknown> =
      this.format === 'compact'
        ? { features_b64: float32ToBase64(this.obs), action_mask_b64: bytesToBase64(this.mask) }
        : {
            ...(this.driver as SessionDriver).observationJson(),
            features: Array.from(this.obs),
            features_b64: float32ToBase64(this.obs),
            action_mask: Array.from(this.mask),
            legal_actions: legalActions(this.mask),
            info: this.lastInfo,
          };
    observation.terminated = terminated;
    observation.truncated = truncated;
    observation.reward_exact = reward === null ? null : exactNumber(reward);
    observation.episode = done
      ? {
          score: spec.graded && !Number.isNaN(score) ? exactNumber(score) : null,
          metric_names: this.format === 'compact' ? undefined : spec.metricNames,
          metrics: Array.from(this.metrics, exactNumber),
        }
      : null;
    return { observation, reward: reward === null || Number.isNaN(reward) ? null : reward, done };
  }

  private guard<T>(code: WireErrorCode, f: () => T): T {
    try {
      return f();
    } catch (err) {
      if (err instanceof SessionError) throw err;
      if (err instanceof FieldError)
        throw new SessionError('VALIDATION_ERROR', err.message, [
          { loc: ['action', ...err.field.split('.')], msg: err.message, type: 'value_error' },
        ]);
      const message = err instanceof Error ? err.message : String(err);
      // A masked action, a malformed snapshot: the client's input, not the env, is at fault.
      const input = err instanceof MaskedActionError || err instanceof TypeError || err instanceof RangeError;
      throw new SessionError(code === 'VALIDATION_ERROR' && !input ? 'EXECUTION_ERROR' : code, message);
    }
  }
}

function parseFields(data: unknown): z.infer<typeof ResetFieldsSchema> {
  if (data === undefined || data === null) return {};
  if (!isRecord(data)) throw validation(['body'], 'reset data must be a JSON object', 'type_error.dict');
  const picked = Object.fromEntries(Object.entries(data).filter(([k]) => RESET_FIELDS.includes(k)));
  const parsed = ResetFieldsSchema.safeParse(picked);
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.map((i) => ({
    loc: i.path.map((p) => (typeof p === 'number' ? p : String(p))),
    msg: i.message,
    type: 'value_error',
  }));
  const first = errors[0] as ValidationDetail;
  throw new SessionError('VALIDATION_ERROR', `invalid reset field '${first.loc.join('.')}': ${first.msg}`, errors);
}

function validation(loc: (string | number)[], msg: string, type: string): SessionError {
  return new SessionError('VALIDATION_ERROR', `invalid ${loc.join('.')}: ${msg}`, [{ loc, msg, type }]);
}

function describeActionIndex(spec: EnvSpec): string {
  const space = spec.actionSpace;
  return 'nvec' in space
    ? `action_index: an array of ${space.nvec.length} integers in [0, n) for n = ${space.nvec.join(', ')}`
    : `action_index: an integer in [0, ${space.n - 1}]`;
}

function short(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function legalActions(mask: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i] === 1) out.push(i);
  return out;
}
