/**
 * `rollout`: a determinism check for users — step N envs for K vector steps with seeded random
 * masked actions and print one line `sha256=<hex>` over every batch (envs/vector/rollout-hash.ts);
 * throughput goes to stderr. `--workers 0` uses SyncVectorEnv; the hash is the same for every W.
 */

import { VARIANTS } from '../../envs/gov-workflow/types.js';
import { loadHelixConfig } from '../../envs/helixdesk/config.js';
import { envIds } from '../../envs/registry.js';
import { openVectorEnv } from '../../envs/vector/open.js';
import { REMOTE_PREFIX } from '../../envs/vector/remote.js';
import { fingerprintRollout } from '../../envs/vector/rollout-hash.js';
import type { VectorEnv } from '../../envs/vector/vector-env.js';
import { MAX_NUM_ENVS, MAX_WORKERS } from '../../envs/vector/vector-env.js';
import { parseChoice, parseIntInRange, parseOptions, parsePositiveInt, UsageError } from '../args.js';

export const ROLLOUT_HELP = `usage: npm run cli -- rollout --env <id> [options]

  --env <id>          one of: ${envIds().join(', ')};
                      or env servers: remote:[<id>@]ws://host:port[,ws://host:port…] (serve-env;
                      the key from $QUEUE_RL_API_KEY)
  --num-envs <n>      envs stepped together, 1…4096 (default 8)
  --workers <w>       worker threads, 0…64; 0 = in-process SyncVectorEnv (default 0)
  --steps <k>         vector steps, 1…1,000,000 (default 200)
  --seed <s>          integer seed (default 0)
  --variant <v>       gov-workflow case-flow variant: ${VARIANTS.join(', ')}
  --config <file>     helixdesk config (YAML or JSON)

Prints sha256=<hex> over all observations, masks, rewards, flags and final observations.`;

export const MAX_ROLLOUT_STEPS = 1_000_000;

export async function rolloutCommand(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, {
    env: 'string',
    'num-envs': 'string',
    workers: 'string',
    steps: 'string',
    seed: 'string',
    variant: 'string',
    config: 'string',
    help: 'boolean',
  });
  if (values.help) {
    console.log(ROLLOUT_HELP);
    return 0;
  }
  if (values.env === undefined) throw new UsageError('--env is required');
  if (!envIds().includes(values.env) && !values.env.startsWith(REMOTE_PREFIX))
    throw new UsageError(
      `--env: unknown id '${values.env}'; allowed: ${envIds().join(', ')}, or remote:[<id>@]ws://host:port[,…]`,
    );
  const numEnvs = parsePositiveInt(values['num-envs'] ?? '8', '--num-envs', MAX_NUM_ENVS);
  const steps = parsePositiveInt(values.steps ?? '200', '--steps', MAX_ROLLOUT_STEPS);
  const workers = parseIntInRange(values.workers ?? '0', '--workers', 0, MAX_WORKERS);
  const seed = parseIntInRange(values.seed ?? '0', '--seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const options: Record<string, unknown> = {};
  if (values.variant !== undefined) options.variant = parseChoice(values.variant, VARIANTS, '--variant');
  if (values.config !== undefined)
    options.config = loadHelixConfig(values.config) as unknown as Record<string, unknown>;

  const vec: VectorEnv = await openVectorEnv(values.env, numEnvs, { options, workers });
  try {
    const f = await fingerprintRollout(vec, seed, steps);
    console.log(`sha256=${f.hash}`);
    console.error(
      `${values.env}: ${numEnvs} envs × ${steps} steps = ${f.envSteps} env-steps in ${f.seconds.toFixed(3)} s ` +
        `(${Math.round(f.envSteps / f.seconds)} env-steps/s, ${vec.constructor.name}` +
        `${workers > 0 ? `, ${workers} worker(s)` : ''}), ` +
        `${f.episodes.length} episodes finished`,
    );
  } finally {
    await vec.close();
  }
  return 0;
}
