/**
 * GRPO over an OpenAI-compatible endpoint, readable top to bottom:
 *
 *   setup      backend → the policy server (in-process on 127.0.0.1 from init_from, unless
 *              endpoint.base_url names one) → the client → the learner → the walkers
 *   iterate    1. sample: each walker's current state becomes a prompt; G completions per prompt
 *                 (one request with n = G, or G parallel requests), with the sampler's log-probs
 *              2. score: every completion from a restored snapshot of its state (rewards.ts:
 *                 fn1_valid, fn2_no_halluc, fn3_env_score over 1 + H steps), group-relative advantages
 *              3. learn: the learner takes the groups (tfjs: update + push the weights to the server;
 *                 export/http: hand them to an external trainer)
 *              4. walk: each walker takes its group's first completion (a sample of the current
 *                 policy) and moves on; an ended episode resets with the next seed and task
 *              5. log a metrics row; checkpoint every checkpoint_every iterations
 *   finish     final checkpoint, curves
 *
 * Walkers are episodes of the current policy running from seeded resets over the task mix, so the
 * prompt states cover whole episodes. A group whose request fails after the client's retries is
 * skipped and counted; an iteration with no group left is recorded as skipped. A learner error stops
 * the run; the last checkpoint (written atomically) stays intact. Same config, seed and backend → the
 * same run: request seeds, walker seeds and task draws all derive from the run seed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import { endpointFromEnv, LlmClient, LlmRequestError } from '../../agents/llm/client.js';
import { startPolicyServer } from '../../agents/llm/policy-server.js';
import type { PolicyServer } from '../../agents/llm/policy-server.js';
import { buildGovPrompt } from '../../agents/llm/prompts.js';
import { ppoServedPolicy } from '../../agents/llm/served-policies.js';
import { createStream, deriveSeed, restoreStream } from '../../envs/core/random/streams.js';
import { weightedChoice } from '../../envs/core/random/weighted.js';
import { govAgentInputAt } from '../../envs/gov-workflow/adapter/agent-view.js';
import type { RandomStream, RandomStreamState } from '../../envs/core/random/streams.js';
import { DEFAULT_MAX_NON_ADVANCE_STREAK } from '../../envs/gov-workflow/adapter/action-table.js';
import type { AdapterTrace } from '../../envs/gov-workflow/adapter/features.js';
import type { GovAction } from '../../envs/gov-workflow/actions.js';
import { GovWorkflowEnv } from '../../envs/gov-workflow/env.js';
import type { GovEnvSnapshot } from '../../envs/gov-workflow/env.js';
import { ACTION_TYPES } from '../../envs/gov-workflow/types.js';
import { describeBackend, initBackend } from '../../agents/policy/backend.js';
import type { BackendInfo } from '../../agents/policy/backend.js';
import { writeLineChart } from '../plots.js';
import { packageVersion, removeStaleTemporaries, writeDirAtomic, writeFileAtomic } from '../run-io.js';
import type { GrpoConfig } from './config.js';
import { GrpoConfigSchema } from './config.js';
import { exportLearner, httpLearner, requestSeed, TfjsGrpoLearner } from './learners.js';
import type { GrpoLearner, GrpoSample } from './learners.js';
import { groupAdvantages, scoreCompletion } from './rewards.js';

export type GrpoMetricRow = Record<string, number | string | null>;

export interface TrainGrpoOptions {
  config: GrpoConfig;
  resultsDir: string;
  checkpointDir: string;
  /** Continue from a GRPO checkpoint (a checkpoint directory or a directory with `latest`). */
  resume?: string | null;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Called after each iteration's row. */
  onIteration?: (row: GrpoMetricRow) => void;
}

export interface TrainGrpoResult {
  iterations: number;
  metrics: GrpoMetricRow[];
  finalCheckpoint: string;
  /** The trained policy (tfjs learner): a directory the policy server and `evaluate` can load. */
  policyDir: string | null;
  backend: BackendInfo;
  interrupted: boolean;
  timing: {
    samplingSeconds: number;
    scoringSeconds: number;
    learningSeconds: number;
    wallSeconds: number;
    completions: number;
  };
}

