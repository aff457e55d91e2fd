/**
 * Evaluating a trained policy on given episode seeds: every seed's episode runs side by side through
 * the episode runner (agents/run-episode.ts) on the env's vector-env member — so the episode of seed
 * s is the one a baseline agent plays on seed s — and one batched forward pass answers all of them
 * at each step (agents/policy/batched-policy.ts). Deterministic by default (argmax over allowed
 * actions, as SB3's evaluate_policy). Results are the same EpisodeRecords as the baselines'.
 */
import { BatchedPolicy } from '../agents/policy/batched-policy.js';
import type { ActorCriticPolicy } from '../agents/policy/policy.js';
import { memberEpisodeEnv, remoteEpisodeEnv, runEpisode } from '../agents/run-episode.js';
import type { EpisodeRecord } from '../agents/types.js';
import type { RandomStream } from '../envs/core/random/streams.js';
import type { EnvOptions, EnvSpec } from '../envs/registry.js';
import { resolveEnv } from '../envs/registry.js';
import type { RemoteMember } from '../envs/vector/remote.js';
import { connectRemoteMembers } from '../envs/vector/remote.js';

export interface EvaluateOptions {
  /** Argmax over allowed actions (default), or sample from `rng`. */
  deterministic?: boolean;
  rng?: RandomStream;
  /** The `agent` field of the records (default 'ppo'). */
  agentName?: string;
  /** Stop an episode after this many steps (default: the env's own end). */
  maxSteps?: number;
  /** Play the episodes on these env servers (serve-env), one remote member per seed: the same records. */
  servers?: readonly string[];
  /** For servers that require one (default $QUEUE_RL_API_KEY). */
  apiKey?: string | null;
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
  checkFits(policy, spec, envId);
  const batched = new BatchedPolicy(policy, {
    name: options.agentName ?? 'ppo',
    deterministic: options.deterministic ?? true,
    rng: options.rng ?? null,
  });
  const maxSteps = options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {};
  if (!options.servers || options.servers.length === 0)
    return Promise.all(seeds.map((seed, i) => runEpisode(memberEpisodeEnv(spec, i), batched, { seed, ...maxSteps })));
  const remote = await connectRemoteMembers(seeds.length, {
    urls: options.servers,
    envId,
    options: envOptions,
    apiKey: options.apiKey ?? process.env.QUEUE_RL_API_KEY ?? null,
  });
  try {
    return await Promise.all(
      seeds.map((seed, i) =>
        runEpisode(remoteEpisodeEnv(remote.spec, remote.members[i] as RemoteMember), batched, { seed, ...maxSteps }),
      ),
    );
  } finally {
    for (const m of remote.members) m.conn.close();
  }
}

function checkFits(policy: ActorCriticPolicy, spec: EnvSpec, envId: string): void {
  if (spec.observationSize !== policy.spec.shape.observationSize || spec.maskLength !== policy.layout.actionSize) {
    throw new Error(
      `policy expects observations of ${policy.spec.shape.observationSize} and ${policy.layout.actionSize} action ` +
        `logits; ${envId} has ${spec.observationSize} and ${spec.maskLength}`,
    );
  }
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
