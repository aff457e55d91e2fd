/**
 * PPO checkpoints (DECISIONS): a directory holding
 *   model.json + weights.bin   the actor-critic as a tfjs-layers model (two towers: `pi_*` → `action`
 *                              logits, `vf_*` → `value`), loadable by tf.loadLayersModel under tfjs-node
 *   optimizer.bin              Adam's first and second moments (float32, little-endian, m then v)
 *   env-state.bin              the vector env's exact state (v8 serialisation, envs/vector/snapshot.ts)
 *   state.json                 everything else: format/version, global step, iteration, phase, the
 *                              resolved config, RNG states, observation-normaliser statistics, Adam's
 *                              step count, the episode window, the metric history, env id/seed,
 *                              backend and package version
 * Written to a temporary sibling directory and renamed into place; the run's `latest` pointer file
 * (the checkpoint's name) is replaced last, so a crash never leaves a half-written checkpoint or a
 * pointer to one. Read back with zod shape checks.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { deserializeVectorEnvSnapshot, serializeVectorEnvSnapshot } from '../../envs/vector/snapshot.js';
import type { VectorEnvSnapshot } from '../../envs/vector/vector-env.js';
import { writeFileAtomic } from '../results-io.js';
import type { AdamState } from './adam.js';
import { PpoConfigSchema } from './config.js';
import { ParameterLayout } from './parameters.js';
import type { TowerLayer } from './parameters.js';
import type { PolicySpec } from './policy.js';

export const CHECKPOINT_FORMAT = 'queue-rl/ppo-checkpoint';
export const CHECKPOINT_VERSION = 1;

const StreamStateSchema = z.object({ a: z.number(), b: z.number(), c: z.number(), d: z.number() }).strict();
const MetricRowSchema = z.record(z.string(), z.union([z.number(), z.string(), z.null()]));

export const CheckpointStateSchema = z
  .object({
    format: z.literal(CHECKPOINT_FORMAT),
    version: z.literal(CHECKPOINT_VERSION),
    packageVersion: z.string(),
    createdAt: z.string(),
    /** Why it was written: periodic, best (by evaluation), final, interrupted (SIGINT). */
    kind: z.enum(['periodic', 'best', 'final', 'interrupted']),
    phase: z.string(),
    config: PpoConfigSchema,
    numTimesteps: z.number().int().nonnegative(),
    iteration: z.number().int().nonnegative(),
    nUpdates: z.number().int().nonnegative(),
    policy: z
      .object({
        observationSize: z.number().int().positive(),
        nvec: z.array(z.number().int().positive()).min(1),
        netArch: z.object({ pi: z.array(z.number().int().positive()).min(1), vf: z.array(z.number().int().positive()).min(1) }),
        activation: z.enum(['tanh', 'relu']),
        parameterCount: z.number().int().positive(),
        normalizeObservations: z.object({ clip: z.number().positive() }).nullable(),
      })
      .strict(),
    obsNormalizer: z.object({ mean: z.array(z.number()), var: z.array(z.number()), count: z.number() }).strict().nullable(),
    rewardNormalizer: z.object({ returns: z.array(z.number()), mean: z.number(), var: z.number(), count: z.number() }).strict().nullable().default(null),
    adam: z.object({ step: z.number().int().nonnegative(), beta1: z.number(), beta2: z.number(), eps: z.number() }).strict(),
    rng: z.object({ actions: StreamStateSchema, minibatches: StreamStateSchema }).strict(),
    env: z.object({ id: z.string(), options: z.record(z.string(), z.unknown()), numEnvs: z.number().int().positive(), seed: z.number().int() }).strict(),
    /** Episode starts of the observations the vector env holds (SB3 _last_episode_starts). */
    lastEpisodeStarts: z.array(z.number().int().min(0).max(1)),
    /** The last stats_window_size completed episodes (for rollout/ep_* means). */
    episodeWindow: z.array(z.object({ return: z.number(), length: z.number(), score: z.number().nullable() }).strict()),
    history: z.object({ metrics: z.array(MetricRowSchema), eval: z.array(MetricRowSchema) }).strict(),
    best: z.object({ score: z.number(), numTimesteps: z.number() }).strict().nullable(),
    /** Env steps of the next evaluation and periodic checkpoint (null: none). */
    nextEvalAt: z.number().nullable(),
    nextCheckpointAt: z.number().nullable(),
    backend: z.object({ backend: z.string(), nativePackage: z.string().nullable(), gpu: z.boolean(), tfjsVersion: z.string() }).passthrough(),
  })
  .strict();

export type CheckpointState = z.infer<typeof CheckpointStateSchema>;

export interface CheckpointContents {
  state: CheckpointState;
  parameters: Float32Array;
  adam: AdamState;
  /** Null for checkpoints saved without env state (best/final copies keep it too; this is for foreign checkpoints). */
  envSnapshot: VectorEnvSnapshot | null;
}

