/**
 * The LLM path end to end, against real HTTP servers on 127.0.0.1 and the real `openai` client:
 * the policy server (a local policy behind the OpenAI API), a flaky proxy in front of it, and a
 * server answering garbage. No mocks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { getTask } from '../../envs/gov-workflow/tasks.js';
import { main } from '../../scripts/cli.js';
import { evaluatePolicy } from '../../training/evaluation.js';
import { loadCheckpoint, policySpecOf } from '../../training/ppo/checkpoint.js';
import { parsePpoConfig } from '../../training/ppo/config.js';
import { trainPpo } from '../../training/ppo/ppo.js';
import { initBackend } from '../policy/backend.js';
import { ActorCriticPolicy } from '../policy/policy.js';
import { createGovAgent, createHelixAgent } from '../registry.js';
import { runGovEpisode } from '../run-episode.js';
import { runHelixTask } from '../run-helixdesk.js';
import { LlmClient } from './client.js';
import { runGovLlmEpisode, runHelixLlmEpisode } from './llm-episodes.js';
import type { Handler } from './loopback.fixture.js';
import { forward as forwardTo, loopbackServer } from './loopback.fixture.js';
import type { PolicyServer } from './policy-server.js';
import { startPolicyServer } from './policy-server.js';
import { ppoServedPolicy, ruleServedPolicy } from './served-policies.js';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function serveRule(agent: string, env: 'gov-workflow' | 'helixdesk'): Promise<PolicyServer> {
  const server = await startPolicyServer({ policy: ruleServedPolicy(agent, env), modelName: agent });
  cleanups.push(() => server.close());
  return server;
}

function client(baseURL: string, extra: Partial<ConstructorParameters<typeof LlmClient>[0]> = {}): LlmClient {
  return new LlmClient({
    baseURL,
    apiKey: 'test',
    model: 'heuristic',
    maxRetries: 0,
    timeoutMs: 5000,
    log: () => undefined,
    ...extra,
  });
}

/** A loopback server with a handler, closed after the file; returns its base URL (…/v1). */
async function httpServer(handler: Handler): Promise<string> {
  const server = await loopbackServer(handler);
  cleanups.push(server.close);
  return `${server.origin}/v1`;
}

/** Forwards a request to a policy server (…/v1). */
function forward(target: string, req: IncomingMessage, body: string): Promise<{ status: number; body: string }> {
  return forwardTo(target.replace(/\/v1$/, ''), req.url ?? '/', body);
}

function completion(content: string): string {
  return JSON.stringify({
    id: 'x',
    object: 'chat.completion',
    created: 0,
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  });
}

/** Runs the CLI in-process, capturing stdout and stderr. */
async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    stdout += `${a.join(' ')}\n`;
  });
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => {
    stderr += `${a.join(' ')}\n`;
  });
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    log.mockRestore();
    error.mockRestore();
    process.env = saved;
  }
}

const START = /^\[START\] task=(\S+) env=(\S+) model=(\S+)$/;
const STEP = /^\[STEP\] step=(\d+) action=(\S+) reward=(-?\d+\.\d{2}) done=(true|false) error=(null|\S.*)$/;
const END =
  /^\[END\] success=(true|false) steps=(\d+) score=(\d\.\d{3}) rewards=((?:-?\d+\.\d{2})(?:,-?\d+\.\d{2})*)?$/;

/** Checks the inference log strictly and returns each task's block. */
function parseLog(
  stdout: string,
): { task: string; env: string; model: string; steps: RegExpExecArray[]; end: RegExpExecArray }[] {
  const lines = stdout.split('\n');
  expect(lines.pop()).toBe(''); // every line ends with a newline
  const blocks: { task: string; env: string; model: string; steps: RegExpExecArray[]; end: RegExpExecArray }[] = [];
  let current: { task: string; env: string; model: string; steps: RegExpExecArray[] } | null = null;
  for (const line of lines) {
    const s = START.exec(line);
    if (s) {
      expect(current).toBeNull();
      current = { task: s[1] as string, env: s[2] as string, model: s[3] as string, steps: [] };
      continue;
    }
    const st = STEP.exec(line);
    if (st) {
      expect(current).not.toBeNull();
      current?.steps.push(st);
      expect(Number(st[1])).toBe(current?.steps.length);
      continue;
    }
    const e = END.exec(line);
    expect(e, `unexpected stdout line: ${line}`).not.toBeNull();
    expect(current).not.toBeNull();
    if (!e || !current) break;
    expect(Number(e[2])).toBe(current.steps.length);
    expect(e[4] ?? '').toBe(current.steps.map((x) => x[3]).join(','));
    blocks.push({ ...current, end: e });
    current = null;
  }
  expect(current).toBeNull();
  return blocks;
}

