/**
 * Vector-env snapshots (VectorEnvSnapshot in vector-env.ts): shape checks, splitting a snapshot into
 * the parts of slices (whatever the worker count) and joining them back, and a byte format.
 *
 * Byte format: `serializeVectorEnvSnapshot` is Node's structured-clone serialisation (`v8.serialize`,
 * which keeps typed arrays as typed arrays); `deserializeVectorEnvSnapshot` reads it back with
 * `v8.deserialize` and checks the result's shape. The bytes are meant for checkpoints read back by
 * the same code base (the V8 format is forward compatible across Node versions); the snapshot's
 * `format` and `version` fields identify it.
 */
import { deserialize, serialize } from 'node:v8';
import { canonicalJson, isRecord, isTypedArray } from '../core/plain-data.js';
import type { EnvOptions, EnvSpec } from '../core/registry.js';
import type { VecSliceSnapshot } from './slice.js';
import type { VecMemberSnapshot, VectorEnvSnapshot } from './vector-env.js';
import { VectorEnvSnapshotError } from './vector-env.js';

export const VECTOR_ENV_SNAPSHOT_FORMAT = 'queue-rl/vector-env-snapshot';
export const VECTOR_ENV_SNAPSHOT_VERSION = 1;

function fail(field: string, message: string): never {
  throw new VectorEnvSnapshotError(field, message);
}

/** Checks that `s` has the shape of a VectorEnvSnapshot (not which env it fits). */
export function checkSnapshotShape(s: unknown, where: string): VectorEnvSnapshot {
  if (!isRecord(s))
    fail('snapshot', `${where}: a vector-env snapshot must be an object (got ${s === null ? 'null' : typeof s})`);
  if (s.format !== VECTOR_ENV_SNAPSHOT_FORMAT)
    fail(
      'format',
      `${where}: snapshot.format must be '${VECTOR_ENV_SNAPSHOT_FORMAT}' (got ${JSON.stringify(s.format)})`,
    );
  if (s.version !== VECTOR_ENV_SNAPSHOT_VERSION)
    fail(
      'version',
      `${where}: snapshot.version ${JSON.stringify(s.version)} is not supported (expected ` +
        `${VECTOR_ENV_SNAPSHOT_VERSION})`,
    );
  if (typeof s.envId !== 'string') fail('envId', `${where}: snapshot.envId must be a string`);
  if (!isRecord(s.options)) fail('options', `${where}: snapshot.options must be an object`);
  const n = s.numEnvs;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
    fail('numEnvs', `${where}: snapshot.numEnvs must be a positive integer (got ${JSON.stringify(n)})`);
  if (!Array.isArray(s.members) || s.members.length !== n) {
    fail(
      'members',
      `${where}: snapshot.members must be an array of one entry per env (numEnvs ${n}, got ` +
        `${Array.isArray(s.members) ? s.members.length : typeof s.members})`,
    );
  }
  (s.members as unknown[]).forEach((m, i) => {
    if (!isRecord(m) || !('state' in m))
      fail(
        `members[${i}]`,
        `${where}: snapshot.members[${i}] must be an object with state, episodeReturn and episodeLength`,
      );
    if (typeof m.episodeReturn !== 'number')
      fail(`members[${i}].episodeReturn`, `${where}: snapshot.members[${i}].episodeReturn must be a number`);
    const len = m.episodeLength;
    if (typeof len !== 'number' || !Number.isInteger(len) || len < 0)
      fail(
        `members[${i}].episodeLength`,
        `${where}: snapshot.members[${i}].episodeLength must be a non-negative integer`,
      );
  });
  if (!isTypedArray(s.observations, 'Float32Array') || (s.observations as Float32Array).length % n !== 0) {
    fail('observations', `${where}: snapshot.observations must be a Float32Array of numEnvs × observationSize values`);
  }
  if (!isTypedArray(s.masks, 'Uint8Array') || (s.masks as Uint8Array).length % n !== 0) {
    fail('masks', `${where}: snapshot.masks must be a Uint8Array of numEnvs × maskLength values`);
  }
  return s as unknown as VectorEnvSnapshot;
}

