/**
 * The policy part of every queue-rl checkpoint (PPO's, and GRPO's policies): model.json +
 * weights.bin in the tfjs layers layout (two towers: `pi_*` → `action` logits, `vf_*` → `value`;
 * loadable by tf.loadLayersModel under tfjs-node) and the `policy` / `obsNormalizer` fields of
 * state.json. Reading validates everything against the manifest and the policy's shapes, names the
 * file on any problem and never quotes a file; it can be confined to a root (the policy server's
 * load_weights). Training state (optimizer, env snapshot, RNGs) is training/ppo/checkpoint.ts.
 */
import { readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { EnvOptions } from '../../envs/registry.js';
import { EnvOptionsSchema } from '../../envs/registry.js';
import type { ObsNormalizerState } from './obs-normalizer.js';
import type { TowerLayer } from './parameters.js';
import { ParameterLayout } from './parameters.js';
import type { PolicySpec } from './policy.js';

/** state.json's description of the network. */
export const PolicyMetaSchema = z
  .object({
    observationSize: z.number().int().positive(),
    nvec: z.array(z.number().int().positive()).min(1),
    netArch: z.object({
      pi: z.array(z.number().int().positive()).min(1),
      vf: z.array(z.number().int().positive()).min(1),
    }),
    activation: z.enum(['tanh', 'relu']),
    parameterCount: z.number().int().positive(),
    normalizeObservations: z.object({ clip: z.number().positive() }).nullable(),
  })
  .strict();
export type PolicyMeta = z.infer<typeof PolicyMetaSchema>;

export const ObsNormalizerStateSchema = z
  .object({ mean: z.array(z.number()), var: z.array(z.number()), count: z.number() })
  .strict()
  .nullable();

/** The network a policy description stands for. */
export function policySpecOfMeta(p: PolicyMeta): PolicySpec {
  return {
    shape: { observationSize: p.observationSize, nvec: p.nvec },
    arch: p.netArch,
    activation: p.activation,
    normalizeObservations: p.normalizeObservations,
  };
}

/** A checkpoint that cannot be used: names the file and the problem, never the file's contents. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

export interface CheckpointReadOptions {
  /**
   * Refuse every path whose real location (symlinks followed) is outside this directory — the
   * policy server's load_weights root. Relative paths are then taken relative to it.
   */
  confineTo?: string;
}

/** Reads the files of one checkpoint, confined to a root when asked (see CheckpointReadOptions). */
export class CheckpointFiles {
  private readonly root: string | null;

  constructor(options: CheckpointReadOptions = {}) {
    this.root = options.confineTo === undefined ? null : realpathSync(options.confineTo);
  }

  get confined(): boolean {
    return this.root !== null;
  }

  /** The path a user gave, checked to lie inside the root (before the filesystem is touched beyond it). */
  locate(path: string): string {
    if (this.root === null) return path;
    const abs = resolve(this.root, path);
    if (!isInside(this.root, abs))
      throw new CheckpointError(path, 'is outside the directory checkpoints may be loaded from');
    return abs;
  }

  /** The real path of `path`, refused when a symlink leads out of the root; null when it does not exist. */
  real(path: string): string | null {
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      return null;
    }
    if (this.root !== null && !isInside(this.root, real))
      throw new CheckpointError(path, 'leads outside the directory checkpoints may be loaded from');
    return real;
  }

  isDirectory(path: string): boolean {
    const real = this.real(path);
    return real !== null && statSync(real).isDirectory();
  }

  exists(path: string): boolean {
    return this.real(path) !== null;
  }

  read(path: string): Buffer {
    const real = this.real(path);
    if (real === null) throw new CheckpointError(path, 'is missing');
    if (!statSync(real).isFile()) throw new CheckpointError(path, 'is not a file');
    return readFileSync(real);
  }

  json(path: string): unknown {
    try {
      return JSON.parse(this.read(path).toString('utf8'));
    } catch (err) {
      if (err instanceof CheckpointError) throw err;
      throw new CheckpointError(path, 'is not valid JSON'); // the parser's message would quote the file
    }
  }

  /** A checkpoint directory from what a user gives (see resolveCheckpointDir). */
  resolveDir(given: string): string {
    const path = this.locate(given);
    if (!this.isDirectory(path)) throw new CheckpointError(path, 'does not exist or is not a directory');
    if (this.exists(join(path, 'state.json'))) return path;
    const latest = join(path, 'latest');
    if (!this.exists(latest))
      throw new CheckpointError(path, "is not a checkpoint: no state.json, and no 'latest' pointer to one");
    const name = this.read(latest).toString('utf8').trim();
    if (!CHECKPOINT_NAME.test(name) || name === '.' || name === '..')
      throw new CheckpointError(latest, 'does not hold a checkpoint name');
    const dir = join(path, name);
    // The pointer's text is echoed only to a local user; a confined (remote) request learns nothing of it.
    if (!this.exists(join(dir, 'state.json')))
      throw new CheckpointError(
        latest,
        `points at ${this.confined ? 'a directory' : `'${name}'`}, which holds no state.json`,
      );
    return dir;
  }
}

