/**
 * GRPO end to end against real loopback servers (the policy server, a vLLM-style proxy, a trainer
 * receiver, a flaky endpoint) with the real openai client. No mocks.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Handler } from '../../agents/llm/loopback.fixture.js';
import { forward, loopbackServer } from '../../agents/llm/loopback.fixture.js';
import { decodeFeatures, decodeMask, parseObservationBlock } from '../../agents/llm/observation-block.js';
import { buildGovPrompt } from '../../agents/llm/prompts.js';
import { initBackend } from '../../agents/policy/backend.js';
import { loadPolicyCheckpoint } from '../../agents/policy/checkpoint.js';
import { ActorCriticPolicy } from '../../agents/policy/policy.js';
import { pyRound } from '../../envs/core/py-round.js';
import { govAgentInputAt } from '../../envs/gov-workflow/adapter/agent-view.js';
import { freshTrace } from '../../envs/gov-workflow/adapter/trace.js';
import { GovWorkflowEnv } from '../../envs/gov-workflow/env.js';
import { main } from '../../scripts/cli.js';
import { parsePpoConfig } from '../ppo/config.js';
import { trainPpo } from '../ppo/ppo.js';
import { StoryJsonSchema } from '../story.js';
import type { GrpoConfigInput } from './config.js';
import { parseGrpoConfig } from './config.js';
import type { GrpoMetricRow } from './grpo.js';
import { trainGrpo } from './grpo.js';
import { groupAdvantages, parseCompletion, scoreCompletion } from './rewards.js';

const dirs: string[] = [];
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'queue-rl-grpo-'));
  dirs.push(d);
  return d;
}
const quiet = (): void => undefined;

async function httpServer(handler: Handler): Promise<string> {
  const server = await loopbackServer(handler);
  cleanups.push(server.close);
  return server.origin;
}

let initPolicy = '';
beforeAll(async () => {
  await initBackend('cpu');
  const d = tempDir();
  // An untrained policy (orthogonal init, 8 env steps of PPO) for GRPO to start from.
  const ppo = await trainPpo({
    config: parsePpoConfig({
      env: { id: 'gov-workflow/district_backlog_easy', options: {} },
      seed: 3,
      net_arch: { pi: [32], vf: [32] },
      n_steps: 8,
      n_envs: 1,
      batch_size: 8,
      n_epochs: 1,
      total_timesteps: 8,
      eval: { freq: 0, seeds: [1] },
      update_threads: 1,
      backend: 'cpu',
    }),
    resultsDir: join(d, 'r'),
    checkpointDir: join(d, 'c'),
    log: quiet,
  });
  initPolicy = ppo.finalCheckpoint;
});

function grpoConfig(over: GrpoConfigInput = {}): ReturnType<typeof parseGrpoConfig> {
  return parseGrpoConfig({
    init_from: initPolicy,
    iterations: 4,
    states_per_iteration: 4,
    group_size: 6,
    continuation_horizon: 2,
    checkpoint_every: 2,
    backend: 'cpu',
    ...over,
  });
}

/** Fixed evaluation states: seeded resets of a task, advanced 1–6 days. */
function evaluationStates(task: string): { env: GovWorkflowEnv; messages: string }[] {
  const out: { env: GovWorkflowEnv; messages: string }[] = [];
  for (let k = 0; k < 12; k++) {
    const env = new GovWorkflowEnv({ taskId: task });
    env.reset({ seed: 500 + k });
    for (let d = 0; d <= k % 6; d++) env.step({ action_type: 'advance_time' });
    out.push({ env, messages: '' });
  }
  return out;
}