interface Walker {
  env: GovWorkflowEnv;
  trace: AdapterTrace;
  task: string;
  seed: number;
  step: number;
  episode: number;
  rng: RandomStream;
}

interface WalkerState {
  snapshot: GovEnvSnapshot;
  trace: AdapterTrace;
  task: string;
  seed: number;
  step: number;
  episode: number;
  rng: RandomStreamState;
}

const GrpoCheckpointSchema = z
  .object({
    format: z.literal('queue-rl/grpo-checkpoint'),
    version: z.literal(1),
    packageVersion: z.string(),
    config: GrpoConfigSchema,
    iteration: z.number().int().nonnegative(),
    policyVersion: z.number().int().nonnegative(),
    model: z.string().nullable(),
    history: z.array(z.record(z.string(), z.union([z.number(), z.string(), z.null()]))),
    learner: z.record(z.string(), z.unknown()),
    backend: z.record(z.string(), z.unknown()),
  })
  .strict();

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  return `{${Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}

export async function trainGrpo(opts: TrainGrpoOptions): Promise<TrainGrpoResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const config = opts.config;
  const wallStart = performance.now();

  // ---- setup -------------------------------------------------------------------------------
  removeStaleTemporaries(
    [opts.checkpointDir, join(opts.checkpointDir, 'policies'), opts.resultsDir, join(opts.resultsDir, 'groups')],
    { log },
  );
  const resumeDir = opts.resume ? resolveGrpoCheckpoint(opts.resume) : null;
  const resumed = resumeDir
    ? GrpoCheckpointSchema.parse(JSON.parse(readFileSync(join(resumeDir, 'state.json'), 'utf8')))
    : null;
  const backend = await initBackend(config.backend);
  log(`[grpo] ${config.name} (${config.phase}), ${config.learner.type} learner: ${describeBackend(backend)}`);

  let server: PolicyServer | null = null;
  let learner: GrpoLearner | null = null;
  try {
    // The run's own policy server: loopback, a key of its own, weight swaps only from this run's checkpoints.
    const ownKey = randomBytes(24).toString('hex');
    if (config.endpoint.base_url === null) {
      const servedFrom =
        resumed && config.learner.type === 'tfjs' ? join(resumeDir as string, 'policy') : (config.init_from as string);
      mkdirSync(opts.checkpointDir, { recursive: true });
      server = await startPolicyServer({
        policy: ppoServedPolicy(servedFrom, 'queue-rl-policy'),
        modelName: 'queue-rl-policy',
        apiKey: ownKey,
        loadWeights: { root: opts.checkpointDir },
      });
      log(`[grpo] serving the policy at ${server.url}`);
    }
    const baseURL = server?.url ?? (config.endpoint.base_url as string);
    let model = resumed?.model ?? config.endpoint.model ?? 'queue-rl-policy';
    // One client per model id (the http learner may switch to a new adapter); the key as DECISIONS says.
    const apiKey = server ? ownKey : (endpointFromEnv().apiKey ?? 'EMPTY');
    const withModel = (m: string): LlmClient =>
      new LlmClient({
        baseURL,
        apiKey,
        model: m,
        concurrency: config.endpoint.concurrency,
        timeoutMs: config.endpoint.timeout_ms,
        maxRetries: config.endpoint.retries,
        log,
      });
    let sampler = withModel(model);

    if (config.learner.type === 'tfjs') {
      const resume = resumed
        ? {
            parameters: readF32(join(resumeDir as string, 'learner-parameters.bin')),
            reference: readF32(join(resumeDir as string, 'learner-reference.bin')),
            ...splitMoments(readF32(join(resumeDir as string, 'learner-optimizer.bin'))),
            step: Number((resumed.learner as { adamStep?: number }).adamStep ?? 0),
          }
        : null;
      learner = new TfjsGrpoLearner({
        config,
        checkpointDir: opts.checkpointDir,
        serverUrl: config.endpoint.base_url ?? server?.url ?? null,
        serverKey: apiKey,
        resume,
      });
    } else if (config.learner.type === 'export') {
      learner = exportLearner(join(opts.resultsDir, 'groups'));
    } else {
      learner = httpLearner(config.learner, config.endpoint.timeout_ms);
    }

    // Walkers: episodes of the current policy over the task mix.
    const walkers: Walker[] = resumed
      ? (deserialize(readFileSync(join(resumeDir as string, 'walkers.bin'))) as WalkerState[]).map((w) => {
          const env = new GovWorkflowEnv({ taskId: w.task, variant: config.variant });
          env.restore(w.snapshot);
          return {
            env,
            trace: { ...w.trace },
            task: w.task,
            seed: w.seed,
            step: w.step,
            episode: w.episode,
            rng: restoreStream(w.rng),
          };
        })
      : Array.from({ length: config.states_per_iteration }, (_, i) => {
          const rng = createStream(config.seed, 'grpo', 'walker', i);
          const w: Walker = {
            env: new GovWorkflowEnv({ taskId: 'district_backlog_easy', variant: config.variant }),
            trace: freshTrace(),
            task: '',
            seed: 0,
            step: 0,
            episode: -1,
            rng,
          };
          resetWalker(w, config, i);
          return w;
        });
    const scratch = walkers.map(() => new GovWorkflowEnv({ variant: config.variant }));
    let iteration = resumed?.iteration ?? 0;
    let policyVersion = resumed?.policyVersion ?? 1;
    const history: GrpoMetricRow[] = resumed ? resumed.history : [];
    const timing = { samplingSeconds: 0, scoringSeconds: 0, learningSeconds: 0, wallSeconds: 0, completions: 0 };
    let lastCheckpoint = resumeDir ?? '';
    let interrupted = false;
    writeFileAtomic(
      join(opts.resultsDir, 'config.json'),
      `${JSON.stringify({ ...config, backend, packageVersion: packageVersion() }, null, 2)}\n`,
    );
    if (resumeDir) log(`[grpo] resumed from ${resumeDir} at iteration ${iteration}`);

    const save = (): string => {
      const dir = join(opts.checkpointDir, `iter-${String(iteration).padStart(6, '0')}`);
      writeDirAtomic(dir, (tmp) => {
        const learnerState = (learner as GrpoLearner).save(tmp);
        if (learner instanceof TfjsGrpoLearner) learner.writePolicy(join(tmp, 'policy'), iteration);
        const states: WalkerState[] = walkers.map((w) => ({
          snapshot: w.env.snapshot(),
          trace: { ...w.trace },
          task: w.task,
          seed: w.seed,
          step: w.step,
          episode: w.episode,
          rng: w.rng.state(),
        }));
        writeFileSync(join(tmp, 'walkers.bin'), serialize(states));
        const state = {
          format: 'queue-rl/grpo-checkpoint',
          version: 1,
          packageVersion: packageVersion(),
          config,
          iteration,
          policyVersion,
          model: sampler.model,
          history,
          learner: learnerState,
          backend: { ...backend },
        };
        writeFileSync(join(tmp, 'state.json'), `${JSON.stringify(GrpoCheckpointSchema.parse(state), null, 1)}\n`);
      });
      writeFileAtomic(join(opts.checkpointDir, 'latest'), `${basename(dir)}\n`);
      const old = readdirSync(opts.checkpointDir)
        .filter((n) => /^iter-\d{6}$/.test(n))
        .sort();
      for (const n of old.slice(0, Math.max(0, old.length - config.keep_last)))
        rmSync(join(opts.checkpointDir, n), { recursive: true, force: true });
      return dir;
    };

    // ---- iterate -----------------------------------------------------------------------------
    while (iteration < config.iterations) {
      iteration++;
      const t0 = performance.now();
      // 1. Sample G completions per walker state.
      const prompts = walkers.map((w) => buildGovPrompt(govAgentInputAt(w.env, w.trace, w.step, w.seed)));
      const tokensBefore = sampler.usage.promptTokens + sampler.usage.completionTokens;
      const groups = await Promise.all(
        prompts.map(async (prompt, i) => {
          try {
            return await sampleGroup(
              sampler,
              prompt.messages,
              prompt.schemaName,
              prompt.jsonSchema,
              config,
              requestSeed(config.seed, iteration, i),
            );
          } catch (err) {
            if (err instanceof LlmRequestError) {
              log(`[grpo] iteration ${iteration}: walker ${i}'s group skipped: ${err.message}`);
              return null;
            }
            throw err;
          }
        }),
      );
      const t1 = performance.now();

      // 2. Score every completion from its state; group-relative advantages.
      const samples: GrpoSample[] = [];
      const fnSums = { fn1: 0, fn2: 0, fn3: 0, reward: 0, invalid: 0, n: 0 };
      let stdSum = 0;
      let zeroStd = 0;
      let scoredGroups = 0;
      const firstActions: (GovAction | null)[] = [];
      groups.forEach((group, i) => {
        const w = walkers[i] as Walker;
        const prompt = prompts[i] as (typeof prompts)[number];
        if (!group) {
          firstActions.push(null);
          return;
        }
        const snapshot = w.env.snapshot();
        const env = scratch[i] as GovWorkflowEnv;
        // Identical completions score identically: each distinct text once.
        const cache = new Map<string, ReturnType<typeof scoreCompletion>>();
        const scores = group.texts.map((text) => {
          let s = cache.get(text);
          if (!s) {
            s = scoreCompletion(
              text,
              env,
              snapshot,
              config.continuation_horizon,
              config.continuation_policy,
              config.reward_weights,
            );
            cache.set(text, s);
          }
          return s;
        });
        const adv = groupAdvantages(
          scores.map((s) => s.reward),
          config.scale_rewards,
          config.advantage_eps,
        );
        scoredGroups++;
        stdSum += adv.std;
        if (adv.zeroStd) zeroStd++;
        const { features, mask } = prompt;
        const indexOf = new Map([...prompt.allowed.entries()].map(([k, a]) => [canonical(a), k]));
        scores.forEach((s, k) => {
          fnSums.fn1 += s.fn1_valid;
          fnSums.fn2 += s.fn2_no_halluc;
          fnSums.fn3 += s.fn3_env_score;
          fnSums.reward += s.reward;
          if (s.fn1_valid < 1) fnSums.invalid++;
          fnSums.n++;
          if (adv.zeroStd && config.drop_zero_std_groups) return;
          samples.push({
            groupId: `${iteration}-${i}`,
            task: w.task,
            seed: w.seed,
            step: w.step,
            messages: prompt.messages,
            completion: group.texts[k] as string,
            samplerLogprob: group.logprobs[k] ?? null,
            rewards: {
              fn1_valid: s.fn1_valid,
              fn2_no_halluc: s.fn2_no_halluc,
              fn3_env_score: s.fn3_env_score,
              total: s.reward,
            },
            advantage: adv.advantages[k] as number,
            features,
            mask,
            actionIndex: s.action ? (indexOf.get(canonical(s.action)) ?? null) : null,
          });
        });
        firstActions.push(scores[0]?.action ?? null);
      });
      timing.completions += fnSums.n;
      const t2 = performance.now();

      // 3. Learn (a learner error stops the run; the last checkpoint is intact).
      let stats = {
        kl: null as number | null,
        clip_ratio: null as number | null,
        loss: null as number | null,
        trained: 0,
      };
      if (scoredGroups > 0) {
        const step = await (learner as GrpoLearner).update(iteration, policyVersion, samples);
        stats = step.stats;
        if (config.learner.type === 'tfjs') policyVersion += 1;
        else policyVersion = step.version;
        if (step.model && step.model !== sampler.model) {
          sampler = withModel(step.model);
          model = step.model;
        }
      }
      const t3 = performance.now();

      // 4. Walk: each walker takes its group's first completion (a sample of the current policy).
      walkers.forEach((w, i) => {
        if (groups[i] === null) return;
        const action = firstActions[i] ?? null;
        const r = action ? w.env.step(action) : w.env.stepInvalid('unusable completion');
        const advanced = action?.action_type === 'advance_time' && !r.info.invalid_action;
        if (action) w.trace.lastActionType = ACTION_TYPES.indexOf(action.action_type);
        w.trace.nonAdvanceStreak = advanced ? 0 : w.trace.nonAdvanceStreak + 1;
        w.step++;
        if (r.terminated || r.truncated) resetWalker(w, config, i);
      });

      // 5. Log.
      const n = Math.max(fnSums.n, 1);
      const row: GrpoMetricRow = {
        step: iteration,
        reward: fnSums.n > 0 ? fnSums.reward / n : null,
        reward_std: scoredGroups > 0 ? stdSum / scoredGroups : null,
        'rewards/fn1_valid': fnSums.n > 0 ? fnSums.fn1 / n : null,
        'rewards/fn2_no_halluc': fnSums.n > 0 ? fnSums.fn2 / n : null,
        'rewards/fn3_env_score': fnSums.n > 0 ? fnSums.fn3 / n : null,
        frac_reward_zero_std: scoredGroups > 0 ? zeroStd / scoredGroups : null,
        kl: stats.kl,
        clip_ratio: stats.clip_ratio,
        invalid_action_rate: fnSums.n > 0 ? fnSums.invalid / n : null,
        tokens: sampler.usage.promptTokens + sampler.usage.completionTokens - tokensBefore,
        policy_version: policyVersion,
        groups: scoredGroups,
        skipped_groups: walkers.length - scoredGroups,
        samples_trained: stats.trained,
        'time/sampling_s': round((t1 - t0) / 1000),
        'time/scoring_s': round((t2 - t1) / 1000),
        'time/learning_s': round((t3 - t2) / 1000),
        'time/iteration_s': round((performance.now() - t0) / 1000),
      };
      history.push(row);
      writeFileAtomic(
        join(opts.resultsDir, 'metrics.csv'),
        stringify(history, { header: true, columns: Object.keys(row) }),
      );
      timing.samplingSeconds += (t1 - t0) / 1000;
      timing.scoringSeconds += (t2 - t1) / 1000;
      timing.learningSeconds += (t3 - t2) / 1000;
      opts.onIteration?.(row);
      log(
        `[grpo] it ${iteration}/${config.iterations} reward ${fmt(row.reward)} ± ${fmt(row.reward_std)} fn1 ${fmt(row['rewards/fn1_valid'])} fn2 ${fmt(row['rewards/fn2_no_halluc'])} fn3 ${fmt(row['rewards/fn3_env_score'])} zero-std ${fmt(row.frac_reward_zero_std)} v${policyVersion}${scoredGroups < walkers.length ? ` (${walkers.length - scoredGroups} groups skipped)` : ''}`,
      );

      await new Promise<void>((resolve) => setImmediate(resolve));
      if (opts.signal?.aborted) {
        interrupted = true;
        lastCheckpoint = save();
        break;
      }
      if (iteration % config.checkpoint_every === 0 || iteration === config.iterations) lastCheckpoint = save();
    }

    // ---- finish ------------------------------------------------------------------------------
    if (history.length > 0) await drawGrpoCurves(config, history, opts.resultsDir);
    timing.wallSeconds = (performance.now() - wallStart) / 1000;
    return {
      iterations: iteration,
      metrics: history,
      finalCheckpoint: lastCheckpoint,
      policyDir: config.learner.type === 'tfjs' && lastCheckpoint ? join(lastCheckpoint, 'policy') : null,
      backend,
      interrupted,
      timing,
    };
  } finally {
    await learner?.close();
    await server?.close();
  }
}