describe('inference log (the inference command against the policy server)', () => {
  let gov: PolicyServer;
  let helix: PolicyServer;
  beforeAll(async () => {
    gov = await serveRule('heuristic', 'gov-workflow');
    helix = await serveRule('rule', 'helixdesk');
  });

  it(
    'Gov Workflow: one [START], a [STEP] per step and an [END] per task, strictly formatted, with the scores of the ' +
      'same agent run directly',
    async () => {
      const r = await cli(['inference', '--env', 'gov-workflow', '--task', 'all', '--concurrency', '8'], {
        API_BASE_URL: gov.url,
        MODEL_NAME: 'heuristic',
        API_KEY: 'sk-secret-never-printed',
      });
      expect(r.code, r.stderr).toBe(0);
      const blocks = parseLog(r.stdout);
      expect(blocks.map((b) => b.task)).toEqual([
        'district_backlog_easy',
        'mixed_urgency_medium',
        'cross_department_hard',
        'district_backlog_easy_extreme',
      ]);
      for (const b of blocks) {
        expect(b.env).toBe('gov-workflow-openenv');
        expect(b.model).toBe('heuristic');
        for (const s of b.steps) expect(() => JSON.parse(s[2] as string)).not.toThrow();
        // the same heuristic agent, run directly on the same seed
        const direct = await runGovEpisode(createGovAgent('heuristic'), {
          taskId: b.task,
          seed: getTask(b.task).seed,
          variant: 'corrected',
        });
        expect(b.steps.length).toBe(direct.steps);
        expect(b.end[3]).toBe(Math.min(Math.max(direct.score, 0.01), 0.99).toFixed(3));
        expect(b.end[1]).toBe(String(Math.min(Math.max(direct.score, 0.01), 0.99) >= 0.5));
        // The logged step rewards (2 decimals each) add up to the env's episode reward, sign included.
        const logged = b.steps.map((s) => Number(s[3]));
        expect(Math.abs(logged.reduce((a, x) => a + x, 0) - direct.reward)).toBeLessThanOrEqual(
          0.005 * logged.length + 1e-6,
        );
      }
      const medium = blocks.find((b) => b.task === 'mixed_urgency_medium');
      // An episode with negative rewards:
      expect(medium?.steps.filter((s) => (s[3] as string).startsWith('-')).length).toBeGreaterThan(10);
      const direct = await runGovEpisode(createGovAgent('heuristic'), {
        taskId: 'mixed_urgency_medium',
        seed: getTask('mixed_urgency_medium').seed,
        variant: 'corrected',
      });
      expect(direct.reward).toBeLessThan(-100);
      expect(r.stdout + r.stderr).not.toContain('sk-secret-never-printed');
      expect(r.stderr).toContain('key from API_KEY');
    },
  );

  it('HelixDesk: the same format, and the rule agent’s scores', async () => {
    const r = await cli([
      'inference',
      '--env',
      'helixdesk',
      '--task',
      'all',
      '--base-url',
      helix.url,
      '--model',
      'rule',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const blocks = parseLog(r.stdout);
    expect(blocks.map((b) => b.task)).toEqual(['easy', 'medium', 'hard', 'expert']);
    for (const b of blocks) {
      const direct = await runHelixTask(createHelixAgent('rule'), b.task, 42);
      expect(b.steps.length).toBe(direct.steps);
      expect(b.end[3]).toBe(Math.min(Math.max(direct.score, 0.01), 0.99).toFixed(3));
      for (const s of b.steps)
        expect(Object.keys(JSON.parse(s[2] as string) as object)).toEqual([
          'classify',
          'priority',
          'assign',
          'secondary',
        ]);
    }
  });

  it(
    'concurrent tasks keep each task’s lines together and in task order, whatever order the answers ' + 'come in',
    async () => {
      // answers delayed at random: later tasks finish first, yet the log reads as a sequential run
      const slow = await httpServer((req, res, body) => {
        setTimeout(
          () => {
            void forward(gov.url, req, body).then((f) => {
              res.writeHead(f.status, { 'content-type': 'application/json' });
              res.end(f.body);
            });
          },
          Math.floor(Math.random() * 4),
        );
      });
      const seq = await cli([
        'inference',
        '--env',
        'gov-workflow',
        '--task',
        'district_backlog_easy,mixed_urgency_medium',
        '--base-url',
        gov.url,
        '--model',
        'heuristic',
        '--concurrency',
        '1',
      ]);
      const par = await cli([
        'inference',
        '--env',
        'gov-workflow',
        '--task',
        'district_backlog_easy,mixed_urgency_medium',
        '--base-url',
        slow,
        '--model',
        'heuristic',
        '--concurrency',
        '16',
      ]);
      expect(par.code).toBe(0);
      expect(par.stdout).toBe(seq.stdout);
    },
  );

  it('prints [END] even when a task fails, and exits 1', async () => {
    const r = await cli([
      'inference',
      '--env',
      'helixdesk',
      '--task',
      'easy',
      '--base-url',
      helix.url,
      '--model',
      'rule',
      '--config',
      join(tmpdir(), 'no-such-helix-config.yaml'),
    ]).catch((e: unknown) => ({ code: -1, stdout: '', stderr: String(e) }));
    // a missing config is a usage error before any task starts: no [START] is printed at all
    expect(r.stdout).not.toContain('[START]');
    const broken = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // The client cannot read this: every step is an invalid answer, the run itself continues.
      res.end('{"choices": 7}');
    });
    const r2 = await cli([
      'inference',
      '--env',
      'helixdesk',
      '--task',
      'easy',
      '--base-url',
      broken,
      '--model',
      'm',
      '--fallback',
      'none',
      '--retries',
      '0',
    ]);
    const blocks = parseLog(r2.stdout);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]?.steps.every((s) => (s[5] as string).startsWith('invalid model output'))).toBe(true);
  });
});