/** Exact expected reward E_π[r(s, a)] of a policy over the fixed states (the GRPO objective, no sampling noise). */
function expectedReward(policyDir: string, task = 'district_backlog_easy'): number {
  const ckpt = loadPolicyCheckpoint(policyDir);
  const policy = new ActorCriticPolicy(ckpt.spec, ckpt.parameters);
  const trace = freshTrace(3);
  let total = 0;
  const states = evaluationStates(task);
  for (const { env } of states) {
    const prompt = buildGovPrompt(govAgentInputAt(env, trace, 1, 0));
    const block = parseObservationBlock(prompt.messages[1]?.content ?? '');
    if (!block) throw new Error('no block');
    const logits = new Float32Array(ckpt.spec.shape.nvec[0] as number);
    policy.engine.forward(decodeFeatures(block.features), 1, logits, new Float32Array(1));
    const mask = decodeMask(block.mask);
    const scratch = new GovWorkflowEnv({});
    const snap = env.snapshot();
    let z = 0;
    let e = 0;
    const max = Math.max(...[...logits].filter((_, i) => mask[i] === 1));
    for (const [index, action] of prompt.allowed) {
      const p = Math.exp((logits[index] as number) - max);
      z += p;
      e +=
        p *
        scoreCompletion(JSON.stringify(action), scratch, snap, 2, 'advance', {
          fn1_valid: 1,
          fn2_no_halluc: 1,
          fn3_env_score: 1,
        }).reward;
    }
    total += e / z;
  }
  policy.dispose();
  return total / states.length;
}

describe('reward functions and advantages', () => {
  const env = new GovWorkflowEnv({ taskId: 'mixed_urgency_medium' });
  env.reset({ seed: 4 });
  env.step({ action_type: 'advance_time' });
  const snap = env.snapshot();
  const scratch = new GovWorkflowEnv({});
  const w = { fn1_valid: 1, fn2_no_halluc: 1, fn3_env_score: 1 };
  const score = (text: string): ReturnType<typeof scoreCompletion> =>
    scoreCompletion(text, scratch, snap, 0, 'advance', w);

  it('fn1 and fn2 grade every kind of bad completion', () => {
    const cases: [string, number, number][] = [
      ['{"action_type":"advance_time"}', 1, 1],
      // parseable, but fenced chatter is blocklisted
      ['Here you go: ```json\n{"action_type":"advance_time"}\n```', 1, -1],
      ['I would advance time.', -1, 0], // no JSON
      ['Sorry, as an AI I cannot decide.', -1, -1], // no JSON, off-topic
      ['{"service": "passport"}', 0, 0], // no action_type
      ['{"action_type":"launch_rocket"}', 0, -1], // invented action
      // invented service: malformed
      ['{"action_type":"request_missing_documents","service_target":"moon_permit"}', 0.5, -1],
      // invented field (dropped by the env, still a hallucination)
      ['{"action_type":"advance_time","mood":"happy"}', 1, -1],
      // well-formed, not legal now (the service is not in this task)
      ['{"action_type":"escalate_service","escalation_target":"birth_certificate"}', 0.5, 1],
      ['{"action_type":"set_priority_mode","priority_mode":"urgent_first"}', 1, 1],
    ];
    for (const [text, fn1, fn2] of cases) {
      const s = score(text);
      expect([text, s.fn1_valid, s.fn2_no_halluc]).toEqual([text, fn1, fn2]);
      expect(s.reward).toBeCloseTo(s.fn1_valid + s.fn2_no_halluc + s.fn3_env_score, 9);
      if (fn1 < 1) expect(s.reason).not.toBeNull();
    }
    expect(parseCompletion('{"action_type": 7}').form).toBe(0);
  });

  it(
    'fn3 is the env reward over 1 + H steps from the restored state, an unusable completion being the env’s ' +
      'invalid step',
    () => {
      const direct = new GovWorkflowEnv({ taskId: 'mixed_urgency_medium' });
      direct.reset({ seed: 4 });
      direct.step({ action_type: 'advance_time' });
      const a = direct.step({ action_type: 'advance_time' }).reward;
      const b = direct.step({ action_type: 'advance_time' }).reward;
      expect(
        scoreCompletion('{"action_type":"advance_time"}', scratch, snap, 1, 'advance', w).fn3_env_score,
      ).toBeCloseTo(a + b, 9);
      const invalid = score('garbage');
      const probe = new GovWorkflowEnv({ taskId: 'mixed_urgency_medium' });
      probe.restore(snap);
      expect(invalid.fn3_env_score).toBe(probe.stepInvalid('x').reward);
      expect(invalid.fn3_env_score).toBeLessThan(0);
    },
  );

  it('group advantages: standardised per group, r − mean without scaling, zero for a tied group', () => {
    const g = groupAdvantages([1, 2, 3, 6], 'group', 1e-4);
    expect(g.mean).toBe(3);
    expect(g.std).toBeCloseTo(Math.sqrt(3.5), 12);
    expect(g.advantages[3]).toBeCloseTo(3 / (Math.sqrt(3.5) + 1e-4), 12);
    expect(groupAdvantages([1, 2, 3, 6], 'none', 1e-4).advantages).toEqual([-2, -1, 0, 3]);
    expect(groupAdvantages([5, 5, 5], 'group', 1e-4)).toMatchObject({ zeroStd: true, advantages: [0, 0, 0] });
  });
});

