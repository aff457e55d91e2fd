import { describe, expect, it } from 'vitest';
import { deepEqual } from '../envs/core/check-env.js';
import { GovAgentView } from '../envs/gov-workflow/adapter/agent-view.js';
import { GovWorkflowEnv } from '../envs/gov-workflow/env.js';
import { HeuristicAgent } from './gov-rules.js';
import { runGovEpisode } from './run-episode.js';
import { SearchAgent } from './search.js';

describe('search agent', () => {
  it('scores above the heuristic it rolls out with, and the same twice', async () => {
    for (const seed of [100, 101]) {
      const heuristic = await runGovEpisode(new HeuristicAgent(), { taskId: 'district_backlog_easy', seed });
      const search = await runGovEpisode(new SearchAgent(), { taskId: 'district_backlog_easy', seed });
      const again = await runGovEpisode(new SearchAgent(), { taskId: 'district_backlog_easy', seed });
      expect(search.score).toBeGreaterThan(heuristic.score);
      expect(again).toEqual(search);
    }
  });

  it('with sampled futures: reproducible, its own name, and not the clairvoyant plan', async () => {
    const task = { taskId: 'district_backlog_easy' };
    const again = await runGovEpisode(new SearchAgent({ futures: 2 }), { ...task, seed: 100 });
    const differs: boolean[] = [];
    for (const seed of [100, 101, 102]) {
      const known = await runGovEpisode(new SearchAgent(), { ...task, seed });
      const sampled = await runGovEpisode(new SearchAgent({ futures: 2 }), { ...task, seed });
      if (seed === 100) expect(sampled).toEqual(again);
      expect(sampled.agent).toBe('search-sampled');
      differs.push(sampled.score !== known.score);
    }
    // The rollouts no longer see the env's own future arrivals, so the plans (and scores) change.
    expect(differs).toContain(true);
    for (const bad of [0, -1, 1.5, Number.NaN])
      expect(() => new SearchAgent({ futures: bad })).toThrow(/futures must be/);
  });

  it('plans on a copy: acting leaves the real env exactly as it was', () => {
    const env = new GovWorkflowEnv({ taskId: 'mixed_urgency_medium' });
    env.reset({ seed: 3 });
    const view = new GovAgentView(env);
    view.begin(3);
    for (let i = 0; i < 5; i++) {
      const a = { action_type: 'advance_time' } as const;
      env.step(a);
      view.record(a, false);
    }
    const before = env.snapshot();
    const agent = new SearchAgent({ horizonDays: 2 });
    agent.reset();
    const action = agent.act(view);
    expect(deepEqual(env.snapshot(), before)).toBe(true);
    expect(agent.simulatedSteps).toBeGreaterThan(10);
    expect(typeof action.action_type).toBe('string');
  });

  it('needs an input that offers snapshot(), and a positive horizon', () => {
    const env = new GovWorkflowEnv({ taskId: 'district_backlog_easy' });
    env.reset({ seed: 1 });
    const view = new GovAgentView(env);
    view.begin(1);
    const { snapshot: _s, ...noSnapshot } = {
      task: view.task,
      seed: 1,
      step: 0,
      observation: view.observation,
      mask: view.mask,
      features: view.features,
      actionAt: (i: number) => view.actionAt(i),
      snapshot: () => view.snapshot(),
    };
    expect(() => new SearchAgent().act(noSnapshot)).toThrow(/snapshot\(\)/);
    expect(() => new SearchAgent({ horizonDays: 0 })).toThrow(/horizonDays must be > 0/);
    expect(() => new SearchAgent({ horizonDays: Number.NaN })).toThrow(/horizonDays/);
  });
});
