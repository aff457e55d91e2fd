import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parse as parseYaml } from 'yaml';
import { ADVANCE_INDEX } from '../gov-workflow/adapter/action-table.js';
import type { GovStepInfo } from '../gov-workflow/env.js';
import { firstDifference, loadTrace, stepRecord } from '../gov-workflow/trace.js';
import '../registry.js';
import '../vector/faulty-env.fixture.js';
import type { RunningEnvServer } from './env-server.js';
import { startEnvServer } from './env-server.js';

/** JSON replies, probed field by field in the assertions (JSON.parse's own type). */
type Json = ReturnType<typeof JSON.parse>;

/** A /ws client answering each message in order (the server answers every message, one to one). */
async function wsClient(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers });
  const inbox: unknown[] = [];
  const waiting: ((m: unknown) => void)[] = [];
  ws.on('message', (raw) => {
    const m = JSON.parse(raw.toString());
    const w = waiting.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = (): Promise<{ type: string; data: Json }> =>
    new Promise((resolve) => {
      const m = inbox.shift();
      if (m !== undefined) resolve(m as never);
      else waiting.push(resolve as never);
    });
  return {
    ws,
    closed,
    next,
    async send(message: unknown): Promise<{ type: string; data: Json }> {
      ws.send(typeof message === 'string' ? message : JSON.stringify(message));
      return next();
    },
    close: () => ws.terminate(),
  };
}

async function http(
  origin: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${origin}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text) };
}

