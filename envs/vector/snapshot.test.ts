import { createHash } from 'node:crypto';
import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { createStream } from '../core/random/streams.js';
import '../registry.js';
import { sampleMaskedActions } from './random-actions.js';
import { deserializeVectorEnvSnapshot, serializeVectorEnvSnapshot } from './snapshot.js';
import { SyncVectorEnv } from './sync.js';
import type { CompletedEpisode, VecResetResult, VectorEnv, VectorEnvSnapshot } from './vector-env.js';
import { VectorEnvSnapshotError } from './vector-env.js';
import { WorkerVectorEnv } from './workers.js';

interface Recording {
  /**
   * SHA-256 of every batch returned (observations, masks, rewards, flags, final observations of ended episodes, episode
   * summaries).
   */
  hash: string;
  /** The actions taken, one copy per step. */
  actions: Int32Array[];
  /** Completed episodes with the step (0-based, of this recording) they ended on. */
  episodes: (CompletedEpisode & { at: number })[];
}

const bytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * Steps `vec` from the batch `start` for `steps` steps and hashes everything it returns. Actions are
 * replayed from `replay` when given, else drawn with sampleMaskedActions from `rng`.
 */
async function record(
  vec: VectorEnv,
  start: VecResetResult,
  steps: number,
  source: { rng: ReturnType<typeof createStream> } | { replay: Int32Array[] },
): Promise<Recording> {
  const h = createHash('sha256');
  h.update(bytes(start.observations));
  h.update(bytes(start.masks));
  const o = vec.spec.observationSize;
  const actions: Int32Array[] = [];
  const episodes: Recording['episodes'] = [];
  let masks = start.masks;
  for (let t = 0; t < steps; t++) {
    if ('rng' in source) sampleMaskedActions(vec.spec, vec.numEnvs, masks, source.rng, vec.actionBuffer);
    else vec.actionBuffer.set(source.replay[t] as Int32Array);
    actions.push(vec.actionBuffer.slice());
    const s = await vec.step();
    for (const a of [s.observations, s.masks, s.rewards, s.terminated, s.truncated]) h.update(bytes(a));
    for (const e of s.episodes) {
      h.update(bytes(s.finalObservations.subarray(e.envIndex * o, (e.envIndex + 1) * o)));
      // Every number of the summary, bit for bit (NaN included).
      h.update(
        bytes(
          Float64Array.from([
            e.envIndex,
            e.return,
            e.length,
            e.score ?? Number.NaN,
            ...vec.spec.metricNames.map((n) => e.metrics[n] ?? Number.NaN),
          ]),
        ),
      );
      episodes.push({ ...e, at: t });
    }
    masks = s.masks;
  }
  return { hash: h.digest('hex'), actions, episodes };
}

/** Reset, step `k` steps with seeded random masked actions, snapshot; then continue `m` steps recording. */
async function snapshotMidRollout(
  vec: VectorEnv,
  seed: number,
  k: number,
  m: number,
): Promise<{ snap: VectorEnvSnapshot; continuation: Recording; atSnapshot: VecResetResult }> {
  const rng = createStream(seed, 'snapshot-test', 'actions');
  let r: VecResetResult = await vec.reset(seed);
  for (let t = 0; t < k; t++) {
    sampleMaskedActions(vec.spec, vec.numEnvs, r.masks, rng, vec.actionBuffer);
    r = await vec.step();
  }
  const atSnapshot = { observations: r.observations.slice(), masks: r.masks.slice() };
  const snap = await vec.snapshot();
  const continuation = await record(vec, r, m, { rng });
  return { snap, continuation, atSnapshot };
}

/** Restores `snap` into `vec`, checks the batch it hands back, replays the recorded actions and compares. */
async function replayInto(
  vec: VectorEnv,
  snap: VectorEnvSnapshot,
  expected: Recording,
  atSnapshot: VecResetResult,
): Promise<void> {
  const r = await vec.restore(snap);
  expect(bytes(r.observations)).toEqual(bytes(atSnapshot.observations));
  expect(bytes(r.masks)).toEqual(bytes(atSnapshot.masks));
  const again = await record(vec, r, expected.actions.length, { replay: expected.actions });
  expect(again.episodes).toEqual(expected.episodes);
  expect(again.hash).toBe(expected.hash);
}

const CASES = [
  // id, envs, steps before the snapshot (mid-episode), steps after (past at least one autoreset per env)
  { id: 'gov-workflow/mixed_urgency_medium', n: 5, k: 100, m: 230 },
  { id: 'helixdesk/easy', n: 5, k: 13, m: 30 },
] as const;

