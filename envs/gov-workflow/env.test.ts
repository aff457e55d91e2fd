import { describe, expect, it } from 'vitest';
import { assertEnvChecks, deepEqual } from '../core/check-env.js';
import {
  EpisodeEndedError,
  InvalidActionError,
  InvalidConfigError,
  NotResetError,
  UnknownIdError,
} from '../core/errors.js';
import type { RandomStream } from '../core/random/streams.js';
import type { GovAction } from './actions.js';
import { CaseTable } from './case-table.js';
import { GovWorkflowEnv } from './env.js';
import { QueueStats } from './observation.js';
import { TASK_IDS } from './tasks.js';
import { PRIORITY_MODES, SERVICES, VARIANTS } from './types.js';

/** A mix of valid and invalid JSON actions, advance_time about half of the time. */
function sampleGovAction(env: GovWorkflowEnv, rng: RandomStream): GovAction {
  const enabled = env.taskConfig.enabledServices;
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)] as T;
  const u = rng.next();
  if (u < 0.5) return { action_type: 'advance_time' };
  if (u < 0.6) return { action_type: 'set_priority_mode', priority_mode: pick(PRIORITY_MODES) };
  if (u < 0.75)
    return { action_type: 'request_missing_documents', service_target: pick(rng.next() < 0.9 ? enabled : SERVICES) };
  if (u < 0.85) return { action_type: 'escalate_service', escalation_target: pick(enabled) };
  if (u < 0.95 && enabled.length >= 2) {
    const from = pick(enabled);
    const to = pick(enabled.filter((s) => s !== from));
    return { action_type: 'reallocate_officers', reallocation_delta: { [from]: -1, [to]: 1 } };
  }
  return { action_type: 'assign_capacity', capacity_assignment: { [pick(enabled)]: 1 } };
}

describe('Gymnasium-style checks on the JSON env', () => {
  for (const variant of VARIANTS) {
    for (const taskId of TASK_IDS) {
      it(`${taskId} (${variant})`, () => {
        const report = assertEnvChecks(() => new GovWorkflowEnv({ taskId, variant }), {
          steps: 120,
          sampleAction: (env, rng) => sampleGovAction(env as unknown as GovWorkflowEnv, rng),
        });
        expect(report.warnings).toEqual([]);
      });
    }
  }
});

