import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HelixRandomAgent } from '../../agents/helixdesk-random.js';
import { HelixRuleAgent } from '../../agents/helixdesk-rule.js';
import type { HelixAgentInput } from '../../agents/types.js';
import { assertEnvChecks, deepEqual } from '../core/check-env.js';
import { EpisodeEndedError, InvalidActionError, InvalidConfigError } from '../core/errors.js';
import {
  DEFAULT_HELIX_CONFIG,
  loadHelixConfig,
  observationLayout,
  observationSize,
  parseHelixConfig,
} from './config.js';
import { HelixDeskEnv } from './env.js';
import { KEYWORD_SENTENCES, TEMPLATES } from './templates.js';

/** What a HelixDesk agent acts on, for an observation of `env`. */
function inputOf(env: HelixDeskEnv, observation: Float32Array): HelixAgentInput {
  const nvec = [...env.actionSpace.nvec];
  return { observation, mask: new Uint8Array(nvec.reduce((a, b) => a + b, 0)).fill(1), nvec };
}

function rollout(
  env: HelixDeskEnv,
  seed: number,
  steps = Number.POSITIVE_INFINITY,
): { rewards: number[]; ids: string[]; bodies: string[]; obs: Float32Array[] } {
  const agent = new HelixRuleAgent();
  let { observation } = env.reset({ seed });
  const out = { rewards: [] as number[], ids: [] as string[], bodies: [] as string[], obs: [observation] };
  for (let t = 0; t < steps; t++) {
    out.bodies.push(env.currentEmail().body);
    const r = env.step(agent.act(inputOf(env, observation)));
    out.rewards.push(r.reward);
    out.ids.push(r.info.email_id);
    observation = r.observation;
    out.obs.push(observation);
    if (r.terminated) break;
  }
  return out;
}

describe('env checks', () => {
  it.each([
    ['defaults', {}],
    ['agentic terms on', { rewards: { agentic: { enabled: true } } }],
    ['six employees', { env: { n_employees: 6 } }],
    [
      'a ninth category',
      { email_gen: { categories: [...DEFAULT_HELIX_CONFIG.email_gen.categories, 'warranty_claim'] } },
    ],
  ])('%s', (_name, config) => {
    const report = assertEnvChecks(() => new HelixDeskEnv(config), { steps: 120 });
    expect(report.warnings).toEqual([]);
  });
});

describe('determinism', () => {
  it('the same seed gives the same emails, texts, rewards and observations; another seed does not', () => {
    const a = rollout(new HelixDeskEnv(), 11);
    const b = rollout(new HelixDeskEnv(), 11);
    expect(b).toEqual(a);
    expect(a.rewards).toHaveLength(100);
    const c = rollout(new HelixDeskEnv(), 12);
    expect(c.ids).not.toEqual(a.ids);
  });

  it('reset() without a seed continues the streams (the reference), from config env.seed on a fresh env', () => {
    const a = new HelixDeskEnv();
    const first = a.reset().info;
    expect(first.seed).toBe(42);
    const seeded = new HelixDeskEnv();
    expect(seeded.reset({ seed: 42 }).info.email_id).toBe(first.email_id);
    const next = a.reset().info.email_id; // continues: a different first email
    expect(next).not.toBe(first.email_id);
  });

  it('snapshot/restore branches reproduce exactly', () => {
    const env = new HelixDeskEnv({ rewards: { agentic: { enabled: true } } });
    rollout(env, 5, 40);
    const snap = env.snapshot();
    const branch = (action: number[]): unknown[] => {
      env.restore(snap);
      const out: unknown[] = [env.step(action)];
      for (let i = 0; i < 20; i++) out.push(env.step([1, 2, i % 5, 2]));
      return out;
    };
    const a = branch([1, 0, 0, 1]);
    const b = branch([0, 3, 5, 0]);
    expect(branch([1, 0, 0, 1])).toEqual(a);
    expect(b).not.toEqual(a);
  });
});

