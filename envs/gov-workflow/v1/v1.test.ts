import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTrace } from '../trace.js';
import { GovWorkflowV1Env, parseV1Action } from './env.js';
import type { V1Action } from './model.js';
import { zeroMetrics } from './model.js';
import { v1Policy } from './policies.js';
import { completionFairnessGap, v1Grade, v1Reward } from './rules.js';
import { replayV1Trace } from './trace.js';

const DIR = new URL('../../../../shared/fixtures/gov-workflow-v1/', import.meta.url).pathname;
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.json'));

describe('Gov Workflow v1 against the v1 reference', () => {
  it.each(FILES)('%s replays field for field: every step, the final state, the grader', (file) => {
    expect(replayV1Trace(loadTrace(join(DIR, file)))).toEqual({ ok: true, steps: expect.any(Number) });
  });

  it.each(FILES)("%s: v1's own backlog_clearance policy chooses the recorded actions", (file) => {
    const trace = loadTrace(join(DIR, file));
    const env = new GovWorkflowV1Env(trace.task_id);
    let obs = env.reset().observation; // reset(seed=None): the task's seed, as the recording did
    trace.actions.forEach((recorded) => {
      const action = v1Policy('backlog_clearance', obs);
      expect(dropDefaults(action)).toEqual(recorded);
      obs = env.step(action).observation;
    });
  });

  it('the published table: score, steps, completed, backlog and reward sum on the task seeds', () => {
    const rows = ['district_backlog_easy', 'mixed_urgency_medium', 'cross_department_hard'].map((task) => {
      const env = new GovWorkflowV1Env(task);
      let obs = env.reset().observation;
      let reward = 0;
      for (let t = 0; t < 500; t++) {
        const r = env.step(v1Policy('backlog_clearance', obs));
        reward += r.reward;
        obs = r.observation;
        if (r.terminated || r.truncated) break;
      }
      const s = env.state();
      return [env.grade().score, s.total_steps, s.total_completed, s.total_backlog, Math.round(reward * 1e4) / 1e4];
    });
    expect(rows).toEqual([
      [0.6716, 33, 27, 24, 142.74],
      [0.5867, 61, 49, 53, 190.1674],
      [0.6522, 89, 73, 92, 178.5486],
    ]);
  });

  it('an edited trace fails at the edited step, naming the field', () => {
    const trace = JSON.parse(readFileSync(join(DIR, 'district_backlog_easy__seed11__backlog_clearance.json'), 'utf8'));
    trace.steps[5].reward_breakdown.waiting_penalty += 0.01;
    const file = join(mkdtempSync(join(tmpdir(), 'v1-')), 'edited.json');
    writeFileSync(file, JSON.stringify(trace));
    const r = replayV1Trace(loadTrace(file));
    expect(r).toMatchObject({ ok: false, mismatch: { step: 6, path: 'reward_breakdown.waiting_penalty' } });
  });
});

/** The recorded ActionModel dumps drop None fields. */
function dropDefaults(a: V1Action): Record<string, unknown> {
  return Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined && v !== null));
}

describe('v1 rules', () => {
  it('reward: penalties as positive magnitudes, a negative total, Python rounding, the fairness threshold', () => {
    const base = {
      stageAdvances: 0,
      completions: 0,
      activeBacklog: 11,
      newSlaBreaches: 0,
      fairnessGap: 0,
      fairnessThreshold: null,
      invalidAction: false,
      idleCapacity: 0,
    };
    expect(v1Reward(base)).toMatchObject({ total_reward: -0.44, waiting_penalty: 0.44 });
    expect(v1Reward({ ...base, activeBacklog: 0 }).total_reward).toBe(0);
    const r = v1Reward({
      ...base,
      stageAdvances: 3,
      completions: 1,
      newSlaBreaches: 2,
      invalidAction: true,
      idleCapacity: 3,
    });
    expect(r).toMatchObject({
      progress_reward: 2.1,
      completion_reward: 4,
      sla_penalty: 3,
      invalid_action_penalty: 1.5,
    });
    expect(r.idle_capacity_penalty).toBe(0.15);
    expect(r.total_reward).toBe(1.01); // 2.1 + 4 − 0.44 − 3 − 0 − 1.5 − 0.15
    // No threshold: 0.4 applies; a threshold of 0.25 applies itself.
    expect(v1Reward({ ...base, activeBacklog: 0, fairnessGap: 0.5 }).fairness_penalty).toBe(0.2);
    expect(v1Reward({ ...base, activeBacklog: 0, fairnessGap: 0.5, fairnessThreshold: 0.25 }).fairness_penalty).toBe(
      0.5,
    );
    expect(v1Reward({ ...base, activeBacklog: 0, fairnessGap: 0.1, fairnessThreshold: 0.25 }).fairness_penalty).toBe(0);
  });

  it('graders: bounded and rounded to 4, empty ratios as v1 defines them', () => {
    const zero = zeroMetrics();
    const g = v1Grade('mixed_urgency_medium', zero, 0);
    expect(g.metrics).toMatchObject({ completion_rate: 0, sla_compliance: 1, document_rework_quality: 1 });
    expect(g.score).toBe(0.65); // 0 + 0.30 + 0.20 + 0.15
    expect(
      v1Grade('cross_department_hard', { ...zero, total_arrived: 3, total_completed: 1 }, 1.5).metrics,
    ).toMatchObject({ completion_rate: 0.3333, fairness_score: 0, fairness_gap: 1.5 });
    expect(v1Grade('district_backlog_easy', zero, 0).grader_name).toBe('easy');
  });

  it('the fairness gap needs two services with arrivals', () => {
    expect(completionFairnessGap(new Map([['passport', 4]]), new Map([['passport', 1]]))).toBe(0);
    expect(
      completionFairnessGap(
        new Map([
          ['passport', 3],
          ['driving_license', 7],
          ['gst_registration', 0],
        ]),
        new Map([
          ['passport', 1],
          ['driving_license', 7],
        ]),
      ),
    ).toBe(0.6667);
  });
});

