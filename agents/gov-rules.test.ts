/**
 * The rule agents against figures measured on the reference code (its v2 baselines; docs/baselines.md): in the
 * `reference` variant our agents must reproduce them.
 */
import { describe, expect, it } from 'vitest';
import type { GovAction } from '../envs/gov-workflow/actions.js';
import { GovAgentView } from '../envs/gov-workflow/adapter/agent-view.js';
import { GovWorkflowEnv } from '../envs/gov-workflow/env.js';
import { HeuristicAgent } from './gov-rules.js';
import { MaskedRandomAgent } from './random.js';
import { createGovAgent, GOV_AGENT_NAMES } from './registry.js';
import { runGovEpisode } from './run-episode.js';

describe('heuristic agent (baseline_openai.py) reproduces the reference runs', () => {
  // [task, seed, score, completed, steps] with the reference script's 80-step cap.
  const runs: [string, number, number, number, number][] = [
    ['district_backlog_easy', 11, 0.5274, 41, 45],
    ['mixed_urgency_medium', 22, 0.4185, 82, 65],
    ['cross_department_hard', 33, 0.5683, 117, 80],
    ['district_backlog_easy', 42, 0.5342, -1, -1],
    ['mixed_urgency_medium', 123, 0.4175, -1, -1],
    ['cross_department_hard', 999, 0.5651, -1, -1],
  ];
  it.each(runs)('%s seed %i', async (taskId, seed, score, completed, steps) => {
    const r = await runGovEpisode(createGovAgent('heuristic'), { taskId, seed, variant: 'reference', maxSteps: 80 });
    expect(r.score).toBeCloseTo(score, 4);
    if (completed >= 0) expect(r.metrics.total_completed).toBe(completed);
    if (steps >= 0) expect(r.steps).toBe(steps);
  });
});

describe('baselines.py policies reproduce the reference runs (task seeds)', () => {
  it('oldest_first = advance only: easy 0.5536 with 48 completed and reward 79.72', async () => {
    const r = await runGovEpisode(createGovAgent('oldest_first'), {
      taskId: 'district_backlog_easy',
      seed: 42,
      variant: 'reference',
    });
    expect([r.score, r.metrics.total_completed, r.steps]).toEqual([expect.closeTo(0.5536, 4), 48, 30]);
    expect(r.reward).toBeCloseTo(79.72, 2);
    const medium = await runGovEpisode(createGovAgent('oldest_first'), {
      taskId: 'mixed_urgency_medium',
      seed: 123,
      variant: 'reference',
    });
    expect([medium.score, medium.metrics.total_completed, medium.metrics.total_cases_arrived]).toEqual([
      expect.closeTo(0.4056, 4),
      84,
      1215,
    ]);
    expect(medium.reward).toBeCloseTo(-1188.64, 2);
  });

  it('urgent_first and backlog_clearance degenerate into endless document requests, as in the reference', async () => {
    for (const agent of ['urgent_first', 'backlog_clearance']) {
      const easy = await runGovEpisode(createGovAgent(agent), {
        taskId: 'district_backlog_easy',
        seed: 42,
        variant: 'reference',
      });
      expect([easy.steps, easy.metrics.total_completed]).toEqual([300, 0]);
      expect(easy.score).toBeCloseTo(0.55, 2);
      const medium = await runGovEpisode(createGovAgent(agent), {
        taskId: 'mixed_urgency_medium',
        seed: 123,
        variant: 'reference',
      });
      expect(medium.score).toBeCloseTo(0.3, 2);
      const hard = await runGovEpisode(createGovAgent(agent), {
        taskId: 'cross_department_hard',
        seed: 999,
        variant: 'reference',
      });
      expect(hard.score).toBeCloseTo(0.56, 2);
    }
  });
});

describe('masked random agent', () => {
  it('is reproducible per seed, never takes an invalid action, and differs across seeds', async () => {
    const run = (seed: number) =>
      runGovEpisode(new MaskedRandomAgent(), { taskId: 'cross_department_hard', seed, variant: 'corrected' });
    const a = await run(5);
    expect(await run(5)).toEqual(a);
    expect(a.metrics.total_invalid_actions).toBe(0);
    expect(await run(6)).not.toEqual(a);
  });

  it('does not step the env its input reads', () => {
    const env = new GovWorkflowEnv({ taskId: 'mixed_urgency_medium' });
    env.reset({ seed: 1 });
    const view = new GovAgentView(env);
    view.begin(1);
    const agent = new MaskedRandomAgent();
    agent.reset(1);
    agent.act(view);
    expect(env.state().total_steps).toBe(0);
  });
});

