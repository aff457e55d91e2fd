/** Baseline agents by name, per env, for the CLI and evaluation tables. */
import { UnknownIdError } from '../envs/core/errors.js';
import { BacklogClearanceAgent, HeuristicAgent, OldestFirstAgent, UrgentFirstAgent } from './gov-rules.js';
import { HelixRandomAgent } from './helixdesk-random.js';
import { HelixRuleAgent } from './helixdesk-rule.js';
import { MaskedRandomAgent } from './random.js';
import { SearchAgent } from './search.js';
import type { GovAgent, HelixAgent } from './types.js';

function registry<A>(entries: readonly (readonly [string, () => A])[]): {
  names: readonly string[];
  create: (name: string) => A;
} {
  const factories = new Map(entries);
  const names = [...factories.keys()];
  return {
    names,
    create(name: string): A {
      const make = factories.get(name);
      if (!make) throw new UnknownIdError('agent', name, names);
      return make();
    },
  };
}

const GOV = registry<GovAgent>([
  ['urgent_first', () => new UrgentFirstAgent()],
  ['oldest_first', () => new OldestFirstAgent()],
  ['backlog_clearance', () => new BacklogClearanceAgent()],
  ['heuristic', () => new HeuristicAgent()],
  ['random', () => new MaskedRandomAgent()],
  ['search', () => new SearchAgent()],
  // Four freshly seeded futures per candidate: a planner that does not know the arrivals to come.
  ['search-sampled', () => new SearchAgent({ futures: 4 })],
]);

const HELIX = registry<HelixAgent>([
  ['rule', () => new HelixRuleAgent()],
  ['random', () => new HelixRandomAgent()],
]);

/** Agents that plan by simulating the env (they need a live env: not served, not in `--agent all`). */
export const GOV_PLANNER_NAMES: readonly string[] = ['search', 'search-sampled'];
/** The Gov agents that act on an observation alone: the rule agents and random. */
export const GOV_AGENT_NAMES: readonly string[] = GOV.names.filter((n) => !GOV_PLANNER_NAMES.includes(n));
/** Every Gov agent name, planners included. */
export const ALL_GOV_AGENT_NAMES: readonly string[] = GOV.names;
export const createGovAgent = GOV.create;
export const HELIX_AGENT_NAMES: readonly string[] = HELIX.names;
export const createHelixAgent = HELIX.create;