describe('emails', () => {
  it(
    'have a readable subject, body and sender from the project templates; flagged ones carry a keyword ' + 'sentence',
    () => {
      const env = new HelixDeskEnv();
      env.reset({ seed: 3 });
      let sawFlag = false;
      for (let t = 0; t < 100; t++) {
        const e = env.currentEmail();
        const templates = TEMPLATES[e.categoryName];
        expect(templates?.subjects).toContain(e.subject);
        expect(e.body).toContain((e.type === 'query' ? templates?.query : templates?.complaint)?.[e.bodyIndex]);
        expect(e.body).toMatch(/HD-\d{5}/);
        expect(e.sender).toMatch(/^[a-z]+\d{2,3}@[a-z.]+$/);
        expect(e.id).toMatch(/^[0-9a-f]{32}$/);
        const hasKeyword = KEYWORD_SENTENCES.some((k) => e.body.includes(k));
        expect(hasKeyword).toBe(e.keywordFlag);
        if (e.keywordFlag) {
          sawFlag = true;
          expect(e.type).toBe('complaint');
          expect(e.sentiment).toBeGreaterThanOrEqual(0.85);
        }
        env.step([2, 3, 5, 2]);
      }
      expect(sawFlag).toBe(true);
    },
  );

  it('a config-added category uses the generic templates with its name', () => {
    const env = new HelixDeskEnv({ email_gen: { categories: ['warranty_claim'] } });
    env.reset({ seed: 1 });
    expect(env.currentEmail().subject).toContain('warranty claim');
  });
});

describe('observation layout (seed README table)', () => {
  it('encodes the current email, queue, team, SLA, trends, time and progress in [−1, 1]', () => {
    const env = new HelixDeskEnv();
    let obs = env.reset({ seed: 8 }).observation;
    expect(obs.length).toBe(42);
    const e = env.currentEmail();
    expect(obs[0]).toBeCloseTo(e.sentiment, 6);
    expect(obs[1]).toBe(e.keywordFlag ? 1 : 0);
    expect([...obs.subarray(2, 5)]).toEqual(
      e.tier === 'enterprise' ? [1, 0, 0] : e.tier === 'standard' ? [0, 1, 0] : [0, 0, 1],
    );
    expect(obs[37]).toBeCloseTo(9 / 24, 6); // 09:00
    expect(obs[38]).toBe(0); // Monday
    expect(obs[39]).toBe(1); // all 100 emails to go
    expect(obs[41]).toBe(1);
    // A complaint to employee 3: load 1 / 10 unless resolved in the same step.
    const r = env.step([1, 2, 3, 2]);
    obs = r.observation;
    expect(obs[15 + 2 * 3]).toBeCloseTo((env.employeeLoads()[3] as number) / 10, 6);
    expect(obs[39]).toBeCloseTo(0.99, 6);
    expect(obs.every((v) => v >= -1 && v <= 1)).toBe(true);
  });

  it('categories 5–7 use the overflow code (cat 5 = [1, 0, 0, 0, 1])', () => {
    const env = new HelixDeskEnv();
    env.reset({ seed: 0 });
    const seen = new Map<number, number[]>();
    for (let t = 0; t < 100 && seen.size < 8; t++) {
      seen.set(env.currentEmail().category, [...env.observe().subarray(5, 10)]);
      env.step([2, 3, 5, 2]);
    }
    expect(seen.get(0)).toEqual([1, 0, 0, 0, 0]);
    expect(seen.get(4)).toEqual([0, 0, 0, 0, 1]);
    expect(seen.get(5)).toEqual([1, 0, 0, 0, 1]);
    expect(seen.get(7)).toEqual([0, 0, 1, 0, 1]);
  });
});