describe('serve-env: OpenEnv HTTP routes', () => {
  let server: RunningEnvServer;
  beforeAll(async () => {
    server = await startEnvServer({ family: 'gov-workflow', port: 0 });
  });
  afterAll(() => server.close());

  it('answers /health, /metadata, /schema, /openapi.json and /mcp as `openenv validate --url` checks', async () => {
    const health = await http(server.origin, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('healthy');
    const meta = (await http(server.origin, 'GET', '/metadata')).body;
    expect(typeof meta.name).toBe('string');
    expect(typeof meta.description).toBe('string');
    expect(meta.queue_rl.spec).toMatchObject({ id: 'gov-workflow/district_backlog_easy', observation_size: 163 });
    const schema = (await http(server.origin, 'GET', '/schema')).body;
    for (const k of ['action', 'observation', 'state']) expect(typeof schema[k]).toBe('object');
    expect(JSON.stringify(schema.action)).toContain('action_index');
    expect(JSON.stringify(schema.action)).toContain('reallocate_officers');
    const api = (await http(server.origin, 'GET', '/openapi.json')).body;
    expect(typeof api.info.version).toBe('string');
    // Mode consistency: /reset, /step and /state all present.
    expect(Object.keys(api.paths)).toEqual(expect.arrayContaining(['/reset', '/step', '/state', '/ws']));
    const mcp = await http(server.origin, 'POST', '/mcp', {});
    expect(mcp.status).toBe(200);
    expect(mcp.body.jsonrpc).toBe('2.0');
    expect(mcp.body.error.code).toBe(-32600);
    const list = await http(server.origin, 'POST', '/mcp', { jsonrpc: '2.0', method: 'tools/list', id: 7 });
    expect(list.body).toEqual({ jsonrpc: '2.0', id: 7, result: { tools: [] } });
  });

  it('stateless /openenv/reset and /openenv/step: a fresh env per call, OpenEnv shapes, 422 details', async () => {
    const reset = await http(server.origin, 'POST', '/openenv/reset', {});
    expect(reset.status).toBe(200);
    expect(Object.keys(reset.body).sort()).toEqual(['done', 'observation', 'reward']);
    expect(reset.body.reward).toBeNull();
    expect(reset.body.observation.day).toBe(0);
    expect(reset.body.observation.action_mask).toHaveLength(31);
    const empty = await fetch(`${server.origin}/openenv/reset`, { method: 'POST' });
    expect(empty.status).toBe(200);
    const step = await http(server.origin, 'POST', '/openenv/step', { action: { action_type: 'advance_time' } });
    expect(step.status).toBe(200);
    expect(step.body.observation.day).toBe(1);
    expect(typeof step.body.reward).toBe('number');
    const bad = await http(server.origin, 'POST', '/openenv/step', { action: { action_type: 'fly' } });
    expect(bad.status).toBe(422);
    expect(bad.body.detail[0].loc).toEqual(['action', 'action_type']);
    expect(bad.body.detail[0].msg).toMatch(/allowed: set_priority_mode \| assign_capacity/);
    const noAction = await http(server.origin, 'POST', '/openenv/step', {});
    expect(noAction.status).toBe(422);
    const malformed = await http(server.origin, 'POST', '/openenv/reset', '{"seed": ');
    expect(malformed.status).toBe(422);
    expect(malformed.body.detail[0].type).toBe('json_invalid');
    const badSeed = await http(server.origin, 'POST', '/openenv/reset', { seed: -1 });
    expect(badSeed.status).toBe(422);
    expect(badSeed.body.detail[0].loc).toEqual(['seed']);
    const badOption = await http(server.origin, 'POST', '/openenv/reset', { variant: 'v9' });
    expect(badOption.status).toBe(422);
    expect(badOption.body.detail[0].msg).toMatch(/options\.variant/);
    const state = await http(server.origin, 'GET', '/openenv/state');
    expect(state.body).toMatchObject({ step_count: 0, day: 0 });
    expect(typeof state.body.episode_id).toBe('string');
  });

  it('unknown routes 404, wrong methods 405, huge bodies 413 — and the server keeps serving', async () => {
    expect((await http(server.origin, 'GET', '/nope')).status).toBe(404);
    expect((await http(server.origin, 'DELETE', '/health')).status).toBe(405);
    const huge = await http(server.origin, 'POST', '/openenv/reset', `{"pad":"${'x'.repeat(1_200_000)}"}`);
    expect(huge.status).toBe(413);
    expect((await http(server.origin, 'GET', '/health')).status).toBe(200);
  });
});

describe('serve-env: the Gov Workflow seed routes', () => {
  let server: RunningEnvServer;
  beforeAll(async () => {
    server = await startEnvServer({ family: 'gov-workflow', port: 0, options: { variant: 'reference' } });
  });
  afterAll(() => server.close());

  const traces = readdirSync(new URL('../../../shared/fixtures/gov-workflow/', import.meta.url)).filter((f) =>
    f.endsWith('.json'),
  );

  it.each(traces.slice(0, 6))('replays the golden trace %s over the session API exactly', async (file) => {
    const trace = loadTrace(new URL(`../../../shared/fixtures/gov-workflow/${file}`, import.meta.url).pathname);
    const reset = await http(server.origin, 'POST', '/reset', { task_id: trace.task_id, seed: trace.seed });
    expect(reset.status).toBe(200);
    const id = reset.body.session_id as string;
    expect(firstDifference(trace.reset.info, reset.body.info, 'reset.info')).toBeUndefined();
    expect(firstDifference(trace.reset.obs, reset.body.observation, 'reset.obs')).toBeUndefined();
    for (let i = 0; i < trace.actions.length; i++) {
      const r = await http(server.origin, 'POST', '/step', { session_id: id, action: trace.actions[i] });
      expect(r.status).toBe(200);
      const state = (await http(server.origin, 'GET', `/state?session_id=${id}`)).body.state;
      const got = stepRecord(
        state.total_steps,
        r.body.reward,
        r.body.terminated,
        r.body.truncated,
        r.body.info as GovStepInfo,
        r.body.observation,
      );
      expect(firstDifference(trace.steps[i], got, '')).toBeUndefined();
    }
    const state = await http(server.origin, 'POST', '/state', { session_id: id });
    expect(firstDifference(trace.final_state, state.body.state, 'final_state')).toBeUndefined();
    const grade = await http(server.origin, 'POST', '/grade', { session_id: id });
    expect(grade.body.score).toBeCloseTo(trace.grader.score as number, 9);
    expect(firstDifference(trace.grader.metrics, grade.body.metrics, 'grader.metrics')).toBeUndefined();
  });

  it.each(traces.slice(6, 9))('replays the golden trace %s over /ws exactly', async (file) => {
    const trace = loadTrace(new URL(`../../../shared/fixtures/gov-workflow/${file}`, import.meta.url).pathname);
    const c = await wsClient(server.wsUrl);
    const reset = await c.send({ type: 'reset', data: { task_id: trace.task_id, seed: trace.seed } });
    expect(firstDifference(trace.reset.obs, reset.data.observation, 'reset.obs')).toBeUndefined();
    for (let i = 0; i < trace.actions.length; i++) {
      const r = (await c.send({ type: 'step', data: trace.actions[i] })).data;
      const o = r.observation;
      const got = stepRecord(i + 1, r.reward, o.terminated, o.truncated, o.info as GovStepInfo, o);
      expect(firstDifference(trace.steps[i], got, '')).toBeUndefined();
      expect(r.done).toBe(o.terminated || o.truncated);
    }
    const state = (await c.send({ type: 'state' })).data;
    expect(firstDifference(trace.final_state, state, 'final_state')).toBeUndefined();
    c.close();
  });

  it('sessions: 404 unknown, 409 after the end, masks with labels, tasks, delete', async () => {
    const r = await http(server.origin, 'POST', '/reset', { task_id: 'district_backlog_easy', seed: 3 });
    const id = r.body.session_id as string;
    expect(r.body).toMatchObject({ task_id: 'district_backlog_easy', seed: 3, reward: null, done: false });
    expect((await http(server.origin, 'POST', '/step', { session_id: 'nope', action: {} })).status).toBe(404);
    const masks = (await http(server.origin, 'POST', '/action-masks', { session_id: id })).body;
    expect(masks.total_actions).toBe(31);
    expect(masks.action_mask.filter(Boolean)).toHaveLength(masks.total_valid);
    expect(masks.valid_action_labels).toHaveLength(masks.total_valid);
    let done = false;
    let steps = 0;
    while (!done && steps < 400) {
      const s = await http(server.origin, 'POST', '/step', { session_id: id, action: { action_index: ADVANCE_INDEX } });
      expect(s.status).toBe(200);
      done = s.body.done;
      steps++;
    }
    expect(done).toBe(true);
    const after = await http(server.origin, 'POST', '/step', {
      session_id: id,
      action: { action_type: 'advance_time' },
    });
    expect(after.status).toBe(409);
    const tasks = (await http(server.origin, 'GET', '/tasks')).body;
    expect(tasks.map((t: { task_id: string }) => t.task_id)).toContain('cross_department_hard');
    expect((await http(server.origin, 'GET', '/tasks/mixed_urgency_medium')).body.max_days).toBe(45);
    expect((await http(server.origin, 'GET', '/tasks/nope')).status).toBe(404);
    expect((await http(server.origin, 'DELETE', `/sessions/${id}`)).status).toBe(200);
    expect((await http(server.origin, 'POST', '/grade', { session_id: id })).status).toBe(404);
  });
});

describe('serve-env: the HelixDesk seed routes', () => {
  let server: RunningEnvServer;
  beforeAll(async () => {
    server = await startEnvServer({ family: 'helixdesk', port: 0 });
  });
  afterAll(() => server.close());

  it('/reset and /step keep the seed shapes (42 numbers), /step adds done, /grader scores (r + 1) / 2', async () => {
    const reset = await http(server.origin, 'POST', '/reset');
    expect(reset.status).toBe(200);
    expect(reset.body.observation).toHaveLength(42);
    expect(reset.body.info.step).toBe(0);
    const step = await http(server.origin, 'POST', '/step', { action: [1, 2, 0, 1] });
    expect(step.status).toBe(200);
    expect(step.body.observation).toHaveLength(42);
    expect(Object.keys(step.body)).toEqual(
      expect.arrayContaining(['observation', 'reward', 'terminated', 'truncated', 'done', 'info']),
    );
    const bad = await http(server.origin, 'POST', '/step', { action: [1, 9, 0, 1] });
    expect(bad.status).toBe(422);
    expect(bad.body.detail[0].loc).toEqual(['action', 'action', '1']);
    expect((await http(server.origin, 'GET', '/state')).body.observation).toHaveLength(42);
    const tasks = (await http(server.origin, 'GET', '/tasks')).body.tasks;
    expect(tasks.map((t: { id: string }) => t.id)).toEqual(['easy', 'medium', 'hard', 'expert']);
    for (const [r, score, passed] of [
      [-1, 0, false],
      [-3, 0, false],
      [0, 0.5, true],
      [-0, 0.5, true],
      [5, 1, true],
    ] as const) {
      const g = await http(server.origin, 'POST', '/grader', { task_id: 'easy', episode_reward: r });
      expect(g.body).toMatchObject({ score, passed });
    }
    expect((await http(server.origin, 'POST', '/grader', { task_id: 'hard', episode_reward: -0.5 })).body.passed).toBe(
      false,
    );
    expect((await http(server.origin, 'POST', '/grader', { task_id: 'x', episode_reward: 0 })).status).toBe(422);
    expect((await http(server.origin, 'POST', '/grader', { task_id: 'easy', episode_reward: 'NaN' })).status).toBe(422);
  });
});

describe('serve-env: WS /ws sessions', () => {
  let server: RunningEnvServer;
  beforeAll(async () => {
    server = await startEnvServer({ family: 'gov-workflow', port: 0, maxSessions: 3, sessionTimeoutS: 0 });
  });
  afterAll(() => server.close());

  it('reset, step, state and close; every error code a client can cause', async () => {
    const c = await wsClient(server.wsUrl);
    expect((await c.send({ type: 'step', data: { action_index: ADVANCE_INDEX } })).data.code).toBe('SESSION_ERROR');
    const reset = await c.send({ type: 'reset', data: { seed: 11, task_id: 'mixed_urgency_medium', adapter: 'v2' } });
    expect(reset.type).toBe('observation');
    expect(reset.data.done).toBe(false);
    expect(reset.data.observation.features).toHaveLength(166);
    expect(reset.data.observation.action_mask).toHaveLength(79);
    expect(reset.data.observation.env).toEqual({ id: 'gov-workflow/mixed_urgency_medium', options: { adapter: 'v2' } });
    const step = await c.send({ type: 'step', data: { action_type: 'advance_time' } });
    expect(step.data.observation.day).toBe(1);
    expect(step.data.observation.terminated).toBe(false);
    const state = await c.send({ type: 'state' });
    expect(state.type).toBe('state');
    expect(state.data).toMatchObject({ step_count: 1, day: 1, task_id: 'mixed_urgency_medium' });
    expect((await c.send('{"type": ')).data.code).toBe('INVALID_JSON');
    expect((await c.send({ type: 'dance' })).data.code).toBe('UNKNOWN_TYPE');
    const outOfRange = await c.send({ type: 'step', data: { action_index: 79 } });
    expect(outOfRange.data.code).toBe('VALIDATION_ERROR');
    expect(outOfRange.data.message).toMatch(/an integer in \[0, 78\]/);
    for (const bad of [-1, 1.5, '3', [1, 2], null]) {
      const r = await c.send({ type: 'step', data: { action_index: bad } });
      expect(r.data.code).toBe('VALIDATION_ERROR');
    }
    const extra = await c.send({ type: 'step', data: { action_index: 0, also: 1 } });
    expect(extra.data.errors[0].loc).toEqual(['action', 'also']);
    const masked = reset.data.observation.action_mask.indexOf(0);
    const m = await c.send({ type: 'step', data: { action_index: masked } });
    expect(m.data.code).toBe('VALIDATION_ERROR');
    expect(m.data.message).toMatch(/masked out/);
    const unknownTask = await c.send({ type: 'reset', data: { task_id: 'nope' } });
    expect(unknownTask.data.code).toBe('VALIDATION_ERROR');
    expect(unknownTask.data.errors[0].loc).toEqual(['task_id']);
    const badOption = await c.send({ type: 'reset', data: { adapter: 'v9' } });
    expect(badOption.data.message).toMatch(/options\.adapter.*v1.*v2.*v3/);
    // A reset that fails inside the env leaves no half-reset episode behind.
    const badReset = await c.send({ type: 'reset', data: { options: { max_steps_per_episode: -1 } } });
    expect(badReset.data.code).toBe('VALIDATION_ERROR');
    expect((await c.send({ type: 'step', data: { action_index: ADVANCE_INDEX } })).data.code).toBe('SESSION_ERROR');
    expect(
      (await c.send({ type: 'reset', data: { seed: 11, task_id: 'mixed_urgency_medium', adapter: 'v2' } })).type,
    ).toBe('observation');
    // Still usable after every error.
    expect((await c.send({ type: 'step', data: { action_index: ADVANCE_INDEX } })).type).toBe('observation');
    c.ws.send(JSON.stringify({ type: 'close' }));
    expect(await c.closed).toBe(1000);
  });

  it('reports the episode at its end (score, metrics), then refuses steps until a reset', async () => {
    const c = await wsClient(server.wsUrl);
    await c.send({ type: 'reset', data: { seed: 1, observation_format: 'compact' } });
    let last: Json = {};
    for (let t = 0; t < 400; t++) {
      last = (await c.send({ type: 'step', data: { action_index: ADVANCE_INDEX } })).data;
      if (last.done) break;
    }
    expect(last.done).toBe(true);
    expect(Object.keys(last.observation).sort()).toEqual(
      ['action_mask_b64', 'episode', 'features_b64', 'reward_exact', 'terminated', 'truncated'].sort(),
    );
    expect(last.observation.episode.score).toBeGreaterThan(0);
    expect(last.observation.episode.metrics.length).toBeGreaterThan(3);
    expect((await c.send({ type: 'step', data: { action_index: ADVANCE_INDEX } })).data.code).toBe('SESSION_ERROR');
    expect((await c.send({ type: 'reset', data: {} })).type).toBe('observation');
    c.close();
  });

  it('CAPACITY_REACHED beyond --max-sessions, with the counts, then the socket closes', async () => {
    const open = [await wsClient(server.wsUrl), await wsClient(server.wsUrl), await wsClient(server.wsUrl)];
    const extra = await wsClient(server.wsUrl);
    const msg = await extra.next();
    expect(msg).toEqual({
      type: 'error',
      data: expect.objectContaining({ code: 'CAPACITY_REACHED', active_sessions: 3, max_sessions: 3 }),
    });
    expect(await extra.closed).toBe(1013);
    for (const c of open) c.close();
    await new Promise((r) => setTimeout(r, 50));
    const again = await wsClient(server.wsUrl);
    expect((await again.send({ type: 'reset', data: {} })).type).toBe('observation');
    again.close();
  });

  it('batch messages: sessions multiplexed on one connection, a reply and an error per item, capacity', async () => {
    const c = await wsClient(server.wsUrl);
    const item = (session: number, message: unknown) => ({ session, message });
    const first = await c.send({
      type: 'batch',
      data: [
        item(0, { type: 'reset', data: { seed: 4, observation_format: 'compact' } }),
        item(1, { type: 'reset', data: { seed: 4, observation_format: 'compact' } }),
        item(0, { type: 'step', data: { action_index: ADVANCE_INDEX } }),
        item(1, { type: 'step', data: { action_index: 999 } }),
        { session: -1, message: {} },
        item(1, { type: 'state' }),
      ],
    });
    expect(first.type).toBe('batch');
    const r = first.data as unknown as Json[];
    expect(r.map((x) => x.type)).toEqual(['observation', 'observation', 'observation', 'error', 'error', 'state']);
    expect(r[0].data.observation.features_b64).toBe(r[1].data.observation.features_b64);
    expect(r[3].data.code).toBe('VALIDATION_ERROR');
    expect(r[4].data.code).toBe('VALIDATION_ERROR');
    expect(r[5].data.step_count).toBe(0);
    // The connection gave its own session up: it holds sessions 0 and 1; the server's third and last goes to 2.
    const more = (await c.send({ type: 'batch', data: [item(2, { type: 'reset' }), item(3, { type: 'reset' })] }))
      .data as unknown as Json[];
    expect(more[0].type).toBe('observation');
    expect(more[1].data).toMatchObject({ code: 'CAPACITY_REACHED', active_sessions: 3, max_sessions: 3 });
    const closed = (await c.send({ type: 'batch', data: [item(2, { type: 'close' })] })).data as unknown as Json[];
    expect(closed[0].type).toBe('closed');
    expect(server.activeSessions()).toBe(2);
    expect((await c.send({ type: 'batch', data: { session: 0 } })).data.code).toBe('VALIDATION_ERROR');
    c.close();
    await c.closed;
    await new Promise((res) => setTimeout(res, 20));
    expect(server.activeSessions()).toBe(0);
  });

  it('refuses a WebSocket on another path', async () => {
    await expect(wsClient(server.wsUrl.replace(/\/ws$/, '/other'))).rejects.toThrow(/404/);
  });
});

describe('serve-env: env failures and the rest of the messages', () => {
  it('FACTORY_ERROR when the env cannot be built, EXECUTION_ERROR when a step fails; mcp over /ws', async () => {
    const server = await startEnvServer({ family: 'faulty', task: 'ok', port: 0 });
    try {
      const c = await wsClient(server.wsUrl);
      const factory = await c.send({ type: 'reset', data: { task_id: 'construct' } });
      expect(factory.data).toMatchObject({ code: 'FACTORY_ERROR', message: 'injected failure building a member' });
      await c.send({ type: 'reset', data: { task_id: 'throw', config: { member: 0, step: 2 } } });
      expect((await c.send({ type: 'step', data: { action_index: 1 } })).type).toBe('observation');
      const failed = await c.send({ type: 'step', data: { action_index: 1 } });
      expect(failed.data).toMatchObject({ code: 'EXECUTION_ERROR', message: 'injected failure at step 2' });
      const mcp = await c.send({ type: 'mcp', data: { jsonrpc: '2.0', method: 'tools/list', id: 'a' } });
      expect(mcp).toEqual({ type: 'mcp', data: { jsonrpc: '2.0', id: 'a', result: { tools: [] } } });
      const unknown = await c.send({ type: 'mcp', data: { jsonrpc: '2.0', method: 'tools/call', id: 2 } });
      expect(unknown.data.error.code).toBe(-32601);
      c.close();
    } finally {
      await server.close();
    }
  });

  it('Gov Workflow GET /sessions lists the HTTP sessions', async () => {
    const server = await startEnvServer({ family: 'gov-workflow', port: 0 });
    try {
      const a = (await http(server.origin, 'POST', '/reset', { seed: 1 })).body.session_id;
      const b = (await http(server.origin, 'POST', '/reset', { seed: 2, task_id: 'cross_department_hard' })).body
        .session_id;
      const list = (await http(server.origin, 'GET', '/sessions')).body;
      expect(list.active_sessions).toBe(2);
      expect(list.sessions.map((s: Json) => s.session_id)).toEqual([a, b]);
      expect(list.sessions[1].task_id).toBe('cross_department_hard');
    } finally {
      await server.close();
    }
  });
});

describe('serve-env: idle sessions and keys', () => {
  it('closes a session idle beyond the timeout', async () => {
    const server = await startEnvServer({ family: 'helixdesk', port: 0, sessionTimeoutS: 0.2 });
    try {
      const c = await wsClient(server.wsUrl);
      await c.send({ type: 'reset', data: { seed: 2 } });
      const notice = await c.next();
      expect(notice.data.code).toBe('SESSION_ERROR');
      expect(await c.closed).toBe(1001);
      expect(server.activeSessions()).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('with an API key: 401 on HTTP and on the WebSocket upgrade without it, never echoing it', async () => {
    const key = 'k-3f9a';
    const server = await startEnvServer({ family: 'helixdesk', port: 0, apiKey: key });
    try {
      const no = await http(server.origin, 'GET', '/health');
      expect(no.status).toBe(401);
      const wrong = await http(server.origin, 'POST', '/reset', {}, { authorization: 'Bearer nope' });
      expect(wrong.status).toBe(401);
      expect(JSON.stringify(wrong.body)).not.toContain('nope');
      expect((await http(server.origin, 'GET', '/health', undefined, { authorization: `Bearer ${key}` })).status).toBe(
        200,
      );
      await expect(wsClient(server.wsUrl)).rejects.toThrow(/401/);
      await expect(wsClient(server.wsUrl, { authorization: 'Bearer nope' })).rejects.toThrow(/401/);
      const c = await wsClient(server.wsUrl, { authorization: `Bearer ${key}` });
      expect((await c.send({ type: 'reset', data: {} })).type).toBe('observation');
      c.close();
    } finally {
      await server.close();
    }
  });

  it('refuses a non-loopback address without a key, and bad settings before listening', async () => {
    await expect(startEnvServer({ family: 'gov-workflow', host: '0.0.0.0', port: 0 })).rejects.toThrow(
      /refusing to listen on 0\.0\.0\.0 without an API key/,
    );
    await expect(startEnvServer({ family: 'gov-workflow', task: 'nope', port: 0 })).rejects.toThrow(/nope/);
    await expect(startEnvServer({ family: 'gov-workflow', maxSessions: 0, port: 0 })).rejects.toThrow(
      /maxSessions must be an integer in 1…4096/,
    );
    await expect(startEnvServer({ family: 'nope', port: 0 })).rejects.toThrow(/nope/);
  });

  it('closes a WebSocket whose message passes --max-body (1009), and keeps serving', async () => {
    const server = await startEnvServer({ family: 'helixdesk', port: 0, maxBodyBytes: 2_000 });
    try {
      const c = await wsClient(server.wsUrl);
      c.ws.send(JSON.stringify({ type: 'reset', data: { pad: 'x'.repeat(5_000) } }));
      expect(await c.closed).toBe(1009);
      const again = await wsClient(server.wsUrl);
      expect((await again.send({ type: 'reset', data: {} })).type).toBe('observation');
      again.close();
    } finally {
      await server.close();
    }
  });

  it('survives garbage on the raw socket (400) and keeps serving', async () => {
    const server = await startEnvServer({ family: 'gov-workflow', port: 0 });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${server.origin}/health`, { method: 'BREW' }, (res) => resolve(res.statusCode ?? 0));
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(400);
      expect((await http(server.origin, 'GET', '/health')).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('openenv.yaml manifests', () => {
  it.each(['gov-workflow', 'helixdesk'])(
    '%s: the keys OpenEnv reads, port 8000, the tasks the server serves',
    async (family) => {
      const manifest = parseYaml(readFileSync(new URL(`../${family}/openenv.yaml`, import.meta.url), 'utf8'));
      expect(manifest).toMatchObject({ spec_version: 1, type: 'space', port: 8000 });
      expect(typeof manifest.name).toBe('string');
      expect(typeof manifest.description).toBe('string');
      expect(manifest.app).toContain(`serve-env --env ${family}`);
      // `action` and `observation` are class-name overrides to OpenEnv's discovery: not set.
      expect(manifest.action).toBeUndefined();
      expect(manifest.observation).toBeUndefined();
      const server = await startEnvServer({ family, port: 0 });
      try {
        const meta = (await http(server.origin, 'GET', '/metadata')).body;
        expect(meta.name).toBe(manifest.name);
        expect(manifest.tasks).toEqual(meta.queue_rl.tasks);
      } finally {
        await server.close();
      }
    },
  );
});
