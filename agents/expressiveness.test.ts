/**
 * Can a policy on the RL adapter say what the rule agents do? Every valid action each rule agent takes
 * along its own JSON-env episodes must have an allowed index that decodes to it (the non-advance streak
 * rule off: it is a training aid, not a limit of the table); invalid actions (the degenerate agents'
 * requests for services without blocked cases) have none by design and are counted. The agents that
 * take only valid actions then score through the adapter exactly what they score on the JSON env.
 * v3 allows one open document request per service: what it cannot say must be exactly such re-requests.
 */
import { describe, expect, it } from 'vitest';
import type { GovAdapterVersion } from '../envs/gov-workflow/adapter/action-table.js';
import { GovAgentView } from '../envs/gov-workflow/adapter/agent-view.js';
import { GovWorkflowRlEnv } from '../envs/gov-workflow/adapter/rl-env.js';
import { GovWorkflowEnv } from '../envs/gov-workflow/env.js';
import { SERVICES } from '../envs/gov-workflow/types.js';
import { createGovAgent, GOV_AGENT_NAMES } from './registry.js';

const TASKS = ['district_backlog_easy', 'mixed_urgency_medium', 'cross_department_hard'] as const;
const SEEDS = [100, 101, 102];
const NO_STREAK_LIMIT = 1_000_000;

interface Audit {
  valid: number;
  invalid: number;
  inexpressible: string[];
  /** The inexpressible actions that were document requests for a service with documents still awaited. */
  reRequests: number;
}

/** Plays the agent on the JSON env; at every step, looks for an allowed index that stands for its action. */
function audit(agentName: string, task: string, seed: number, adapter: GovAdapterVersion): Audit {
  const env = new GovWorkflowEnv({ taskId: task });
  env.reset({ seed });
  const view = new GovAgentView(env, { adapter, maxNonAdvanceStreak: NO_STREAK_LIMIT });
  view.begin(seed);
  const agent = createGovAgent(agentName);
  agent.reset(seed);
  const result: Audit = { valid: 0, invalid: 0, inexpressible: [], reRequests: 0 };
  const awaiting = new Int32Array(SERVICES.length);
  for (;;) {
    const action = agent.act(view);
    const index = view.table.encode(action, env, view.mask);
    env.current.table.countAwaitingDocuments(awaiting);
    const reRequest =
      action.action_type === 'request_missing_documents' &&
      (awaiting[SERVICES.indexOf(action.service_target ?? 'passport')] as number) > 0;
    const step = env.step(action);
    if (step.info.invalid_action) result.invalid++;
    else {
      result.valid++;
      if (index < 0) {
        result.inexpressible.push(`day ${view.observation.day}: ${JSON.stringify(action)}`);
        if (reRequest) result.reRequests++;
      }
    }
    view.record(action, step.info.invalid_action);
    if (step.terminated || step.truncated) return result;
  }
}

/** The agent driven through the adapter: its JSON action mapped to an index, the adapter stepped. */
function scoreThroughAdapter(agentName: string, task: string, seed: number, adapter: GovAdapterVersion): number {
  const rl = new GovWorkflowRlEnv({ taskId: task, adapter, maxNonAdvanceStreak: NO_STREAK_LIMIT });
  rl.reset({ seed });
  const view = new GovAgentView(rl.inner, { adapter, maxNonAdvanceStreak: NO_STREAK_LIMIT });
  view.begin(seed);
  const agent = createGovAgent(agentName);
  agent.reset(seed);
  for (;;) {
    const action = agent.act(view);
    const index = rl.table.encode(action, rl.inner, rl.actionMasks());
    if (index < 0) throw new Error(`${agentName}: no index for ${JSON.stringify(action)}`);
    const step = rl.step(index);
    view.record(step.info.action, step.info.invalid_action);
    if (step.terminated || step.truncated) return rl.grade().score;
  }
}

function scoreOnJson(agentName: string, task: string, seed: number): number {
  const env = new GovWorkflowEnv({ taskId: task });
  env.reset({ seed });
  const view = new GovAgentView(env);
  view.begin(seed);
  const agent = createGovAgent(agentName);
  agent.reset(seed);
  for (;;) {
    const action = agent.act(view);
    const step = env.step(action);
    view.record(action, step.info.invalid_action);
    if (step.terminated || step.truncated) return env.grade().score;
  }
}

describe('the v2 action table expresses every valid action of every rule agent', () => {
  const rules = GOV_AGENT_NAMES.filter((name) => name !== 'random');
  it.each(rules)('%s', (name) => {
    let valid = 0;
    for (const task of TASKS)
      for (const seed of SEEDS) {
        const a = audit(name, task, seed, 'v2');
        expect(a.inexpressible).toEqual([]);
        valid += a.valid;
      }
    expect(valid).toBeGreaterThan(0);
  });

  it('v1 cannot: the heuristic sets its priority mode before the first case arrives, which v1 masks', () => {
    const a = audit('heuristic', 'mixed_urgency_medium', 100, 'v1');
    expect(a.inexpressible).toEqual(['day 0: {"action_type":"set_priority_mode","priority_mode":"urgent_first"}']);
    // The degenerate agents take invalid steps (documents for services without blocked cases): no table has those.
    expect(audit('urgent_first', 'mixed_urgency_medium', 0, 'v2').invalid).toBe(449);
  });

  it.each(['heuristic', 'oldest_first'])(
    '%s scores through the v2 and v3 adapters exactly what it scores on the JSON env',
    (name) => {
      for (const task of TASKS)
        for (const seed of SEEDS) {
          const json = scoreOnJson(name, task, seed);
          expect(scoreThroughAdapter(name, task, seed, 'v2')).toBe(json);
          expect(scoreThroughAdapter(name, task, seed, 'v3')).toBe(json);
        }
    },
  );
});

describe('the v3 action table: one open document request per service', () => {
  it.each(['heuristic', 'oldest_first'])('expresses every valid action of %s', (name) => {
    for (const task of TASKS) for (const seed of SEEDS) expect(audit(name, task, seed, 'v3').inexpressible).toEqual([]);
  });

  it.each(['urgent_first', 'backlog_clearance'])(
    'what it cannot say of %s is exactly its re-requests for cases already awaiting documents',
    (name) => {
      let reRequests = 0;
      for (const task of TASKS)
        for (const seed of SEEDS) {
          const a = audit(name, task, seed, 'v3');
          expect(a.reRequests).toBe(a.inexpressible.length);
          reRequests += a.reRequests;
        }
      expect(reRequests).toBeGreaterThan(0);
    },
  );
});
