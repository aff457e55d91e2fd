/**
 * PPO checkpoints (docs/decisions.md): a directory holding
 *   model.json + weights.bin   the actor-critic as a tfjs-layers model (agents/policy/checkpoint.ts)
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
import { writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import {
  CheckpointError,
  CheckpointFiles,
  checkNormalizer,
  float32Bytes,
  float32Of,
  ObsNormalizerStateSchema,
  PolicyMetaSchema,
  policySpecOfMeta,
  readCheckpointJson,
  readLayersWeights,
  requireFinite,
  writeLayersModel,
} from '../../agents/policy/checkpoint.js';
import { ParameterLayout } from '../../agents/policy/parameters.js';
import type { PolicySpec } from '../../agents/policy/policy.js';
import { deserializeVectorEnvSnapshot, serializeVectorEnvSnapshot } from '../../envs/vector/snapshot.js';
import type { VectorEnvSnapshot } from '../../envs/vector/vector-env.js';
import { writeDirAtomic, writeFileAtomic } from '../run-io.js';
import type { AdamState } from './adam.js';
import { PpoConfigSchema } from './config.js';

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
    kind: z.enum(['periodic', 'best', 'final', 'interrupted', 'warm-start']),
    phase: z.string(),
    config: PpoConfigSchema,
    numTimesteps: z.number().int().nonnegative(),
    iteration: z.number().int().nonnegative(),
    nUpdates: z.number().int().nonnegative(),
    policy: PolicyMetaSchema,
    obsNormalizer: ObsNormalizerStateSchema,
    rewardNormalizer: z
      .object({ returns: z.array(z.number()), mean: z.number(), var: z.number(), count: z.number() })
      .strict()
      .nullable()
      .default(null),
    adam: z
      .object({ step: z.number().int().nonnegative(), beta1: z.number(), beta2: z.number(), eps: z.number() })
      .strict(),
    rng: z.object({ actions: StreamStateSchema, minibatches: StreamStateSchema }).strict(),
    env: z
      .object({
        id: z.string(),
        options: z.record(z.string(), z.unknown()),
        numEnvs: z.number().int().positive(),
        seed: z.number().int(),
      })
      .strict(),
    /** Episode starts of the observations the vector env holds (SB3 _last_episode_starts). */
    lastEpisodeStarts: z.array(z.number().int().min(0).max(1)),
    /** The last stats_window_size completed episodes (for rollout/ep_* means). */
    episodeWindow: z.array(z.object({ return: z.number(), length: z.number(), score: z.number().nullable() }).strict()),
    history: z.object({ metrics: z.array(MetricRowSchema), eval: z.array(MetricRowSchema) }).strict(),
    best: z.object({ score: z.number(), numTimesteps: z.number() }).strict().nullable(),
    /** Env steps of the next evaluation and periodic checkpoint (null: none). */
    nextEvalAt: z.number().nullable(),
    nextCheckpointAt: z.number().nullable(),
    backend: z
      .object({ backend: z.string(), nativePackage: z.string().nullable(), gpu: z.boolean(), tfjsVersion: z.string() })
      .passthrough(),
  })
  .strict();

export type CheckpointState = z.infer<typeof CheckpointStateSchema>;

export interface CheckpointContents {
  state: CheckpointState;
  parameters: Float32Array;
  adam: AdamState;
  /** Null for checkpoints saved without env state (best/final copies keep it too; this is for foreign checkpoints). */
  envSnapshot: VectorEnvSnapshot | null;
  /** The warm start's parameters that init_kl pulls toward (anchor.bin), when the run has one. */
  anchor?: Float32Array | null;
}

export function policySpecOf(state: CheckpointState): PolicySpec {
  return policySpecOfMeta(state.policy);
}

/** Writes a checkpoint directory atomically (see the file comment), then points `<root>/latest` at it when asked. */
export function saveCheckpoint(dir: string, contents: CheckpointContents, options: { updateLatest: boolean }): void {
  const { state, parameters, adam, envSnapshot, anchor } = contents;
  const parsed = CheckpointStateSchema.parse(state); // never write what we could not read back
  writeDirAtomic(dir, (tmp) => {
    writeLayersModel(tmp, policySpecOf(parsed), parameters, {
      phase: parsed.phase,
      numTimesteps: parsed.numTimesteps,
      envId: parsed.env.id,
    });
    writeFileSync(join(tmp, 'optimizer.bin'), float32Bytes([adam.m, adam.v]));
    if (envSnapshot) writeFileSync(join(tmp, 'env-state.bin'), serializeVectorEnvSnapshot(envSnapshot));
    if (anchor) writeFileSync(join(tmp, 'anchor.bin'), float32Bytes([anchor]));
    writeFileSync(join(tmp, 'state.json'), `${JSON.stringify(parsed, null, 1)}\n`);
  });
  if (options.updateLatest) writeFileAtomic(join(dirname(dir), 'latest'), `${basename(dir)}\n`);
}

export function loadCheckpoint(path: string): CheckpointContents & { dir: string } {
  const files = new CheckpointFiles();
  const dir = files.resolveDir(path);
  const state = readCheckpointJson(
    files,
    dir,
    CheckpointStateSchema,
    `a queue-rl PPO checkpoint of version ${CHECKPOINT_VERSION}`,
  );
  const spec = policySpecOf(state);
  const layout = new ParameterLayout(spec.shape, spec.arch);
  checkNormalizer(dir, state.obsNormalizer, spec.shape.observationSize);
  const parameters = readLayersWeights(files, dir, layout);
  const optimizerFile = join(dir, 'optimizer.bin');
  const moments = float32Of(optimizerFile, files.read(optimizerFile));
  if (moments.length !== 2 * layout.size)
    throw new CheckpointError(
      optimizerFile,
      `holds ${moments.length} values; this policy's Adam moments are ${2 * layout.size}`,
    );
  requireFinite(optimizerFile, moments, 'Adam moments');
  const envFile = join(dir, 'env-state.bin');
  let envSnapshot: VectorEnvSnapshot | null = null;
  if (files.exists(envFile)) {
    try {
      envSnapshot = deserializeVectorEnvSnapshot(files.read(envFile));
    } catch (err) {
      throw new CheckpointError(
        envFile,
        `is not a vector-env snapshot (truncated or corrupt): ${(err as Error).message.split('\n')[0]}`,
      );
    }
  }
  const anchorFile = join(dir, 'anchor.bin');
  let anchor: Float32Array | null = null;
  if (files.exists(anchorFile)) {
    anchor = float32Of(anchorFile, files.read(anchorFile));
    if (anchor.length !== layout.size)
      throw new CheckpointError(anchorFile, `holds ${anchor.length} values; this policy has ${layout.size} parameters`);
    requireFinite(anchorFile, anchor, 'warm-start parameters');
  }
  return {
    dir,
    state,
    parameters,
    adam: { step: state.adam.step, m: moments.slice(0, layout.size), v: moments.slice(layout.size) },
    envSnapshot,
    anchor,
  };
}