describe('config propagates (seed README promises)', () => {
  it('n_employees: 6 grows the observation by 2 and the assignment dimension to 7', () => {
    const env = new HelixDeskEnv({ env: { n_employees: 6 } });
    expect(env.observationSpace.size).toBe(44);
    expect([...env.actionSpace.nvec]).toEqual([3, 4, 7, 3]);
    env.reset({ seed: 2 });
    env.step([1, 2, 5, 2]); // employee 5 exists now
    expect(env.employeeLoads().length).toBe(6);
    expect(() => env.step([1, 2, 7, 2])).toThrow(/action\[2\] \(assign\).*\[0, 6\]/);
    // The rule agent reads all six loads (dims 15, 17, …, 25): the sixth can be the least loaded.
    const obs = new Float32Array(44);
    obs[0] = 0.5;
    for (let i = 0; i < 5; i++) obs[15 + 2 * i] = 0.4;
    obs[25] = 0.1;
    expect([...new HelixRuleAgent().act(inputOf(env, obs))]).toEqual([1, 2, 5, 2]);
  });

  it('adding a category adds a trend dimension', () => {
    const cats = [...DEFAULT_HELIX_CONFIG.email_gen.categories, 'warranty_claim'];
    const cfg = parseHelixConfig({ email_gen: { categories: cats } });
    expect(observationSize(cfg)).toBe(43);
    const layout = observationLayout(cfg);
    expect([layout.trend, layout.time]).toEqual([29, 38]);
    const env = new HelixDeskEnv(cfg);
    env.reset({ seed: 4 });
    let obs = env.observe();
    for (let t = 0; t < 100 && obs[layout.trend + 8] === 0; t++) {
      const complaintOfNinth = env.currentEmail().category === 8;
      obs = env.step([1, 2, t % 5, 2]).observation;
      if (complaintOfNinth) break;
    }
    expect(obs[layout.trend + 8]).toBe(1); // the ninth category's growth
  });

  it('reward weights, SLA hours and episode length come from config', () => {
    const env = new HelixDeskEnv({
      rewards: { kb_updated: 0.25, correct_priority: 0.1 },
      sla: { critical_hours: 1 },
      env: { episode_emails: 7 },
    });
    let { observation } = env.reset({ seed: 9 });
    const values = new Map<string, number>();
    let steps = 0;
    for (;;) {
      const query = env.currentEmail().type === 'query';
      const r = env.step(query ? [0, 3, 5, 0] : [1, 0, 0, 2]);
      steps++;
      for (const e of r.info.reward_breakdown) values.set(e.type, e.value);
      observation = r.observation;
      if (r.terminated) break;
    }
    expect(steps).toBe(7);
    expect(values.get('kb_updated')).toBe(0.25);
    expect(values.get('correct_classification')).toBe(0.1);
    expect(observation[39]).toBe(0);
    // A critical complaint's deadline is now + 1 h: it becomes overdue after 60 minutes unresolved.
    const slow = new HelixDeskEnv({
      sla: { critical_hours: 1 },
      employee_sim: { base_resolve_rate: 0, ignore_probability: 1 },
    });
    slow.reset({ seed: 1 });
    slow.step([1, 0, 0, 2]);
    let overdue = 0;
    for (let t = 0; t < 8; t++) overdue = slow.step([2, 3, 5, 2]).info.overdue_count;
    expect(overdue).toBe(1);
  });

  it('loads YAML and JSON files; errors name the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'helix-config-'));
    writeFileSync(join(dir, 'c.yaml'), 'env:\n  n_employees: 6\nrewards:\n  agentic:\n    enabled: true\n');
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ sla: { high_hours: 6 } }));
    writeFileSync(join(dir, 'bad.yaml'), 'sla:\n  high_hours: -2\n');
    expect(loadHelixConfig(join(dir, 'c.yaml')).env.n_employees).toBe(6);
    expect(loadHelixConfig(join(dir, 'c.yaml')).rewards.agentic.enabled).toBe(true);
    expect(loadHelixConfig(join(dir, 'c.json')).sla.high_hours).toBe(6);
    expect(() => loadHelixConfig(join(dir, 'bad.yaml'))).toThrow(
      /bad\.yaml: invalid config: field 'sla\.high_hours' got -2; allowed: a number > 0/,
    );
    expect(() => new HelixDeskEnv({ env: { n_employes: 3 } } as never)).toThrow(InvalidConfigError);
    expect(() => new HelixDeskEnv({ env: { n_employes: 3 } } as never)).toThrow(
      /field 'env\.n_employes' is not a known key/,
    );
  });
});

