/** What the env server's route sets share: handlers, optional JSON bodies, OpenEnv's stateless step. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readJsonBody, sendJson } from '../core/http.js';
import { isRecord } from '../core/plain-data.js';
import type { SessionDefaults } from './session.js';
import { EnvSession } from './session.js';
import { sessionCall, WireHttpError } from './wire-errors.js';

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

export interface SeedRoutes {
  readonly routes: Record<string, Handler>;
  /** Routes with a path parameter (/tasks/{id}, /sessions/{id}). */
  match(method: string, path: string): Handler | undefined;
  knowsPath(path: string): boolean;
  /** Drops HTTP sessions idle for `timeoutMs` or longer. */
  reap(now: number, timeoutMs: number): void;
}

/** A JSON body, or {} when there is none (the validator POSTs /reset with `{}` or nothing). */
export async function readOptionalJson(req: IncomingMessage, limit: number): Promise<unknown> {
  if (req.headers['content-length'] === '0' || (!req.headers['content-length'] && !req.headers['transfer-encoding'])) {
    req.resume();
    return {};
  }
  return readJsonBody(req, limit).catch((err: unknown) => {
    if (err instanceof HttpError && err.code === 'invalid_json')
      throw new WireHttpError(422, 'the body is not valid JSON', 'INVALID_JSON', [
        { loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' },
      ]);
    throw err;
  });
}

/** OpenEnv's stateless step: a fresh env reset with the server's defaults (and the body's reset fields), one step. */
export function statelessStep(session: EnvSession, body: unknown): unknown {
  if (!isRecord(body) || !('action' in body))
    throw new WireHttpError(422, 'field required: action', 'VALIDATION_ERROR', [
      { loc: ['body', 'action'], msg: 'field required', type: 'missing' },
    ]);
  const { action, timeout_s: _t, request_id: _r, ...rest } = body;
  return sessionCall(() => {
    session.reset(rest);
    return session.step(action);
  });
}

/** OpenEnv's stateless state: a fresh env reset with the server's defaults. */
export function statelessState(session: EnvSession): Record<string, unknown> {
  return sessionCall(() => {
    session.reset({});
    return session.state();
  });
}

/** OpenEnv's stateless POST reset, POST step and GET state under `prefix` (a fresh env per call). */
export function statelessRoutes(defaults: SessionDefaults, maxBody: number, prefix: string): Record<string, Handler> {
  let counter = 0;
  const fresh = (): EnvSession => new EnvSession(defaults, `stateless-${++counter}`);
  return {
    [`POST ${prefix}/reset`]: async (req, res) => {
      const data = await readOptionalJson(req, maxBody);
      sendJson(
        res,
        200,
        sessionCall(() => fresh().reset(data)),
      );
    },
    [`POST ${prefix}/step`]: async (req, res) =>
      sendJson(res, 200, statelessStep(fresh(), await readOptionalJson(req, maxBody))),
    [`GET ${prefix}/state`]: (_req, res) => sendJson(res, 200, statelessState(fresh())),
  };
}