it('every registered agent runs an episode on every task', async () => {
  for (const name of GOV_AGENT_NAMES) {
    const r = await runGovEpisode(createGovAgent(name), {
      taskId: 'district_backlog_easy_extreme',
      seed: 3,
      variant: 'corrected',
    });
    expect(r.score).toBeGreaterThanOrEqual(0);
    expect(r.score).toBeLessThanOrEqual(1);
  }
  expect(() => createGovAgent('genius')).toThrow(
    /unknown agent 'genius'; known agents: urgent_first, oldest_first, backlog_clearance, heuristic, random/,
  );
});

describe('the heuristic with one rule changed (HeuristicOptions)', () => {
  /** Every action of an episode with the day it was taken on. */
  const play = (agent: HeuristicAgent, task: string, seed: number) => {
    const env = new GovWorkflowEnv({ taskId: task });
    env.reset({ seed });
    const view = new GovAgentView(env);
    view.begin(seed);
    const actions: { day: number; daysLeft: number; action: GovAction }[] = [];
    for (;;) {
      const action = agent.act(view);
      const day = view.observation.day;
      actions.push({ day, daysLeft: view.observation.max_days - day, action });
      const step = env.step(action);
      view.record(action, step.info.invalid_action);
      if (step.terminated || step.truncated) return { actions, score: env.grade().score };
    }
  };

  it('the defaults are the reference heuristic, action for action', () => {
    for (const task of ['mixed_urgency_medium', 'cross_department_hard'])
      expect(play(new HeuristicAgent({}), task, 3)).toEqual(play(new HeuristicAgent(), task, 3));
  });

  it('sets the given priority mode first', () => {
    const { actions } = play(new HeuristicAgent({ priorityMode: 'oldest_first' }), 'district_backlog_easy', 1);
    expect(actions[0]?.action).toEqual({ action_type: 'set_priority_mode', priority_mode: 'oldest_first' });
    expect(actions.filter((a) => a.action.action_type === 'set_priority_mode')).toHaveLength(1);
  });

  it('asks for no documents in the last N days, and plays as the reference until then', () => {
    const reference = play(new HeuristicAgent(), 'cross_department_hard', 1000);
    const late = reference.actions.filter(
      (a) => a.action.action_type === 'request_missing_documents' && a.daysLeft <= 2,
    );
    expect(late.length).toBeGreaterThan(0); // the reference does ask then
    const cut = play(new HeuristicAgent({ noDocRequestsInLastDays: 2 }), 'cross_department_hard', 1000);
    expect(cut.actions.filter((a) => a.action.action_type === 'request_missing_documents' && a.daysLeft <= 2)).toEqual(
      [],
    );
    const first = reference.actions.findIndex((a) => a.daysLeft <= 2);
    expect(cut.actions.slice(0, first)).toEqual(reference.actions.slice(0, first));
    expect(cut.score).toBeGreaterThan(reference.score);
  });

  it('rejects a mode the env does not have and a negative, fractional or NaN day count, naming the field', () => {
    expect(() => new HeuristicAgent({ priorityMode: 'fastest' as never })).toThrow(
      /priorityMode: 'fastest' is not allowed; allowed: urgent_first, oldest_first, balanced, backlog_clearance/,
    );
    for (const n of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => new HeuristicAgent({ noDocRequestsInLastDays: n })).toThrow(
        /noDocRequestsInLastDays: .* is not allowed; allowed: an integer >= 0/,
      );
  });

  it('a clone keeps the options (the search agent plans with clones)', () => {
    const agent = new HeuristicAgent({ priorityMode: 'balanced' });
    const env = new GovWorkflowEnv({ taskId: 'district_backlog_easy' });
    env.reset({ seed: 2 });
    const view = new GovAgentView(env);
    view.begin(2);
    expect(agent.clone().act(view)).toEqual({ action_type: 'set_priority_mode', priority_mode: 'balanced' });
  });
});
