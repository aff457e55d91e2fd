/**
 * Evaluating a trained policy on given episode seeds, through the same vector-env members the
 * training used (so the episode of seed s is the episode a baseline agent plays on seed s: Gov
 * Workflow members reset the env with exactly that seed). Episodes run side by side, one batched
 * forward pass per step, until each ends; results are the same EpisodeRecords as the baselines'.
 * Deterministic by default (argmax over allowed actions, as SB3's evaluate_policy).
 */
import type { EpisodeRecord } from '../agents/types.js';
import type { RandomStream } from '../envs/core/random/streams.js';
import { resolveEnv } from '../envs/registry.js';
import type { EnvOptions } from '../envs/registry.js';
import type { ActorCriticPolicy } from '../agents/policy/policy.js';

export interface EvaluateOptions {
  /** Argmax over allowed actions (default), or sample from `rng`. */
  deterministic?: boolean;
  rng?: RandomStream;
  /** The `agent` field of the records (default 'ppo'). */
  agentName?: string;
  /** Stop an episode after this many steps (default: the env's own end). */
  maxSteps?: number;
}

export function evaluatePolicy(
  policy: ActorCriticPolicy,
  envId: string,
  envOptions: EnvOptions,
  seeds: readonly number[],
  options: EvaluateOptions = {},
): EpisodeRecord[] {
  const spec = resolveEnv(envId, envOptions);
  if (spec.observationSize !== policy.spec.shape.observationSize || spec.maskLength !== policy.layout.actionSize) {
    throw new Error(
      `policy expects observations of ${policy.spec.shape.observationSize} and ${policy.layout.actionSize} action logits; ${envId} has ${spec.observationSize} and ${spec.maskLength}`,
    );
  }
  const deterministic = options.deterministic ?? true;
  const n = seeds.length;
  const O = spec.observationSize;
  const M = spec.maskLength;
  const D = spec.actionDims;
  const members = seeds.map((_, i) => spec.makeMember(i));
  const observations = new Float32Array(n * O);
  const masks = new Uint8Array(n * M);
  members.forEach((m, i) =>
    m.reset(seeds[i], observations.subarray(i * O, (i + 1) * O), masks.subarray(i * M, (i + 1) * M)),
  );
  const returns = new Float64Array(n);
  const lengths = new Int32Array(n);
  const records: (EpisodeRecord | null)[] = seeds.map(() => null);
  const metrics = new Float64Array(spec.metricNames.length);
  // Batch of the episodes still running.
  const batchObs = new Float32Array(n * O);
  const batchMasks = new Uint8Array(n * M);
  const actions = new Int32Array(n * D);
  const logp = new Float64Array(n);
  const values = new Float32Array(n);
  const active: number[] = seeds.map((_, i) => i);
  const cap = options.maxSteps ?? Number.POSITIVE_INFINITY;
  while (active.length > 0) {
    active.forEach((i, row) => {
      batchObs.set(observations.subarray(i * O, (i + 1) * O), row * O);
      batchMasks.set(masks.subarray(i * M, (i + 1) * M), row * M);
    });
    const B = active.length;
    const prepared = policy.prepare(batchObs.subarray(0, B * O), B);
    policy.act(prepared, batchMasks, B, deterministic, options.rng ?? null, actions, logp, values);
    const still: number[] = [];
    active.forEach((i, row) => {
      const member = members[i];
      if (!member) return;
      const r = member.step(
        actions.subarray(row * D, (row + 1) * D),
        observations.subarray(i * O, (i + 1) * O),
        masks.subarray(i * M, (i + 1) * M),
      );
      returns[i] = (returns[i] as number) + r.reward;
      lengths[i] = (lengths[i] as number) + 1;
      if (r.terminated || r.truncated || (lengths[i] as number) >= cap) {
        const score = member.summarize(metrics);
        const named: Record<string, number> = {};
        spec.metricNames.forEach((name, k) => {
          named[name] = metrics[k] as number;
        });
        if (spec.family === 'gov-workflow') {
          named.total_sla_breaches = named.total_sla_breached ?? Number.NaN; // the baseline tables' name
          named.invalid_action_rate = (named.total_invalid_actions ?? 0) / (lengths[i] as number);
        }
        records[i] = {
          env: spec.family,
          task: spec.task,
          agent: options.agentName ?? 'ppo',
          seed: seeds[i] as number,
          score,
          reward: returns[i] as number,
          steps: lengths[i] as number,
          metrics: named,
        };
      } else {
        still.push(i);
      }
    });
    active.splice(0, active.length, ...still);
  }
  return records.map((r) => {
    if (!r) throw new Error('evaluation ended with an unfinished episode');
    return r;
  });
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
