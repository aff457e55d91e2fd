/**
 * `serve-env`: an env family over OpenEnv's HTTP and WebSocket protocol, beside the seed's own routes
 * (envs/server). Prints `serving <family> at http://HOST:PORT (ws://HOST:PORT/ws)` once listening;
 * SIGINT or SIGTERM closes it and exits 0.
 */
import { isLoopbackHost, MAX_BODY_BYTES } from '../../envs/core/http.js';
import { VARIANTS } from '../../envs/gov-workflow/types.js';
import { envFamilies, familyTasks, resolveEnv } from '../../envs/registry.js';
import {
  DEFAULT_MAX_SESSIONS,
  DEFAULT_SESSION_TIMEOUT_S,
  MAX_SESSIONS_LIMIT,
  startEnvServer,
} from '../../envs/server/env-server.js';
import { parseChoice, parseIntInRange, parseOptions, parsePositiveInt, UsageError } from '../args.js';

export const SERVE_ENV_HELP = `usage: npm run cli -- serve-env --env <family> [options]

  --env <family>        gov-workflow or helixdesk
  --task <id>           the task a reset gets when it names none (default: the family's first)
  --variant <v>         gov-workflow: ${VARIANTS.join(' | ')}, the default of resets that name none
  --host <host>         address to listen on (default 127.0.0.1); another than loopback needs an
                        API key, or --allow-unauthenticated
  --port <port>         port (default 8000, what OpenEnv's from_docker_image expects; 0 = any free)
  --max-sessions <n>    concurrent /ws sessions, 1…${MAX_SESSIONS_LIMIT} (default ${DEFAULT_MAX_SESSIONS});
                        more get CAPACITY_REACHED
  --session-timeout <s> close sessions idle this many seconds (default ${DEFAULT_SESSION_TIMEOUT_S}; 0 = never)
  --api-key <key>       require Authorization: Bearer <key> on every request and WebSocket upgrade
                        (default $QUEUE_RL_API_KEY; prefer the variable)
  --allow-unauthenticated
                        listen on a non-loopback --host without an API key
  --max-body <bytes>    largest request body and WebSocket message, up to 67108864 (default 1000000)

Routes (docs/serve-env.md): GET /health, /metadata, /schema, /openapi.json; POST /mcp;
POST /openenv/reset, /openenv/step, GET /openenv/state (OpenEnv's stateless HTTP); WS /ws (one env
per connection: reset, step, state, close; queue-rl adds snapshot and restore); and the seed's own
routes at the root (gov-workflow: the session API; helixdesk: /reset, /step, /state, /tasks, /grader).`;

const OPTIONS = {
  env: 'string',
  task: 'string',
  variant: 'string',
  host: 'string',
  port: 'string',
  'max-sessions': 'string',
  'session-timeout': 'string',
  'api-key': 'string',
  'allow-unauthenticated': 'boolean',
  'max-body': 'string',
  help: 'boolean',
} as const;

export async function serveEnvCommand(argv: string[]): Promise<number> {
  const { values: flags } = parseOptions(argv, OPTIONS);
  if (flags.help) {
    console.log(SERVE_ENV_HELP);
    return 0;
  }
  if (flags.env === undefined) throw new UsageError(`--env is required; allowed: ${envFamilies().join(', ')}`);
  const family = parseChoice(flags.env, envFamilies(), '--env');
  const task = flags.task === undefined ? undefined : parseChoice(flags.task, familyTasks(family), '--task');
  const options: Record<string, unknown> = {};
  if (flags.variant !== undefined) {
    if (family !== 'gov-workflow') throw new UsageError('--variant: only gov-workflow has variants');
    options.variant = parseChoice(flags.variant, VARIANTS, '--variant');
  }
  resolveEnv(`${family}/${task ?? familyTasks(family)[0]}`, options);
  const host = flags.host ?? '127.0.0.1';
  const port = parseIntInRange(flags.port ?? '8000', '--port', 0, 65535);
  const maxSessions = parsePositiveInt(
    flags['max-sessions'] ?? String(DEFAULT_MAX_SESSIONS),
    '--max-sessions',
    MAX_SESSIONS_LIMIT,
  );
  const sessionTimeoutS = parseIntInRange(
    flags['session-timeout'] ?? String(DEFAULT_SESSION_TIMEOUT_S),
    '--session-timeout',
    0,
    7 * 24 * 3600,
  );
  const maxBodyBytes = parsePositiveInt(flags['max-body'] ?? '1000000', '--max-body', MAX_BODY_BYTES);
  const apiKey = flags['api-key'] ?? process.env.QUEUE_RL_API_KEY ?? null;
  if (apiKey !== null && apiKey.trim() === '')
    throw new UsageError('--api-key / QUEUE_RL_API_KEY: empty; give a key, or leave both unset to serve without one');
  if (!isLoopbackHost(host) && apiKey === null && flags['allow-unauthenticated'] !== true) {
    throw new UsageError(
      `--host ${host}: not a loopback address, and no API key is set; set QUEUE_RL_API_KEY (or --api-key), or pass ` +
        '--allow-unauthenticated to let anyone who reaches the port step the envs',
    );
  }
  const server = await startEnvServer({
    family,
    ...(task !== undefined ? { task } : {}),
    options,
    host,
    port,
    apiKey,
    allowUnauthenticatedRemote: flags['allow-unauthenticated'] === true,
    maxSessions,
    sessionTimeoutS,
    maxBodyBytes,
  });
  console.log(`serving ${family} at ${server.origin} (${server.wsUrl})`);
  process.stderr.write(
    `[serve-env] ${apiKey !== null ? 'API key required' : 'no API key'}, at most ${maxSessions} sessions\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.on('SIGINT', () => undefined);
      process.stderr.write(`${signal}: closing the env server (${server.activeSessions()} sessions open)\n`);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
