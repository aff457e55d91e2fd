/**
 * The HTTP stance every queue-rl server shares (the policy server, the env server): loopback by
 * default, an optional API key (Bearer, compared in constant time), bounded bodies answered with 413
 * only after they are drained (so a client that writes before it reads sees the answer, not EPIPE),
 * request and header timeouts, parser-level errors answered in the server's own error shape, and
 * errors that never quote file contents (servers build their messages from their own text).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An error with its HTTP status; `param`, `code` and `type` feed the error body (OpenAI's shape by default). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type: string = status >= 500 ? 'server_error' : 'invalid_request_error',
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** OpenAI's error body: {error: {message, type, param, code}}. */
export function openAiErrorBody(err: HttpError): unknown {
  return { error: { message: err.message, type: err.type, param: err.param, code: err.code } };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** Upper bound of a server's body limit (docs/limits.md). */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** How much of an oversized body is read and dropped so that its sender can read the 413. */
const DRAIN_BYTES = 64 * 1024 * 1024;

/** The body, or a 413 once it passes `limit` bytes (read to its end first, up to DRAIN_BYTES more). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = (): HttpError =>
      new HttpError(
        413,
        `request body is larger than ${limit} bytes`,
        null,
        'request_too_large',
        'invalid_request_error',
        { connection: 'close' },
      );
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit + DRAIN_BYTES) {
      reject(tooLarge()); // too much to drain: answer at once (the connection closes)
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    let settled = false;
    const settle = (f: () => void): void => {
      if (!settled) {
        settled = true;
        f();
      }
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (over) {
        if (size > limit + DRAIN_BYTES) settle(() => reject(tooLarge()));
        return;
      }
      if (size > limit) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => settle(() => (over ? reject(tooLarge()) : resolve(Buffer.concat(chunks)))));
    req.on('error', (err) => settle(() => reject(err)));
    req.on('close', () =>
      settle(() => reject(new Error('the client closed the connection before sending the whole body'))),
    );
  });
}

/** The body parsed as JSON (a 400 without quoting it otherwise). */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body is not valid JSON', null, 'invalid_json');
  }
}

/** Constant-time comparison of a presented key with the server's (both hashed first, so lengths leak nothing). */
function keyMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The Bearer token of a request (header `Authorization: Bearer <key>`), or null. */
export function bearerToken(header: string | undefined): string | null {
  if (typeof header !== 'string') return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? (m[1] as string) : null;
}

/** Throws 401 unless the request carries the key (nothing to do when the server has none). */
export function requireKey(req: IncomingMessage, apiKey: string | null): void {
  if (apiKey === null) return;
  const token = bearerToken(req.headers.authorization);
  if (token !== null && keyMatches(token, apiKey)) return;
  req.resume(); // drop any body: the answer does not depend on it
  const message = token === null ? 'missing API key: send Authorization: Bearer <key>' : 'incorrect API key provided';
  throw new HttpError(401, message, null, 'invalid_api_key', 'invalid_request_error', { 'www-authenticate': 'Bearer' });
}

/** Whether a listen address is loopback-only (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

export interface HttpServerOptions {
  /** Default 127.0.0.1. Another address needs an API key or `allowUnauthenticatedRemote`. */
  host?: string;
  /** 0 = any free port. */
  port?: number;
  apiKey?: string | null;
  allowUnauthenticatedRemote?: boolean;
  /** What the server is, for the refusal message ("the policy", "the envs"). */
  serves: string;
  /** Answers a request; a thrown HttpError becomes its status and `errorBody`, anything else a 500. */
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** The body of an error answer (default OpenAI's shape). */
  errorBody?: (err: HttpError) => unknown;
}

export interface RunningHttpServer {
  readonly server: Server;
  readonly port: number;
  /** http://HOST:PORT (IPv6 hosts bracketed). */
  readonly origin: string;
  /** Stops listening and ends every connection, keep-alive ones included. Idempotent. */
  close(): Promise<void>;
}

/** Checks the listen address against the key, then listens; errors answer in the server's shape. */
export async function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const host = opts.host ?? '127.0.0.1';
  const apiKey = opts.apiKey ?? null;
  if (apiKey !== null && apiKey.length === 0)
    throw new RangeError('apiKey must not be empty (leave it out to serve without a key)');
  if (!isLoopbackHost(host) && apiKey === null && opts.allowUnauthenticatedRemote !== true) {
    throw new Error(
      `refusing to listen on ${host} without an API key: anyone who reaches it could use ${opts.serves}; ` +
        'set an API key, or allow unauthenticated remote access explicitly',
    );
  }
  const errorBody = opts.errorBody ?? openAiErrorBody;
  const server = createServer({ requestTimeout: 60_000, headersTimeout: 30_000 }, (req, res) => {
    opts.handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const e =
        err instanceof HttpError
          ? err
          : new HttpError(500, `the server failed: ${(err as Error).message}`, null, null, 'server_error');
      sendJson(res, e.status, errorBody(e), e.headers);
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const body = JSON.stringify(
      errorBody(
        new HttpError(
          status,
          `the request could not be parsed as HTTP/1.1 (${err.code ?? 'parse error'})`,
          null,
          'bad_request',
        ),
      ),
    );
    const reason = status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
    const head = [
      `HTTP/1.1 ${status} ${reason}`,
      'content-type: application/json',
      `content-length: ${Buffer.byteLength(body)}`,
      'connection: close',
    ];
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | null = null;
  return {
    server,
    port,
    origin: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
