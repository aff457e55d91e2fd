/** Baseline agents by name, for the CLI and evaluation tables. */
import { UnknownIdError } from '../envs/core/errors.js';
import { BacklogClearanceAgent, HeuristicAgent, OldestFirstAgent, UrgentFirstAgent } from './gov-rules.js';
import { MaskedRandomAgent } from './random.js';
import { HelixRandomAgent } from './helixdesk-random.js';
import { HelixRuleAgent } from './helixdesk-rule.js';
import type { GovAgent, HelixAgent } from './types.js';

const FACTORIES: ReadonlyMap<string, () => GovAgent> = new Map<string, () => GovAgent>([
  ['urgent_first', () => new UrgentFirstAgent()],
  ['oldest_first', () => new OldestFirstAgent()],
  ['backlog_clearance', () => new BacklogClearanceAgent()],
  ['heuristic', () => new HeuristicAgent()],
  ['random', () => new MaskedRandomAgent()],
]);

export const GOV_AGENT_NAMES: readonly string[] = [...FACTORIES.keys()];

export function createGovAgent(name: string): GovAgent {
  const make = FACTORIES.get(name);
  if (!make) throw new UnknownIdError('agent', name, GOV_AGENT_NAMES);
  return make();
}

const HELIX_FACTORIES: ReadonlyMap<string, () => HelixAgent> = new Map<string, () => HelixAgent>([
  ['rule', () => new HelixRuleAgent()],
  ['random', () => new HelixRandomAgent()],
]);

export const HELIX_AGENT_NAMES: readonly string[] = [...HELIX_FACTORIES.keys()];

export function createHelixAgent(name: string): HelixAgent {
  const make = HELIX_FACTORIES.get(name);
  if (!make) throw new UnknownIdError('agent', name, HELIX_AGENT_NAMES);
  return make();
}