describe('LLM policy robustness', () => {
  let gov: PolicyServer;
  beforeAll(async () => {
    gov = await serveRule('heuristic', 'gov-workflow');
  });

  it('retries 429s and 5xx errors with backoff and finishes the episode with the same score', async () => {
    let calls = 0;
    const flaky = await httpServer((req, res, body) => {
      calls++;
      if (calls <= 2) {
        res.writeHead(calls === 1 ? 429 : 503, { 'content-type': 'application/json', 'retry-after': '0' });
        res.end(JSON.stringify({ error: { message: 'try later', type: 'rate_limit', param: null, code: null } }));
        return;
      }
      if (calls % 17 === 0) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"boom"}}');
        return;
      }
      void forward(gov.url, req, body).then((f) => {
        res.writeHead(f.status, { 'content-type': 'application/json' });
        res.end(f.body);
      });
    });
    const c = client(flaky, { maxRetries: 3, backoffMs: 1 });
    const result = await runGovLlmEpisode(
      { client: c, fallback: 'none' },
      { taskId: 'district_backlog_easy', seed: 5 },
    );
    const direct = await runGovEpisode(createGovAgent('heuristic'), {
      taskId: 'district_backlog_easy',
      seed: 5,
      variant: 'corrected',
    });
    expect(result.record.score).toBe(direct.score);
    expect(result.record.metrics.invalid_outputs).toBe(0);
    expect(c.usage.retries).toBeGreaterThanOrEqual(2 + Math.floor(calls / 17) - 1);
    expect(c.usage.failures).toBe(0);
  });

  it('retries a request that times out', async () => {
    let calls = 0;
    const hanging = await httpServer((req, res, body) => {
      calls++;
      if (calls === 1) return; // never answers: the client's timeout fires
      void forward(gov.url, req, body).then((f) => {
        res.writeHead(f.status, { 'content-type': 'application/json' });
        res.end(f.body);
      });
    });
    const c = client(hanging, { maxRetries: 2, backoffMs: 1, timeoutMs: 300 });
    const result = await runGovLlmEpisode(
      { client: c, fallback: 'none' },
      { taskId: 'district_backlog_easy', seed: 6, maxSteps: 3 },
    );
    expect(result.steps).toHaveLength(3);
    expect(result.record.metrics.invalid_outputs).toBe(0);
    expect(c.usage.retries).toBe(1);
  });

  it(
    'garbage answers are recorded as invalid: the rule agent acts (fallback rule) or the env takes an invalid step ' +
      '(fallback none)',
    async () => {
      const answers = [
        'Sure! I think we should advance.',
        '```json\n{"action_type": "advance_time"}\n```',
        '{"action_type": "fly_to_moon"}',
        '{"action_type": "escalate_service", "escalation_target": "passport"',
      ];
      let k = 0;
      const garbage = await httpServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(completion(answers[k++ % answers.length] as string));
      });
      const withRule = await runGovLlmEpisode(
        { client: client(garbage), fallback: 'rule' },
        { taskId: 'mixed_urgency_medium', seed: 2, maxSteps: 8 },
      );
      // answers 0, 2, 3 are unusable; answer 1 (a fenced JSON action) is used
      expect(withRule.steps.map((s) => s.source)).toEqual([
        'fallback',
        'model',
        'fallback',
        'fallback',
        'fallback',
        'model',
        'fallback',
        'fallback',
      ]);
      expect(withRule.steps[0]?.error).toMatch(/no JSON object in the completion/);
      expect(withRule.steps[2]?.error).toMatch(/action_type/);
      expect(withRule.steps[1]?.action).toBe('{"action_type":"advance_time"}');
      expect(withRule.record.metrics.invalid_outputs).toBe(6);
      k = 0;
      const withNone = await runGovLlmEpisode(
        { client: client(garbage), fallback: 'none' },
        { taskId: 'mixed_urgency_medium', seed: 2, maxSteps: 8 },
      );
      expect(withNone.steps.map((s) => s.source)).toEqual([
        'none',
        'model',
        'none',
        'none',
        'none',
        'model',
        'none',
        'none',
      ]);
      expect(withNone.steps.filter((s) => s.action === 'null')).toHaveLength(6);
      expect(withNone.record.metrics.total_invalid_actions).toBe(6); // the env's own invalid steps, with its penalty
      expect(withNone.steps[0]?.reward).toBeLessThan(0);
      // HelixDesk has no invalid steps: fallback none flags the email for review
      k = 0;
      const helix = await runHelixLlmEpisode(
        { client: client(garbage), fallback: 'none' },
        { task: 'easy', seed: 1, maxSteps: 3 },
      );
      expect(helix.steps[0]?.action).toBe(
        '{"classify":"flag_for_review","priority":"normal","assign":"none","secondary":"none"}',
      );
    },
  );

  it(
    'falls back from JSON-schema output to json_object when the endpoint refuses response_format ' + 'json_schema',
    async () => {
      const seen: string[] = [];
      const picky = await httpServer((req, res, body) => {
        const parsed = JSON.parse(body) as { response_format?: { type: string } };
        seen.push(parsed.response_format?.type ?? 'none');
        if (parsed.response_format?.type === 'json_schema') {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              error: {
                message: 'response_format json_schema is not supported',
                type: 'invalid_request_error',
                param: 'response_format',
                code: null,
              },
            }),
          );
          return;
        }
        void forward(gov.url, req, body).then((f) => {
          res.writeHead(f.status, { 'content-type': 'application/json' });
          res.end(f.body);
        });
      });
      const c = client(picky);
      const r = await runGovLlmEpisode(
        { client: c, fallback: 'none' },
        { taskId: 'district_backlog_easy', seed: 1, maxSteps: 3 },
      );
      expect(r.record.metrics.invalid_outputs).toBe(0);
      expect(seen).toEqual(['json_schema', 'json_object', 'json_object', 'json_object']);
      expect(c.structuredOutput).toBe('json_object');
    },
  );

  it('an unreachable endpoint: every step invalid with the reason, never a crash', async () => {
    const c = client('http://127.0.0.1:9/v1', { maxRetries: 1, backoffMs: 1 });
    const r = await runGovLlmEpisode(
      { client: c, fallback: 'rule' },
      { taskId: 'district_backlog_easy', seed: 3, maxSteps: 2 },
    );
    expect(r.steps.every((s) => s.source === 'fallback' && /request failed/.test(s.error ?? ''))).toBe(true);
    expect(c.usage.failures).toBe(2);
  });
});

