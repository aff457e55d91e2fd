/**
 * One remote env: a `/ws` connection to an env server (OpenEnv's protocol), answering requests in
 * order. Every request has a timeout; a closed connection, a timeout or an `error` reply rejects
 * with a RemoteEnvError naming the URL, so nothing waits forever.
 */
import WebSocket from 'ws';
import { isRecord } from '../core/plain-data.js';

export class RemoteEnvError extends Error {
  override readonly name = 'RemoteEnvError';
  constructor(
    readonly url: string,
    /** OpenEnv's error code (CAPACITY_REACHED, VALIDATION_ERROR…), or TIMEOUT / CONNECTION / PROTOCOL. */
    readonly code: string,
    message: string,
  ) {
    super(`${url}: ${message} (${code})`);
  }
}

interface Pending {
  expect: string;
  resolve: (data: Record<string, unknown>) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export interface RemoteConnectOptions {
  apiKey?: string | null;
  connectTimeoutMs?: number;
  messageTimeoutMs?: number;
  maxMessageBytes?: number;
}

/** How a remote member talks to its server: one request at a time, answered in order. */
export interface MemberLink {
  readonly url: string;
  request(message: string, expect: string): Promise<Record<string, unknown>>;
  close(): void;
}

export class RemoteConnection implements MemberLink {
  private readonly pending: Pending[] = [];
  private failure: RemoteEnvError | null = null;

  private constructor(
    readonly url: string,
    private readonly ws: WebSocket,
    private readonly messageTimeoutMs: number,
  ) {
    ws.on('message', (raw: WebSocket.RawData) => this.onMessage(raw));
    ws.on('close', (code: number, reason: Buffer) =>
      this.fail(
        new RemoteEnvError(
          url,
          'CONNECTION',
          `the server closed the connection (${code} ${reason.toString() || ''})`.trim(),
        ),
      ),
    );
    ws.on('error', (err: Error) => this.fail(new RemoteEnvError(url, 'CONNECTION', err.message)));
  }

  /** Opens `<url>` (ws:// or wss://; an http(s):// URL becomes ws(s)://…/ws, as OpenEnv's client does). */
  static connect(url: string, opts: RemoteConnectOptions = {}): Promise<RemoteConnection> {
    const wsUrl = toWsUrl(url);
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl, {
        handshakeTimeout: opts.connectTimeoutMs ?? 10_000,
        maxPayload: opts.maxMessageBytes ?? 100 * 1024 * 1024,
        perMessageDeflate: false,
        headers: opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {},
      });
      const onError = (err: Error): void => {
        ws.removeAllListeners();
        ws.terminate();
        reject(new RemoteEnvError(wsUrl, 'CONNECTION', `cannot connect: ${err.message}`));
      };
      ws.once('unexpected-response', (_req, res) => {
        ws.removeAllListeners();
        ws.terminate();
        reject(
          new RemoteEnvError(wsUrl, 'CONNECTION', `the server refused the WebSocket upgrade: HTTP ${res.statusCode}`),
        );
      });
      ws.once('error', onError);
      ws.once('open', () => {
        ws.off('error', onError);
        ws.removeAllListeners('unexpected-response');
        resolve(new RemoteConnection(wsUrl, ws, opts.messageTimeoutMs ?? 60_000));
      });
    });
  }

  /** Sends a message and resolves with the `data` of the reply of type `expect` (an array for 'batch'). */
  request(message: string, expect: string): Promise<Record<string, unknown>> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(new RemoteEnvError(this.url, 'TIMEOUT', `no answer within ${this.messageTimeoutMs} ms`)),
        this.messageTimeoutMs,
      );
      this.pending.push({ expect, resolve, reject, timer });
      this.ws.send(message);
    });
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN) {
      this.ws.send('{"type":"close"}');
      this.ws.close(1000);
    } else this.ws.terminate();
    this.fail(new RemoteEnvError(this.url, 'CONNECTION', 'closed by the client'));
  }

  private onMessage(raw: WebSocket.RawData): void {
    let msg: unknown;
    try {
      msg = JSON.parse(raw.toString());
    } catch {
      msg = undefined;
    }
    const p = this.pending.shift();
    if (!p) {
      // Unprompted: CAPACITY_REACHED on connect, or an idle-timeout notice; anything else breaks the protocol.
      const data = isRecord(msg) && msg.type === 'error' && isRecord(msg.data) ? msg.data : null;
      this.fail(
        data
          ? new RemoteEnvError(this.url, String(data.code ?? 'ERROR'), String(data.message ?? 'error'))
          : new RemoteEnvError(this.url, 'PROTOCOL', 'a message arrived that answers no request'),
      );
      return;
    }
    clearTimeout(p.timer);
    if (msg === undefined) {
      p.reject(new RemoteEnvError(this.url, 'PROTOCOL', 'the server sent a message that is not JSON'));
      return;
    }
    if (
      !isRecord(msg) ||
      typeof msg.type !== 'string' ||
      !(isRecord(msg.data) || (msg.type === 'batch' && Array.isArray(msg.data)))
    ) {
      p.reject(new RemoteEnvError(this.url, 'PROTOCOL', 'the server sent a message without {type, data}'));
      return;
    }
    if (msg.type === 'error' && isRecord(msg.data)) {
      const code = typeof msg.data.code === 'string' ? msg.data.code : 'ERROR';
      const text = typeof msg.data.message === 'string' ? msg.data.message : 'the server answered an error';
      p.reject(new RemoteEnvError(this.url, code, text));
      return;
    }
    if (msg.type !== p.expect) {
      p.reject(new RemoteEnvError(this.url, 'PROTOCOL', `expected a '${p.expect}' message, got '${msg.type}'`));
      return;
    }
    p.resolve(msg.data as Record<string, unknown>);
  }

  private fail(err: RemoteEnvError): void {
    this.failure ??= err;
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(this.failure);
    }
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}