function freshTrace(): AdapterTrace {
  return {
    lastActionType: ACTION_TYPES.indexOf('advance_time'),
    nonAdvanceStreak: 0,
    maxNonAdvanceStreak: DEFAULT_MAX_NON_ADVANCE_STREAK,
  };
}

function resetWalker(w: Walker, config: GrpoConfig, index: number): void {
  w.episode++;
  w.task = weightedChoice(config.task_mix, w.rng);
  w.seed = deriveSeed(config.seed, 'grpo', 'walker', index, 'episode', w.episode);
  w.env = new GovWorkflowEnv({ taskId: w.task, variant: config.variant });
  w.env.reset({ seed: w.seed });
  w.trace = freshTrace();
  w.step = 0;
}

/** G completions of a prompt: one request with n = G, or G parallel requests (config.sampling). */
async function sampleGroup(
  client: LlmClient,
  messages: { role: 'system' | 'user' | 'assistant'; content: string }[],
  schemaName: string,
  schema: Record<string, unknown>,
  config: GrpoConfig,
  seed: number,
): Promise<{ texts: string[]; logprobs: (number | null)[] }> {
  const G = config.group_size;
  const base = {
    messages,
    temperature: config.temperature,
    maxTokens: config.max_tokens,
    logprobs: true,
    jsonSchema: { name: schemaName, schema },
  };
  if (config.sampling !== 'parallel') {
    const r = await client.complete({ ...base, n: G, seed });
    if (r.choices.length >= G || config.sampling === 'n')
      return {
        texts: r.choices.slice(0, G).map((c) => c.content),
        logprobs: r.choices.slice(0, G).map((c) => c.logprob),
      };
    // The endpoint ignored n: fill the group with single requests.
    const rest = await Promise.all(
      Array.from({ length: G - r.choices.length }, (_, k) => client.complete({ ...base, n: 1, seed: seed + 1 + k })),
    );
    const all = [...r.choices, ...rest.flatMap((x) => x.choices.slice(0, 1))];
    return { texts: all.map((c) => c.content), logprobs: all.map((c) => c.logprob) };
  }
  const rs = await Promise.all(Array.from({ length: G }, (_, k) => client.complete({ ...base, n: 1, seed: seed + k })));
  const all = rs.flatMap((x) => x.choices.slice(0, 1));
  return { texts: all.map((c) => c.content), logprobs: all.map((c) => c.logprob) };
}

