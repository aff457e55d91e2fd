/**
 * The env server (`serve-env`): an env family over OpenEnv's protocol — /health, /metadata,
 * /schema, /openapi.json, /mcp, stateless /openenv/{reset,step,state}, and `WS /ws` with one session
 * per connection (ws-sessions.ts) — beside the seed's own HTTP routes (seed-routes.ts), on the HTTP
 * stance every queue-rl server shares (envs/core/http.ts). docs/serve-env.md.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readJsonBody, requireKey, sendJson, startHttpServer } from '../core/http.js';
import type { EnvOptions, EnvSpec } from '../core/registry.js';
import { familyTasks, resolveEnv } from '../core/registry.js';
import { mcpAnswer } from './mcp.js';
import type { Handler } from './route-kit.js';
import { statelessRoutes } from './route-kit.js';
import { openApiDocument, wireSchemas } from './schemas.js';
import { seedRoutesFor } from './seed-routes.js';
import type { SessionDefaults } from './session.js';
import { WireHttpError } from './wire-errors.js';
import { WsSessions } from './ws-sessions.js';

export const SERVER_VERSION = '1.0.0';
/** Default WS sessions: above a GRPO group and TRL's usual generation_batch_size. */
export const DEFAULT_MAX_SESSIONS = 64;
export const MAX_SESSIONS_LIMIT = 4096;
export const DEFAULT_SESSION_TIMEOUT_S = 600;

export interface EnvServerOptions {
  family: string;
  /** Default task (default: the family's first). */
  task?: string;
  /** Default env options (e.g. {variant: 'reference'}). */
  options?: EnvOptions;
  host?: string;
  port?: number;
  apiKey?: string | null;
  allowUnauthenticatedRemote?: boolean;
  /** Most concurrent `/ws` sessions (OpenEnv's max_concurrent_envs). */
  maxSessions?: number;
  /** Idle sessions (no message) are closed after this many seconds; 0 = never. */
  sessionTimeoutS?: number;
  /** Largest HTTP body and WS message. */
  maxBodyBytes?: number;
}

export interface RunningEnvServer {
  readonly port: number;
  /** http://HOST:PORT */
  readonly origin: string;
  /** ws://HOST:PORT/ws */
  readonly wsUrl: string;
  activeSessions(): number;
  close(): Promise<void>;
}

const FAMILY_TEXT: Record<string, { name: string; description: string }> = {
  'gov-workflow': {
    name: 'gov_workflow_env',
    description:
      'Gov Workflow OpenEnv (queue-rl port): a district office of government service queues; actions set priorities, ' +
      'move officers, request documents, escalate and advance the day; graded per task.',
  },
  helixdesk: {
    name: 'helixdesk_env',
    description:
      'HelixDesk OpenEnv (queue-rl port): customer-email triage; each step classifies, prioritises and assigns one ' +
      'email; graded per task.',
  },
};

