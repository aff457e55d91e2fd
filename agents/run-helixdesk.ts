/** A HelixDesk task graded for an agent and seed, as a baseline record. */
import type { HelixConfig, HelixConfigInput } from '../envs/helixdesk/config.js';
import { gradeHelixTask } from '../envs/helixdesk/graders.js';
import type { EpisodeRecord, HelixAgent } from './types.js';

export function runHelixTask(
  agent: HelixAgent,
  task: string,
  seed: number,
  config: HelixConfigInput | HelixConfig = {},
): EpisodeRecord {
  const g = gradeHelixTask(task, agent, seed, config);
  const metrics: Record<string, number> = { ...g.parts };
  for (const [type, n] of Object.entries(g.events)) metrics[`events_${type}`] = n;
  return { env: 'helixdesk', task, agent: agent.name, seed, score: g.score, reward: g.reward, steps: g.steps, metrics };
}