describe('bad input gets a clear error and changes nothing', () => {
  const fresh = (): GovWorkflowEnv => {
    const env = new GovWorkflowEnv({ taskId: 'mixed_urgency_medium' });
    env.reset({ seed: 3 });
    for (let i = 0; i < 5; i++) env.step({ action_type: 'advance_time' });
    return env;
  };

  const cases: [string, unknown, string, RegExp][] = [
    ['unknown action_type', { action_type: 'fly' }, 'action_type', /set_priority_mode \| assign_capacity/],
    ['missing action_type', { priority_mode: 'balanced' }, 'action_type', /advance_time/],
    [
      'bad priority mode',
      { action_type: 'set_priority_mode', priority_mode: 'fastest' },
      'priority_mode',
      /urgent_first \| oldest_first \| balanced \| backlog_clearance/,
    ],
    [
      'bad service',
      { action_type: 'request_missing_documents', service_target: 'pizza' },
      'service_target',
      /passport \| driving_license/,
    ],
    [
      'non-integer delta',
      { action_type: 'reallocate_officers', reallocation_delta: { passport: 1.5, income_certificate: -1.5 } },
      'reallocation_delta.passport',
      /integer/,
    ],
    [
      'string delta',
      { action_type: 'reallocate_officers', reallocation_delta: { passport: 'x', income_certificate: -1 } },
      'reallocation_delta.passport',
      /integer/,
    ],
    [
      'wrong JSON type for a dict',
      { action_type: 'assign_capacity', capacity_assignment: [1] },
      'capacity_assignment',
      /object/,
    ],
    ['wrong JSON type for notes', { action_type: 'advance_time', notes: 5 }, 'notes', /string/],
    ['not an object', 'advance_time', '(action)', /JSON object/],
  ];
  it.each(cases)('%s', (_name, action, field, allowed) => {
    const env = fresh();
    const before = env.snapshot();
    const beforeObs = env.observation();
    let error: unknown;
    try {
      env.step(action);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidActionError);
    const e = error as InvalidActionError;
    expect(e.field).toBe(field);
    expect(e.message).toMatch(allowed);
    expect(e.message).toContain(`'${field}'`);
    expect(deepEqual(env.snapshot(), before)).toBe(true);
    expect(env.observation()).toEqual(beforeObs);
    expect(env.state().total_steps).toBe(5);
  });

  it('accepts -1.0 as -1 and ignores unknown top-level keys (as the reference does)', () => {
    const env = fresh();
    const r = env.step({
      action_type: 'reallocate_officers',
      reallocation_delta: { income_certificate: -1.0, passport: 1 },
      service: 'x',
    });
    expect(r.info.invalid_action).toBe(false);
    expect(r.observation.officer_pool.allocated).toMatchObject({ income_certificate: 3, passport: 3 });
  });

  it('a well-formed but inapplicable action is an invalid step with the −1.5 penalty', () => {
    const env = fresh();
    const r = env.step({ action_type: 'reallocate_officers', reallocation_delta: { income_certificate: -1 } });
    expect(r.info.invalid_action).toBe(true);
    expect(r.info.reward_breakdown.invalid_action_penalty).toBe(-1.5);
    expect(r.observation.last_action_valid).toBe(false);
    expect(r.observation.last_action_explanation).toMatch(/^Invalid: reallocation_delta must have at least 2 entries/);
    expect(env.state().total_invalid_actions).toBe(1);
  });

  it('step() after the episode ended', () => {
    const env = new GovWorkflowEnv({ taskId: 'district_backlog_easy' });
    env.reset({ seed: 1 });
    let r: ReturnType<GovWorkflowEnv['step']>;
    do r = env.step({ action_type: 'advance_time' });
    while (!r.terminated && !r.truncated);
    expect(r.truncated).toBe(true);
    expect(() => env.step({ action_type: 'advance_time' })).toThrow(EpisodeEndedError);
    expect(() => env.step({ action_type: 'advance_time' })).toThrow(/call reset\(\)/);
  });

  it('step() before reset()', () => {
    expect(() => new GovWorkflowEnv().step({ action_type: 'advance_time' })).toThrow(NotResetError);
  });

  it('unknown task id lists the task ids', () => {
    expect(() => new GovWorkflowEnv({ taskId: 'nope' })).toThrow(UnknownIdError);
    expect(() => new GovWorkflowEnv({ taskId: 'nope' })).toThrow(
      /district_backlog_easy, mixed_urgency_medium, cross_department_hard, district_backlog_easy_extreme/,
    );
    const env = new GovWorkflowEnv();
    expect(() => env.reset({ options: { task_id: 'nope' } })).toThrow(/known tasks: district_backlog_easy/);
  });

  it('bad reset options name the option and what it accepts', () => {
    const env = new GovWorkflowEnv();
    expect(() => env.reset({ options: { max_steps_per_episode: -3 } })).toThrow(
      /field 'options.max_steps_per_episode' got -3; allowed: a positive integer/,
    );
    env.reset({ seed: 1, options: { max_steps_per_episode: 2 } });
    env.step({ action_type: 'set_priority_mode', priority_mode: 'balanced' });
    expect(env.step({ action_type: 'set_priority_mode', priority_mode: 'balanced' }).truncated).toBe(true);
  });

  it('unknown variant names the field and the allowed values', () => {
    expect(() => new GovWorkflowEnv({ variant: 'fixed' as never })).toThrow(InvalidConfigError);
    expect(() => new GovWorkflowEnv({ variant: 'fixed' as never })).toThrow(/'variant'.*corrected \| reference/);
  });
});

