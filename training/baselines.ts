/**
 * Baseline agents' episodes on given tasks and seeds, for the baseline command, the evaluation
 * tables and the reference lines of the training plots. Gov Workflow agents play the JSON env with
 * the task's own step cap; HelixDesk agents play the task through its grader.
 */
import { createGovAgent, createHelixAgent, GOV_AGENT_NAMES, HELIX_AGENT_NAMES } from '../agents/registry.js';
import { runGovEpisode } from '../agents/run-episode.js';
import { runHelixTask } from '../agents/run-helixdesk.js';
import type { EpisodeRecord } from '../agents/types.js';
import type { Variant } from '../envs/gov-workflow/types.js';
import { govEnvOptions, helixEnvOptions } from '../envs/registry.js';
import type { EnvOptions } from '../envs/registry.js';
import type { HelixConfig, HelixConfigInput } from '../envs/helixdesk/config.js';
import { runGovLlmEpisode, runHelixLlmEpisode } from '../agents/llm/llm-episodes.js';
import type { LlmPolicyOptions } from '../agents/llm/llm-episodes.js';

export const BASELINE_FAMILIES = ['gov-workflow', 'helixdesk'] as const;
export type BaselineFamily = (typeof BASELINE_FAMILIES)[number];

export function baselineAgentNames(family: BaselineFamily): readonly string[] {
  return family === 'gov-workflow' ? GOV_AGENT_NAMES : HELIX_AGENT_NAMES;
}

export interface BaselineRunOptions {
  /** Gov Workflow case-flow variant (default corrected). */
  variant?: Variant;
  /** Gov Workflow: stop episodes after this many steps. */
  maxSteps?: number;
  /** HelixDesk config (default: the reference's). */
  helixConfig?: HelixConfigInput | HelixConfig;
  /** Called after each episode. */
  onEpisode?: () => void;
}

/** The baseline run options of a family's env options (Gov: the variant; HelixDesk: the config). */
export function baselineRunOptions(family: string, options: EnvOptions): BaselineRunOptions {
  if (family === 'gov-workflow') return { variant: govEnvOptions(options).variant ?? 'corrected' };
  const config = family === 'helixdesk' ? helixEnvOptions(options).config : undefined;
  return config ? { helixConfig: config } : {};
}

/** Every (task, agent, seed) episode, in task → agent → seed order. */
export function runBaselines(
  family: BaselineFamily,
  tasks: readonly string[],
  agents: readonly string[],
  seeds: readonly number[],
  options: BaselineRunOptions = {},
): EpisodeRecord[] {
  const records: EpisodeRecord[] = [];
  for (const task of tasks) {
    for (const agentName of agents) {
      if (family === 'gov-workflow') {
        const agent = createGovAgent(agentName);
        for (const seed of seeds) {
          records.push(
            runGovEpisode(agent, {
              taskId: task,
              seed,
              variant: options.variant ?? 'corrected',
              ...(options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {}),
            }),
          );
          options.onEpisode?.();
        }
      } else {
        const agent = createHelixAgent(agentName);
        for (const seed of seeds) {
          records.push(runHelixTask(agent, task, seed, options.helixConfig ?? {}));
          options.onEpisode?.();
        }
      }
    }
  }
  return records;
}

/**
 * The LLM policy's episodes on tasks × seeds, all started at once (the client's p-limit bounds the
 * requests in flight), returned in task → seed order with agent 'llm'.
 */
export async function runLlmBaselines(
  family: BaselineFamily,
  tasks: readonly string[],
  seeds: readonly number[],
  policy: LlmPolicyOptions,
  options: BaselineRunOptions = {},
): Promise<EpisodeRecord[]> {
  const jobs = tasks.flatMap((task) =>
    seeds.map(async (seed) => {
      const result =
        family === 'gov-workflow'
          ? await runGovLlmEpisode(policy, {
              taskId: task,
              seed,
              variant: options.variant ?? 'corrected',
              ...(options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {}),
            })
          : await runHelixLlmEpisode(policy, {
              task,
              seed,
              ...(options.helixConfig ? { config: options.helixConfig } : {}),
            });
      options.onEpisode?.();
      return result.record;
    }),
  );
  return Promise.all(jobs);
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
