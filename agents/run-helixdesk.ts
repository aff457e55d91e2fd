/** A HelixDesk task graded for an agent and seed, as a baseline record. */
import type { HelixConfig, HelixConfigInput } from '../envs/helixdesk/config.js';
import { helixEpisodeEnv, runEpisode } from './run-episode.js';
import type { EpisodeRecord, HelixAgent } from './types.js';

export function runHelixTask(
  agent: HelixAgent,
  task: string,
  seed: number,
  config: HelixConfigInput | HelixConfig = {},
): Promise<EpisodeRecord> {
  return runEpisode(helixEpisodeEnv(task, config), agent, { seed });
}
