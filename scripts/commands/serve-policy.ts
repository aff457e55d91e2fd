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
import { basename, dirname } from 'node:path';
import { GOV_AGENT_NAMES, HELIX_AGENT_NAMES } from '../../agents/registry.js';
import { startPolicyServer } from '../../agents/llm/policy-server.js';
import { ppoServedPolicy, ruleServedPolicy, SERVED_ENVS } from '../../agents/llm/served-policies.js';
import type { ServedEnv, ServedPolicy } from '../../agents/llm/served-policies.js';
import { BACKEND_PREFERENCES, describeBackend, initBackend } from '../../training/backend.js';
import { resolveCheckpointDir } from '../../training/ppo/checkpoint.js';
import { parseChoice, UsageError } from '../args.js';
import { splitFlags } from './train.js';

export const SERVE_POLICY_HELP = `usage: npm run cli -- serve-policy (--checkpoint <dir> | --agent <name> --env <env>) [options]

  --checkpoint <dir>  a PPO checkpoint (a checkpoint directory, or a directory with a 'latest'
                      pointer); POST /v1/load_weights {"checkpoint": dir} swaps in another one
  --agent <name>      a baseline agent instead (needs --env):
                        gov-workflow  ${GOV_AGENT_NAMES.join(', ')}
                        helixdesk     ${HELIX_AGENT_NAMES.join(', ')}
  --env <env>         ${SERVED_ENVS.join(', ')} (required with --agent; with --checkpoint it must match)
  --host <host>       address to listen on (default 127.0.0.1)
  --port <port>       port (default 8000; 0 = any free port, printed)
  --model-name <id>   the model id clients ask for (default: the agent name, or the checkpoint
                      directory's name, prefixed with its parent's for final/best/latest/step-<n>)
  --backend <b>       tfjs backend for a checkpoint: ${BACKEND_PREFERENCES.join(', ')} (default auto)
  --max-body <bytes>  largest request body accepted (default 1000000)

Endpoints: GET /v1/models, POST /v1/chat/completions (n, temperature, seed, logprobs; no streaming),
POST /v1/load_weights. The last user message must end with the <queue-rl-observation> block that
every queue-rl prompt carries. Runs until SIGINT or SIGTERM.`;

const OWN = new Set(['checkpoint', 'agent', 'env', 'host', 'port', 'model-name', 'backend', 'max-body', 'help']);
const GENERIC_CHECKPOINT_NAMES = /^(final|best|latest|interrupted|step-\d+)$/;

/** The default model id of a checkpoint directory (see the file comment). */
export function checkpointModelName(dir: string): string {
  const name = basename(dir);
  const parent = basename(dirname(dir));
  return GENERIC_CHECKPOINT_NAMES.test(name) && parent && parent !== '.' && parent !== '/' ? `${parent}-${name}` : name;
}

function parsePort(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new UsageError(`--port: '${text}' is not a port; allowed: 0–65535 (0 = any free port)`);
  return Number(text);
}

export async function servePolicyCommand(argv: string[]): Promise<number> {
  const { flags, overrides } = splitFlags(argv, OWN);
  if (flags.has('help')) {
    console.log(SERVE_POLICY_HELP);
    return 0;
  }
  if (overrides.length > 0) throw new UsageError(`unknown option ${overrides[0]?.[0]}; options: ${[...OWN].map((o) => `--${o}`).join(', ')}`);
  const checkpoint = flags.get('checkpoint');
  const agent = flags.get('agent');
  if (checkpoint !== undefined && agent !== undefined) throw new UsageError('--checkpoint and --agent: give one of them, not both');
  if (checkpoint === undefined && agent === undefined) throw new UsageError('give --checkpoint <dir> or --agent <name> --env <env>');
  const envFlag = flags.get('env');
  const env = envFlag === undefined ? undefined : parseChoice(envFlag, SERVED_ENVS, '--env');
  const host = flags.get('host') ?? '127.0.0.1';
  const port = parsePort(flags.get('port') ?? '8000');
  const maxBodyText = flags.get('max-body') ?? '1000000';
  if (!/^\d+$/.test(maxBodyText) || Number(maxBodyText) <= 0) throw new UsageError(`--max-body: '${maxBodyText}' is not a positive number of bytes`);
  const backend = parseChoice(flags.get('backend') ?? 'auto', BACKEND_PREFERENCES, '--backend');

  let policy: ServedPolicy;
  let what: string;
  let modelName: string;
  if (agent !== undefined) {
    if (!env) throw new UsageError(`--agent needs --env; allowed: ${SERVED_ENVS.join(', ')}`);
    const names = env === 'gov-workflow' ? GOV_AGENT_NAMES : HELIX_AGENT_NAMES;
    parseChoice(agent, names, `--agent (${env})`);
    policy = ruleServedPolicy(agent, env);
    what = `${env} baseline agent ${agent}`;
    modelName = flags.get('model-name') ?? agent;
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
    modelName = flags.get('model-name') ?? checkpointModelName(dir);
  }

  const server = await startPolicyServer({ policy, modelName, host, port, maxBodyBytes: Number(maxBodyText) }).catch((err: unknown) => {
    policy.close?.();
    throw err;
  });
  console.log(`serving ${modelName} (${what}) at ${server.url}`);
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