const CHECKPOINT_NAME = /^[A-Za-z0-9._-]{1,200}$/;

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * A checkpoint directory from what a user gives: the directory itself (it holds state.json), or a
 * directory with a `latest` pointer (a phase's checkpoint root).
 */
export function resolveCheckpointDir(path: string, options: CheckpointReadOptions = {}): string {
  return new CheckpointFiles(options).resolveDir(path);
}

/**
 * What any queue-rl policy checkpoint (PPO or GRPO) holds in state.json for its policy; other fields are ignored here.
 */
const PolicyPartSchema = z
  .object({
    env: z.object({ id: z.string(), options: z.record(z.string(), z.unknown()).optional() }).passthrough(),
    config: z
      .object({ env: z.object({ options: z.record(z.string(), z.unknown()) }).passthrough() })
      .passthrough()
      .optional(),
    policy: PolicyMetaSchema,
    obsNormalizer: ObsNormalizerStateSchema,
  })
  .passthrough();

export interface PolicyCheckpoint {
  dir: string;
  envId: string;
  /** The env options the policy was trained with (PPO: config.env.options; GRPO: env.options; else {}). */
  envOptions: EnvOptions;
  spec: PolicySpec;
  parameters: Float32Array;
  obsNormalizer: ObsNormalizerState | null;
}

/**
 * Just the policy of a checkpoint — its spec, weights and observation statistics — from a PPO or a
 * GRPO checkpoint directory (or one with a `latest` pointer). For serving, evaluation and warm
 * starts: the optimizer and env state are not read.
 */
export function loadPolicyCheckpoint(path: string, options: CheckpointReadOptions = {}): PolicyCheckpoint {
  const files = new CheckpointFiles(options);
  const dir = files.resolveDir(path);
  const state = readCheckpointJson(files, dir, PolicyPartSchema, 'a queue-rl policy checkpoint');
  const p = state.policy;
  const spec = policySpecOfMeta(p);
  const layout = new ParameterLayout(spec.shape, spec.arch);
  checkNormalizer(dir, state.obsNormalizer, p.observationSize);
  const envOptions = EnvOptionsSchema.safeParse(state.config?.env.options ?? state.env.options ?? {});
  if (!envOptions.success)
    throw new CheckpointError(
      join(dir, 'state.json'),
      `env options: ${envOptions.error.issues[0]?.path.join('.') ?? ''} ` +
        `${envOptions.error.issues[0]?.message ?? 'invalid'}`,
    );
  return {
    dir,
    envId: state.env.id,
    envOptions: envOptions.data,
    spec,
    parameters: readLayersWeights(files, dir, layout),
    obsNormalizer: state.obsNormalizer,
  };
}

/** model.json + weights.bin of a policy in `dir` (which must exist): the tfjs-layers layout checkpoints use. */
export function writeLayersModel(
  dir: string,
  spec: PolicySpec,
  parameters: Float32Array,
  metadata: Record<string, unknown>,
): void {
  const layout = new ParameterLayout(spec.shape, spec.arch);
  const { modelJson, weights } = layersModelArtifacts(spec, layout.towerLayers(parameters), metadata);
  writeFileSync(join(dir, 'model.json'), `${JSON.stringify(modelJson)}\n`);
  writeFileSync(join(dir, 'weights.bin'), weights);
}

/** state.json of a checkpoint directory, validated: errors name the file, the field and what was expected. */
export function readCheckpointJson<T extends z.ZodType>(
  files: CheckpointFiles,
  dir: string,
  schema: T,
  what: string,
): z.infer<T> {
  const file = join(dir, 'state.json');
  const parsed = schema.safeParse(files.json(file));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CheckpointError(
      file,
      `${issue?.path.join('.') || '(root)'} ${issue?.message ?? 'is invalid'} (not ${what}?)`,
    );
  }
  return parsed.data;
}

/** Observation statistics must fit the policy's input and be usable numbers. */
export function checkNormalizer(dir: string, stats: ObsNormalizerState | null, observationSize: number): void {
  if (!stats) return;
  const file = join(dir, 'state.json');
  if (stats.mean.length !== observationSize || stats.var.length !== observationSize) {
    throw new CheckpointError(
      file,
      `obsNormalizer has ${stats.mean.length} means and ${stats.var.length} variances; the policy reads ` +
        `${observationSize} features`,
    );
  }
  if (![...stats.mean, ...stats.var, stats.count].every(Number.isFinite) || stats.var.some((v) => v < 0))
    throw new CheckpointError(file, 'obsNormalizer holds a non-finite mean or variance, or a negative variance');
}

