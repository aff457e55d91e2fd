/**
 * `WS /ws`: one EnvSession per connection (OpenEnv's protocol, conventions §1.3), CAPACITY_REACHED
 * beyond the maximum, idle sessions closed after a timeout. queue-rl adds `snapshot` and `restore`
 * messages (a member's exact state), which remote vector envs use for checkpoints.
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

export class WsSessions {
  private readonly sessions = new Map<WebSocket, EnvSession>();
  private readonly wss: WebSocketServer;
  private counter = 0;

  constructor(
    server: Server,
    private readonly opts: WsSessionsOptions,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Closes sessions idle for `timeoutMs` or longer, telling the client why. */
  reap(now: number, timeoutMs: number): void {
    for (const [ws, s] of this.sessions) {
      if (now - s.lastActive < timeoutMs) continue;
      send(ws, 'error', { message: `session idle for over ${timeoutMs / 1000} s: closed`, code: 'SESSION_ERROR' });
      this.sessions.delete(ws);
      ws.close(1001, 'idle timeout');
    }
  }

  close(): void {
    for (const ws of this.sessions.keys()) ws.terminate();
    this.sessions.clear();
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

  private accept(ws: WebSocket): void {
    const max = this.opts.maxSessions;
    if (this.sessions.size >= max) {
      send(ws, 'error', {
        message: `the server holds ${this.sessions.size} sessions, its maximum (--max-sessions ${max})`,
        code: 'CAPACITY_REACHED',
        active_sessions: this.sessions.size,
        max_sessions: max,
      });
      ws.close(1013, 'capacity reached');
      return;
    }
    const session = new EnvSession(this.opts.defaults, `ws-${++this.counter}`);
    this.sessions.set(ws, session);
    ws.on('message', (raw: RawData, isBinary: boolean) => this.onMessage(ws, session, raw, isBinary));
    ws.on('close', () => this.sessions.delete(ws));
    ws.on('error', () => this.sessions.delete(ws));
  }

  private onMessage(ws: WebSocket, session: EnvSession, raw: RawData, isBinary: boolean): void {
    let msg: unknown;
    try {
      if (isBinary) throw new Error('binary');
      msg = JSON.parse(rawText(raw));
    } catch {
      send(ws, 'error', { message: 'the message is not a JSON text frame', code: 'INVALID_JSON' });
      return;
    }
    if (!isRecord(msg) || typeof msg.type !== 'string') {
      send(ws, 'error', { message: 'a message is {"type": …, "data": …}', code: 'VALIDATION_ERROR' });
      return;
    }
    try {
      this.answer(ws, session, msg.type, msg.data);
    } catch (err) {
      const e = err instanceof SessionError ? err : new SessionError('EXECUTION_ERROR', (err as Error).message);
      send(ws, 'error', { message: e.message, code: e.code, ...(e.errors.length > 0 ? { errors: e.errors } : {}) });
    }
  }

  private answer(ws: WebSocket, session: EnvSession, type: string, data: unknown): void {
    switch (type) {
      case 'reset':
        send(ws, 'observation', session.reset(data ?? {}));
        return;
      case 'step':
        send(ws, 'observation', session.step(data));
        return;
      case 'state':
        send(ws, 'state', session.state());
        return;
      case 'close':
        this.sessions.delete(ws);
        ws.close(1000, 'closed by the client');
        return;
      case 'snapshot':
        send(ws, 'snapshot', { state: session.snapshot() });
        return;
      case 'restore':
        session.restore(isRecord(data) ? data.state : undefined);
        send(ws, 'restored', {});
        return;
      case 'mcp':
        send(ws, 'mcp', mcpAnswer(data));
        return;
      default:
        send(ws, 'error', {
          message: `unknown message type '${type.slice(0, 40)}'; allowed: reset, step, state, close, mcp, snapshot, restore`,
          code: 'UNKNOWN_TYPE',
        });
    }
  }
}

function rawText(raw: RawData): string {
  if (Buffer.isBuffer(raw)) return raw.toString('utf8');
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return Buffer.from(raw).toString('utf8');
}

function send(ws: WebSocket, type: string, data: unknown): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type, data }));
}

function refuseUpgrade(socket: Duplex, status: number, reason: string, message: string): void {
  const body = JSON.stringify({ detail: message });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body}`,
  );
}