describe('GRPO with the tfjs learner against the policy server', () => {
  it(
    'Phase 1 then Phase 2 each raise the expected group reward within a fixed budget, pushing each update to ' +
      'the server',
    async () => {
      const d = tempDir();
      const before = expectedReward(initPolicy);
      const result = await trainGrpo({
        config: grpoConfig({
          iterations: 12,
          states_per_iteration: 8,
          group_size: 8,
          learning_rate: 1e-2,
          checkpoint_every: 4,
        }),
        resultsDir: join(d, 'r'),
        checkpointDir: join(d, 'c'),
        log: quiet,
      });
      expect(result.iterations).toBe(12);
      const last = result.metrics[result.metrics.length - 1] as GrpoMetricRow;
      expect(last.policy_version).toBe(13); // one new version per update, served over HTTP
      expect(result.policyDir && existsSync(join(result.policyDir, 'model.json'))).toBe(true);
      const after = expectedReward(result.policyDir as string);
      expect(after).toBeGreaterThan(before + 5); // measured: 23.8 → 36.2
      // Phase 2 continues from Phase 1's trained policy on its own task mix (medium), with a KL leash
      const medBefore = expectedReward(result.policyDir as string, 'mixed_urgency_medium');
      const p2 = await trainGrpo({
        config: grpoConfig({
          phase: 'grpo-phase2',
          init_from: result.policyDir,
          task_mix: { mixed_urgency_medium: 1 },
          iterations: 12,
          states_per_iteration: 8,
          group_size: 8,
          learning_rate: 1e-2,
          beta: 0.04,
          checkpoint_every: 4,
          seed: 2,
        }),
        resultsDir: join(d, 'r2'),
        checkpointDir: join(d, 'c2'),
        log: quiet,
      });
      const medAfter = expectedReward(p2.policyDir as string, 'mixed_urgency_medium');
      expect(medAfter).toBeGreaterThan(medBefore + 3); // measured: 39.3 → 47.7
      expect(p2.metrics.some((r) => typeof r.kl === 'number' && r.kl > 0)).toBe(true);
      // every row has the documented columns
      const header = readFileSync(join(d, 'r', 'metrics.csv'), 'utf8').split('\n')[0] as string;
      for (const col of [
        'step',
        'reward',
        'reward_std',
        'rewards/fn1_valid',
        'rewards/fn2_no_halluc',
        'rewards/fn3_env_score',
        'frac_reward_zero_std',
        'kl',
        'clip_ratio',
        'invalid_action_rate',
        'tokens',
        'policy_version',
      ])
        expect(header.split(',')).toContain(col);
      expect(existsSync(join(d, 'r', 'reward.png'))).toBe(true);
      expect(existsSync(join(d, 'r', 'reward-functions.svg'))).toBe(true);
      // the training-story export of this run validates against the documented shape
      const out = join(d, 'story');
      const exported = await main([
        'export-story',
        '--run',
        join(d, 'r'),
        '--task',
        'district_backlog_easy',
        '--out',
        out,
      ]);
      expect(exported).toBe(0);
      const story = StoryJsonSchema.parse(
        JSON.parse(readFileSync(join(out, 'district_backlog_easy_training_log.json'), 'utf8')),
      );
      expect(story.total_episodes).toBe(12);
      expect(story.episodes.map((e) => e.total_reward)).toEqual(
        result.metrics.map((r) => pyRound(r.reward as number, 4)),
      );
      expect(readFileSync(join(out, 'district_backlog_easy_story.csv'), 'utf8').split('\n')[0]).toBe(
        'step,reward,fn1_valid,fn2_no_halluc,fn3_env_score',
      );
    },
  );

  it('resumes exactly: 2 + 2 iterations equal 4', async () => {
    const a = tempDir();
    const full = await trainGrpo({
      config: grpoConfig(),
      resultsDir: join(a, 'r'),
      checkpointDir: join(a, 'c'),
      log: quiet,
    });
    const b = tempDir();
    await trainGrpo({
      config: grpoConfig({ iterations: 2 }),
      resultsDir: join(b, 'r'),
      checkpointDir: join(b, 'c'),
      log: quiet,
    });
    const resumed = await trainGrpo({
      config: grpoConfig(),
      resultsDir: join(b, 'r'),
      checkpointDir: join(b, 'c'),
      log: quiet,
      resume: join(b, 'c'),
    });
    const strip = (rows: GrpoMetricRow[]): GrpoMetricRow[] =>
      rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('time/'))));
    expect(strip(resumed.metrics)).toEqual(strip(full.metrics));
    expect(loadPolicyCheckpoint(resumed.policyDir as string).parameters).toEqual(
      loadPolicyCheckpoint(full.policyDir as string).parameters,
    );
  });
});

