/**
 * The local policies the policy server answers with: a PPO or GRPO checkpoint (masked logits of the
 * block's features; argmax at temperature 0, draws from softmax(logits / T) otherwise, with the
 * log-probability of each answer) or a baseline agent (stateful ones kept per episode). Seeded
 * requests get the same answers on any server. Details: docs/policy-server.md.
 */

import { UnknownIdError } from '../../envs/core/errors.js';
import type { RandomStream } from '../../envs/core/random/streams.js';
import { createStream } from '../../envs/core/random/streams.js';
import type { GovAction } from '../../envs/gov-workflow/actions.js';
import type { GovObservation } from '../../envs/gov-workflow/observation.js';
import { GovObservationSchema } from '../../envs/gov-workflow/observation.js';
import { HelixRuleAgent } from '../helixdesk-rule.js';
import type { CheckpointReadOptions } from '../policy/checkpoint.js';
import { loadPolicyCheckpoint } from '../policy/checkpoint.js';
import { ActorCriticPolicy } from '../policy/policy.js';
import { createGovAgent, createHelixAgent, GOV_AGENT_NAMES, HELIX_AGENT_NAMES } from '../registry.js';
import type { GovAgent, GovAgentInput } from '../types.js';
import type { ObservationBlock } from './observation-block.js';
import { decodeFeatures, decodeMask } from './observation-block.js';
import { compact, helixAnswer } from './prompts.js';

export type ServedEnv = 'gov-workflow' | 'helixdesk';
export const SERVED_ENVS: readonly ServedEnv[] = ['gov-workflow', 'helixdesk'];

/**
 * Below this temperature an answer is the most likely action, as at 0 (vLLM's _SAMPLING_EPS): dividing logits by less
 * overflows.
 */
export const GREEDY_TEMPERATURE = 1e-5;

export interface ChooseOptions {
  /** Answers wanted (≥ 1). */
  n: number;
  /** Below GREEDY_TEMPERATURE (0 included): the most likely action; otherwise sampled (docs/policy-server.md). */
  temperature: number;
  /** Seed of the sampling stream; null = a fresh stream per call. */
  seed: number | null;
}

export interface ServedAnswer {
  answer: Record<string, unknown>;
  /** Log-probability of the answer (see the file comment); null when the policy is deterministic. */
  logprob: number | null;
}

export interface ServedPolicy {
  readonly name: string;
  readonly env: ServedEnv;
  /** n answers to one observation. Synchronous. Throws PolicyInputError when the block does not fit the policy. */
  choose(block: ObservationBlock, opts: ChooseOptions): ServedAnswer[];
  /** The checkpoint directory a PPO policy was loaded from (the server's /v1/load_weights needs one). */
  readonly checkpoint?: string;
  /** Action sizes the policy was built for, when fixed (PPO). */
  readonly nvec?: readonly number[];
  /** Features the policy reads, when fixed (PPO). */
  readonly observationSize?: number;
  /** Frees what the policy holds (tfjs tensors). Idempotent. */
  close?(): void;
}

/** The observation block does not fit the served policy (the server answers 400). */
export class PolicyInputError extends Error {
  override readonly name = 'PolicyInputError';
}

function requireEnv(policy: { name: string; env: ServedEnv }, block: ObservationBlock): void {
  if (block.env !== policy.env)
    throw new PolicyInputError(
      `the observation block is for ${block.env}, but '${policy.name}' is a ${policy.env} policy`,
    );
}

/** The sampling stream of one call (see the file comment). */
function streamFor(seed: number | null, unseededCalls: number): RandomStream {
  return seed === null
    ? createStream(0, 'policy-server', 'unseeded', unseededCalls)
    : createStream(seed, 'policy-server', 'seeded');
}

/** Gov: the JSON action the block lists for an index. */
function govActionAt(block: ObservationBlock, index: number): Record<string, unknown> {
  const action = block.actions?.[String(index)];
  if (!action)
    throw new PolicyInputError(
      `the observation block lists no action for index ${index} (its 'actions' must hold every allowed index)`,
    );
  return compact(action as GovAction) as Record<string, unknown>;
}

function answerFor(block: ObservationBlock, action: ArrayLike<number>): Record<string, unknown> {
  if (block.env === 'gov-workflow') return govActionAt(block, action[0] as number);
  return helixAnswer(action, (block.nvec[2] as number) - 1) as Record<string, unknown>;
}

// ---- PPO checkpoints -------------------------------------------------------------------------

export interface PpoServedPolicy extends ServedPolicy {
  readonly checkpoint: string;
  readonly nvec: readonly number[];
  readonly observationSize: number;
  /** The network (for tests and diagnostics: logits of prepared observations). */
  readonly policy: ActorCriticPolicy;
  close(): void;
}

/**
 * A PPO checkpoint as a served policy (a checkpoint directory, or a directory with a `latest`
 * pointer). The tfjs backend must be initialised first (initBackend): the engine adapts to it.
 */
