/**
 * Baseline agents' episodes on given tasks and seeds, for the baseline command, the evaluation
 * tables and the reference lines of the training plots. Gov Workflow agents play the JSON env with
 * the task's own step cap; HelixDesk agents play the graded task (envs/helixdesk/task-env.ts).
 */

import type { LlmPolicyOptions } from '../agents/llm/llm-episodes.js';
import { runGovLlmEpisode, runHelixLlmEpisode } from '../agents/llm/llm-episodes.js';
import { createGovAgent, createHelixAgent, GOV_AGENT_NAMES, HELIX_AGENT_NAMES } from '../agents/registry.js';
import { govEpisodeEnv, helixEpisodeEnv, remoteEpisodeEnv, runEpisode } from '../agents/run-episode.js';
import type { EpisodeRecord } from '../agents/types.js';
import { TASKS } from '../envs/gov-workflow/tasks.js';
import type { Variant } from '../envs/gov-workflow/types.js';
import { v1Agent, v1EpisodeEnv } from '../envs/gov-workflow/v1/episode.js';
import type { V1PolicyName } from '../envs/gov-workflow/v1/policies.js';
import { V1_POLICY_NAMES } from '../envs/gov-workflow/v1/policies.js';
import { V1_TASKS } from '../envs/gov-workflow/v1/tasks.js';
import type { HelixConfig, HelixConfigInput } from '../envs/helixdesk/config.js';
import type { EnvOptions } from '../envs/registry.js';
import { govEnvOptions, helixEnvOptions } from '../envs/registry.js';
import type { RemoteMember } from '../envs/vector/remote.js';
import { connectRemoteMembers } from '../envs/vector/remote.js';

export const BASELINE_FAMILIES = ['gov-workflow', 'helixdesk'] as const;
export type BaselineFamily = (typeof BASELINE_FAMILIES)[number];

export function baselineAgentNames(family: BaselineFamily): readonly string[] {
  return family === 'gov-workflow' ? GOV_AGENT_NAMES : HELIX_AGENT_NAMES;
}

export interface BaselineRunOptions {
  /** Gov Workflow case-flow variant (default corrected); `v1`: the v1 ruleset and its own policies. */
  variant?: Variant | 'v1';
  /** Gov Workflow: stop episodes after this many steps. */
  maxSteps?: number;
  /** HelixDesk config (default: the reference's). */
  helixConfig?: HelixConfigInput | HelixConfig;
  /** Called after each episode. */
  onEpisode?: () => void;
  /** The LLM policy's settings, for the agent name `llm`. */
  llm?: LlmPolicyOptions;
  /**
   * HelixDesk: play the rule and random agents' episodes on these env servers (serve-env); they act on
   * the observation vector alone. Gov Workflow agents and LLMs read the env's JSON state: refused.
   */
  servers?: readonly string[];
}

/** The baseline run options of a family's env options (Gov: the variant; HelixDesk: the config). */
export function baselineRunOptions(family: string, options: EnvOptions): BaselineRunOptions {
  if (family === 'gov-workflow') return { variant: govEnvOptions(options).variant ?? 'corrected' };
  const config = family === 'helixdesk' ? helixEnvOptions(options).config : undefined;
  return config ? { helixConfig: config } : {};
}

/**
 * Every (task, agent, seed) episode, in task → agent → seed order. Agent names are the family's
 * baseline agents, and `llm` when `options.llm` is given: its episodes run concurrently (the
 * client's p-limit bounds the requests in flight), the rule agents' one after another.
 */
