import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI, { APIError } from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GovAction } from '../../envs/gov-workflow/actions.js';
import { GovAgentView } from '../../envs/gov-workflow/adapter/agent-view.js';
import { GovWorkflowEnv } from '../../envs/gov-workflow/env.js';
import { loadCheckpoint, policySpecOf, saveCheckpoint } from '../../training/ppo/checkpoint.js';
import { parsePpoConfig } from '../../training/ppo/config.js';
import { trainPpo } from '../../training/ppo/ppo.js';
import { HelixRuleAgent } from '../helixdesk-rule.js';
import { initBackend } from '../policy/backend.js';
import { ParameterLayout } from '../policy/parameters.js';
import { ActorCriticPolicy } from '../policy/policy.js';
import { createGovAgent } from '../registry.js';
import { helixEpisodeEnv } from '../run-episode.js';
import type { ObservationBlock } from './observation-block.js';
import { decodeFeatures, decodeMask, parseObservationBlock } from './observation-block.js';
import type { PolicyServer, PolicyServerOptions } from './policy-server.js';
import { isLoopbackHost, startPolicyServer } from './policy-server.js';
import { buildGovPrompt, buildHelixPrompt, compact, helixAnswer } from './prompts.js';
import type { ServedPolicy } from './served-policies.js';
import { GREEDY_TEMPERATURE, ppoServedPolicy, ruleServedPolicy } from './served-policies.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ADVANCE: GovAction = { action_type: 'advance_time' };

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/**
 * A Gov prompt after `days` advance_time steps (at reset only advance_time is allowed: no case is pending yet; after
 * one day 17 actions are).
 */
function govPrompt(days = 0): {
  env: GovWorkflowEnv;
  view: GovAgentView;
  messages: ChatCompletionMessageParam[];
  block: ObservationBlock;
} {
  const env = new GovWorkflowEnv({ taskId: 'mixed_urgency_medium' });
  env.reset({ seed: 3 });
  const view = new GovAgentView(env);
  view.begin(3);
  for (let d = 0; d < days; d++) {
    env.step(ADVANCE);
    view.record(ADVANCE, false);
  }
  const prompt = buildGovPrompt(view);
  const block = parseObservationBlock(prompt.messages[1]?.content ?? '');
  if (!block) throw new Error('no block');
  return { env, view, messages: prompt.messages, block };
}

async function serve(
  policy: ServedPolicy,
  modelName: string,
  extra: Partial<PolicyServerOptions> = {},
): Promise<{ server: PolicyServer; client: OpenAI }> {
  const server = await startPolicyServer({ policy, modelName, ...extra });
  cleanups.push(() => server.close());
  return {
    server,
    client: new OpenAI({ baseURL: server.url, apiKey: extra.apiKey ?? 'test', maxRetries: 0, timeout: 5000 }),
  };
}

function helixMessages(): ChatCompletionMessageParam[] {
  return buildHelixPrompt(helixEpisodeEnv('easy').reset(0)).messages;
}

async function apiError(p: Promise<unknown>): Promise<APIError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(APIError);
  return err as APIError;
}

/** The actor's logits for a block, computed directly with the checkpoint's network. */
function logitsOf(
  dir: string,
  block: ObservationBlock,
): { logits: Float32Array; mask: Uint8Array; policy: ActorCriticPolicy } {
  const ckpt = loadCheckpoint(dir);
  const policy = new ActorCriticPolicy(policySpecOf(ckpt.state), ckpt.parameters);
  if (policy.normalizer && ckpt.state.obsNormalizer) policy.normalizer.load(ckpt.state.obsNormalizer);
  cleanups.push(() => policy.dispose());
  const logits = new Float32Array(policy.layout.actionSize);
  policy.engine.forward(policy.prepare(decodeFeatures(block.features), 1), 1, logits, new Float32Array(1));
  return { logits, mask: decodeMask(block.mask), policy };
}