export function ppoServedPolicy(
  checkpointDir: string,
  name?: string,
  read: CheckpointReadOptions = {},
): PpoServedPolicy {
  const ckpt = loadPolicyCheckpoint(checkpointDir, read);
  const family = ckpt.envId.split('/')[0] ?? '';
  if (!(SERVED_ENVS as readonly string[]).includes(family))
    throw new PolicyInputError(
      `the checkpoint was trained on '${ckpt.envId}'; the policy server serves ${SERVED_ENVS.join(' and ')} policies`,
    );
  const env = family as ServedEnv;
  const policy = new ActorCriticPolicy(ckpt.spec, ckpt.parameters);
  if (policy.normalizer) {
    if (!ckpt.obsNormalizer) {
      policy.dispose();
      throw new PolicyInputError('the policy normalises observations but the checkpoint holds no statistics');
    }
    policy.normalizer.load(ckpt.obsNormalizer);
  }
  const nvec = [...ckpt.spec.shape.nvec];
  const observationSize = ckpt.spec.shape.observationSize;
  const actionSize = nvec.reduce((a, b) => a + b, 0);
  const dims = nvec.length;
  const logits = new Float32Array(actionSize);
  const scaled = new Float32Array(actionSize);
  const values = new Float32Array(1);
  const action = new Int32Array(dims);
  const logp = new Float64Array(1);
  const out1 = { actions: action, logProbs: logp };
  let unseededCalls = 0;
  let closed = false;
  const label = name ?? ckpt.dir;

  return {
    name: label,
    env,
    checkpoint: ckpt.dir,
    nvec,
    observationSize,
    policy,
    choose(block, opts) {
      if (closed) throw new Error(`policy '${label}' is closed`);
      requireEnv({ name: label, env }, block);
      if (block.nvec.length !== dims || block.nvec.some((n, d) => n !== nvec[d])) {
        throw new PolicyInputError(
          `the observation block's action sizes are [${block.nvec.join(', ')}], the checkpoint's policy has ` +
            `[${nvec.join(', ')}]`,
        );
      }
      const features = decodeFeatures(block.features);
      if (features.length !== observationSize)
        throw new PolicyInputError(
          `the observation block has ${features.length} features, the checkpoint's policy reads ${observationSize}`,
        );
      const mask = decodeMask(block.mask);
      policy.engine.forward(policy.prepare(features, 1), 1, logits, values);
      const out: ServedAnswer[] = [];
      if (opts.temperature < GREEDY_TEMPERATURE) {
        policy.distribution.act({ logits, masks: mask, batch: 1, deterministic: true, rng: null }, out1);
        const answer = answerFor(block, action);
        for (let i = 0; i < opts.n; i++)
          out.push({ answer: i === 0 ? answer : structuredClone(answer), logprob: logp[0] as number });
        return out;
      }
      for (let k = 0; k < actionSize; k++) scaled[k] = (logits[k] as number) / opts.temperature;
      const rng = streamFor(opts.seed, opts.seed === null ? unseededCalls++ : 0);
      for (let i = 0; i < opts.n; i++) {
        policy.distribution.act({ logits: scaled, masks: mask, batch: 1, deterministic: false, rng }, out1);
        out.push({ answer: answerFor(block, action), logprob: logp[0] as number });
      }
      return out;
    },
    close() {
      if (closed) return;
      closed = true;
      policy.dispose();
    },
  };
}

// ---- Rule agents -----------------------------------------------------------------------------

/** What a Gov rule agent sees, rebuilt from an observation block (the same as it sees in a local episode). */
function govInputOf(block: ObservationBlock, observation: GovObservation): GovAgentInput {
  return {
    task: block.task,
    seed: block.seed,
    step: block.step,
    observation,
    mask: decodeMask(block.mask),
    features: decodeFeatures(block.features),
    actionAt: (index) => govActionAt(block, index) as unknown as GovAction,
  };
}

/** A copy of a rule agent's state (their fields are primitives: a shallow copy is a full one). */
function cloneAgent(agent: GovAgent): GovAgent {
  return Object.assign(Object.create(Object.getPrototypeOf(agent) as object) as GovAgent, agent);
}

const MAX_EPISODES = 256;

/** A baseline agent (agents/registry.ts) of `env` as a served policy. */
export function ruleServedPolicy(agentName: string, env: ServedEnv): ServedPolicy {
  if (!(SERVED_ENVS as readonly string[]).includes(env)) throw new UnknownIdError('env', env, SERVED_ENVS);
  let unseededCalls = 0;
  const stream = (seed: number | null): RandomStream => streamFor(seed, seed === null ? unseededCalls++ : 0);
  if (env === 'gov-workflow') {
    if (!GOV_AGENT_NAMES.includes(agentName))
      throw new UnknownIdError('gov-workflow agent', agentName, GOV_AGENT_NAMES);
    return agentName === 'random' ? govRandomServed(stream) : govRuleServed(agentName);
  }
  if (!HELIX_AGENT_NAMES.includes(agentName)) throw new UnknownIdError('helixdesk agent', agentName, HELIX_AGENT_NAMES);
  return agentName === 'random' ? helixRandomServed(stream) : helixRuleServed(agentName);
}