export function policySpecOf(state: CheckpointState): PolicySpec {
  return {
    shape: { observationSize: state.policy.observationSize, nvec: state.policy.nvec },
    arch: state.policy.netArch,
    activation: state.policy.activation,
    normalizeObservations: state.policy.normalizeObservations,
  };
}

/** Writes a checkpoint directory atomically (see the file comment), then points `<root>/latest` at it when asked. */
export function saveCheckpoint(dir: string, contents: CheckpointContents, options: { updateLatest: boolean }): void {
  const { state, parameters, adam, envSnapshot } = contents;
  const parsed = CheckpointStateSchema.parse(state); // never write what we could not read back
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    writeLayersModel(tmp, policySpecOf(parsed), parameters, { phase: parsed.phase, numTimesteps: parsed.numTimesteps, envId: parsed.env.id });
    writeFileSync(join(tmp, 'optimizer.bin'), concatFloat32([adam.m, adam.v]));
    if (envSnapshot) writeFileSync(join(tmp, 'env-state.bin'), serializeVectorEnvSnapshot(envSnapshot));
    writeFileSync(join(tmp, 'state.json'), `${JSON.stringify(parsed, null, 1)}\n`);
    const old = existsSync(dir) ? join(dirname(dir), `.${basename(dir)}.old-${process.pid}-${Date.now()}`) : null;
    if (old) renameSync(dir, old);
    renameSync(tmp, dir);
    if (old) rmSync(old, { recursive: true, force: true });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  if (options.updateLatest) writeFileAtomic(join(dirname(dir), 'latest'), `${basename(dir)}\n`);
}

/**
 * A checkpoint directory from what a user gives: the directory itself (it holds state.json), or a
 * directory with a `latest` pointer (a phase's checkpoint root), or a run directory with one phase
 * subdirectory holding `latest` (the last phase in name order).
 */
export function resolveCheckpointDir(path: string): string {
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new Error(`checkpoint '${path}' does not exist or is not a directory`);
  if (existsSync(join(path, 'state.json'))) return path;
  const latest = join(path, 'latest');
  if (existsSync(latest)) {
    const name = readFileSync(latest, 'utf8').trim();
    const dir = join(path, name);
    if (!existsSync(join(dir, 'state.json'))) throw new Error(`${latest} points at '${name}', which holds no state.json`);
    return dir;
  }
  throw new Error(`'${path}' is not a checkpoint: no state.json, and no 'latest' pointer to one`);
}

/** What any queue-rl policy checkpoint (PPO or GRPO) holds in state.json for its policy; other fields are ignored here. */
const PolicyPartSchema = z
  .object({
    env: z.object({ id: z.string() }).passthrough(),
    policy: CheckpointStateSchema.shape.policy,
    obsNormalizer: CheckpointStateSchema.shape.obsNormalizer,
  })
  .passthrough();

export interface PolicyCheckpoint {
  dir: string;
  envId: string;
  spec: PolicySpec;
  parameters: Float32Array;
  obsNormalizer: CheckpointState['obsNormalizer'];
}

/**
 * Just the policy of a checkpoint — its spec, weights and observation statistics — from a PPO or a
 * GRPO checkpoint directory (or one with a `latest` pointer). For serving and warm starts.
 */
export function loadPolicyCheckpoint(path: string): PolicyCheckpoint {
  const dir = resolveCheckpointDir(path);
  const state = readStateJson(dir, PolicyPartSchema, 'a queue-rl policy checkpoint');
  const p = state.policy;
  const spec: PolicySpec = { shape: { observationSize: p.observationSize, nvec: p.nvec }, arch: p.netArch, activation: p.activation, normalizeObservations: p.normalizeObservations };
  const layout = new ParameterLayout(spec.shape, spec.arch);
  return { dir, envId: state.env.id, spec, parameters: readLayersWeights(dir, layout), obsNormalizer: state.obsNormalizer };
}

/** model.json + weights.bin of a policy in `dir` (which must exist): the tfjs-layers layout checkpoints use. */
export function writeLayersModel(dir: string, spec: PolicySpec, parameters: Float32Array, metadata: Record<string, unknown>): void {
  const layout = new ParameterLayout(spec.shape, spec.arch);
  const { modelJson, weights } = layersModelArtifacts(spec, layout.towerLayers(parameters), metadata);
  writeFileSync(join(dir, 'model.json'), `${JSON.stringify(modelJson)}\n`);
  writeFileSync(join(dir, 'weights.bin'), weights);
}

/** state.json of a checkpoint directory, validated: errors name the file, the field and what was expected. */
function readStateJson<T extends z.ZodType>(dir: string, schema: T, what: string): z.infer<T> {
  const file = join(dir, 'state.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: ${issue?.path.join('.') || '(root)'} ${issue?.message ?? 'is invalid'} (not ${what}?)`);
  }
  return parsed.data;
}