/** The model topology (built once with tf.layers, then disposed) and the weights in manifest order. */
function layersModelArtifacts(
  spec: PolicySpec,
  layers: TowerLayer[],
  metadata: Record<string, unknown>,
): { modelJson: Record<string, unknown>; weights: Buffer } {
  const topology = ((): Record<string, unknown> => {
    const input = tf.input({ shape: [spec.shape.observationSize], name: 'observation' });
    const tower = (prefix: 'pi' | 'vf', sizes: readonly number[], head: string, units: number): tf.SymbolicTensor => {
      let h: tf.SymbolicTensor = input;
      sizes.forEach((n, k) => {
        h = tf.layers
          .dense({ units: n, activation: spec.activation, name: `${prefix}_${k}` })
          .apply(h) as tf.SymbolicTensor;
      });
      return tf.layers.dense({ units, name: head }).apply(h) as tf.SymbolicTensor;
    };
    const actionSize = spec.shape.nvec.reduce((a, b) => a + b, 0);
    const model = tf.model({
      inputs: input,
      outputs: [tower('pi', spec.arch.pi, 'action', actionSize), tower('vf', spec.arch.vf, 'value', 1)],
      name: 'queue_rl_actor_critic',
    });
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
      userDefinedMetadata: {
        queueRl: {
          ...metadata,
          nvec: spec.shape.nvec,
          outputs: ['action logits (masked entries must be set to -1e8 before softmax)', 'value'],
        },
      },
    },
    weights: float32Bytes(layers.flatMap((l) => [l.kernel, l.bias])),
  };
}

const ManifestSchema = z.object({
  weightsManifest: z
    .array(
      z
        .object({
          paths: z.array(z.string().regex(CHECKPOINT_NAME, 'must be a file name in the checkpoint directory')).min(1),
          weights: z.array(
            z
              .object({ name: z.string(), shape: z.array(z.number().int().nonnegative()), dtype: z.literal('float32') })
              .passthrough(),
          ),
        })
        .passthrough(),
    )
    .min(1),
});

/**
 * Reads weights.bin by model.json's manifest into the layout's parameter vector. The manifest must
 * give every layer of this policy its exact shape, the weight files must hold exactly what the
 * manifest lists, and every weight must be finite.
 */
export function readLayersWeights(files: CheckpointFiles, dir: string, layout: ParameterLayout): Float32Array {
  const modelFile = join(dir, 'model.json');
  const manifest = ManifestSchema.safeParse(files.json(modelFile));
  if (!manifest.success) {
    const issue = manifest.error.issues[0];
    throw new CheckpointError(
      modelFile,
      `weightsManifest: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'is invalid'} (not a tfjs layers model of ` +
        `float32 weights?)`,
    );
  }
  const values = new Map<string, { values: Float32Array; shape: number[]; file: string }>();
  for (const group of manifest.data.weightsManifest) {
    const groupFiles = group.paths.map((p) => join(dir, p));
    const data = groupFiles.map((f) => float32Of(f, files.read(f)));
    const all = data.length === 1 ? (data[0] as Float32Array) : concatToFloat32(data);
    const file = groupFiles.join(' + ');
    const needed = group.weights.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0);
    if (all.length !== needed)
      throw new CheckpointError(file, `holds ${all.length} float32 values; model.json's manifest lists ${needed}`);
    let offset = 0;
    for (const w of group.weights) {
      const size = w.shape.reduce((a, b) => a * b, 1);
      values.set(w.name, { values: all.subarray(offset, offset + size), shape: w.shape, file });
      offset += size;
    }
  }
  const layers = layout.towerLayers(new Float32Array(layout.size)).map((l) => {
    const get = (part: 'kernel' | 'bias', shape: number[]): Float32Array => {
      const name = `${l.name}/${part}`;
      const w = values.get(name);
      if (!w) throw new CheckpointError(modelFile, `has no weights for layer '${name}'`);
      if (w.shape.join(',') !== shape.join(','))
        throw new CheckpointError(
          modelFile,
          `gives '${name}' the shape [${w.shape.join(', ')}]; this policy needs [${shape.join(', ')}] (another ` +
            `net_arch or env?)`,
        );
      requireFinite(w.file, w.values, `'${name}'`);
      return w.values;
    };
    return { name: l.name, kernel: get('kernel', [l.rows, l.cols]), bias: get('bias', [l.cols]) };
  });
  return layout.fromTowerLayers(layers, new Float32Array(layout.size));
}

export function requireFinite(file: string, values: Float32Array, what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v))
      throw new CheckpointError(
        file,
        `${what} holds ${v} at index ${i}: every weight must be finite (a corrupt file, or a diverged run)`,
      );
  }
}

export function float32Bytes(parts: readonly Float32Array[]): Buffer {
  const out = concatToFloat32(parts);
  // Little-endian on every platform Node supports here (x86-64, arm64).
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

export function float32Of(path: string, bytes: Buffer): Float32Array {
  if (bytes.byteLength % 4 !== 0)
    throw new CheckpointError(path, `holds ${bytes.byteLength} bytes, not a whole number of float32 values`);
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

function concatToFloat32(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