/** Checks that `s` is a snapshot of a vector env of this spec (id, options) and size. */
export function checkSnapshotFits(s: unknown, spec: EnvSpec, numEnvs: number): VectorEnvSnapshot {
  const snap = checkSnapshotShape(s, 'restore');
  if (snap.envId !== spec.id)
    fail('envId', `restore: snapshot.envId is '${snap.envId}' but this vector env is '${spec.id}'`);
  const mine = canonicalJson(spec.options);
  const theirs = canonicalJson(snap.options);
  if (mine !== theirs)
    fail('options', `restore: snapshot.options ${theirs} differ from this vector env's options ${mine}`);
  if (snap.numEnvs !== numEnvs)
    fail('numEnvs', `restore: snapshot.numEnvs is ${snap.numEnvs} but this vector env has ${numEnvs} envs`);
  if (snap.observations.length !== numEnvs * spec.observationSize) {
    fail(
      'observations',
      `restore: snapshot.observations has ${snap.observations.length} values, expected ${numEnvs} × ` +
        `${spec.observationSize}`,
    );
  }
  if (snap.masks.length !== numEnvs * spec.maskLength)
    fail('masks', `restore: snapshot.masks has ${snap.masks.length} values, expected ${numEnvs} × ${spec.maskLength}`);
  return snap;
}

/** Joins the snapshots of consecutive slices (in env order) into a vector-env snapshot. */
export function joinSnapshot(spec: EnvSpec, numEnvs: number, parts: readonly VecSliceSnapshot[]): VectorEnvSnapshot {
  const members: VecMemberSnapshot[] = [];
  const observations = new Float32Array(numEnvs * spec.observationSize);
  const masks = new Uint8Array(numEnvs * spec.maskLength);
  for (const part of parts) {
    observations.set(part.observations, members.length * spec.observationSize);
    masks.set(part.masks, members.length * spec.maskLength);
    members.push(...part.members);
  }
  if (members.length !== numEnvs)
    throw new Error(`${spec.id}: snapshot parts cover ${members.length} envs, expected ${numEnvs}`);
  return {
    format: VECTOR_ENV_SNAPSHOT_FORMAT,
    version: VECTOR_ENV_SNAPSHOT_VERSION,
    envId: spec.id,
    options: structuredClone(spec.options) as EnvOptions,
    numEnvs,
    members,
    observations,
    masks,
  };
}

/** The part of a (checked) snapshot for the slice of envs [offset, offset + count); arrays are copies. */
export function sliceOfSnapshot(s: VectorEnvSnapshot, offset: number, count: number, spec: EnvSpec): VecSliceSnapshot {
  const o = spec.observationSize;
  const m = spec.maskLength;
  return {
    members: s.members.slice(offset, offset + count),
    observations: s.observations.slice(offset * o, (offset + count) * o),
    masks: s.masks.slice(offset * m, (offset + count) * m),
  };
}

/** The snapshot as bytes: Node's structured-clone serialisation (`v8.serialize`). */
export function serializeVectorEnvSnapshot(s: VectorEnvSnapshot): Buffer {
  return serialize(checkSnapshotShape(s, 'serializeVectorEnvSnapshot'));
}

/** Reads bytes from serializeVectorEnvSnapshot back (`v8.deserialize`), checking the snapshot's shape. */
export function deserializeVectorEnvSnapshot(bytes: Uint8Array): VectorEnvSnapshot {
  let value: unknown;
  try {
    value = deserialize(bytes);
  } catch (err) {
    fail(
      'bytes',
      `deserializeVectorEnvSnapshot: not a serialised snapshot (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  return checkSnapshotShape(value, 'deserializeVectorEnvSnapshot');
}
