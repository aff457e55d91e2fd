/**
 * `serve-policy`: an OpenAI-compatible endpoint (agents/llm/policy-server.ts) answered by a PPO
 * checkpoint or a baseline agent, for the LLM inference client, evaluation and a GRPO learner.
 * Prints `serving <model> (<what>) at http://HOST:PORT/v1` once listening; SIGINT or SIGTERM closes
 * the server (keep-alive connections too) and exits 0.
 *
 * Model id (--model-name overrides): the agent name (`heuristic`), or the checkpoint directory's
 * name — prefixed with its parent's when the name is one the trainer gives every run (final, best,
 * latest, interrupted, step-<n>), so checkpoints/<run>/phase1/final serves as `phase1-final`.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { isLoopbackHost, MAX_BODY_BYTES, startPolicyServer } from '../../agents/llm/policy-server.js';
import type { ServedEnv, ServedPolicy } from '../../agents/llm/served-policies.js';
import { ppoServedPolicy, ruleServedPolicy, SERVED_ENVS } from '../../agents/llm/served-policies.js';
import { BACKEND_PREFERENCES, describeBackend, initBackend } from '../../agents/policy/backend.js';
import { resolveCheckpointDir } from '../../agents/policy/checkpoint.js';
import { GOV_AGENT_NAMES, HELIX_AGENT_NAMES } from '../../agents/registry.js';
import { parseChoice, parseIntInRange, parseOptions, parsePositiveInt, UsageError } from '../args.js';

export const SERVE_POLICY_HELP = `usage: npm run cli -- serve-policy --checkpoint <dir> [options]
       npm run cli -- serve-policy --agent <name> --env <env> [options]

  --checkpoint <dir>  a PPO or GRPO policy checkpoint (a checkpoint directory, or a directory with
                      a 'latest' pointer)
  --agent <name>      a baseline agent instead (needs --env):
                        gov-workflow  ${GOV_AGENT_NAMES.join(', ')}
                        helixdesk     ${HELIX_AGENT_NAMES.join(', ')}
  --env <env>         ${SERVED_ENVS.join(', ')} (required with --agent; with --checkpoint it must match)
  --host <host>       address to listen on (default 127.0.0.1); another than loopback needs an
                      API key, or --allow-unauthenticated
  --port <port>       port (default 8000; 0 = any free port, printed)
  --api-key <key>     require Authorization: Bearer <key> on every request (default
                      $QUEUE_RL_API_KEY; prefer the variable: a flag shows in the process list)
  --allow-load-weights <dir>
                      enable POST /v1/load_weights {"checkpoint": <path>} for checkpoints whose
                      real path lies under <dir> (relative paths are taken from <dir>); off by default
  --allow-unauthenticated
                      listen on a non-loopback --host without an API key (anyone who reaches the
                      port can use the policy)
  --model-name <id>   the model id clients ask for (default: the agent name, or the checkpoint
                      directory's name, prefixed with its parent's for final/best/latest/step-<n>)
  --backend <b>       tfjs backend for a checkpoint: ${BACKEND_PREFERENCES.join(', ')} (default auto)
  --max-body <bytes>  largest request body accepted, up to 67108864 (default 1000000)

Endpoints: GET /v1/models, POST /v1/chat/completions (n 1…128, temperature 0…2 — below 1e-5 the
answer is greedy —, seed, logprobs; no streaming), POST /v1/load_weights. The last user message
must end with the <queue-rl-observation> block that every queue-rl prompt carries. Runs until
SIGINT or SIGTERM.`;

const OPTIONS = {
  checkpoint: 'string',
  agent: 'string',
  env: 'string',
  host: 'string',
  port: 'string',
  'model-name': 'string',
  backend: 'string',
  'max-body': 'string',
  'api-key': 'string',
  'allow-load-weights': 'string',
  'allow-unauthenticated': 'boolean',
  help: 'boolean',
} as const;
const GENERIC_CHECKPOINT_NAMES = /^(final|best|latest|interrupted|step-\d+)$/;

/** The default model id of a checkpoint directory (see the file comment). */
export function checkpointModelName(dir: string): string {
  const name = basename(dir);
  const parent = basename(dirname(dir));
  return GENERIC_CHECKPOINT_NAMES.test(name) && parent && parent !== '.' && parent !== '/' ? `${parent}-${name}` : name;
}