describe('actions', () => {
  it('flag_for_review forces (normal, no assignment, none); the reward sees the raw action', () => {
    const env = new HelixDeskEnv();
    env.reset({ seed: 0 });
    const loads = [...env.employeeLoads()];
    const r = env.step([2, 0, 1, 1]); // raw: critical, employee 1, alert GM
    expect(r.info.ticket_type).toBe('pending_review');
    expect(r.info.priority).toBe('normal');
    expect(r.info.assigned_to).toBeNull();
    expect([...env.employeeLoads()]).toEqual(loads);
    // The raw secondary (alert_gm) still pays per alerting category: none yet on the first step.
    expect(r.info.reward_breakdown.some((e) => e.type === 'trend_prevented')).toBe(r.info.trend_alerts_active > 0);
  });

  it.each([
    [[1, 0, 0], /'action' has 3 value\(s\); allowed: exactly 4 integers \[classify, priority, assign, secondary\]/],
    [[3, 0, 0, 0], /'action\[0\] \(classify\)' got 3; allowed: an integer in \[0, 2\]/],
    [[1, 4, 0, 0], /'action\[1\] \(priority\)' got 4; allowed: an integer in \[0, 3\]/],
    [[1, 0, 1.5, 0], /'action\[2\] \(assign\)' got 1\.5; allowed: an integer in \[0, 5\]/],
    [[1, 0, 0, -1], /'action\[3\] \(secondary\)' got -1; allowed: an integer in \[0, 2\]/],
    ['complaint', /'action' got "complaint"/],
  ])('rejects %j naming the dimension and its range, changing nothing', (action, message) => {
    const env = new HelixDeskEnv();
    env.reset({ seed: 0 });
    const before = env.snapshot();
    expect(() => env.step(action as number[])).toThrow(InvalidActionError);
    expect(() => env.step(action as number[])).toThrow(message);
    expect(deepEqual(env.snapshot(), before)).toBe(true);
  });

  it('step() after the episode ended', () => {
    const env = new HelixDeskEnv({ env: { episode_emails: 2 } });
    env.reset({ seed: 0 });
    env.step([0, 3, 5, 0]);
    expect(env.step([0, 3, 5, 0]).terminated).toBe(true);
    expect(() => env.step([0, 3, 5, 0])).toThrow(EpisodeEndedError);
  });
});

describe('agents', () => {
  it('the random agent is reproducible per seed and covers every dimension', () => {
    const env = new HelixDeskEnv();
    env.reset({ seed: 0 });
    const a = new HelixRandomAgent();
    a.reset(4);
    const xs = Array.from({ length: 300 }, () => [...a.act(inputOf(env, env.observe()))]);
    a.reset(4);
    expect(Array.from({ length: 300 }, () => [...a.act(inputOf(env, env.observe()))])).toEqual(xs);
    for (let d = 0; d < 4; d++) expect(new Set(xs.map((x) => x[d])).size).toBe([3, 4, 6, 3][d]);
  });

  it('the rule agent follows the reference rules on crafted observations', () => {
    const env = new HelixDeskEnv();
    env.reset({ seed: 0 });
    const agent = new HelixRuleAgent();
    const obs = (over: Record<number, number>): Float32Array => {
      const o = new Float32Array(42);
      for (const [k, v] of Object.entries(over)) o[Number(k)] = v;
      return o;
    };
    const loads = { 15: 0.3, 17: 0.1, 19: 0.1, 21: 0.5, 23: 0.2 };
    const full = { 15: 1, 17: 1, 19: 1, 21: 1, 23: 1 };
    // flag: critical, least loaded (first), GM
    expect([...agent.act(inputOf(env, obs({ 1: 1, 0: 0.9, ...loads })))]).toEqual([1, 0, 1, 1]);
    expect([...agent.act(inputOf(env, obs({ 1: 1, ...full })))]).toEqual([2, 3, 5, 2]);
    expect([...agent.act(inputOf(env, obs({ 0: 0.9, ...loads })))]).toEqual([1, 1, 1, 2]);
    expect([...agent.act(inputOf(env, obs({ 0: 0.5, 2: 1, ...loads })))]).toEqual([1, 1, 1, 2]);
    expect([...agent.act(inputOf(env, obs({ 0: 0.2, ...full })))]).toEqual([2, 3, 5, 2]);
    expect([...agent.act(inputOf(env, obs({ 0: 0.2, ...loads })))]).toEqual([0, 3, 5, 0]);
    expect([...agent.act(inputOf(env, obs({ 0: 0.5, ...loads })))]).toEqual([1, 2, 1, 2]);
  });
});
