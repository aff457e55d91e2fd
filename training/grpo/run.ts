/**
 * A GRPO run's setup and checkpoints: the backend, the run's own policy server (loopback, a key of
 * its own, weight swaps only from the run's checkpoints) unless endpoint.base_url names one, the
 * sampling client, the learner, the walkers; and `save()` writing the whole run atomically
 * (iter-<n>/: state.json, walkers.bin, the learner's files, the tfjs learner's policy/).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { z } from 'zod';
import { endpointFromEnv, LlmClient } from '../../agents/llm/client.js';
import type { PolicyServer } from '../../agents/llm/policy-server.js';
import { startPolicyServer } from '../../agents/llm/policy-server.js';
import { ppoServedPolicy } from '../../agents/llm/served-policies.js';
import type { BackendInfo } from '../../agents/policy/backend.js';
import { describeBackend, initBackend } from '../../agents/policy/backend.js';
import { GovWorkflowEnv } from '../../envs/gov-workflow/env.js';
import type { MetricRow } from '../logger.js';
import { packageVersion, pointLatest, pruneKeepLast, writeDirAtomic } from '../run-io.js';
import type { GrpoConfig } from './config.js';
import { GrpoConfigSchema } from './config.js';
import type { GrpoLearner } from './learners.js';
import { exportLearner, httpLearner, TfjsGrpoLearner } from './learners.js';
import type { Walker, WalkerState } from './walkers.js';
import { restoreWalkers, startWalkers, walkerStates } from './walkers.js';

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
type GrpoCheckpoint = z.infer<typeof GrpoCheckpointSchema>;

/** A GRPO checkpoint directory: the directory itself, or one with a `latest` pointer to it. */
export function resolveGrpoCheckpoint(path: string): string {
  if (existsSync(join(path, 'state.json')) && existsSync(join(path, 'walkers.bin'))) return path;
  const latest = join(path, 'latest');
  if (existsSync(latest)) {
    const dir = join(path, readFileSync(latest, 'utf8').trim());
    if (existsSync(join(dir, 'walkers.bin'))) return dir;
  }
  throw new Error(`'${path}' is not a GRPO checkpoint (no state.json + walkers.bin, and no 'latest' pointer to one)`);
}

export class GrpoRun {
  iteration: number;
  /** The version of the policy the next iteration samples from (the policy server's, or the trainer's). */
  policyVersion: number;
  sampler: LlmClient;
  readonly walkers: Walker[];
  /** One scratch env per walker, for scoring completions from restored snapshots. */
  readonly scratch: GovWorkflowEnv[];
  readonly history: MetricRow[];
  lastCheckpoint: string;

  private constructor(
    readonly config: GrpoConfig,
    readonly backend: BackendInfo,
    readonly server: PolicyServer | null,
    readonly learner: GrpoLearner,
    private readonly clientFor: (model: string) => LlmClient,
    readonly checkpointDir: string,
    resumed: { dir: string; state: GrpoCheckpoint } | null,
  ) {
    this.iteration = resumed?.state.iteration ?? 0;
    this.policyVersion = resumed?.state.policyVersion ?? 1;
    this.sampler = clientFor(resumed?.state.model ?? config.endpoint.model ?? 'queue-rl-policy');
    this.walkers = resumed
      ? restoreWalkers(deserialize(readFileSync(join(resumed.dir, 'walkers.bin'))) as WalkerState[], config)
      : startWalkers(config);
    this.scratch = this.walkers.map(() => new GovWorkflowEnv({ variant: config.variant }));
    this.history = resumed ? resumed.state.history : [];
    this.lastCheckpoint = resumed?.dir ?? '';
  }