export async function servePolicyCommand(argv: string[]): Promise<number> {
  const { values: flags } = parseOptions(argv, OPTIONS);
  if (flags.help) {
    console.log(SERVE_POLICY_HELP);
    return 0;
  }
  const checkpoint = flags.checkpoint;
  const agent = flags.agent;
  if (checkpoint !== undefined && agent !== undefined)
    throw new UsageError('--checkpoint and --agent: give one of them, not both');
  if (checkpoint === undefined && agent === undefined)
    throw new UsageError('give --checkpoint <dir> or --agent <name> --env <env>');
  const env = flags.env === undefined ? undefined : parseChoice(flags.env, SERVED_ENVS, '--env');
  const host = flags.host ?? '127.0.0.1';
  const port = parseIntInRange(flags.port ?? '8000', '--port', 0, 65535);
  const maxBodyBytes = parsePositiveInt(flags['max-body'] ?? '1000000', '--max-body', MAX_BODY_BYTES);
  const backend = parseChoice(flags.backend ?? 'auto', BACKEND_PREFERENCES, '--backend');
  const apiKey = flags['api-key'] ?? process.env.QUEUE_RL_API_KEY ?? null;
  if (apiKey !== null && apiKey.trim() === '')
    throw new UsageError('--api-key / QUEUE_RL_API_KEY: empty; give a key, or leave both unset to serve without one');
  const loadRoot = flags['allow-load-weights'];
  if (loadRoot !== undefined && agent !== undefined)
    throw new UsageError('--allow-load-weights needs a server started from --checkpoint (a rule agent has no weights)');
  if (loadRoot !== undefined && (!existsSync(loadRoot) || !statSync(loadRoot).isDirectory()))
    throw new UsageError(`--allow-load-weights: '${loadRoot}' is not a directory`);
  if (!isLoopbackHost(host) && apiKey === null && flags['allow-unauthenticated'] !== true) {
    throw new UsageError(
      `--host ${host}: not a loopback address, and no API key is set; set QUEUE_RL_API_KEY (or --api-key), or pass ` +
        `--allow-unauthenticated to let anyone who reaches the port use the policy`,
    );
  }

  let policy: ServedPolicy;
  let what: string;
  let modelName: string;
  if (agent !== undefined) {
    if (!env) throw new UsageError(`--agent needs --env; allowed: ${SERVED_ENVS.join(', ')}`);
    const names = env === 'gov-workflow' ? GOV_AGENT_NAMES : HELIX_AGENT_NAMES;
    parseChoice(agent, names, `--agent (${env})`);
    policy = ruleServedPolicy(agent, env);
    what = `${env} baseline agent ${agent}`;
    modelName = flags['model-name'] ?? agent;
  } else {
    let dir: string;
    try {
      dir = resolveCheckpointDir(checkpoint as string);
    } catch (err) {
      throw new UsageError(`--checkpoint: ${(err as Error).message}`);
    }
    const info = await initBackend(backend);
    policy = ppoServedPolicy(dir);
    if (env && policy.env !== env) {
      policy.close?.();
      throw new UsageError(`--env ${env}: the checkpoint is a ${policy.env as ServedEnv} policy`);
    }
    what = `PPO checkpoint ${dir}, ${policy.env}, ${describeBackend(info)}`;
    modelName = flags['model-name'] ?? checkpointModelName(dir);
  }

  const server = await startPolicyServer({
    policy,
    modelName,
    host,
    port,
    maxBodyBytes,
    apiKey,
    loadWeights: loadRoot === undefined ? null : { root: loadRoot },
    allowUnauthenticatedRemote: flags['allow-unauthenticated'] === true,
  }).catch((err: unknown) => {
    policy.close?.();
    throw err;
  });
  const guard = [
    apiKey !== null ? 'API key required' : 'no API key',
    loadRoot !== undefined ? `load_weights under ${loadRoot}` : 'load_weights off',
  ].join(', ');
  console.log(`serving ${modelName} (${what}) at ${server.url}`);
  process.stderr.write(`[serve-policy] ${guard}\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.on('SIGINT', () => undefined); // a relayed second Ctrl-C (tsx) must not kill the close
      process.stderr.write(`${signal}: closing the policy server (${server.requests} requests served)\n`);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  server.policy.close?.();
  policy.close?.();
  return 0;
}
