/**
 * `WS /ws`: one EnvSession per connection (OpenEnv's protocol, conventions §1.3), CAPACITY_REACHED
 * beyond the maximum, idle sessions closed after a timeout. queue-rl adds four message types:
 * `snapshot` and `restore` (a member's exact state, for checkpoints), `summary` (the score and
 * metrics of an episode so far, for evaluations stopped early) and `batch` — many sessions
 * over one connection, `{"type":"batch","data":[{"session":k,"message":{…}}, …]}` answered by one
 * `batch` message with the replies in order — which remote vector envs use to save a system call
 * and a frame per env step (docs/serve-env.md#batches).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import { requireKey } from '../core/http.js';
import { isRecord } from '../core/plain-data.js';
import { mcpAnswer } from './mcp.js';
import type { SessionDefaults } from './session.js';
import { EnvSession, SessionError } from './session.js';

export interface WsSessionsOptions {
  defaults: SessionDefaults;
  apiKey: string | null;
  maxSessions: number;
  maxMessageBytes: number;
}

/** Most sessions one connection may multiplex in batches. */
export const MAX_BATCH_SESSIONS = 4096;

interface Reply {
  type: string;
  data: unknown;
}

/**
 * A connection: its own OpenEnv session (created on connect, as OpenEnv does), and the sessions it
 * multiplexes in batches (by number). A connection's first batch gives its own session up: a
 * batching client holds exactly the sessions it numbers.
 */
interface Connection {
  readonly session: EnvSession;
  readonly batched: Map<number, EnvSession>;
  ownCounted: boolean;
}

export class WsSessions {
  private readonly connections = new Map<WebSocket, Connection>();
  private readonly wss: WebSocketServer;
  private counter = 0;
  private total = 0;