export function resolveGrpoCheckpoint(path: string): string {
  if (existsSync(join(path, 'state.json')) && existsSync(join(path, 'walkers.bin'))) return path;
  const latest = join(path, 'latest');
  if (existsSync(latest)) {
    const dir = join(path, readFileSync(latest, 'utf8').trim());
    if (existsSync(join(dir, 'walkers.bin'))) return dir;
  }
  throw new Error(`'${path}' is not a GRPO checkpoint (no state.json + walkers.bin, and no 'latest' pointer to one)`);
}

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

function splitMoments(all: Float32Array): { m: Float32Array; v: Float32Array } {
  const half = all.length / 2;
  return { m: all.slice(0, half), v: all.slice(half) };
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

function fmt(x: number | string | null | undefined): string {
  return typeof x === 'number' ? x.toFixed(3) : 'n/a';
}

/** reward.svg|png (mean group reward and its spread) and reward-functions.svg|png (fn1, fn2, fn3) against the iteration. */
export async function drawGrpoCurves(
  config: GrpoConfig,
  history: readonly GrpoMetricRow[],
  resultsDir: string,
): Promise<string[]> {
  const pts = (key: string): { x: number; y: number }[] =>
    history.filter((r) => typeof r[key] === 'number').map((r) => ({ x: r.step as number, y: r[key] as number }));
  const a = await writeLineChart(
    {
      title: `GRPO mean group reward — ${config.name}`,
      xLabel: 'iteration',
      yLabel: 'reward (fn1 + fn2 + fn3, weighted)',
      series: [
        { name: 'mean reward', points: pts('reward') },
        { name: 'mean within-group std', points: pts('reward_std') },
      ],
    },
    join(resultsDir, 'reward'),
  );
  const b = await writeLineChart(
    {
      title: `GRPO reward functions — ${config.name}`,
      xLabel: 'iteration',
      yLabel: 'mean over completions',
      series: [
        { name: 'fn1_valid', points: pts('rewards/fn1_valid') },
        { name: 'fn2_no_halluc', points: pts('rewards/fn2_no_halluc') },
        { name: 'fn3_env_score', points: pts('rewards/fn3_env_score') },
      ],
    },
    join(resultsDir, 'reward-functions'),
  );
  return [a.svgPath, a.pngPath, b.svgPath, b.pngPath];
}