/** Allowed indices whose JSON action is `content`. */
function indicesOf(block: ObservationBlock, content: string): number[] {
  return Object.entries(block.actions ?? {})
    .filter(([, a]) => JSON.stringify(compact(a as never)) === content)
    .map(([i]) => Number(i));
}

let ckptRoot = '';
let ckptA = '';
let ckptB = '';
let biasedIndex = -1;

beforeAll(async () => {
  await initBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'queue-rl-policy-server-'));
  ckptRoot = join(dir, 'ckpt');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const config = parsePpoConfig({
    env: { id: 'gov-workflow/district_backlog_easy', options: {} },
    net_arch: { pi: [8], vf: [8] },
    n_steps: 16,
    n_envs: 2,
    batch_size: 16,
    n_epochs: 1,
    total_timesteps: 32,
    eval: { freq: 0, seeds: [1] },
    checkpoint: { freq: 0 },
    update_threads: 1,
    backend: 'cpu',
  });
  const result = await trainPpo({
    config,
    resultsDir: join(dir, 'results'),
    checkpointDir: join(dir, 'ckpt'),
    log: () => undefined,
  });
  ckptA = result.finalCheckpoint;
  // B: A with the head's bias of one allowed action (not A's favourite) raised, so every answer changes.
  const { block } = govPrompt(1);
  const { logits, mask } = logitsOf(ckptA, block);
  const allowed = [...mask.keys()].filter((i) => mask[i] === 1);
  const argmax = allowed.reduce(
    (b, i) => ((logits[i] as number) > (logits[b] as number) ? i : b),
    allowed[0] as number,
  );
  biasedIndex = allowed.find(
    (i) =>
      i !== argmax && JSON.stringify(block.actions?.[String(i)]) !== JSON.stringify(block.actions?.[String(argmax)]),
  ) as number;
  const contents = loadCheckpoint(ckptA);
  const layout = new ParameterLayout(policySpecOf(contents.state).shape, contents.state.policy.netArch);
  const bias = layout.view(contents.parameters, 'action/bias');
  bias[biasedIndex] = (bias[biasedIndex] as number) + 100;
  ckptB = join(dir, 'ckpt', 'biased');
  saveCheckpoint(ckptB, contents, { updateLatest: false });
}, 60_000);

