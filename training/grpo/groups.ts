/**
 * An iteration's groups: G completions sampled per walker state (one request with n = G, or G
 * parallel requests), then each completion scored from a restored snapshot of its state (rewards.ts)
 * and given its group-relative advantage. A group whose requests keep failing is skipped and counted.
 */
import type { LlmClient } from '../../agents/llm/client.js';
import { LlmRequestError } from '../../agents/llm/client.js';
import { canonicalJson } from '../../envs/core/plain-data.js';
import type { GovAction } from '../../envs/gov-workflow/actions.js';
import type { GovWorkflowEnv } from '../../envs/gov-workflow/env.js';
import type { GrpoConfig } from './config.js';
import type { GrpoSample } from './learners.js';
import { requestSeed } from './learners.js';
import { groupAdvantages, scoreCompletion } from './rewards.js';
import type { Walker, WalkerPrompt } from './walkers.js';

export interface SampledGroup {
  texts: string[];
  /** The sampler's log-probability of each completion, when the endpoint reports one. */
  logprobs: (number | null)[];
}

/** One group per walker, or null where the requests failed after the client's retries. */
export async function sampleGroups(
  sampler: LlmClient,
  prompts: readonly WalkerPrompt[],
  config: GrpoConfig,
  iteration: number,
  log: (line: string) => void,
): Promise<(SampledGroup | null)[]> {
  return Promise.all(
    prompts.map(async (prompt, i) => {
      try {
        return await sampleGroup(sampler, prompt, config, requestSeed(config.seed, iteration, i));
      } catch (err) {
        if (!(err instanceof LlmRequestError)) throw err;
        log(`[grpo] iteration ${iteration}: walker ${i}'s group skipped: ${err.message}`);
        return null;
      }
    }),
  );
}

/** G completions of a prompt: one request with n = G, or G parallel requests (config.sampling). */
async function sampleGroup(
  client: LlmClient,
  prompt: WalkerPrompt,
  config: GrpoConfig,
  seed: number,
): Promise<SampledGroup> {
  const G = config.group_size;
  const base = {
    messages: prompt.messages,
    temperature: config.temperature,
    maxTokens: config.max_tokens,
    logprobs: true,
    jsonSchema: { name: prompt.schemaName, schema: prompt.jsonSchema },
  };
  const group = (choices: { content: string; logprob: number | null }[]): SampledGroup => ({
    texts: choices.map((c) => c.content),
    logprobs: choices.map((c) => c.logprob),
  });
  if (config.sampling !== 'parallel') {
    const r = await client.complete({ ...base, n: G, seed });
    if (r.choices.length >= G || config.sampling === 'n') return group(r.choices.slice(0, G));
    // The endpoint ignored n: fill the group with single requests.
    const rest = await Promise.all(
      Array.from({ length: G - r.choices.length }, (_, k) => client.complete({ ...base, n: 1, seed: seed + 1 + k })),
    );
    return group([...r.choices, ...rest.flatMap((x) => x.choices.slice(0, 1))]);
  }
  const rs = await Promise.all(Array.from({ length: G }, (_, k) => client.complete({ ...base, n: 1, seed: seed + k })));
  return group(rs.flatMap((x) => x.choices.slice(0, 1)));
}

export interface ScoredIteration {
  samples: GrpoSample[];
  /** Each walker's next action: its group's first completion's (null: unusable, or the group was skipped). */
  firstActions: (GovAction | null)[];
  sums: {
    fn1: number;
    fn2: number;
    fn3: number;
    reward: number;
    invalid: number;
    n: number;
    std: number;
    zeroStd: number;
    groups: number;
  };
}

/** Scores every completion from its walker's state (scratch envs) and gives it its group-relative advantage. */
export function scoreGroups(
  groups: readonly (SampledGroup | null)[],
  prompts: readonly WalkerPrompt[],
  walkers: readonly Walker[],
  scratch: readonly GovWorkflowEnv[],
  config: GrpoConfig,
  iteration: number,
): ScoredIteration {
  const out: ScoredIteration = {
    samples: [],
    firstActions: [],
    sums: { fn1: 0, fn2: 0, fn3: 0, reward: 0, invalid: 0, n: 0, std: 0, zeroStd: 0, groups: 0 },
  };
  groups.forEach((group, i) => {
    if (!group) {
      out.firstActions.push(null);
      return;
    }
    const w = walkers[i] as Walker;
    const prompt = prompts[i] as WalkerPrompt;
    const snapshot = w.env.snapshot();
    const env = scratch[i] as GovWorkflowEnv;
    // Identical completions score identically: each distinct text once.
    const cache = new Map<string, ReturnType<typeof scoreCompletion>>();
    const scores = group.texts.map((text) => {
      let s = cache.get(text);
      if (!s) {
        s = scoreCompletion(
          text,
          env,
          snapshot,
          config.continuation_horizon,
          config.continuation_policy,
          config.reward_weights,
        );
        cache.set(text, s);
      }
      return s;
    });
    const adv = groupAdvantages(
      scores.map((s) => s.reward),
      config.scale_rewards,
      config.advantage_eps,
    );
    const sums = out.sums;
    sums.groups++;
    sums.std += adv.std;
    if (adv.zeroStd) sums.zeroStd++;
    const indexOf = new Map([...prompt.allowed.entries()].map(([k, a]) => [canonicalJson(a), k]));
    scores.forEach((s, k) => {
      sums.fn1 += s.fn1_valid;
      sums.fn2 += s.fn2_no_halluc;
      sums.fn3 += s.fn3_env_score;
      sums.reward += s.reward;
      if (s.fn1_valid < 1) sums.invalid++;
      sums.n++;
      if (adv.zeroStd && config.drop_zero_std_groups) return;
      out.samples.push({
        groupId: `${iteration}-${i}`,
        task: w.task,
        seed: w.seed,
        step: w.step,
        messages: prompt.messages,
        completion: group.texts[k] as string,
        samplerLogprob: group.logprobs[k] ?? null,
        rewards: {
          fn1_valid: s.fn1_valid,
          fn2_no_halluc: s.fn2_no_halluc,
          fn3_env_score: s.fn3_env_score,
          total: s.reward,
        },
        advantage: adv.advantages[k] as number,
        features: prompt.features,
        mask: prompt.mask,
        actionIndex: s.action ? (indexOf.get(canonicalJson(s.action)) ?? null) : null,
      });
    });
    out.firstActions.push(scores[0]?.action ?? null);
  });
  return out;
}
