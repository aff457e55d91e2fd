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
import type { HelixConfig, HelixConfigInput } from '../envs/helixdesk/config.js';

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

/** Every (task, agent, seed) episode, in task → agent → seed order. */
export function runBaselines(family: BaselineFamily, tasks: readonly string[], agents: readonly string[], seeds: readonly number[], options: BaselineRunOptions = {}): EpisodeRecord[] {
  const records: EpisodeRecord[] = [];
  for (const task of tasks) {
    for (const agentName of agents) {
      if (family === 'gov-workflow') {
        const agent = createGovAgent(agentName);
        for (const seed of seeds) {
          records.push(runGovEpisode(agent, { taskId: task, seed, variant: options.variant ?? 'corrected', ...(options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {}) }));
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