  static async create(
    config: GrpoConfig,
    dirs: { checkpointDir: string; resultsDir: string },
    resume: string | null,
    log: (line: string) => void,
  ): Promise<GrpoRun> {
    const resumeDir = resume ? resolveGrpoCheckpoint(resume) : null;
    const resumed = resumeDir
      ? {
          dir: resumeDir,
          state: GrpoCheckpointSchema.parse(JSON.parse(readFileSync(join(resumeDir, 'state.json'), 'utf8'))),
        }
      : null;
    const backend = await initBackend(config.backend);
    log(`[grpo] ${config.name} (${config.phase}), ${config.learner.type} learner: ${describeBackend(backend)}`);
    const ownKey = randomBytes(24).toString('hex');
    let server: PolicyServer | null = null;
    let learner: GrpoLearner | null = null;
    try {
      if (config.endpoint.base_url === null) {
        const servedFrom =
          resumed && config.learner.type === 'tfjs' ? join(resumed.dir, 'policy') : (config.init_from as string);
        mkdirSync(dirs.checkpointDir, { recursive: true });
        server = await startPolicyServer({
          policy: ppoServedPolicy(servedFrom, 'queue-rl-policy'),
          modelName: 'queue-rl-policy',
          apiKey: ownKey,
          loadWeights: { root: dirs.checkpointDir },
        });
        log(`[grpo] serving the policy at ${server.url}`);
      }
      const baseURL = server?.url ?? (config.endpoint.base_url as string);
      // The endpoint key as docs/decisions.md says; the run's own server has its own.
      const apiKey = server ? ownKey : (endpointFromEnv().apiKey ?? 'EMPTY');
      const clientFor = (model: string): LlmClient =>
        new LlmClient({
          baseURL,
          apiKey,
          model,
          concurrency: config.endpoint.concurrency,
          timeoutMs: config.endpoint.timeout_ms,
          maxRetries: config.endpoint.retries,
          log,
        });
      learner = createLearner(
        config,
        dirs,
        { serverUrl: config.endpoint.base_url ?? server?.url ?? null, serverKey: apiKey },
        resumed,
      );
      const run = new GrpoRun(config, backend, server, learner, clientFor, dirs.checkpointDir, resumed);
      if (resumed) log(`[grpo] resumed from ${resumed.dir} at iteration ${run.iteration}`);
      return run;
    } catch (err) {
      await learner?.close();
      await server?.close();
      throw err;
    }
  }

  /** Samples from now on with another model id (the http learner's new adapter). */
  useModel(model: string): void {
    if (model !== this.sampler.model) this.sampler = this.clientFor(model);
  }

  /** Checkpoint iter-<n> of the whole run, the `latest` pointer, keep_last pruning. */
  save(): string {
    const dir = join(this.checkpointDir, `iter-${String(this.iteration).padStart(6, '0')}`);
    writeDirAtomic(dir, (tmp) => {
      const learnerState = this.learner.save(tmp);
      if (this.learner instanceof TfjsGrpoLearner) this.learner.writePolicy(join(tmp, 'policy'), this.iteration);
      writeFileSync(join(tmp, 'walkers.bin'), serialize(walkerStates(this.walkers)));
      const state: GrpoCheckpoint = {
        format: 'queue-rl/grpo-checkpoint',
        version: 1,
        packageVersion: packageVersion(),
        config: this.config,
        iteration: this.iteration,
        policyVersion: this.policyVersion,
        model: this.sampler.model,
        history: this.history,
        learner: learnerState,
        backend: { ...this.backend },
      };
      writeFileSync(join(tmp, 'state.json'), `${JSON.stringify(GrpoCheckpointSchema.parse(state), null, 1)}\n`);
    });
    pointLatest(this.checkpointDir, basename(dir));
    pruneKeepLast(this.checkpointDir, /^iter-\d{6}$/, this.config.keep_last);
    this.lastCheckpoint = dir;
    return dir;
  }

  async close(): Promise<void> {
    await this.learner.close();
    await this.server?.close();
  }
}

function createLearner(
  config: GrpoConfig,
  dirs: { checkpointDir: string; resultsDir: string },
  server: { serverUrl: string | null; serverKey: string },
  resumed: { dir: string; state: GrpoCheckpoint } | null,
): GrpoLearner {
  if (config.learner.type === 'export') return exportLearner(join(dirs.resultsDir, 'groups'));
  if (config.learner.type === 'http') return httpLearner(config.learner, config.endpoint.timeout_ms);
  const resume = resumed
    ? {
        parameters: readF32(join(resumed.dir, 'learner-parameters.bin')),
        reference: readF32(join(resumed.dir, 'learner-reference.bin')),
        ...splitMoments(readF32(join(resumed.dir, 'learner-optimizer.bin'))),
        step: Number((resumed.state.learner as { adamStep?: number }).adamStep ?? 0),
      }
    : null;
  return new TfjsGrpoLearner({ config, checkpointDir: dirs.checkpointDir, ...server, resume });
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
