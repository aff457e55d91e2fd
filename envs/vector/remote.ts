/**
 * A vector env whose members are env servers (`serve-env`, or any OpenEnv server that carries what
 * docs/serve-env.md#remote-members lists): member i speaks `/ws` to urls[i mod urls.length]. Every
 * call sends one message per member before awaiting any answer, so the servers step concurrently;
 * same-step autoreset, seeding and snapshots follow the local vector envs exactly (slice.ts), and
 * features cross the wire as float32 bytes, so a remote batch is the local batch bit for bit.
 *
 * Ids: `remote:ws://host:port[,ws://host2:port…]` (the env the servers serve by default), or
 * `remote:<family>/<task>@ws://host:port[,…]`.
 */

import { canonicalJson, isRecord } from '../core/plain-data.js';
import type { EnvOptions, EnvSpec } from '../core/registry.js';
import { envFamilies, resolveEnv } from '../core/registry.js';
import { Discrete, MultiDiscrete } from '../core/spaces.js';
import { base64ToBytes, base64ToFloat32, decodePlain, encodePlain, parseExactNumber } from '../core/wire.js';
import { VecBuffers } from './buffers.js';
import type { MemberLink, RemoteConnectOptions } from './remote-member.js';
import { BatchChannel, RemoteConnection, RemoteEnvError, toHttpOrigin, toWsUrl } from './remote-member.js';
import { loadActions, stepResult } from './result.js';
import { memberSeed } from './slice.js';
import { checkSnapshotFits, joinSnapshot } from './snapshot.js';
import type { VecMemberSnapshot, VecResetResult, VecStepResult, VectorEnv, VectorEnvSnapshot } from './vector-env.js';
import { checkVectorSize, VectorEnvError } from './vector-env.js';

export const REMOTE_PREFIX = 'remote:';

export interface RemoteId {
  /** `<family>/<task>`, or null for the servers' default env. */
  envId: string | null;
  urls: string[];
}

/** Parses `remote:[<id>@]<url>[,<url>…]`; null when `id` is not a remote id. */
export function parseRemoteId(id: string): RemoteId | null {
  if (!id.startsWith(REMOTE_PREFIX)) return null;
  const rest = id.slice(REMOTE_PREFIX.length);
  const at = rest.indexOf('@');
  const scheme = rest.indexOf('://');
  const hasId = at >= 0 && (scheme < 0 || at < scheme);
  const envId = hasId ? rest.slice(0, at) : null;
  const urls = (hasId ? rest.slice(at + 1) : rest).split(',').map((u) => u.trim());
  if (urls.length === 0 || urls.some((u) => u === ''))
    throw new RangeError(`'${id}': expected remote:[<family>/<task>@]ws://host:port[,ws://host:port…]`);
  for (const u of urls) toWsUrl(u); // a clear error for a malformed URL
  return { envId, urls };
}

export interface RemoteVectorEnvOptions extends RemoteConnectOptions {
  urls: readonly string[];
  /** `<family>/<task>`; default the servers' default env (GET /metadata). */
  envId?: string | null;
  options?: EnvOptions;
  /**
   * Many members per connection in `batch` messages (default: when every server offers them); false =
   * one OpenEnv session per connection, as any OpenEnv client does.
   */
  batch?: boolean;
}

/** A connected remote member: its link and its reset messages (seeded, and the env's continuation). */
export interface RemoteMember {
  readonly conn: MemberLink;
  /** The reset message without a seed (the continuation), and its prefix for a seeded one. */
  readonly resetContinue: string;
  readonly resetSeededPrefix: string;
  wasReset: boolean;
}

const STEP_PREFIX = '{"type":"step","data":{"action_index":';

export class RemoteVectorEnv implements VectorEnv {
  private readonly buf: VecBuffers;
  private readonly returns: Float64Array;
  private readonly lengths: Int32Array;
  private readonly metrics: Float64Array[];
  private readonly done: Uint8Array;
  private wasReset = false;
  private closed = false;
  private failure: VectorEnvError | null = null;

  private constructor(
    readonly spec: EnvSpec,
    readonly numEnvs: number,
    private readonly members: readonly RemoteMember[],
  ) {
    this.buf = VecBuffers.allocate(
      {
        numEnvs,
        observationSize: spec.observationSize,
        maskLength: spec.maskLength,
        actionDims: spec.actionDims,
        metricCount: spec.metricNames.length,
      },
      false,
    );
    this.returns = new Float64Array(numEnvs);
    this.lengths = new Int32Array(numEnvs);
    this.done = new Uint8Array(numEnvs);
    const stride = this.buf.episodeStride;
    this.metrics = members.map((_, i) => this.buf.episodes.subarray(i * stride + 3, (i + 1) * stride));
  }