describe('policy server: rule agents', () => {
  it('lists the model on /v1/models and /v1/models/{id}', async () => {
    const { client, server } = await serve(ruleServedPolicy('heuristic', 'gov-workflow'), 'heuristic');
    const models = await client.models.list();
    expect(models.data.map((m) => [m.id, m.object, m.owned_by])).toEqual([['heuristic', 'model', 'queue-rl']]);
    expect((await client.models.retrieve('heuristic')).id).toBe('heuristic');
    expect((await apiError(client.models.retrieve('other'))).status).toBe(404);
    expect(server.requests).toBe(3);
  });

  it('answers a Gov prompt as the heuristic agent does (and continues its episode)', async () => {
    const { client } = await serve(ruleServedPolicy('heuristic', 'gov-workflow'), 'heuristic');
    const { env, view, messages } = govPrompt();
    const reference = createGovAgent('heuristic');
    reference.reset(3);
    const expected = compact(reference.act(view));
    const res = await client.chat.completions.create({ model: 'heuristic', messages, n: 2, temperature: 0 });
    expect(res.object).toBe('chat.completion');
    expect(res.id).toMatch(/^chatcmpl-/);
    expect(res.system_fingerprint).toBe('queue-rl-policy-v1');
    expect(res.choices).toHaveLength(2);
    for (const c of res.choices) {
      expect(JSON.parse(c.message.content ?? '')).toEqual(expected);
      expect(c.message.content).toBe(JSON.stringify(expected));
      expect(c.finish_reason).toBe('stop');
      expect(c.logprobs).toBeNull();
    }
    expect(res.usage?.prompt_tokens).toBe(Math.ceil(messages.map((m) => m.content as string).join('').length / 4));
    expect(res.usage?.total_tokens).toBe(
      (res.usage?.prompt_tokens ?? 0) + 2 * Math.ceil(JSON.stringify(expected).length / 4),
    );
    // A retry of the same step gives the same answer; the next step continues the agent's state.
    expect((await client.chat.completions.create({ model: 'heuristic', messages })).choices[0]?.message.content).toBe(
      JSON.stringify(expected),
    );
    view.record(expected, env.step(expected).info.invalid_action);
    const next = compact(reference.act(view));
    const res2 = await client.chat.completions.create({ model: 'heuristic', messages: buildGovPrompt(view).messages });
    expect(JSON.parse(res2.choices[0]?.message.content ?? '')).toEqual(next);
    expect(next).not.toEqual(compact(createGovAgent('heuristic').act(view))); // a fresh agent would differ
  });

  it('answers a HelixDesk prompt as the rule agent does', async () => {
    const { client } = await serve(ruleServedPolicy('rule', 'helixdesk'), 'rule');
    const env = helixEpisodeEnv('medium');
    for (const seed of [1, 2, 3]) {
      const view = env.reset(seed);
      const expected = helixAnswer(new HelixRuleAgent().act(view), view.nEmployees);
      const res = await client.chat.completions.create({
        model: 'rule',
        messages: buildHelixPrompt(view).messages,
        logprobs: true,
      });
      expect(JSON.parse(res.choices[0]?.message.content ?? '')).toEqual(expected);
      expect(res.choices[0]?.logprobs?.content?.[0]?.logprob).toBe(0); // deterministic: probability 1
    }
  });

  it('random agents draw reproducibly from the listed actions with logprob log(1/k)', async () => {
    const { client } = await serve(ruleServedPolicy('random', 'gov-workflow'), 'random');
    const { messages, block } = govPrompt(1);
    const k = Object.keys(block.actions ?? {}).length;
    const ask = (seed: number): Promise<OpenAI.ChatCompletion> =>
      client.chat.completions.create({ model: 'random', messages, n: 32, seed, logprobs: true });
    const a = await ask(5);
    expect(a.choices.map((c) => c.message.content)).toEqual((await ask(5)).choices.map((c) => c.message.content));
    expect(a.choices.map((c) => c.message.content)).not.toEqual((await ask(6)).choices.map((c) => c.message.content));
    for (const c of a.choices) {
      expect(indicesOf(block, c.message.content ?? '').length).toBeGreaterThan(0);
      expect(c.logprobs?.content?.[0]?.logprob).toBeCloseTo(-Math.log(k), 12);
    }
  });
});