describe('vector-env snapshots restore bit for bit, across worker counts and through bytes', () => {
  it.each(CASES)('$id: Sync → Worker(2), Sync (bytes), itself (rewind)', async ({ id, n, k, m }) => {
    const sync = new SyncVectorEnv(id, n);
    const { snap, continuation, atSnapshot } = await snapshotMidRollout(sync, 7, k, m);
    // The rollout crosses the snapshot mid-episode and autoresets after it.
    expect(snap.members.every((s) => s.episodeLength > 0)).toBe(true);
    expect(continuation.episodes.some((e) => e.length > e.at + 1)).toBe(true); // began before the snapshot
    expect(new Set(continuation.episodes.map((e) => e.envIndex)).size).toBe(n); // every env autoreset after it

    const workers = await WorkerVectorEnv.create(id, n, { workers: 2 });
    try {
      await replayInto(workers, snap, continuation, atSnapshot);
    } finally {
      await workers.close();
    }
    const bytesSnap = deserializeVectorEnvSnapshot(serializeVectorEnvSnapshot(snap));
    await replayInto(new SyncVectorEnv(id, n), bytesSnap, continuation, atSnapshot);
    // The snapshot shares nothing with the env it came from: rewind that env and replay again.
    await replayInto(sync, snap, continuation, atSnapshot);
  });

  it.each(CASES)(
    '$id: Worker(2) → Sync, Worker(3) (bytes); same snapshot as a SyncVectorEnv takes',
    async ({ id, n, k, m }) => {
      const source = await WorkerVectorEnv.create(id, n, { workers: 2 });
      let taken: Awaited<ReturnType<typeof snapshotMidRollout>>;
      try {
        taken = await snapshotMidRollout(source, 7, k, m);
      } finally {
        await source.close();
      }
      const { snap, continuation, atSnapshot } = taken;
      // Independent of the worker count: what a SyncVectorEnv gives at the same point, env by env to
      // the byte (the whole differs only in which constants the envs of one thread share).
      const fromSync = await snapshotMidRollout(new SyncVectorEnv(id, n), 7, k, m);
      expect(snap).toEqual(fromSync.snap);
      snap.members.forEach((member, i) => {
        expect(serialize(member).equals(serialize(fromSync.snap.members[i])), `env ${i}`).toBe(true);
      });
      expect(bytes(snap.observations)).toEqual(bytes(fromSync.snap.observations));
      expect(continuation.hash).toBe(fromSync.continuation.hash);

      await replayInto(new SyncVectorEnv(id, n), snap, continuation, atSnapshot);
      const three = await WorkerVectorEnv.create(id, n, { workers: 3 });
      try {
        await replayInto(
          three,
          deserializeVectorEnvSnapshot(serializeVectorEnvSnapshot(snap)),
          continuation,
          atSnapshot,
        );
        // A worker env can be snapshotted again right after a restore, and gives the same snapshot.
        await three.restore(snap);
        expect(await three.snapshot()).toEqual(snap);
      } finally {
        await three.close();
      }
    },
  );
});

describe('snapshots that do not fit are refused, naming the field', () => {
  it('env id, size and options mismatches; malformed snapshots and bytes; snapshot before reset', async () => {
    const vec = new SyncVectorEnv('helixdesk/easy', 3);
    await expect(vec.snapshot()).rejects.toThrow(/call reset\(seed\) or restore\(snapshot\) before snapshot\(\)/);
    await vec.reset(1);
    await vec.step(new Int32Array(12));
    const snap = await vec.snapshot();

    const refused = async (target: VectorEnv, s: unknown): Promise<VectorEnvSnapshotError> => {
      const err = await target.restore(s as VectorEnvSnapshot).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VectorEnvSnapshotError);
      return err as VectorEnvSnapshotError;
    };
    const size = await refused(new SyncVectorEnv('helixdesk/easy', 4), snap);
    expect(size.field).toBe('numEnvs');
    expect(size.message).toBe('restore: snapshot.numEnvs is 3 but this vector env has 4 envs');
    const id = await refused(new SyncVectorEnv('helixdesk/medium', 3), snap);
    expect(id.field).toBe('envId');
    expect(id.message).toBe("restore: snapshot.envId is 'helixdesk/easy' but this vector env is 'helixdesk/medium'");
    const options = await refused(new SyncVectorEnv('helixdesk/easy', 3, { config: { env: { seed: 5 } } }), snap);
    expect(options.field).toBe('options');
    expect(options.message).toMatch(
      /snapshot\.options \{\} differ from this vector env's options \{"config":\{"env":\{"seed":5\}\}\}/,
    );
    expect((await refused(vec, { ...snap, members: snap.members.slice(1) })).field).toBe('members');
    expect((await refused(vec, { ...snap, observations: Array.from(snap.observations) })).field).toBe('observations');
    expect((await refused(vec, { ...snap, format: 'something-else' })).field).toBe('format');

    const workers = await WorkerVectorEnv.create('helixdesk/easy', 2, { workers: 2 });
    try {
      const err = await refused(workers, snap);
      expect(err.message).toBe('restore: snapshot.numEnvs is 3 but this vector env has 2 envs');
      // Refused before anything changed: the env still works.
      await workers.reset(0);
      await workers.step(new Int32Array(8));
    } finally {
      await workers.close();
    }

    expect(() => deserializeVectorEnvSnapshot(Buffer.from('not a snapshot'))).toThrow(VectorEnvSnapshotError);
    expect(() => deserializeVectorEnvSnapshot(serialize({ ...snap, numEnvs: 0 }))).toThrow(
      /snapshot\.numEnvs must be a positive integer/,
    );
    // The rejected restores left `vec` as it was.
    await vec.step(new Int32Array(12));
  });

  it('a member state of the wrong shape fails the restore with the env index, like a failed step', async () => {
    const snap = await (async () => {
      const vec = new SyncVectorEnv('gov-workflow/mixed_urgency_medium', 2);
      await vec.reset(3);
      return vec.snapshot();
    })();
    const broken: VectorEnvSnapshot = {
      ...snap,
      members: [snap.members[0] as never, { ...snap.members[1], state: { env: 'nope' } } as never],
    };
    const workers = await WorkerVectorEnv.create('gov-workflow/mixed_urgency_medium', 2, { workers: 2 });
    try {
      await workers.reset(0);
      await expect(workers.restore(broken)).rejects.toThrow(
        /^env 1 \(gov-workflow\/mixed_urgency_medium\) failed: GovMember\.restore: expected/,
      );
      await expect(workers.step()).rejects.toThrow(/failed earlier and cannot be used/);
    } finally {
      await workers.close();
    }
  });
});
