import { describe, expect, it } from 'vitest';
import { assertEnvChecks, deepEqual } from '../../core/check-env.js';
import { InvalidActionError } from '../../core/errors.js';
import { createStream } from '../../core/random/streams.js';
import { TASK_IDS } from '../tasks.js';
import { SERVICES, VARIANTS } from '../types.js';
import {
  ADVANCE_INDEX,
  decodeAction,
  ESCALATE_OFFSET,
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
  const cases = [
    ...TASK_IDS.flatMap((t) => VARIANTS.map((v) => [t, v, 'v1'] as const)),
    ...TASK_IDS.map((t) => [t, 'corrected', 'v2'] as const),
    ...TASK_IDS.flatMap((t) => VARIANTS.map((v) => [t, v, 'v3'] as const)),
  ];
  it.each(cases)('%s (%s, %s), 4 random episodes', (taskId, variant, adapter) => {
    const env = new GovWorkflowRlEnv({ taskId, variant, adapter });
    const rng = createStream(7, 'mask-test', taskId, variant, ...(adapter === 'v1' ? [] : [adapter]));
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
              expect.fail(`${env.table.describe(a)} was masked in but invalid: ${JSON.stringify(r.info.action)}`);
          }
          env.restore(snap);
          // Each forbidden index throws and leaves the env exactly as it was.
          for (let a = 0; a < env.table.size; a++) {
            if (mask[a] === 1) continue;
            expect(() => env.step(a)).toThrow(MaskedActionError);
          }
          expect(deepEqual(env.snapshot(), snap)).toBe(true);
        }
        const action = allowed[rng.int(allowed.length)] as number;
        seen.add(env.table.describe(action).split(':')[0] as string);
        const r = env.step(action);
        steps++;
        expect(r.info.invalid_action).toBe(false);
        if (r.terminated || r.truncated) break;
      }
    }
    expect(steps).toBeGreaterThan(100);
    expect(seen).toContain('request_missing_documents');
    expect(seen).toContain('set_priority_mode');
    if (adapter !== 'v1' && env.inner.current.serviceIndices.length > 1) expect(seen).toContain('reallocate_officers');
  });

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

