import { describe, expect, it } from 'vitest';
import { assertEnvChecks, deepEqual } from '../../core/check-env.js';
import { InvalidActionError } from '../../core/errors.js';
import { createStream } from '../../core/random/streams.js';
import { TASK_IDS } from '../tasks.js';
import { SERVICES, VARIANTS } from '../types.js';
import {
  ADVANCE_INDEX,
  decodeAction,
  describeAction,
  ESCALATE_OFFSET,
  N_ACTIONS,
  REALLOCATE_OFFSET,
  REQUEST_DOCS_OFFSET,
} from './action-table.js';
import { GLOBALS_OFFSET, N_FEATURES, SERVICE_BLOCK } from './features.js';
import { GovWorkflowRlEnv, MaskedActionError } from './rl-env.js';

describe('RL adapter passes the env checks', () => {
  for (const variant of VARIANTS) {
    for (const taskId of TASK_IDS) {
      it(`${taskId} (${variant})`, () => {
        const report = assertEnvChecks(() => new GovWorkflowRlEnv({ taskId, variant }), { steps: 150 });
        expect(report.warnings).toEqual([]);
      });
    }
  }
});

describe('masks: every masked-in action is valid, every masked-out one is rejected', () => {
  it.each(TASK_IDS.flatMap((t) => VARIANTS.map((v) => [t, v] as const)))(
    '%s (%s), 4 random episodes',
    (taskId, variant) => {
      const env = new GovWorkflowRlEnv({ taskId, variant });
      const rng = createStream(7, 'mask-test', taskId, variant);
      const seen = new Set<string>();
      let steps = 0;
      for (let episode = 0; episode < 4; episode++) {
        env.reset({ seed: 100 + episode });
        for (let t = 0; ; t++) {
          const mask = env.actionMasks();
          const allowed = [...mask.keys()].filter((i) => mask[i] === 1);
          expect(allowed).toContain(ADVANCE_INDEX);
          if (t % 5 === 0) {
            // Exhaustive at this state: each allowed action, from the same snapshot, is a valid step.
            const snap = env.snapshot();
            for (const a of allowed) {
              env.restore(snap);
              const r = env.step(a);
              if (r.info.invalid_action)
                expect.fail(`${describeAction(a)} was masked in but invalid: ${JSON.stringify(r.info.action)}`);
            }
            env.restore(snap);
            // Each forbidden index throws and leaves the env exactly as it was.
            for (let a = 0; a < N_ACTIONS; a++) {
              if (mask[a] === 1) continue;
              expect(() => env.step(a)).toThrow(MaskedActionError);
            }
            expect(deepEqual(env.snapshot(), snap)).toBe(true);
          }
          const action = allowed[rng.int(allowed.length)] as number;
          seen.add(describeAction(action).split(':')[0] as string);
          const r = env.step(action);
          steps++;
          expect(r.info.invalid_action).toBe(false);
          if (r.terminated || r.truncated) break;
        }
      }
      expect(steps).toBeGreaterThan(100);
      expect(seen).toContain('request_missing_documents');
      expect(seen).toContain('set_priority_mode');
    },
  );

  it('forces advance_time after three non-advance actions, and when nothing is queued', () => {
    const env = new GovWorkflowRlEnv({ taskId: 'mixed_urgency_medium' });
    const m0 = env.reset({ seed: 1 }) && env.actionMasks();
    expect([...m0].reduce((a, b) => a + b, 0)).toBe(1); // day 0: no backlog
    env.step(ADVANCE_INDEX);
    env.step(0); // urgent_first
    env.step(2); // balanced
    expect(env.actionMasks()[1]).toBe(1);
    env.step(1); // oldest_first: third non-advance action
    const m = env.actionMasks();
    expect([...m.keys()].filter((i) => m[i] === 1)).toEqual([ADVANCE_INDEX]);
    expect(() => env.step(0)).toThrow(/masked out in this state; allowed: 20/);
  });

  it('rejects indices outside the action space with the allowed range', () => {
    const env = new GovWorkflowRlEnv();
    env.reset({ seed: 0 });
    expect(() => env.step(31)).toThrow(InvalidActionError);
    expect(() => env.step(1.5)).toThrow(/'action'.*integer in \[0, 30\]/);
  });
});

describe('features and decoding', () => {
  it('163 values in [0, 1]; services a task lacks are zero blocks; aadhaar_card is covered', () => {
    const env = new GovWorkflowRlEnv({ taskId: 'mixed_urgency_medium' });
    env.reset({ seed: 4 });
    let obs: Float32Array = new Float32Array(0);
    for (let i = 0; i < 12; i++) obs = env.step(ADVANCE_INDEX).observation;
    expect(obs.length).toBe(N_FEATURES);
    expect(obs.every((v) => v >= 0 && v <= 1)).toBe(true);
    const block = (s: string): Float32Array =>
      obs.subarray(SERVICES.indexOf(s as never) * SERVICE_BLOCK, (SERVICES.indexOf(s as never) + 1) * SERVICE_BLOCK);
    expect(block('aadhaar_card')[0]).toBe(1);
    expect(block('aadhaar_card')[1]).toBeGreaterThan(0); // pending cases are visible
    expect([...block('gst_registration')].every((v) => v === 0)).toBe(true);
    expect(obs[GLOBALS_OFFSET]).toBeCloseTo(12 / 45, 6); // day / max_days
    expect(obs[GLOBALS_OFFSET + 14 + 2]).toBe(1); // balanced
  });

  it('decodes indices into the env JSON actions', () => {
    const env = new GovWorkflowRlEnv({ taskId: 'mixed_urgency_medium' });
    env.reset({ seed: 4 });
    for (let i = 0; i < 5; i++) env.step(ADVANCE_INDEX);
    expect(env.decode(3)).toEqual({ action_type: 'set_priority_mode', priority_mode: 'backlog_clearance' });
    expect(env.decode(REQUEST_DOCS_OFFSET + 2)).toEqual({
      action_type: 'request_missing_documents',
      service_target: 'aadhaar_card',
    });
    expect(env.decode(ESCALATE_OFFSET)).toEqual({ action_type: 'escalate_service', escalation_target: 'passport' });
    expect(env.decode(ADVANCE_INDEX)).toEqual({ action_type: 'advance_time' });
    const pending = env.inner.observation().queue_snapshots;
    const others = (['income_certificate', 'land_registration', 'driving_license', 'aadhaar_card'] as const).map(
      (s) => (pending[s] as { total_pending: number }).total_pending,
    );
    const most = ['income_certificate', 'land_registration', 'driving_license', 'aadhaar_card'][
      others.indexOf(Math.max(...others))
    ] as string;
    expect(decodeAction(REALLOCATE_OFFSET, env.inner)).toEqual({
      action_type: 'reallocate_officers',
      reallocation_delta: { passport: -1, [most]: 1 },
    });
  });
});