export async function startEnvServer(opts: EnvServerOptions): Promise<RunningEnvServer> {
  const tasks = familyTasks(opts.family);
  const defaults: SessionDefaults = {
    family: opts.family,
    task: opts.task ?? (tasks[0] as string),
    options: opts.options ?? {},
  };
  // Fails here, before listening, for an unknown task or bad options.
  const spec = resolveEnv(`${defaults.family}/${defaults.task}`, defaults.options);
  const maxSessions = opts.maxSessions ?? DEFAULT_MAX_SESSIONS;
  if (!Number.isInteger(maxSessions) || maxSessions < 1 || maxSessions > MAX_SESSIONS_LIMIT)
    throw new RangeError(`maxSessions must be an integer in 1…${MAX_SESSIONS_LIMIT} (got ${maxSessions})`);
  const timeoutS = opts.sessionTimeoutS ?? DEFAULT_SESSION_TIMEOUT_S;
  if (!(timeoutS >= 0 && Number.isFinite(timeoutS)))
    throw new RangeError(`sessionTimeoutS must be a number ≥ 0 (got ${timeoutS})`);
  const maxBody = opts.maxBodyBytes ?? 1_000_000;
  const apiKey = opts.apiKey ?? null;
  const seed = seedRoutesFor(defaults, maxBody);
  let ws: WsSessions | null = null;
  const routes = openEnvRoutes(defaults, spec, maxBody, () => ws?.size ?? 0, maxSessions);
  Object.assign(routes, seed.routes);
  routes['GET /openapi.json'] = (_q, res) =>
    sendJson(
      res,
      200,
      openApiDocument(textOf(defaults.family).name, SERVER_VERSION, [...Object.keys(routes), 'GET /ws']),
    );

  const http = await startHttpServer({
    host: opts.host,
    port: opts.port,
    apiKey,
    allowUnauthenticatedRemote: opts.allowUnauthenticatedRemote,
    serves: 'the envs',
    handle: async (req: IncomingMessage, res: ServerResponse) => {
      requireKey(req, apiKey);
      const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
      const route = routes[`${req.method} ${path}`] ?? seed.match(req.method ?? '', path);
      if (!route) {
        req.resume();
        if (Object.keys(routes).some((k) => k.endsWith(` ${path}`)) || seed.knowsPath(path))
          throw new HttpError(405, `method ${req.method} is not allowed on ${path}`, null, 'method_not_allowed');
        throw new HttpError(404, `no route ${path}; see GET /openapi.json`, null, 'not_found');
      }
      await route(req, res, new URL(req.url ?? '/', 'http://localhost'));
    },
    errorBody: (err: HttpError) =>
      err instanceof WireHttpError && err.detail.length > 0 ? { detail: err.detail } : { detail: err.message },
  });
  const sessions = new WsSessions(http.server, { defaults, apiKey, maxSessions, maxMessageBytes: maxBody });
  ws = sessions;
  const reaper =
    timeoutS > 0
      ? setInterval(
          () => {
            sessions.reap(Date.now(), timeoutS * 1000);
            seed.reap(Date.now(), timeoutS * 1000);
          },
          Math.min(30_000, Math.max(50, (timeoutS * 1000) / 4)),
        )
      : null;
  reaper?.unref();

  let closing: Promise<void> | null = null;
  return {
    port: http.port,
    origin: http.origin,
    wsUrl: `${http.origin.replace(/^http/, 'ws')}/ws`,
    activeSessions: () => sessions.size,
    close() {
      closing ??= (async () => {
        if (reaper) clearInterval(reaper);
        sessions.close();
        await http.close();
      })();
      return closing;
    },
  };
}

function textOf(family: string): { name: string; description: string } {
  return FAMILY_TEXT[family] ?? { name: family, description: `the ${family} env family` };
}

/** OpenEnv's own routes: health, metadata, schema, MCP and the stateless /openenv/* calls. */
function openEnvRoutes(
  defaults: SessionDefaults,
  spec: EnvSpec,
  maxBody: number,
  activeSessions: () => number,
  maxSessions: number,
): Record<string, Handler> {
  const text = textOf(defaults.family);
  const schemas = wireSchemas(defaults.family);
  const space = spec.actionSpace;
  const metadata = {
    ...text,
    version: SERVER_VERSION,
    author: 'queue-rl',
    documentation_url: 'docs/serve-env.md',
    queue_rl: {
      family: defaults.family,
      default_task: defaults.task,
      default_options: defaults.options,
      tasks: [...familyTasks(defaults.family)],
      /** The server answers `batch` messages (many sessions over one connection; ws-sessions.ts). */
      batch: true,
      /** Its largest HTTP body and WS message (--max-body): batching clients split their frames below it. */
      max_message_bytes: maxBody,
      spec: {
        id: spec.id,
        observation_size: spec.observationSize,
        action_nvec: 'nvec' in space ? [...space.nvec] : [space.n],
        discrete: !('nvec' in space),
        mask_length: spec.maskLength,
        metric_names: spec.metricNames,
        graded: spec.graded,
      },
    },
  };
  return {
    'GET /health': (_q, res) =>
      sendJson(res, 200, {
        status: 'healthy',
        env: text.name,
        version: SERVER_VERSION,
        active_sessions: activeSessions(),
        max_sessions: maxSessions,
        available_tasks: [...familyTasks(defaults.family)],
      }),
    'GET /metadata': (_q, res) => sendJson(res, 200, metadata),
    'GET /schema': (_q, res) => sendJson(res, 200, schemas),
    'POST /mcp': async (req, res) => sendJson(res, 200, mcpAnswer(await readJsonBody(req, maxBody).catch(() => null))),
    ...statelessRoutes(defaults, maxBody, '/openenv'),
  };
}