describe('policy server: PPO checkpoints', () => {
  it('temperature 0 answers the allowed action with the highest logit, with its log-probability', async () => {
    const { client } = await serve(ppoServedPolicy(ckptA), 'ppo');
    const { messages, block } = govPrompt(1);
    const { logits, mask, policy } = logitsOf(ckptA, block);
    const allowed = [...mask.keys()].filter((i) => mask[i] === 1);
    const best = allowed.reduce(
      (b, i) => ((logits[i] as number) > (logits[b] as number) ? i : b),
      allowed[0] as number,
    );
    const res = await client.chat.completions.create({ model: 'ppo', messages, temperature: 0, logprobs: true });
    expect(res.choices[0]?.message.content).toBe(JSON.stringify(compact(block.actions?.[String(best)] as never)));
    const lp = new Float64Array(1);
    policy.distribution.logProb(logits, mask, Int32Array.of(best), 1, lp);
    expect(res.choices[0]?.logprobs?.content?.[0]?.logprob).toBeCloseTo(lp[0] as number, 5);
  });

  it('temperature 1 samples allowed actions reproducibly per seed, with the policy log-probabilities', async () => {
    const { client } = await serve(ppoServedPolicy(ckptA), 'ppo');
    const { messages, block } = govPrompt(1);
    const { logits, mask, policy } = logitsOf(ckptA, block);
    const ask = (seed: number, logprobs: boolean): Promise<OpenAI.ChatCompletion> =>
      client.chat.completions.create({ model: 'ppo', messages, n: 64, temperature: 1, seed, logprobs });
    const a = await ask(11, true);
    expect(a.choices).toHaveLength(64);
    const contents = a.choices.map((c) => c.message.content ?? '');
    expect((await ask(11, true)).choices.map((c) => [c.message.content, c.logprobs?.content?.[0]?.logprob])).toEqual(
      a.choices.map((c) => [c.message.content, c.logprobs?.content?.[0]?.logprob]),
    );
    expect((await ask(12, true)).choices.map((c) => c.message.content)).not.toEqual(contents);
    expect(new Set(contents).size).toBeGreaterThan(1);
    const lp = new Float64Array(1);
    for (const c of a.choices) {
      const indices = indicesOf(block, c.message.content ?? '');
      expect(indices.length).toBeGreaterThan(0); // an allowed action
      const logp = indices.map((i) => {
        policy.distribution.logProb(logits, mask, Int32Array.of(i), 1, lp);
        return lp[0] as number;
      });
      const reported = c.logprobs?.content?.[0]?.logprob as number;
      expect(Math.min(...logp.map((l) => Math.abs(l - reported)))).toBeLessThan(1e-5);
      expect(c.logprobs?.content?.[0]?.token).toBe(c.message.content);
    }
    // Concurrent requests get what sequential ones get.
    const parallel = await Promise.all([11, 12, 13, 14, 15, 16, 17, 18].map((seed) => ask(seed, true)));
    expect(parallel[0]?.choices.map((c) => c.message.content)).toEqual(contents);
    for (const [k, r] of parallel.entries())
      expect(r.choices.map((c) => c.message.content)).toEqual(
        (await ask(11 + k, true)).choices.map((c) => c.message.content),
      );
    const plain = await ask(11, false);
    expect(plain.choices.map((c) => c.message.content)).toEqual(contents);
    for (const c of plain.choices) expect(c.logprobs).toBeNull();
  });

  it('swaps weights with setPolicy and /v1/load_weights (version in system_fingerprint)', async () => {
    const a = ppoServedPolicy(ckptA);
    const b = ppoServedPolicy(ckptB);
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    const { client, server } = await serve(a, 'ppo', { loadWeights: { root: ckptRoot } });
    const { messages, block } = govPrompt(1);
    const ask = async (): Promise<[string, string]> => {
      const r = await client.chat.completions.create({ model: 'ppo', messages, temperature: 0 });
      return [r.system_fingerprint ?? '', r.choices[0]?.message.content ?? ''];
    };
    const biased = JSON.stringify(compact(block.actions?.[String(biasedIndex)] as never));
    const [fp1, answerA] = await ask();
    expect(fp1).toBe('queue-rl-policy-v1');
    expect(answerA).not.toBe(biased);
    expect(server.setPolicy(b)).toBe(2);
    expect(await ask()).toEqual(['queue-rl-policy-v2', biased]);
    expect(server.setPolicy(a)).toBe(3);
    expect(await ask()).toEqual(['queue-rl-policy-v3', answerA]);
    const post = (body: unknown): Promise<Response> =>
      fetch(`${server.url}/load_weights`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const loaded = await post({ checkpoint: ckptB });
    expect(loaded.status).toBe(200);
    expect(((await loaded.json()) as { version: number }).version).toBe(4);
    expect(await ask()).toEqual(['queue-rl-policy-v4', biased]);
    expect(server.version).toBe(4);
    const bad = await post({ checkpoint: join(ckptB, 'missing') });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('checkpoint');
    expect((await post({})).status).toBe(400);
    expect(server.version).toBe(4);
    // Not from a checkpoint: no load_weights.
    const rule = await serve(ruleServedPolicy('heuristic', 'gov-workflow'), 'heuristic', {
      loadWeights: { root: ckptRoot },
    });
    const refused = await fetch(`${rule.server.url}/load_weights`, {
      method: 'POST',
      body: JSON.stringify({ checkpoint: ckptB }),
    });
    expect(refused.status).toBe(400);
    expect(rule.server.version).toBe(1);
  });
});

describe('policy server: errors', () => {
  it('answers bad requests in the OpenAI error shape', async () => {
    const { client, server } = await serve(ruleServedPolicy('heuristic', 'gov-workflow'), 'heuristic');
    const { messages } = govPrompt();
    const wrongModel = await apiError(client.chat.completions.create({ model: 'gpt-4o', messages }));
    expect([wrongModel.status, wrongModel.code, wrongModel.param, wrongModel.type]).toEqual([
      404,
      'model_not_found',
      'model',
      'invalid_request_error',
    ]);
    const nZero = await apiError(client.chat.completions.create({ model: 'heuristic', messages, n: 0 }));
    expect([nZero.status, nZero.param]).toEqual([400, 'n']);
    const hot = await apiError(client.chat.completions.create({ model: 'heuristic', messages, temperature: 2.5 }));
    expect([hot.status, hot.param]).toEqual([400, 'temperature']);
    const noBlock = await apiError(
      client.chat.completions.create({
        model: 'heuristic',
        messages: [{ role: 'user', content: 'advance time please' }],
      }),
    );
    expect(noBlock.status).toBe(400);
    expect(noBlock.message).toContain('<queue-rl-observation>');
    const helixBlock = await apiError(
      client.chat.completions.create({ model: 'heuristic', messages: helixMessages() }),
    );
    expect(helixBlock.status).toBe(400);
    expect(helixBlock.message).toContain('helixdesk');
    const stream = await apiError(client.chat.completions.create({ model: 'heuristic', messages, stream: true }));
    expect(stream.status).toBe(400);
    expect(stream.message).toContain('streaming is not supported');
    const badJson = await fetch(`${server.url}/chat/completions`, { method: 'POST', body: '{"model":' });
    expect(badJson.status).toBe(400);
    const nothing = await fetch(`${server.url}/nothing`);
    expect(nothing.status).toBe(404);
    expect(((await nothing.json()) as { error: { message: string } }).error.message).toContain('/v1/nothing');
    const wrongMethod = await fetch(`${server.url}/chat/completions`);
    expect(wrongMethod.status).toBe(405);
    expect(((await wrongMethod.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
  });

  it('refuses a body over the limit with 413', async () => {
    const { client, server } = await serve(ruleServedPolicy('heuristic', 'gov-workflow'), 'heuristic', {
      maxBodyBytes: 2_000,
    });
    const { messages } = govPrompt();
    expect((await apiError(client.chat.completions.create({ model: 'heuristic', messages }))).status).toBe(413);
    // Without a content-length (chunked): counted while reading.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        `${server.url}/chat/completions`,
        { method: 'POST', headers: { 'content-type': 'application/json' } },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      const text = JSON.stringify({ model: 'heuristic', messages });
      for (let i = 0; i < text.length; i += 500) req.write(text.slice(i, i + 500));
      req.end();
    });
    expect(chunked.status).toBe(413);
    expect((JSON.parse(chunked.body) as { error: { code: string } }).error.code).toBe('request_too_large');
    // The server still answers requests under the limit afterwards.
    expect((await client.models.list()).data).toHaveLength(1);
  });
});

/**
 * Sends raw bytes and returns everything the server answers until it closes; `writeError` is a failed write (EPIPE).
 */
function rawExchange(
  port: number,
  chunks: readonly (string | Buffer)[],
): Promise<{ text: string; status: number; body: string; writeError: string | null }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let writeError: string | null = null;
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', (err) => {
      writeError = err.message;
    });
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ text, status, body: text.slice(text.indexOf('\r\n\r\n') + 4), writeError });
    });
    const writeAll = async (): Promise<void> => {
      for (const c of chunks) await new Promise<void>((done) => socket.write(c, () => done()));
    };
    writeAll().catch(reject);
  });
}