describe('the v2 table and features', () => {
  it('any one-officer move has its own index, decoding and encoding round-trip', () => {
    const env = new GovWorkflowRlEnv({ taskId: 'mixed_urgency_medium', adapter: 'v2' });
    env.reset({ seed: 4 });
    for (let i = 0; i < 3; i++) env.step(ADVANCE_INDEX);
    expect(env.table.size).toBe(79);
    expect(env.actionSpace.n).toBe(79);
    const mask = env.actionMasks();
    const enabled = env.inner.current.serviceIndices.map((s) => SERVICES[s] as string);
    let moves = 0;
    for (let i = REALLOCATE_OFFSET; i < env.table.assignMostPendingIndex; i++) {
      if (mask[i] !== 1) continue;
      moves++;
      const action = env.decode(i);
      const delta = Object.entries(action.reallocation_delta ?? {});
      expect(delta).toHaveLength(2);
      expect(delta.map(([, v]) => v).sort()).toEqual([-1, 1]);
      expect(delta.every(([svc]) => enabled.includes(svc))).toBe(true);
      expect(env.table.encode(action, env.inner, mask)).toBe(i);
    }
    expect(moves).toBe(enabled.length * (enabled.length - 1)); // every enabled service has officers here
    expect(env.table.describe(REALLOCATE_OFFSET)).toBe('reallocate_officers:passport_to_driving_license');
    expect(env.table.describe(REALLOCATE_OFFSET + 7)).toBe('reallocate_officers:driving_license_to_passport');
    // An action with no allowed index (a mode that is already set) encodes to −1.
    expect(env.table.encode({ action_type: 'set_priority_mode', priority_mode: 'balanced' }, env.inner, mask)).toBe(-1);
  });

  it('priority modes are allowed before the first case arrives; all else but advance waits for a backlog', () => {
    const env = new GovWorkflowRlEnv({ taskId: 'mixed_urgency_medium', adapter: 'v2' });
    env.reset({ seed: 1 });
    const mask = env.actionMasks();
    expect([...mask.keys()].filter((i) => mask[i] === 1)).toEqual([0, 1, 3, ADVANCE_INDEX]); // not 'balanced'
  });

  it('166 features: the 163 of v1, then days since the last document request, reallocation and escalation', () => {
    const env = new GovWorkflowRlEnv({ taskId: 'mixed_urgency_medium', adapter: 'v2' });
    env.reset({ seed: 4 });
    let obs = env.observe();
    expect(obs.length).toBe(166);
    expect([...obs.subarray(163)]).toEqual([1, 1, 1]); // never
    for (let i = 0; i < 4; i++) obs = env.step(ADVANCE_INDEX).observation;
    const v1 = new GovWorkflowRlEnv({ taskId: 'mixed_urgency_medium' });
    v1.reset({ seed: 4 });
    let obsV1 = v1.observe();
    for (let i = 0; i < 4; i++) obsV1 = v1.step(ADVANCE_INDEX).observation;
    expect([...obs.subarray(0, 163)]).toEqual([...obsV1]);
    const docs = [...env.actionMasks().keys()].find(
      (i) => i >= REQUEST_DOCS_OFFSET && i < ESCALATE_OFFSET && env.actionMasks()[i],
    );
    expect(docs).toBeDefined();
    obs = env.step(docs as number).observation;
    expect(obs[163]).toBe(0); // today
    obs = env.step(ADVANCE_INDEX).observation;
    obs = env.step(ADVANCE_INDEX).observation;
    expect(obs[163]).toBeCloseTo(0.2, 6);
    expect(obs[164]).toBe(1);
    // A snapshot carries the days; one saved before they existed restores as "never".
    const snap = env.snapshot();
    const { lastDocRequestDay: _d, ...oldTrace } = snap.trace;
    env.restore({ ...snap, trace: oldTrace as typeof snap.trace });
    expect(env.observe()[163]).toBe(1);
    env.restore(snap);
    expect(env.observe()[163]).toBeCloseTo(0.2, 6);
  });
});

describe('the v3 table: one open document request per service', () => {
  /** The first service (SERVICES index) whose document request the mask allows, or −1. */
  const requestable = (mask: Uint8Array): number => {
    for (let s = 0; s < SERVICES.length; s++) if (mask[REQUEST_DOCS_OFFSET + s] === 1) return s;
    return -1;
  };

  it("masks a second request while the first one's documents are awaited; v2 allows it", () => {
    const v3 = new GovWorkflowRlEnv({ taskId: 'cross_department_hard', adapter: 'v3' });
    const v2 = new GovWorkflowRlEnv({ taskId: 'cross_department_hard', adapter: 'v2' });
    v3.reset({ seed: 5 });
    v2.reset({ seed: 5 });
    while (requestable(v3.actionMasks()) < 0) {
      v3.step(ADVANCE_INDEX);
      v2.step(ADVANCE_INDEX);
    }
    expect(v3.table.size).toBe(v2.table.size);
    expect(v3.observe()).toEqual(v2.observe()); // v2's features
    const s = requestable(v3.actionMasks());
    const index = REQUEST_DOCS_OFFSET + s;
    v3.step(index);
    v2.step(index);
    const awaiting = v3.inner.current.table.countAwaitingDocuments(new Int32Array(SERVICES.length));
    expect(awaiting[s]).toBeGreaterThan(0);
    expect(awaiting.reduce((a, b) => a + b, 0)).toBe(awaiting[s]);
    expect(v2.inner.queueStats().blockedMissingDocs[s]).toBeGreaterThan(0);
    expect(v2.actionMasks()[index]).toBe(1); // v2 would re-request
    expect(v3.actionMasks()[index]).toBe(0);
    expect(() => v3.step(index)).toThrow(MaskedActionError);
    // Answers come within three days; then the service can be asked again (if it has blocked cases).
    let days = 0;
    while (v3.inner.current.table.countAwaitingDocuments(new Int32Array(SERVICES.length))[s] !== 0) {
      v3.step(ADVANCE_INDEX);
      days++;
    }
    expect(days).toBeGreaterThanOrEqual(2);
    expect(days).toBeLessThanOrEqual(3);
    const blocked = v3.inner.queueStats().blockedMissingDocs[s] as number;
    expect(v3.actionMasks()[index]).toBe(blocked > 0 ? 1 : 0);
  });

  it('the awaited count survives a snapshot and restore', () => {
    const env = new GovWorkflowRlEnv({ taskId: 'mixed_urgency_medium', adapter: 'v3' });
    env.reset({ seed: 9 });
    while (requestable(env.actionMasks()) < 0) env.step(ADVANCE_INDEX);
    const index = REQUEST_DOCS_OFFSET + requestable(env.actionMasks());
    env.step(index);
    const snap = env.snapshot();
    const masked = env.actionMasks().slice();
    const fresh = new GovWorkflowRlEnv({ taskId: 'mixed_urgency_medium', adapter: 'v3' });
    fresh.restore(snap);
    expect(fresh.actionMasks()).toEqual(masked);
    expect(masked[index]).toBe(0);
  });
});