export async function runBaselines(
  family: BaselineFamily,
  tasks: readonly string[],
  agents: readonly string[],
  seeds: readonly number[] | 'task',
  options: BaselineRunOptions = {},
): Promise<EpisodeRecord[]> {
  const records: EpisodeRecord[] = [];
  const servers = options.servers ?? [];
  if (servers.length > 0 && (family !== 'helixdesk' || agents.includes('llm')))
    throw new Error(
      'env servers: only HelixDesk rule and random agents play remotely (Gov Workflow agents and LLM prompts read ' +
        "the env's JSON state); run them in-process",
    );
  for (const task of tasks) {
    // One remote session per task, reused by every agent and seed (episodes run one after another).
    const remote =
      servers.length > 0
        ? await connectRemoteMembers(1, {
            urls: servers,
            envId: `${family}/${task}`,
            options: options.helixConfig ? { config: options.helixConfig as unknown as Record<string, unknown> } : {},
            apiKey: process.env.QUEUE_RL_API_KEY ?? null,
          })
        : null;
    try {
      const taskSeeds = seedsOf(family, task, seeds, options.variant === 'v1');
      for (const agent of agents) {
        const episode = async (seed: number): Promise<EpisodeRecord> => {
          const record = remote
            ? await runEpisode(
                remoteEpisodeEnv(remote.spec, remote.members[0] as RemoteMember),
                createHelixAgent(agent),
                {
                  seed,
                },
              )
            : await runBaselineEpisode(family, task, agent, seed, options);
          options.onEpisode?.();
          return record;
        };
        if (agent === 'llm') records.push(...(await Promise.all(taskSeeds.map(episode))));
        else for (const seed of taskSeeds) records.push(await episode(seed));
      }
    } finally {
      for (const m of remote?.members ?? []) m.conn.close();
    }
  }
  return records;
}

/** One baseline episode through the episode runner (agents/run-episode.ts). */
async function runBaselineEpisode(
  family: BaselineFamily,
  task: string,
  agent: string,
  seed: number,
  options: BaselineRunOptions,
): Promise<EpisodeRecord> {
  const maxSteps = options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {};
  if (agent === 'llm') {
    if (!options.llm) throw new Error('runBaselines: the llm agent needs LLM settings (options.llm)');
    const result =
      family === 'gov-workflow'
        ? await runGovLlmEpisode(options.llm, {
            taskId: task,
            seed,
            variant: v2Variant(options.variant),
            ...maxSteps,
          })
        : await runHelixLlmEpisode(options.llm, {
            task,
            seed,
            ...(options.helixConfig ? { config: options.helixConfig } : {}),
          });
    return result.record;
  }
  if (family === 'gov-workflow' && options.variant === 'v1') {
    if (!(V1_POLICY_NAMES as readonly string[]).includes(agent))
      throw new Error(`variant v1: agent '${agent}' is not one of v1's own policies: ${V1_POLICY_NAMES.join(', ')}`);
    return runEpisode(v1EpisodeEnv(task), v1Agent(agent as V1PolicyName), { seed, ...maxSteps });
  }
  if (family === 'gov-workflow') {
    const env = govEpisodeEnv({ taskId: task, variant: v2Variant(options.variant) });
    return runEpisode(env, createGovAgent(agent), { seed, ...maxSteps });
  }
  return runEpisode(helixEpisodeEnv(task, options.helixConfig ?? {}), createHelixAgent(agent), { seed });
}

/** The v2 variant of a baseline run (the LLM path has no v1 prompts: refused). */
function v2Variant(variant: Variant | 'v1' | undefined): Variant {
  if (variant === 'v1') throw new Error('variant v1: the llm agent plays the v2 env only');
  return variant ?? 'corrected';
}

/** The seeds of a task: the given list, or `task` — the task's own seed (v1: 11 / 22 / 33). */
export function seedsOf(
  family: BaselineFamily,
  task: string,
  seeds: readonly number[] | 'task',
  v1: boolean,
): number[] {
  if (seeds !== 'task') return [...seeds];
  if (family === 'gov-workflow') return [(v1 ? V1_TASKS.get(task)?.seed : TASKS.get(task)?.seed) ?? 0];
  return [42];
}

/** Records of several agents ordered task → agent (in `agents` order) → seed, as the tables list them. */
export function orderRecords(
  records: readonly EpisodeRecord[],
  tasks: readonly string[],
  agents: readonly string[],
): EpisodeRecord[] {
  const rank = (r: EpisodeRecord): number =>
    tasks.indexOf(r.task) * 1000 + (agents.indexOf(r.agent) < 0 ? 999 : agents.indexOf(r.agent));
  return [...records].sort((a, b) => rank(a) - rank(b));
}