/** ws(s)://host:port[/ws] as given; http(s)://host:port → ws(s)://host:port/ws (OpenEnv's convert_to_ws_url). */
export function toWsUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RemoteEnvError(url, 'CONNECTION', 'not a URL; expected ws://host:port or http://host:port');
  }
  if (u.protocol === 'http:' || u.protocol === 'https:') {
    u.protocol = u.protocol === 'http:' ? 'ws:' : 'wss:';
    if (!u.pathname.endsWith('/ws')) u.pathname = `${u.pathname.replace(/\/+$/, '')}/ws`;
  } else if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw new RemoteEnvError(url, 'CONNECTION', `unsupported scheme '${u.protocol}'; allowed: ws, wss, http, https`);
  } else if (u.pathname === '/' || u.pathname === '') {
    u.pathname = '/ws';
  }
  return u.toString();
}

/** http(s)://host:port of a server URL given as ws(s):// or http(s):// (for GET /metadata). */
export function toHttpOrigin(url: string): string {
  const u = new URL(toWsUrl(url));
  return `${u.protocol === 'wss:' ? 'https:' : 'http:'}//${u.host}`;
}

/** Most items in one batch frame (bounds the answer's size: 256 snapshots of a late Gov Workflow episode ≈ 50 MB). */
export const MAX_ITEMS_PER_FRAME = 256;

interface BatchItem {
  session: number;
  message: string;
  expect: string;
  resolve: (data: Record<string, unknown>) => void;
  reject: (err: Error) => void;
}

/**
 * Many members over one connection (queue-rl's `batch` message): the requests members make in one
 * synchronous pass go out as one frame, and one frame brings their replies back.
 */
export class BatchChannel {
  private queue: BatchItem[] = [];
  private scheduled = false;
  private open = 0;

  /**
   * @param maxFrameBytes the server's largest message (its `--max-body`, from /metadata): requests are
   *   split into frames below it, and at most MAX_ITEMS_PER_FRAME items go in one frame so that the
   *   answers (snapshots can be 100 KB each) stay far below the client's own limit.
   */
  constructor(
    private readonly conn: RemoteConnection,
    private readonly maxFrameBytes = 1_000_000,
  ) {}

  get url(): string {
    return this.conn.url;
  }

  /** A member link for session number `session` of this connection. */
  link(session: number): MemberLink {
    this.open++;
    let closed = false;
    return {
      url: this.conn.url,
      request: (message, expect) => this.request(session, message, expect),
      close: () => {
        if (closed) return;
        closed = true;
        if (--this.open === 0) this.conn.close();
      },
    };
  }

  private request(session: number, message: string, expect: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.queue.push({ session, message, expect, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  private flush(): void {
    const items = this.queue;
    this.queue = [];
    this.scheduled = false;
    const budget = this.maxFrameBytes - 64; // the frame's own `{"type":"batch","data":[…]}`
    let frame: BatchItem[] = [];
    let parts: string[] = [];
    let bytes = 0;
    const send = (): void => {
      if (frame.length > 0) this.send(frame, parts);
      frame = [];
      parts = [];
      bytes = 0;
    };
    for (const it of items) {
      const part = `{"session":${it.session},"message":${it.message}}`;
      const size = Buffer.byteLength(part) + 1;
      if (size > budget) {
        it.reject(
          new RemoteEnvError(
            this.url,
            'PROTOCOL',
            `a ${size}-byte message is larger than the server's ${this.maxFrameBytes}-byte limit; start serve-env ` +
              'with a larger --max-body',
          ),
        );
        continue;
      }
      if (bytes + size > budget || frame.length === MAX_ITEMS_PER_FRAME) send();
      frame.push(it);
      parts.push(part);
      bytes += size;
    }
    send();
  }

  private send(items: BatchItem[], parts: string[]): void {
    this.conn.request(`{"type":"batch","data":[${parts.join(',')}]}`, 'batch').then(
      (data) => {
        const replies = data as unknown as unknown[];
        if (replies.length !== items.length) {
          const err = new RemoteEnvError(
            this.url,
            'PROTOCOL',
            `a batch of ${items.length} got ${replies.length} replies`,
          );
          for (const it of items) it.reject(err);
          return;
        }
        items.forEach((it, k) => {
          settle(this.url, it, replies[k]);
        });
      },
      (err: Error) => {
        for (const it of items) it.reject(err);
      },
    );
  }
}

function settle(url: string, it: BatchItem, reply: unknown): void {
  if (!isRecord(reply) || typeof reply.type !== 'string' || !isRecord(reply.data)) {
    it.reject(new RemoteEnvError(url, 'PROTOCOL', 'a batch reply without {type, data}'));
  } else if (reply.type === 'error') {
    const code = typeof reply.data.code === 'string' ? reply.data.code : 'ERROR';
    it.reject(new RemoteEnvError(url, code, String(reply.data.message ?? 'the server answered an error')));
  } else if (reply.type !== it.expect) {
    it.reject(new RemoteEnvError(url, 'PROTOCOL', `expected a '${it.expect}' message, got '${reply.type}'`));
  } else it.resolve(reply.data);
}