async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

describe('policy server: security', () => {
  it('/v1/load_weights is off unless enabled', async () => {
    const { server } = await serve(ppoServedPolicy(ckptA), 'ppo');
    const r = await postJson(`${server.url}/load_weights`, { checkpoint: ckptB });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.text)).toMatchObject({ error: { code: 'load_weights_disabled', type: 'permission_error' } });
    expect(server.version).toBe(1);
  });

  it('an API key closes every route (Bearer, compared in constant time), and is never echoed', async () => {
    const key = 'sk-queue-rl-test-9f8e7d';
    const { server, client } = await serve(ruleServedPolicy('heuristic', 'gov-workflow'), 'heuristic', {
      apiKey: key,
      loadWeights: { root: ckptRoot },
    });
    const { messages } = govPrompt();
    expect((await client.chat.completions.create({ model: 'heuristic', messages })).choices).toHaveLength(1);
    expect((await client.models.list()).data[0]?.id).toBe('heuristic');
    const attempts: [string, RequestInit][] = [
      [`${server.url}/models`, {}],
      [`${server.url}/models/heuristic`, { headers: { authorization: 'Bearer wrong' } }],
      [`${server.url}/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'heuristic', messages }) }],
      [`${server.url}/chat/completions`, { method: 'POST', headers: { authorization: `Basic ${key}` }, body: '{}' }],
      [
        `${server.url}/load_weights`,
        { method: 'POST', headers: { authorization: `Bearer ${key}x` }, body: JSON.stringify({ checkpoint: ckptB }) },
      ],
      [`${server.url}/no-such-route`, {}],
    ];
    for (const [url, init] of attempts) {
      const res = await fetch(url, init);
      const text = await res.text();
      expect(res.status, url).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(JSON.parse(text)).toMatchObject({ error: { code: 'invalid_api_key', type: 'invalid_request_error' } });
      expect(text).not.toContain(key);
    }
    const wrongKey = await apiError(new OpenAI({ baseURL: server.url, apiKey: 'nope', maxRetries: 0 }).models.list());
    expect(wrongKey.status).toBe(401);
  });

  it('refuses a non-loopback address without a key unless told to', async () => {
    expect(['127.0.0.1', '127.8.9.10', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'].every(isLoopbackHost)).toBe(
      true,
    );
    expect(['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com', '128.0.0.1'].some(isLoopbackHost)).toBe(false);
    await expect(
      startPolicyServer({ policy: ruleServedPolicy('heuristic', 'gov-workflow'), modelName: 'h', host: '0.0.0.0' }),
    ).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without an API key/);
    await expect(
      startPolicyServer({ policy: ruleServedPolicy('heuristic', 'gov-workflow'), modelName: 'h', maxBodyBytes: 0 }),
    ).rejects.toThrow(/maxBodyBytes must be an integer in 1…67108864/);
    await expect(
      startPolicyServer({ policy: ruleServedPolicy('heuristic', 'gov-workflow'), modelName: 'h', apiKey: '' }),
    ).rejects.toThrow(/apiKey must not be empty/);
  });

  it('load_weights stays under its root, validates the weights, and never echoes file contents', async () => {
    const SECRET = 'SECRET-root:x:0:0:root:/root:/bin/bash';
    const base = mkdtempSync(join(tmpdir(), 'queue-rl-load-weights-'));
    cleanups.push(() => rmSync(base, { recursive: true, force: true }));
    const root = join(base, 'root');
    const outside = join(base, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.txt'), `${SECRET}\n`);
    const copy = (name: string, under = root): string => {
      const dir = join(under, name);
      cpSync(ckptA, dir, { recursive: true });
      return dir;
    };
    copy('good');
    cpSync(ckptA, join(outside, 'ckpt'), { recursive: true });
    symlinkSync(join(outside, 'ckpt'), join(root, 'link-out'));
    const symState = copy('sym-state');
    rmSync(join(symState, 'state.json'));
    symlinkSync(join(outside, 'secret.txt'), join(symState, 'state.json'));
    const garbage = copy('garbage-state');
    writeFileSync(join(garbage, 'state.json'), SECRET);
    const garbageModel = copy('garbage-model');
    writeFileSync(join(garbageModel, 'model.json'), SECRET);
    mkdirSync(join(root, 'pointer'));
    writeFileSync(join(root, 'pointer', 'latest'), SECRET);
    mkdirSync(join(root, 'pointer-out'));
    symlinkSync(join(outside, 'secret.txt'), join(root, 'pointer-out', 'latest'));
    const nan = copy('nan');
    const weights = readFileSync(join(nan, 'weights.bin'));
    weights.writeFloatLE(Number.NaN, 5 * 4);
    writeFileSync(join(nan, 'weights.bin'), weights);
    const truncated = copy('truncated');
    writeFileSync(join(truncated, 'weights.bin'), readFileSync(join(ckptA, 'weights.bin')).subarray(0, 100));
    // A bigger network's weights under this network's model.json (the 64×64-under-32×32 report).
    const bigger = copy('bigger');
    const big = new ParameterLayout({ observationSize: 163, nvec: [31] }, { pi: [16], vf: [16] });
    writeFileSync(join(bigger, 'weights.bin'), Buffer.from(new Float32Array(big.size).fill(0.01).buffer));

    const { server, client } = await serve(ppoServedPolicy(ckptA), 'ppo', { loadWeights: { root } });
    const { messages } = govPrompt(1);
    const before = (await client.chat.completions.create({ model: 'ppo', messages, temperature: 0 })).choices[0]
      ?.message.content;
    const cases: [string, RegExp][] = [
      ['/etc', /is outside the directory checkpoints may be loaded from/],
      ['../outside/ckpt', /is outside the directory/],
      [join(base, 'outside', 'ckpt'), /is outside the directory/],
      ['/proc/self/cwd', /is outside the directory/],
      ['link-out', /leads outside the directory/],
      ['sym-state', /state\.json: leads outside the directory/],
      ['garbage-state', /garbage-state\/state\.json: is not valid JSON/],
      ['garbage-model', /garbage-model\/model\.json: is not valid JSON/],
      ['pointer', /pointer\/latest: does not hold a checkpoint name/],
      ['pointer-out', /pointer-out\/latest: leads outside the directory/],
      ['nan', /nan\/weights\.bin: 'pi_0\/kernel' holds NaN at index 5: every weight must be finite/],
      ['truncated', /truncated\/weights\.bin: holds 25 float32 values; model\.json's manifest lists \d+/],
      ['bigger', /bigger\/weights\.bin: holds \d+ float32 values; model\.json's manifest lists \d+/],
      ['missing', /missing: does not exist or is not a directory/],
    ];
    for (const [checkpoint, message] of cases) {
      const r = await postJson(`${server.url}/load_weights`, { checkpoint });
      expect(r.status, checkpoint).toBe(400);
      const error = (JSON.parse(r.text) as { error: { message: string; param: string } }).error;
      expect(error.message, checkpoint).toMatch(message);
      expect(error.param).toBe('checkpoint');
      expect(r.text, checkpoint).not.toContain('SECRET');
      // Only the client's own input is echoed.
      if (!checkpoint.includes('outside')) expect(r.text, checkpoint).not.toContain(outside);
    }
    expect(server.version).toBe(1);
    expect(
      (await client.chat.completions.create({ model: 'ppo', messages, temperature: 0 })).choices[0]?.message.content,
    ).toBe(before);
    // Inside the root, relative or absolute: accepted.
    const ok = await postJson(`${server.url}/load_weights`, { checkpoint: 'good' });
    expect([ok.status, JSON.parse(ok.text)]).toEqual([200, { version: 2, checkpoint: 'good' }]);
    expect((await postJson(`${server.url}/load_weights`, { checkpoint: join(root, 'good') })).status).toBe(200);
    expect(server.version).toBe(3);
  });

  it('temperatures below 1e-5 answer greedily with a finite log-probability', async () => {
    const { client } = await serve(ppoServedPolicy(ckptA), 'ppo');
    const { messages } = govPrompt(1);
    const ask = async (temperature: number): Promise<[string, number | null]> => {
      const r = await client.chat.completions.create({ model: 'ppo', messages, temperature, logprobs: true, seed: 3 });
      return [r.choices[0]?.message.content ?? '', r.choices[0]?.logprobs?.content?.[0]?.logprob ?? null];
    };
    const greedy = await ask(0);
    expect(Number.isFinite(greedy[1])).toBe(true);
    for (const t of [1e-300, 1e-40, 1e-6, GREEDY_TEMPERATURE * 0.999]) expect(await ask(t), String(t)).toEqual(greedy);
    for (const t of [GREEDY_TEMPERATURE, 1e-4]) {
      const [content, logprob] = await ask(t);
      expect(content, String(t)).toBe(greedy[0]); // so cold it is the argmax too
      expect(logprob !== null && Number.isFinite(logprob) && logprob <= 0, String(t)).toBe(true);
    }
  });

  it(
    'HTTP edge cases get OpenAI-shaped errors: bad percent-encoding, unparseable requests, a 20 MB body sent before ' +
      'reading',
    async () => {
      const { server } = await serve(ruleServedPolicy('heuristic', 'gov-workflow'), 'heuristic');
      const zz = await fetch(`${server.url}/models/%ZZ`);
      expect(zz.status).toBe(400);
      expect(((await zz.json()) as { error: { param: string } }).error.param).toBe('model');
      for (const line of [
        'BREW /v1/models HTTP/1.1\r\nhost: x\r\n\r\n',
        'HELLO THERE\r\n\r\n',
        'GET /v1/models HTTP/1.1\r\nbad header line\r\n\r\n',
      ]) {
        const r = await rawExchange(server.port, [line]);
        expect(r.status, line).toBe(400);
        expect(JSON.parse(r.body), line).toMatchObject({
          error: { type: 'invalid_request_error', code: 'bad_request' },
        });
      }
      const body = Buffer.alloc(20_000_000, 0x61);
      const big = await rawExchange(server.port, [
        `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ` +
          `${body.length}\r\n\r\n`,
        body,
      ]);
      expect(big.writeError).toBeNull(); // no EPIPE: the server read the body to its end before answering
      expect(big.status).toBe(413);
      expect(JSON.parse(big.body)).toMatchObject({ error: { code: 'request_too_large' } });
    },
  );
});

describe('serve-policy command', () => {
  it('serves an agent, answers a request, and exits 0 on SIGINT', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/cli.ts',
        'serve-policy',
        '--agent',
        'heuristic',
        '--env',
        'gov-workflow',
        '--port',
        '0',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^serving heuristic \(.*\) at (http:\/\/127\.0\.0\.1:\d+\/v1)$/m.exec(out);
        if (m) resolve(m[1] as string);
      });
      void exited.then((code) => reject(new Error(`serve-policy exited (${code}) before serving: ${stderr}`)));
    });
    const client = new OpenAI({ baseURL: url, apiKey: 'test', maxRetries: 0, timeout: 5000 });
    const { view, messages } = govPrompt();
    const res = await client.chat.completions.create({ model: 'heuristic', messages });
    expect(JSON.parse(res.choices[0]?.message.content ?? '')).toEqual(compact(createGovAgent('heuristic').act(view)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stderr).toContain('closing the policy server');
  }, 30_000);
});