describe('a PPO checkpoint through the same harness', () => {
  it('plays the same episodes through the policy server as evaluated directly (temperature 0 = argmax)', async () => {
    await initBackend('cpu');
    const dir = mkdtempSync(join(tmpdir(), 'queue-rl-llm-ppo-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = parsePpoConfig({
      env: { id: 'gov-workflow/district_backlog_easy', options: {} },
      net_arch: { pi: [16], vf: [16] },
      n_steps: 64,
      n_envs: 2,
      batch_size: 64,
      n_epochs: 2,
      total_timesteps: 256,
      eval: { freq: 0, seeds: [1] },
      update_threads: 1,
      backend: 'cpu',
      ent_coef: 0.05,
    });
    const trained = await trainPpo({
      config,
      resultsDir: join(dir, 'r'),
      checkpointDir: join(dir, 'c'),
      log: () => undefined,
    });
    const served = ppoServedPolicy(trained.finalCheckpoint);
    cleanups.push(() => served.close?.());
    const server = await startPolicyServer({ policy: served, modelName: 'ppo' });
    cleanups.push(() => server.close());
    const ckpt = loadCheckpoint(trained.finalCheckpoint);
    const policy = new ActorCriticPolicy(policySpecOf(ckpt.state), ckpt.parameters);
    cleanups.push(() => policy.dispose());
    const kinds: string[] = [];
    for (const task of ['district_backlog_easy', 'mixed_urgency_medium']) {
      const seeds = [11, 12];
      const direct = await evaluatePolicy(policy, `gov-workflow/${task}`, {}, seeds);
      for (const [k, seed] of seeds.entries()) {
        const viaHttp = await runGovLlmEpisode(
          { client: client(server.url, { model: 'ppo' }), fallback: 'none', temperature: 0 },
          { taskId: task, seed },
        );
        expect(viaHttp.record.metrics.invalid_outputs).toBe(0);
        expect(viaHttp.record.steps).toBe(direct[k]?.steps);
        expect(viaHttp.record.score).toBe(direct[k]?.score);
        expect(viaHttp.record.reward).toBeCloseTo(direct[k]?.reward as number, 9);
        kinds.push(...viaHttp.steps.map((x) => (JSON.parse(x.action) as { action_type: string }).action_type));
      }
    }
    expect(new Set(kinds).size).toBeGreaterThan(1); // not a trivial always-advance policy
  });
});

describe('--agent llm in baseline and evaluate tables', () => {
  it('puts the LLM next to the rule agents in the baseline table', async () => {
    const server = await serveRule('oldest_first', 'gov-workflow');
    const out = mkdtempSync(join(tmpdir(), 'queue-rl-llm-'));
    cleanups.push(() => rmSync(out, { recursive: true, force: true }));
    const r = await cli([
      'baseline',
      '--env',
      'gov-workflow',
      '--task',
      'district_backlog_easy',
      '--agent',
      'oldest_first,llm',
      '--seeds',
      '0-2',
      '--base-url',
      server.url,
      '--model',
      'oldest_first',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const records = JSON.parse(r.stdout) as { agent: string; seed: number; score: number }[];
    expect(records.map((x) => x.agent)).toEqual(['oldest_first', 'oldest_first', 'oldest_first', 'llm', 'llm', 'llm']);
    // the LLM here is oldest_first behind the server: the same episodes
    for (let s = 0; s < 3; s++) expect(records[3 + s]?.score).toBe(records[s]?.score);
    expect((await cli(['baseline', '--agent', 'heuristic', '--model', 'x'])).stderr).toMatch(
      /LLM options need --agent llm/,
    );
  });
});