describe('reward modes on the adapter', () => {
  /** Plays a seeded random masked policy; returns Σ reward, Σ env reward and the final score. */
  function play(reward: { mode: 'env' | 'grader' | 'mix'; graderScale?: number; envWeight?: number }, task: string) {
    const env = new GovWorkflowRlEnv({ taskId: task, adapter: 'v2', reward });
    const rng = createStream(3, 'reward-mode', task);
    env.reset({ seed: 21 });
    let total = 0;
    let envTotal = 0;
    let negative = 0;
    for (;;) {
      const mask = env.actionMasks();
      const allowed = [...mask.keys()].filter((i) => mask[i] === 1);
      const r = env.step(allowed[rng.int(allowed.length)] as number);
      total += r.reward;
      envTotal += r.info.env_reward;
      if (r.reward < 0) negative++;
      if (r.terminated || r.truncated) return { total, envTotal, negative, score: env.grade().score };
    }
  }

  it.each(['district_backlog_easy', 'mixed_urgency_medium', 'cross_department_hard'])(
    '%s: a grader episode returns scale × its final score; mix adds the weighted env return',
    (task) => {
      const env = play({ mode: 'env' }, task);
      expect(env.total).toBe(env.envTotal);
      const grader = play({ mode: 'grader', graderScale: 100 }, task);
      expect(grader.score).toBe(env.score); // the same episode: the reward does not change the dynamics
      expect(grader.total).toBeCloseTo(100 * grader.score, 9);
      expect(grader.negative).toBeGreaterThan(0); // the score also goes down
      const mix = play({ mode: 'mix', graderScale: 50, envWeight: 0.02 }, task);
      expect(mix.total).toBeCloseTo(50 * env.score + 0.02 * env.envTotal, 9);
    },
  );

  it('a snapshot carries the score the next step is measured from', () => {
    const env = new GovWorkflowRlEnv({ taskId: 'mixed_urgency_medium', adapter: 'v2', reward: { mode: 'grader' } });
    env.reset({ seed: 5 });
    for (let i = 0; i < 6; i++) env.step(ADVANCE_INDEX);
    const snap = env.snapshot();
    const a = env.step(ADVANCE_INDEX).reward;
    env.reset({ seed: 9 });
    env.restore(snap);
    expect(env.step(ADVANCE_INDEX).reward).toBe(a);
  });
});