  /** Connects `numEnvs` sessions over the servers (round robin) and agrees the env with them. */
  static async create(numEnvs: number, opts: RemoteVectorEnvOptions): Promise<RemoteVectorEnv> {
    const { spec, members } = await connectRemoteMembers(numEnvs, opts);
    return new RemoteVectorEnv(spec, numEnvs, members);
  }

  get actionBuffer(): Int32Array {
    return this.buf.actions;
  }

  async reset(seed: number): Promise<VecResetResult> {
    this.check();
    const replies = await this.all((m, i) =>
      m.conn.request(`${m.resetSeededPrefix}${memberSeed(seed, i)}}}`, 'observation'),
    );
    replies.forEach((r, i) => {
      this.guard(i, () => this.readReset(i, r));
    });
    this.buf.rewards.fill(0);
    this.buf.terminated.fill(0);
    this.buf.truncated.fill(0);
    this.returns.fill(0);
    this.lengths.fill(0);
    this.wasReset = true;
    return { observations: this.buf.observations, masks: this.buf.masks };
  }

  async step(actions?: ArrayLike<number>): Promise<VecStepResult> {
    this.check();
    if (!this.wasReset) throw new Error(`${this.spec.id}: call reset(seed) before step()`);
    loadActions(this.buf.actions, actions, this.spec.actionDims);
    const dims = this.spec.actionDims;
    const a = this.buf.actions;
    const replies = await this.all((m, i) => {
      const index = dims === 1 ? String(a[i]) : `[${Array.from(a.subarray(i * dims, (i + 1) * dims)).join(',')}]`;
      return m.conn.request(`${STEP_PREFIX}${index}}}`, 'observation');
    });
    this.done.fill(0);
    replies.forEach((r, i) => {
      this.guard(i, () => this.readStep(i, r));
    });
    if (this.done.includes(1)) {
      const resets = await this.all((m, i) =>
        this.done[i] === 1 ? m.conn.request(m.resetContinue, 'observation') : Promise.resolve(null),
      );
      resets.forEach((r, i) => {
        if (r !== null) this.guard(i, () => this.readReset(i, r));
      });
    }
    return stepResult(this.buf, this.spec.metricNames, this.spec.graded);
  }

  async snapshot(): Promise<VectorEnvSnapshot> {
    this.check();
    if (!this.wasReset) throw new Error(`${this.spec.id}: call reset(seed) or restore(snapshot) before snapshot()`);
    const replies = await this.all((m) => m.conn.request('{"type":"snapshot"}', 'snapshot'));
    const members: VecMemberSnapshot[] = replies.map((r, i) => ({
      state: this.guard(i, () => decodePlain(r.state, 'state')),
      episodeReturn: this.returns[i] as number,
      episodeLength: this.lengths[i] as number,
    }));
    return joinSnapshot(this.spec, this.numEnvs, [
      { members, observations: this.buf.observations.slice(), masks: this.buf.masks.slice() },
    ]);
  }