  constructor(
    server: Server,
    private readonly opts: WsSessionsOptions,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  /** Sessions held: one per connection plus every batched one. */
  get size(): number {
    return this.total;
  }

  /** Closes connections whose sessions have all been idle for `timeoutMs` or longer, telling the client why. */
  reap(now: number, timeoutMs: number): void {
    for (const [ws, c] of this.connections) {
      const last = Math.max(c.session.lastActive, ...[...c.batched.values()].map((s) => s.lastActive));
      if (now - last < timeoutMs) continue;
      send(ws, {
        type: 'error',
        data: { message: `session idle for over ${timeoutMs / 1000} s: closed`, code: 'SESSION_ERROR' },
      });
      this.drop(ws);
      ws.close(1001, 'idle timeout');
    }
  }

  close(): void {
    for (const ws of this.connections.keys()) ws.terminate();
    this.connections.clear();
    this.total = 0;
    this.wss.close();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '');
    if (path !== '/ws') {
      refuseUpgrade(socket, 404, 'Not Found', `no WebSocket route ${path}; use /ws`);
      return;
    }
    try {
      requireKey(req, this.opts.apiKey);
    } catch {
      refuseUpgrade(socket, 401, 'Unauthorized', 'missing or incorrect API key (Authorization: Bearer)');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private capacityError(): Reply {
    const max = this.opts.maxSessions;
    return {
      type: 'error',
      data: {
        message: `the server holds ${this.total} sessions, its maximum (--max-sessions ${max})`,
        code: 'CAPACITY_REACHED',
        active_sessions: this.total,
        max_sessions: max,
      },
    };
  }

  private accept(ws: WebSocket): void {
    if (this.total >= this.opts.maxSessions) {
      send(ws, this.capacityError());
      ws.close(1013, 'capacity reached');
      return;
    }
    const c: Connection = {
      session: new EnvSession(this.opts.defaults, `ws-${++this.counter}`),
      batched: new Map(),
      ownCounted: true,
    };
    this.connections.set(ws, c);
    this.total++;
    ws.on('message', (raw: RawData, isBinary: boolean) => send(ws, this.onMessage(ws, c, raw, isBinary)));
    ws.on('close', () => this.drop(ws));
    ws.on('error', () => this.drop(ws));
  }

  private drop(ws: WebSocket): void {
    const c = this.connections.get(ws);
    if (!c) return;
    this.connections.delete(ws);
    this.total -= (c.ownCounted ? 1 : 0) + c.batched.size;
  }

  private onMessage(ws: WebSocket, c: Connection, raw: RawData, isBinary: boolean): Reply | null {
    let msg: unknown;
    try {
      if (isBinary) throw new Error('binary');
      msg = JSON.parse(rawText(raw));
    } catch {
      return { type: 'error', data: { message: 'the message is not a JSON text frame', code: 'INVALID_JSON' } };
    }
    if (isRecord(msg) && msg.type === 'batch') return this.batch(c, msg.data);
    return this.answer(ws, c.session, msg);
  }

  /** One reply per item, in order; an item's error is its reply, the others still run. */
  private batch(c: Connection, items: unknown): Reply {
    if (!Array.isArray(items))
      return validationReply('a batch is {"type":"batch","data":[{"session": k, "message": {…}}, …]}');
    if (c.ownCounted) {
      c.ownCounted = false;
      this.total--;
    }
    const replies = items.map((item): Reply => {
      if (!isRecord(item) || !Number.isInteger(item.session) || (item.session as number) < 0)
        return validationReply('a batch item is {"session": <integer ≥ 0>, "message": {"type": …, "data": …}}');
      const k = item.session as number;
      let session = c.batched.get(k);
      if (!session) {
        if (k >= MAX_BATCH_SESSIONS) return validationReply(`batch session numbers go up to ${MAX_BATCH_SESSIONS - 1}`);
        if (this.total >= this.opts.maxSessions) return this.capacityError();
        session = new EnvSession(this.opts.defaults, `ws-${++this.counter}`);
        c.batched.set(k, session);
        this.total++;
      }
      const reply = this.answer(null, session, item.message);
      if (reply !== null) return reply;
      c.batched.delete(k); // a batched session's `close`
      this.total--;
      return { type: 'closed', data: {} };
    });
    return { type: 'batch', data: replies };
  }

  /** The reply to one message (null: the connection closes). */
  private answer(ws: WebSocket | null, session: EnvSession, msg: unknown): Reply | null {
    if (!isRecord(msg) || typeof msg.type !== 'string') return validationReply('a message is {"type": …, "data": …}');
    try {
      return this.dispatch(ws, session, msg.type, msg.data);
    } catch (err) {
      const e = err instanceof SessionError ? err : new SessionError('EXECUTION_ERROR', (err as Error).message);
      return {
        type: 'error',
        data: { message: e.message, code: e.code, ...(e.errors.length > 0 ? { errors: e.errors } : {}) },
      };
    }
  }

  private dispatch(ws: WebSocket | null, session: EnvSession, type: string, data: unknown): Reply | null {
    switch (type) {
      case 'reset':
        return { type: 'observation', data: session.reset(data ?? {}) };
      case 'step':
        return { type: 'observation', data: session.step(data) };
      case 'state':
        return { type: 'state', data: session.state() };
      case 'close':
        if (ws) {
          this.drop(ws);
          ws.close(1000, 'closed by the client');
        }
        return null;
      case 'snapshot':
        return { type: 'snapshot', data: { state: session.snapshot() } };
      case 'summary':
        return { type: 'summary', data: session.summary() };
      case 'restore':
        session.restore(isRecord(data) ? data.state : undefined);
        return { type: 'restored', data: {} };
      case 'mcp':
        return { type: 'mcp', data: mcpAnswer(data) };
      default:
        return {
          type: 'error',
          data: {
            message:
              `unknown message type '${type.slice(0, 40)}'; allowed: reset, step, state, close, mcp, snapshot, ` +
              'restore, summary, batch',
            code: 'UNKNOWN_TYPE',
          },
        };
    }
  }
}

function validationReply(message: string): Reply {
  return { type: 'error', data: { message, code: 'VALIDATION_ERROR' } };
}

function rawText(raw: RawData): string {
  if (Buffer.isBuffer(raw)) return raw.toString('utf8');
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return Buffer.from(raw).toString('utf8');
}

function send(ws: WebSocket, reply: Reply | null): void {
  if (reply !== null && ws.readyState === ws.OPEN) ws.send(JSON.stringify(reply));
}

function refuseUpgrade(socket: Duplex, status: number, reason: string, message: string): void {
  const body = JSON.stringify({ detail: message });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body}`,
  );
}