export function loadCheckpoint(path: string): CheckpointContents & { dir: string } {
  const dir = resolveCheckpointDir(path);
  const state = readStateJson(dir, CheckpointStateSchema, `a queue-rl PPO checkpoint of version ${CHECKPOINT_VERSION}`);
  const spec = policySpecOf(state);
  const layout = new ParameterLayout(spec.shape, spec.arch);
  const parameters = readLayersWeights(dir, layout);
  const moments = readFloat32(join(dir, 'optimizer.bin'));
  if (moments.length !== 2 * layout.size) throw new Error(`${join(dir, 'optimizer.bin')}: ${moments.length} values, expected ${2 * layout.size}`);
  const envFile = join(dir, 'env-state.bin');
  const envSnapshot = existsSync(envFile) ? deserializeVectorEnvSnapshot(readFileSync(envFile)) : null;
  return {
    dir,
    state,
    parameters,
    adam: { step: state.adam.step, m: moments.slice(0, layout.size), v: moments.slice(layout.size) },
    envSnapshot,
  };
}

/** The model topology (built once with tf.layers, then disposed) and the weights in manifest order. */
function layersModelArtifacts(spec: PolicySpec, layers: TowerLayer[], metadata: Record<string, unknown>): { modelJson: Record<string, unknown>; weights: Buffer } {
  const topology = ((): Record<string, unknown> => {
    const input = tf.input({ shape: [spec.shape.observationSize], name: 'observation' });
    const tower = (prefix: 'pi' | 'vf', sizes: readonly number[], head: string, units: number): tf.SymbolicTensor => {
      let h: tf.SymbolicTensor = input;
      sizes.forEach((n, k) => {
        h = tf.layers.dense({ units: n, activation: spec.activation, name: `${prefix}_${k}` }).apply(h) as tf.SymbolicTensor;
      });
      return tf.layers.dense({ units, name: head }).apply(h) as tf.SymbolicTensor;
    };
    const actionSize = spec.shape.nvec.reduce((a, b) => a + b, 0);
    const model = tf.model({ inputs: input, outputs: [tower('pi', spec.arch.pi, 'action', actionSize), tower('vf', spec.arch.vf, 'value', 1)], name: 'queue_rl_actor_critic' });
    const json = model.toJSON(null, false) as unknown as Record<string, unknown>;
    model.dispose();
    return json;
  })();
  const manifest = layers.flatMap((l) => [
    { name: `${l.name}/kernel`, shape: [l.rows, l.cols], dtype: 'float32' },
    { name: `${l.name}/bias`, shape: [l.cols], dtype: 'float32' },
  ]);
  return {
    modelJson: {
      modelTopology: topology,
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
      convertedBy: null,
      weightsManifest: [{ paths: ['weights.bin'], weights: manifest }],
      userDefinedMetadata: { queueRl: { ...metadata, nvec: spec.shape.nvec, outputs: ['action logits (masked entries must be set to -1e8 before softmax)', 'value'] } },
    },
    weights: concatFloat32(layers.flatMap((l) => [l.kernel, l.bias])),
  };
}

const ManifestSchema = z.object({
  weightsManifest: z
    .array(z.object({ paths: z.array(z.string()), weights: z.array(z.object({ name: z.string(), shape: z.array(z.number().int().nonnegative()), dtype: z.literal('float32') }).passthrough()) }).passthrough())
    .min(1),
});

/** Reads weights.bin by model.json's manifest into the layout's parameter vector. */
function readLayersWeights(dir: string, layout: ParameterLayout): Float32Array {
  const manifest = ManifestSchema.safeParse(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')));
  if (!manifest.success) throw new Error(`${join(dir, 'model.json')}: no float32 weightsManifest (${manifest.error.issues[0]?.message ?? ''})`);
  const values = new Map<string, Float32Array>();
  for (const group of manifest.data.weightsManifest) {
    const data = group.paths.map((p) => readFloat32(join(dir, p)));
    const all = data.length === 1 ? (data[0] as Float32Array) : Float32Array.from(data.flatMap((d) => [...d]));
    let offset = 0;
    for (const w of group.weights) {
      const size = w.shape.reduce((a, b) => a * b, 1);
      if (offset + size > all.length) throw new Error(`${join(dir, 'weights.bin')}: shorter than model.json's manifest`);
      values.set(w.name, all.subarray(offset, offset + size));
      offset += size;
    }
  }
  const template = layout.towerLayers(new Float32Array(layout.size));
  const layers = template.map((l) => {
    const kernel = values.get(`${l.name}/kernel`);
    const bias = values.get(`${l.name}/bias`);
    if (!kernel || !bias) throw new Error(`${join(dir, 'model.json')}: no weights for layer '${l.name}'`);
    return { name: l.name, kernel, bias };
  });
  return layout.fromTowerLayers(layers, new Float32Array(layout.size));
}

function concatFloat32(parts: readonly Float32Array[]): Buffer {
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Float32Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength); // little-endian on every platform Node supports here (x86-64, arm64)
}

function readFloat32(path: string): Float32Array {
  const bytes = readFileSync(path);
  if (bytes.byteLength % 4 !== 0) throw new Error(`${path}: ${bytes.byteLength} bytes is not a whole number of float32 values`);
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