  async restore(snapshot: VectorEnvSnapshot): Promise<VecResetResult> {
    const snap = checkSnapshotFits(snapshot, this.spec, this.numEnvs);
    this.check();
    // A session builds its env on its first reset: one without a seed, then the state on top.
    await this.all((m) =>
      m.wasReset ? Promise.resolve(null) : m.conn.request(m.resetContinue, 'observation').then(() => null),
    );
    this.members.forEach((m) => {
      m.wasReset = true;
    });
    await this.all((m, i) =>
      m.conn.request(
        JSON.stringify({ type: 'restore', data: { state: encodePlain((snap.members[i] as VecMemberSnapshot).state) } }),
        'restored',
      ),
    );
    snap.members.forEach((ms, i) => {
      this.returns[i] = ms.episodeReturn;
      this.lengths[i] = ms.episodeLength;
    });
    this.buf.observations.set(snap.observations);
    this.buf.masks.set(snap.masks);
    this.buf.rewards.fill(0);
    this.buf.terminated.fill(0);
    this.buf.truncated.fill(0);
    this.wasReset = true;
    return { observations: this.buf.observations, masks: this.buf.masks };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const m of this.members) m.conn.close();
  }

  private readReset(i: number, data: Record<string, unknown>): void {
    const m = this.members[i] as RemoteMember;
    m.wasReset = true;
    const obs = data.observation;
    if (!isRecord(obs)) throw new RemoteEnvError(m.conn.url, 'PROTOCOL', 'the reset answer has no observation object');
    const env = obs.env;
    if (isRecord(env)) {
      if (env.id !== this.spec.id || canonicalJson(env.options) !== canonicalJson(this.spec.options))
        throw new RemoteEnvError(
          m.conn.url,
          'PROTOCOL',
          `the server runs ${String(env.id)} with options ${canonicalJson(env.options)}, this vector env needs ` +
            `${this.spec.id} with ${canonicalJson(this.spec.options)} (a server default such as --variant?)`,
        );
    }
    this.readObservation(i, obs);
  }

  private readStep(i: number, data: Record<string, unknown>): void {
    const o = this.spec.observationSize;
    const { observation, reward, terminated, truncated } = stepOutcome(
      data,
      (this.members[i] as RemoteMember).conn.url,
    );
    this.readObservation(i, observation);
    this.buf.rewards[i] = reward;
    this.buf.terminated[i] = terminated ? 1 : 0;
    this.buf.truncated[i] = truncated ? 1 : 0;
    this.returns[i] = (this.returns[i] as number) + reward;
    this.lengths[i] = (this.lengths[i] as number) + 1;
    if (!(terminated || truncated)) return;
    this.done[i] = 1;
    this.buf.finalObservations.set(this.buf.observations.subarray(i * o, (i + 1) * o), i * o);
    const row = i * this.buf.episodeStride;
    this.buf.episodes[row] = this.returns[i] as number;
    this.buf.episodes[row + 1] = this.lengths[i] as number;
    this.buf.episodes[row + 2] = decodeEpisode(observation.episode, this.metrics[i] as Float64Array);
    this.returns[i] = 0;
    this.lengths[i] = 0;
  }

  private readObservation(i: number, obs: Record<string, unknown>): void {
    const o = this.spec.observationSize;
    const ml = this.spec.maskLength;
    decodeObservation(
      obs,
      this.buf.observations.subarray(i * o, (i + 1) * o),
      this.buf.masks.subarray(i * ml, (i + 1) * ml),
    );
  }

  /** One request per member, all sent before any is awaited; the first failure fails the vector env. */
  private async all<T>(f: (m: RemoteMember, i: number) => Promise<T>): Promise<T[]> {
    const settled = await Promise.allSettled(this.members.map((m, i) => f(m, i)));
    const bad = settled.findIndex((s) => s.status === 'rejected');
    if (bad >= 0) this.fail(bad, (settled[bad] as PromiseRejectedResult).reason);
    return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
  }

  /** Runs member i's part; an error fails the vector env naming the member and its URL. */
  private guard<T>(i: number, f: () => T): T {
    try {
      return f();
    } catch (err) {
      this.fail(i, err);
    }
  }

  private fail(index: number, reason: unknown): never {
    const err = reason instanceof Error ? reason : new Error(String(reason));
    const url = this.members[index]?.conn.url ?? '';
    const message = err instanceof RemoteEnvError ? err.message : `${url}: ${err.message}`;
    this.failure = new VectorEnvError(index, this.spec.id, message, err.stack ?? '');
    throw this.failure;
  }

  private check(): void {
    if (this.closed) throw new Error(`${this.spec.id}: the vector env is closed`);
    if (this.failure)
      throw new Error(`${this.spec.id}: the vector env failed earlier and cannot be used: ${this.failure.message}`);
  }
}

/**
 * The spec every server agrees to: each server's GET /metadata names its family and default env; the
 * env id (given or the servers' default) resolves locally when its family is registered here, else
 * from the `queue_rl.spec` block of the metadata (a foreign OpenEnv server).
 */