/** Gov random: uniform over the block's allowed actions, logprob log(1/k). */
function govRandomServed(stream: (seed: number | null) => RandomStream): ServedPolicy {
  const me = { name: 'random', env: 'gov-workflow' as const };
  return {
    ...me,
    choose(block, opts) {
      requireEnv(me, block);
      const indices = Object.keys(block.actions ?? {})
        .map(Number)
        .sort((a, b) => a - b);
      if (indices.length === 0)
        throw new PolicyInputError("the Gov Workflow observation block lists no allowed 'actions'");
      const rng = stream(opts.seed);
      const logprob = -Math.log(indices.length);
      return Array.from({ length: opts.n }, () => ({
        answer: govActionAt(block, indices[rng.int(indices.length)] as number),
        logprob,
      }));
    },
  };
}

/** A stateful Gov rule agent, kept per episode (see the file comment). */
function govRuleServed(agentName: string): ServedPolicy {
  createGovAgent(agentName); // fail early on a name the registry cannot build
  const me = { name: agentName, env: 'gov-workflow' as const };
  const episodes = new Map<string, { step: number; before: GovAgent; after: GovAgent }>();
  return {
    ...me,
    choose(block, opts) {
      requireEnv(me, block);
      if (!block.state)
        throw new PolicyInputError(
          "the Gov Workflow observation block has no 'state' (the JSON observation the rule agents read)",
        );
      const parsed = GovObservationSchema.safeParse(block.state);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new PolicyInputError(
          `the observation block's state is not a Gov Workflow observation: ${issue?.path.join('.') || '(state)'} ` +
            `${issue?.message ?? ''}`.trim(),
        );
      }
      const key = `${block.task}\u0000${block.seed}`;
      const known = episodes.get(key);
      let before: GovAgent;
      if (known && known.step === block.step) before = known.before;
      else if (known && known.step === block.step - 1) before = known.after;
      else {
        before = createGovAgent(agentName);
        before.reset(block.seed);
      }
      const agent = cloneAgent(before);
      const answer = compact(agent.act(govInputOf(block, parsed.data))) as Record<string, unknown>;
      episodes.delete(key); // re-insert: the map's order is least recently used first
      episodes.set(key, { step: block.step, before, after: agent });
      if (episodes.size > MAX_EPISODES) episodes.delete(episodes.keys().next().value as string);
      return Array.from({ length: opts.n }, (_, i) => ({
        answer: i === 0 ? answer : structuredClone(answer),
        logprob: null,
      }));
    },
  };
}

/** The number of employees of a HelixDesk block (nvec[2] − 1), after checking its shape. */
function helixEmployees(me: { name: string; env: ServedEnv }, block: ObservationBlock): number {
  requireEnv(me, block);
  if (block.nvec.length !== 4)
    throw new PolicyInputError(
      `HelixDesk actions have 4 dimensions; the observation block's nvec is [${block.nvec.join(', ')}]`,
    );
  return (block.nvec[2] as number) - 1;
}

/** HelixDesk random: uniform per dimension over its allowed entries, logprob Σ log(1/k_d). */
function helixRandomServed(stream: (seed: number | null) => RandomStream): ServedPolicy {
  createHelixAgent('random');
  const me = { name: 'random', env: 'helixdesk' as const };
  return {
    ...me,
    choose(block, opts) {
      const nEmployees = helixEmployees(me, block);
      const mask = decodeMask(block.mask);
      const allowed: number[][] = [];
      let offset = 0;
      for (const n of block.nvec) {
        const entries: number[] = [];
        for (let k = 0; k < n; k++) if (mask[offset + k] === 1) entries.push(k);
        if (entries.length === 0)
          throw new PolicyInputError('the observation block allows no entry in an action dimension');
        allowed.push(entries);
        offset += n;
      }
      const logprob = allowed.reduce((s, e) => s - Math.log(e.length), 0);
      const rng = stream(opts.seed);
      return Array.from({ length: opts.n }, () => ({
        answer: helixAnswer(
          allowed.map((e) => e[rng.int(e.length)] as number),
          nEmployees,
        ) as Record<string, unknown>,
        logprob,
      }));
    },
  };
}

/** The HelixDesk rule agent on the block's observation. */
function helixRuleServed(agentName: string): ServedPolicy {
  const agent = new HelixRuleAgent();
  const me = { name: agentName, env: 'helixdesk' as const };
  return {
    ...me,
    choose(block, opts) {
      const nEmployees = helixEmployees(me, block);
      const features = decodeFeatures(block.features);
      const needed = 15 + 2 * nEmployees;
      if (features.length < needed) {
        throw new PolicyInputError(
          `the observation block has ${features.length} features; the HelixDesk rule agent reads ${needed} for ` +
            `${nEmployees} employees`,
        );
      }
      const input = { observation: features, mask: decodeMask(block.mask), nvec: block.nvec };
      const answer = helixAnswer(agent.act(input), nEmployees) as Record<string, unknown>;
      return Array.from({ length: opts.n }, (_, i) => ({
        answer: i === 0 ? answer : structuredClone(answer),
        logprob: null,
      }));
    },
  };
}
