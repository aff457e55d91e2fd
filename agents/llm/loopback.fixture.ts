/**
 * Test fixture: small real HTTP servers on 127.0.0.1 for the LLM and GRPO tests (flaky endpoints,
 * garbage answers, trainers, vLLM-style fronts), and a forwarder to a real policy server.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/**
 * Starts a server with `handler` (the whole request body read first); returns its origin (http://127.0.0.1:PORT) and a
 * close function.
 */
export async function loopbackServer(handler: Handler): Promise<{ origin: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** POSTs `body` to `origin` + `path`; resolves with the status and body text. */
export function forward(origin: string, path: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = request(
      `${origin}${path}`,
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        let out = '';
        res.on('data', (c: Buffer) => (out += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 500, body: out }));
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}