async function agreeSpec(
  urls: readonly string[],
  envId: string | null,
  options: EnvOptions,
  apiKey: string | null,
): Promise<{ spec: EnvSpec; batch: boolean; limits: number[] }> {
  const metas = await Promise.all(urls.map((u) => fetchMetadata(u, apiKey)));
  const batch = metas.every((m) => m.batch);
  const limits = metas.map((m) => m.maxMessageBytes);
  const ids = new Set(metas.map((m) => m.defaultId));
  const id = envId ?? (ids.size === 1 ? (metas[0]?.defaultId as string) : null);
  if (id === null)
    throw new RemoteEnvError(
      urls.join(','),
      'PROTOCOL',
      `the servers serve different default envs: ${[...ids].join(', ')}`,
    );
  const family = id.split('/')[0] as string;
  metas.forEach((m, k) => {
    if (m.family !== family)
      throw new RemoteEnvError(urls[k] as string, 'PROTOCOL', `the server serves ${m.family}, not ${family}`);
  });
  if (envFamilies().includes(family)) return { spec: resolveEnv(id, options), batch, limits };
  const meta = metas[0] as Metadata;
  if (id !== meta.defaultId || Object.keys(options).length > 0)
    throw new RemoteEnvError(
      urls[0] as string,
      'PROTOCOL',
      `family ${family} is not registered here: only the server's default env without options can be used`,
    );
  return { spec: foreignSpec(meta), batch, limits };
}

interface Metadata {
  family: string;
  batch: boolean;
  /** The server's largest message (default 1 MB, serve-env's default). */
  maxMessageBytes: number;
  defaultId: string;
  spec: Record<string, unknown>;
}

