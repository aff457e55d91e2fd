/**
 * `rollout`: a determinism check for users — step N envs for K vector steps with seeded random
 * masked actions and print one line `sha256=<hex>` over every batch (envs/vector/rollout-hash.ts);
 * throughput goes to stderr. `--workers 0` uses SyncVectorEnv; the hash is the same for every W.
 */
import { parseArgs } from 'node:util';
import { loadHelixConfig } from '../../envs/helixdesk/config.js';
import { envIds } from '../../envs/registry.js';
import type { EnvOptions } from '../../envs/registry.js';
import { fingerprintRollout } from '../../envs/vector/rollout-hash.js';
import { SyncVectorEnv } from '../../envs/vector/sync.js';
import type { VectorEnv } from '../../envs/vector/vector-env.js';
import { WorkerVectorEnv } from '../../envs/vector/workers.js';
import { VARIANTS } from '../../envs/gov-workflow/types.js';
import { parseChoice, parsePositiveInt, UsageError } from '../args.js';

export const ROLLOUT_HELP = `usage: npm run cli -- rollout --env <id> [options]

  --env <id>          one of: ${envIds().join(', ')}
  --num-envs <n>      envs stepped together (default 8)
  --workers <w>       worker threads; 0 = in-process SyncVectorEnv (default 0)
  --steps <k>         vector steps (default 200)
  --seed <s>          integer seed (default 0)
  --variant <v>       gov-workflow case-flow variant: ${VARIANTS.join(', ')}
  --config <file>     helixdesk config (YAML or JSON)

Prints sha256=<hex> over all observations, masks, rewards, flags and final observations.`;

export async function rolloutCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      env: { type: 'string' },
      'num-envs': { type: 'string', default: '8' },
      workers: { type: 'string', default: '0' },
      steps: { type: 'string', default: '200' },
      seed: { type: 'string', default: '0' },
      variant: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(ROLLOUT_HELP);
    return 0;
  }
  if (values.env === undefined) throw new UsageError('--env is required');
  if (!envIds().includes(values.env)) throw new UsageError(`--env: unknown id '${values.env}'; allowed: ${envIds().join(', ')}`);
  const numEnvs = parsePositiveInt(values['num-envs'] as string, '--num-envs');
  const steps = parsePositiveInt(values.steps as string, '--steps');
  if (!/^\d+$/.test(values.workers as string)) throw new UsageError(`--workers: '${values.workers}' is not a non-negative integer`);
  const workers = Number(values.workers);
  if (!/^-?\d+$/.test(values.seed as string)) throw new UsageError(`--seed: '${values.seed}' is not an integer`);
  const seed = Number(values.seed);
  const options: EnvOptions = {};
  if (values.variant !== undefined) options.variant = parseChoice(values.variant, VARIANTS, '--variant');
  if (values.config !== undefined) options.config = loadHelixConfig(values.config) as unknown as Record<string, unknown>;

  const vec: VectorEnv = workers === 0 ? new SyncVectorEnv(values.env, numEnvs, options) : await WorkerVectorEnv.create(values.env, numEnvs, { workers, envOptions: options });
  try {
    const f = await fingerprintRollout(vec, seed, steps);
    console.log(`sha256=${f.hash}`);
    console.error(
      `${values.env}: ${numEnvs} envs × ${steps} steps = ${f.envSteps} env-steps in ${f.seconds.toFixed(3)} s (${Math.round(f.envSteps / f.seconds)} env-steps/s, ${workers === 0 ? 'sync' : `${workers} worker(s)`}), ${f.episodes.length} episodes finished`,
    );
  } finally {
    await vec.close();
  }
  return 0;
}