describe('seeding, snapshots and state', () => {
  it('reset() without a seed uses the task seed first, then a derived sequence (Gymnasium-style)', () => {
    const a = new GovWorkflowEnv({ taskId: 'cross_department_hard' });
    expect(a.reset().info.seed).toBe(999);
    const second = a.reset().info.seed;
    expect(second).not.toBe(999);
    const b = new GovWorkflowEnv({ taskId: 'cross_department_hard' });
    b.reset();
    expect(b.reset().info.seed).toBe(second);
  });

  it('restore() rewinds everything, RNG included, and the snapshot stays reusable', () => {
    const env = new GovWorkflowEnv({ taskId: 'cross_department_hard' });
    env.reset({ seed: 5 });
    for (let i = 0; i < 10; i++) env.step({ action_type: 'advance_time' });
    const snap = env.snapshot();
    const branch = (action: unknown): unknown[] => {
      env.restore(snap);
      const out: unknown[] = [env.step(action)];
      for (let i = 0; i < 8; i++) out.push(env.step({ action_type: 'advance_time' }));
      return [...out, env.state(), env.grade()];
    };
    const request = { action_type: 'request_missing_documents', service_target: 'income_certificate' };
    const a1 = branch(request);
    const b1 = branch({ action_type: 'advance_time' });
    const a2 = branch(request); // the doc request draws from the main RNG: identical again after restore
    expect(a2).toEqual(a1);
    expect(b1).not.toEqual(a1);
  });

  it('a restored snapshot works in another env instance', () => {
    const env = new GovWorkflowEnv({ taskId: 'mixed_urgency_medium' });
    env.reset({ seed: 11 });
    for (let i = 0; i < 7; i++) env.step({ action_type: 'advance_time' });
    const other = new GovWorkflowEnv({ taskId: 'district_backlog_easy' });
    other.restore(env.snapshot());
    expect(other.id).toBe('gov-workflow/mixed_urgency_medium');
    expect(other.step({ action_type: 'advance_time' })).toEqual(env.step({ action_type: 'advance_time' }));
  });

  it('incrementally kept counts and statistics equal a recount from the case columns', () => {
    for (const taskId of TASK_IDS) {
      const env = new GovWorkflowEnv({ taskId, variant: 'reference' });
      env.reset({ seed: 2 });
      const rngActions: unknown[] = [
        { action_type: 'advance_time' },
        { action_type: 'advance_time' },
        { action_type: 'escalate_service' },
        { action_type: 'request_missing_documents', service_target: env.taskConfig.enabledServices[0] },
        { action_type: 'set_priority_mode', priority_mode: 'urgent_first' },
      ];
      for (let i = 0; i < 60; i++) {
        const r = env.step(rngActions[i % rngActions.length]);
        const ep = env.current;
        // Rebuild every count and list from the case columns alone, then tally from that copy.
        const table = new CaseTable(16);
        table.load(ep.table.save());
        expect([...table.substateCount, ...table.stageCount, ...table.urgentCount]).toEqual([
          ...ep.table.substateCount,
          ...ep.table.stageCount,
          ...ep.table.urgentCount,
        ]);
        expect(table.documentWatch.length).toBe(ep.table.documentWatch.length);
        const fresh = new QueueStats();
        fresh.tally(table, ep.serviceIndices, ep.counters.day, false);
        fresh.computeSignals(ep.serviceIndices, ep.completedByService, ep.allocated, ep.availableOfficers);
        expect(deepEqual({ ...env.queueStats() }, { ...fresh })).toBe(true);
        if (r.terminated || r.truncated) break;
      }
    }
  });

  it('state() reports the reference fields; the action history only on request', () => {
    const env = new GovWorkflowEnv({ taskId: 'district_backlog_easy' });
    env.reset({ seed: 42 });
    env.step({ action_type: 'set_priority_mode', priority_mode: 'urgent_first', notes: 'hi' });
    env.step({ action_type: 'advance_time' });
    const s = env.state();
    expect(s.action_history).toBeUndefined();
    expect(s.action_history_count).toBe(2);
    expect(s.episode_id).toMatch(/^district_backlog_easy-s42-[0-9a-f]{6}$/);
    const h = env.state({ includeActionHistory: true }).action_history;
    expect(h?.map((e) => [e.step, e.day, e.action.action_type, e.invalid])).toEqual([
      [1, 0, 'set_priority_mode', false],
      [2, 1, 'advance_time', false],
    ]);
  });
});