describe('v1 env', () => {
  it('rejects invalid actions with the penalty and v1 messages, changing nothing else', () => {
    const env = new GovWorkflowV1Env('district_backlog_easy');
    env.reset();
    const cases: [Record<string, unknown>, string][] = [
      [{ action_type: 'set_priority_mode' }, 'priority_mode required for set_priority_mode'],
      [{ action_type: 'assign_capacity', service: 'passport', officer_delta: 5 }, 'not enough reserve officers'],
      [{ action_type: 'assign_capacity', service: 'passport' }, 'service + positive officer_delta required'],
      [{ action_type: 'request_missing_documents', service: 'passport' }, 'no missing-document case available'],
      [
        {
          action_type: 'reallocate_officers',
          service: 'driving_license',
          target_service: 'driving_license',
          officer_delta: 1,
        },
        'source and target services must differ',
      ],
      [
        {
          action_type: 'reallocate_officers',
          service: 'driving_license',
          target_service: 'passport',
          officer_delta: 3,
        },
        'not enough officers in source service',
      ],
      [{ action_type: 'escalate_service', case_id: 'case-99999' }, 'no eligible case to escalate'],
    ];
    const before = JSON.stringify(env.observation().queue_snapshots);
    for (const [action, message] of cases) {
      const r = env.step(action);
      expect(r.info.invalid_action).toBe(true);
      expect(r.info.last_action_error).toContain(message);
      expect(r.info.reward_breakdown.invalid_action_penalty).toBe(1.5);
      expect(r.observation.last_action_valid).toBe(false);
    }
    expect(JSON.stringify(env.observation().queue_snapshots)).toBe(before);
    expect(env.state().metrics).toMatchObject({ total_invalid_actions: 7, total_wasted_escalations: 1 });
  });

  it('refuses malformed actions naming the field, and steps after the end', () => {
    expect(() => parseV1Action({ action_type: 'fly' })).toThrow(/field 'action_type'/);
    expect(() => parseV1Action({ action_type: 'assign_capacity', service: 'aadhaar_card' })).toThrow(/field 'service'/);
    expect(() => parseV1Action({ action_type: 'advance_time', officer_delta: 1.5 })).toThrow(/field 'officer_delta'/);
    expect(() => new GovWorkflowV1Env('district_backlog_easy_extreme')).toThrow(
      /task_id.*allowed: district_backlog_easy/,
    );
    const env = new GovWorkflowV1Env('district_backlog_easy');
    env.reset();
    for (let t = 0; t < 20; t++) env.step({ action_type: 'advance_time' });
    expect(env.state().truncated).toBe(true);
    expect(() => env.step({ action_type: 'advance_time' })).toThrow(/Episode ended/);
  });

  it('is deterministic per seed, and another seed gives another episode', () => {
    const run = (seed: number): string => {
      const env = new GovWorkflowV1Env('mixed_urgency_medium');
      let obs = env.reset({ seed }).observation;
      const out: number[] = [];
      for (let t = 0; t < 40; t++) {
        const r = env.step(v1Policy('urgent_first', obs));
        out.push(r.reward);
        obs = r.observation;
      }
      return JSON.stringify([out, env.grade()]);
    };
    expect(run(5)).toBe(run(5));
    expect(run(5)).not.toBe(run(6));
  });
});

describe('v1 where the RL adapter would need it', () => {
  it('the env family refuses variant v1 with the reason and where v1 runs', async () => {
    const { resolveEnv } = await import('../../registry.js');
    expect(() => resolveEnv('gov-workflow/mixed_urgency_medium', { variant: 'v1' })).toThrow(
      /options\.variant' is 'v1': the v1 ruleset has no RL adapter .* `baseline --variant v1` and `replay`/,
    );
  });
});
