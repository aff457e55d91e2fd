/**
 * Evaluating a trained policy on given episode seeds: every seed's episode runs side by side through
 * the episode runner (agents/run-episode.ts) on the env's vector-env member — so the episode of seed
 * s is the one a baseline agent plays on seed s — and one batched forward pass answers all of them
 * at each step (agents/policy/batched-policy.ts). Deterministic by default (argmax over allowed
 * actions, as SB3's evaluate_policy). Results are the same EpisodeRecords as the baselines'.
 */
import { BatchedPolicy } from '../agents/policy/batched-policy.js';
import type { ActorCriticPolicy } from '../agents/policy/policy.js';
import { memberEpisodeEnv, runEpisode } from '../agents/run-episode.js';
import type { EpisodeRecord } from '../agents/types.js';
import type { RandomStream } from '../envs/core/random/streams.js';
import type { EnvOptions } from '../envs/registry.js';
import { resolveEnv } from '../envs/registry.js';

export interface EvaluateOptions {
  /** Argmax over allowed actions (default), or sample from `rng`. */
  deterministic?: boolean;
  rng?: RandomStream;
  /** The `agent` field of the records (default 'ppo'). */
  agentName?: string;
  /** Stop an episode after this many steps (default: the env's own end). */
  maxSteps?: number;
}

/**
 * One episode per seed of `envId`, played by `policy`. Trains nothing, changes nothing. SB3's
 * `evaluate_policy`.
 */
export async function evaluatePolicy(
  policy: ActorCriticPolicy,
  envId: string,
  envOptions: EnvOptions,
  seeds: readonly number[],
  options: EvaluateOptions = {},
): Promise<EpisodeRecord[]> {
  const spec = resolveEnv(envId, envOptions);
  if (spec.observationSize !== policy.spec.shape.observationSize || spec.maskLength !== policy.layout.actionSize) {
    throw new Error(
      `policy expects observations of ${policy.spec.shape.observationSize} and ${policy.layout.actionSize} action ` +
        `logits; ${envId} has ${spec.observationSize} and ${spec.maskLength}`,
    );
  }
  const batched = new BatchedPolicy(policy, {
    name: options.agentName ?? 'ppo',
    deterministic: options.deterministic ?? true,
    rng: options.rng ?? null,
  });
  const maxSteps = options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {};
  return Promise.all(seeds.map((seed, i) => runEpisode(memberEpisodeEnv(spec, i), batched, { seed, ...maxSteps })));
}

/** Mean of a field over records (NaN for none). */
export function meanOf(records: readonly EpisodeRecord[], get: (r: EpisodeRecord) => number): number {
  if (records.length === 0) return Number.NaN;
  return records.reduce((a, r) => a + get(r), 0) / records.length;
}

export function stdOf(records: readonly EpisodeRecord[], get: (r: EpisodeRecord) => number): number {
  const m = meanOf(records, get);
  return Math.sqrt(meanOf(records, (r) => (get(r) - m) ** 2));
}