async function fetchMetadata(url: string, apiKey: string | null): Promise<Metadata> {
  const origin = toHttpOrigin(url);
  let body: unknown;
  try {
    const res = await fetch(`${origin}/metadata`, {
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`GET /metadata answered HTTP ${res.status}`);
    body = await res.json();
  } catch (err) {
    throw new RemoteEnvError(url, 'CONNECTION', `cannot read ${origin}/metadata: ${(err as Error).message}`);
  }
  const q = isRecord(body) ? body.queue_rl : undefined;
  if (!isRecord(q) || typeof q.family !== 'string' || !isRecord(q.spec) || typeof q.spec.id !== 'string')
    throw new RemoteEnvError(
      url,
      'PROTOCOL',
      'GET /metadata has no queue_rl {family, spec: {id, …}} block (docs/serve-env.md#remote-members)',
    );
  const max = Number(q.max_message_bytes);
  return {
    family: q.family,
    defaultId: q.spec.id,
    spec: q.spec,
    batch: q.batch === true,
    maxMessageBytes: Number.isInteger(max) && max > 1024 ? max : 1_000_000,
  };
}

function foreignSpec(meta: Metadata): EnvSpec {
  const s = meta.spec;
  const nvec = Array.isArray(s.action_nvec) ? s.action_nvec.map(Number) : [];
  const observationSize = Number(s.observation_size);
  if (!Number.isInteger(observationSize) || observationSize < 1 || nvec.length === 0)
    throw new RemoteEnvError(
      meta.defaultId,
      'PROTOCOL',
      'metadata queue_rl.spec needs observation_size and action_nvec',
    );
  const discrete = s.discrete === true && nvec.length === 1;
  const [family, task] = meta.defaultId.split('/') as [string, string];
  return {
    id: meta.defaultId,
    family,
    task: task ?? '',
    options: {},
    observationSize,
    actionSpace: discrete ? new Discrete(nvec[0] as number) : new MultiDiscrete(nvec),
    actionDims: discrete ? 1 : nvec.length,
    maskLength: nvec.reduce((a, b) => a + b, 0),
    graded: s.graded === true,
    metricNames: Array.isArray(s.metric_names) ? s.metric_names.map(String) : [],
    module: '',
    makeMember() {
      throw new Error(`${meta.defaultId}: a remote env has no local members`);
    },
  };
}

/**
 * One link per member, member i on urls[i mod n]: with batches, one connection per server carrying
 * its members as numbered sessions; without, one connection per member. A failed connection fails
 * the creation naming the member, after closing the others.
 */
async function connectLinks(
  numEnvs: number,
  opts: RemoteVectorEnvOptions,
  spec: EnvSpec,
  batch: boolean,
  /** Each server's largest message, in `opts.urls` order. */
  limits: readonly number[],
): Promise<MemberLink[]> {
  const urlOf = (i: number): string => opts.urls[i % opts.urls.length] as string;
  const count = batch ? Math.min(numEnvs, opts.urls.length) : numEnvs;
  const settled = await Promise.allSettled(
    Array.from({ length: count }, (_, i) => RemoteConnection.connect(urlOf(i), opts)),
  );
  const failed = settled.findIndex((s) => s.status === 'rejected');
  if (failed >= 0) {
    for (const s of settled) if (s.status === 'fulfilled') s.value.close();
    const reason = (settled[failed] as PromiseRejectedResult).reason as Error;
    throw new VectorEnvError(failed, spec.id, reason.message, reason.stack ?? '');
  }
  const conns = settled.map((s) => (s as PromiseFulfilledResult<RemoteConnection>).value);
  if (!batch) return conns;
  const channels = conns.map((c, k) => new BatchChannel(c, limits[k % limits.length]));
  return Array.from({ length: numEnvs }, (_, i) => (channels[i % channels.length] as BatchChannel).link(i));
}

/**
 * Connects `numEnvs` members over the servers (round robin) after agreeing the env with them
 * (RemoteVectorEnv, and evaluation episodes played on env servers).
 */
export async function connectRemoteMembers(
  numEnvs: number,
  opts: RemoteVectorEnvOptions,
): Promise<{ spec: EnvSpec; members: RemoteMember[] }> {
  checkVectorSize(numEnvs);
  if (opts.urls.length === 0) throw new RangeError('remote vector env: give at least one server URL');
  const options = opts.options ?? {};
  const { spec, batch, limits } = await agreeSpec(opts.urls, opts.envId ?? null, options, opts.apiKey ?? null);
  const links = await connectLinks(numEnvs, opts, spec, opts.batch === false ? false : batch, limits);
  const members = links.map((conn, i) => {
    const data = JSON.stringify({ ...options, task_id: spec.task, member_index: i, observation_format: 'compact' });
    return {
      conn,
      resetContinue: `{"type":"reset","data":${data}}`,
      resetSeededPrefix: `{"type":"reset","data":{${data.slice(1, -1)},"seed":`,
      wasReset: false,
    };
  });
  return { spec, members };
}

/** An observation's features and mask (base64, JSON numbers, or legal_actions) written into `features` and `mask`. */
export function decodeObservation(obs: Record<string, unknown>, features: Float32Array, mask: Uint8Array): void {
  const o = features.length;
  const ml = mask.length;
  if (typeof obs.features_b64 === 'string') base64ToFloat32(obs.features_b64, features, 'features_b64');
  else if (Array.isArray(obs.features) && obs.features.length === o)
    features.set(obs.features.map((v) => parseExactNumber(v, 'features')));
  else throw new TypeError(`the observation carries neither features_b64 nor ${o} features`);
  if (typeof obs.action_mask_b64 === 'string') base64ToBytes(obs.action_mask_b64, mask, 'action_mask_b64');
  else if (Array.isArray(obs.action_mask) && obs.action_mask.length === ml)
    mask.set(obs.action_mask.map((v) => (v === 1 || v === true ? 1 : 0)));
  else if (Array.isArray(obs.legal_actions)) {
    mask.fill(0);
    for (const a of obs.legal_actions) if (Number.isInteger(a) && a >= 0 && a < ml) mask[a as number] = 1;
  } else mask.fill(1);
}

/** An episode summary ({score, metrics} from a last step or a `summary` reply) as numbers, metrics in spec order. */
export function decodeEpisode(episode: unknown, metrics: Float64Array): number {
  const e = isRecord(episode) ? episode : null;
  const values = e && Array.isArray(e.metrics) ? e.metrics : [];
  for (let k = 0; k < metrics.length; k++)
    metrics[k] = k < values.length ? parseExactNumber(values[k], `episode.metrics[${k}]`) : Number.NaN;
  return e && e.score !== null && e.score !== undefined ? parseExactNumber(e.score, 'episode.score') : Number.NaN;
}

/** A step reply's observation, exact reward (reward_exact, else reward) and flags (done alone reads as terminated). */
export function stepOutcome(
  data: Record<string, unknown>,
  url: string,
): { observation: Record<string, unknown>; reward: number; terminated: boolean; truncated: boolean } {
  const observation = data.observation;
  if (!isRecord(observation)) throw new RemoteEnvError(url, 'PROTOCOL', 'the step answer has no observation object');
  const exact = observation.reward_exact;
  const reward =
    exact !== undefined && exact !== null
      ? parseExactNumber(exact, 'reward_exact')
      : typeof data.reward === 'number'
        ? data.reward
        : Number.NaN;
  const terminated = observation.terminated === true || (observation.terminated === undefined && data.done === true);
  return { observation, reward, terminated, truncated: observation.truncated === true };
}