describe('export and http learners', () => {
  it('export writes every completion as a JSONL line with the documented fields', async () => {
    const d = tempDir();
    await trainGrpo({
      config: grpoConfig({ learner: { type: 'export' }, iterations: 2, drop_zero_std_groups: false }),
      resultsDir: join(d, 'r'),
      checkpointDir: join(d, 'c'),
      log: quiet,
    });
    const files = readdirSync(join(d, 'r', 'groups')).sort();
    expect(files).toEqual(['iter-000001.jsonl', 'iter-000002.jsonl']);
    const lines = readFileSync(join(d, 'r', 'groups', files[0] as string), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(4 * 6);
    for (const l of lines) {
      expect(Object.keys(l).sort()).toEqual(
        [
          'advantage',
          'completion',
          'group_id',
          'iteration',
          'messages',
          'policy_version',
          'rewards',
          'sampler_logprob',
          'seed',
          'step',
          'task',
        ].sort(),
      );
      expect(typeof l.sampler_logprob).toBe('number');
      expect(Object.keys(l.rewards as object).sort()).toEqual(['fn1_valid', 'fn2_no_halluc', 'fn3_env_score', 'total']);
    }
  });

  it(
    'http posts the groups to the trainer, loads the returned adapter into a vLLM-style server, and samples with ' +
      'it next',
    async () => {
      const d = tempDir();
      // A vLLM-style front: /v1/load_lora_adapter registers names; completions for a registered name
      // are answered by the policy server (started by the run itself? no: this test runs its own).
      const { startPolicyServer } = await import('../../agents/llm/policy-server.js');
      const { ppoServedPolicy } = await import('../../agents/llm/served-policies.js');
      const policyServer = await startPolicyServer({ policy: ppoServedPolicy(initPolicy, 'base'), modelName: 'base' });
      cleanups.push(() => policyServer.close());
      const loaded: { lora_name: string; lora_path: string }[] = [];
      const modelsSeen: string[] = [];
      const vllm = await httpServer((req, res, body) => {
        if (req.url === '/v1/load_lora_adapter') {
          loaded.push(JSON.parse(body) as { lora_name: string; lora_path: string });
          res.writeHead(200).end('Success');
          return;
        }
        const parsed = JSON.parse(body) as { model: string };
        modelsSeen.push(parsed.model);
        if (parsed.model !== 'base' && !loaded.some((l) => l.lora_name === parsed.model)) {
          res.writeHead(404, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              error: {
                message: 'no such model',
                type: 'invalid_request_error',
                param: 'model',
                code: 'model_not_found',
              },
            }),
          );
          return;
        }
        void forward(
          policyServer.url.replace(/\/v1$/, ''),
          req.url ?? '',
          JSON.stringify({ ...parsed, model: 'base' }),
        ).then((f) => res.writeHead(f.status, { 'content-type': 'application/json' }).end(f.body));
      });
      const posts: { iteration: number; policy_version: number; groups: unknown[] }[] = [];
      const trainer = await httpServer((_req, res, body) => {
        const p = JSON.parse(body) as { iteration: number; policy_version: number; groups: unknown[] };
        posts.push(p);
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ version: p.policy_version + 1, adapter_path: `/adapters/v${p.policy_version + 1}` }));
      });
      await trainGrpo({
        config: grpoConfig({
          iterations: 2,
          init_from: null,
          drop_zero_std_groups: false,
          endpoint: { base_url: `${vllm}/v1`, model: 'base' },
          learner: { type: 'http', trainer_url: `${trainer}/train`, load_adapter_url: vllm, adapter_prefix: 'gov' },
        }),
        resultsDir: join(d, 'r'),
        checkpointDir: join(d, 'c'),
        log: quiet,
      });
      expect(posts.map((p) => [p.iteration, p.policy_version, p.groups.length])).toEqual([
        [1, 1, 24],
        [2, 2, 24],
      ]);
      expect(loaded).toEqual([
        { lora_name: 'gov-v2', lora_path: '/adapters/v2' },
        { lora_name: 'gov-v3', lora_path: '/adapters/v3' },
      ]);
      expect(new Set(modelsSeen)).toEqual(new Set(['base', 'gov-v2']));
    },
  );

  it('a learner error stops the run and leaves the last checkpoint intact', async () => {
    const d = tempDir();
    let calls = 0;
    const trainer = await httpServer((_req, res, body) => {
      calls++;
      const p = JSON.parse(body) as { policy_version: number };
      if (calls === 3) {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"out of memory"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version: p.policy_version + 1 }));
    });
    await expect(
      trainGrpo({
        config: grpoConfig({
          iterations: 4,
          checkpoint_every: 1,
          learner: { type: 'http', trainer_url: `${trainer}/t` },
        }),
        resultsDir: join(d, 'r'),
        checkpointDir: join(d, 'c'),
        log: quiet,
      }),
    ).rejects.toThrow(/answered 500.*out of memory/);
    expect(readFileSync(join(d, 'c', 'latest'), 'utf8').trim()).toBe('iter-000002');
    const state = JSON.parse(readFileSync(join(d, 'c', 'iter-000002', 'state.json'), 'utf8')) as { iteration: number };
    expect(state.iteration).toBe(2);
    expect(readdirSync(join(d, 'c')).filter((n) => n.startsWith('.'))).toEqual([]); // no half-written checkpoint
    expect(
      readFileSync(join(d, 'r', 'metrics.csv'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(1 + 2); // rows of the finished iterations only
  });

  it('endpoint failures: a group whose requests keep failing is skipped and counted, the run goes on', async () => {
    const d = tempDir();
    const { startPolicyServer } = await import('../../agents/llm/policy-server.js');
    const { ppoServedPolicy } = await import('../../agents/llm/served-policies.js');
    const policyServer = await startPolicyServer({ policy: ppoServedPolicy(initPolicy, 'base'), modelName: 'base' });
    cleanups.push(() => policyServer.close());
    let n = 0;
    const flaky = await httpServer((req, res, body) => {
      n++;
      // requests 5–12 fail (iteration 2's groups, with their retry)
      if (n >= 5 && n <= 12) {
        res
          .writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' })
          .end('{"error":{"message":"overloaded"}}');
        return;
      }
      void forward(policyServer.url.replace(/\/v1$/, ''), req.url ?? '', body).then((f) =>
        res.writeHead(f.status, { 'content-type': 'application/json' }).end(f.body),
      );
    });
    const result = await trainGrpo({
      config: grpoConfig({
        iterations: 3,
        init_from: null,
        learner: { type: 'export' },
        endpoint: { base_url: `${flaky}/v1`, model: 'base', retries: 1 },
      }),
      resultsDir: join(d, 'r'),
      checkpointDir: join(d, 'c'),
      log: quiet,
    });
    expect(result.metrics.map((r) => r.skipped_groups)).toEqual([0, 4, 0]);
    expect(result.metrics[1]?.reward).toBeNull();
  });
});
