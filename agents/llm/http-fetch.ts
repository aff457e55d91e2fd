/**
 * A lean `fetch` for the openai client, on node:http/https with keep-alive agents. Node's built-in
 * fetch (undici, WHATWG streams) costs about a millisecond of CPU per small request on the 2-core
 * VM (bench:llm); a policy step should cost less than that. Supports what the openai client uses:
 * method, headers, a string/Uint8Array body, AbortSignal (timeouts and cancellation reject with an
 * AbortError, which the client reports as a timeout). Responses are buffered (chat completions are
 * small); streaming responses are not needed here.
 */
import http from 'node:http';
import https from 'node:https';

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 256 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 256 }),
};

function abortError(): Error {
  const err = new Error('The operation was aborted');
  err.name = 'AbortError';
  return err;
}

export async function httpFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  const secure = url.protocol === 'https:';
  const headers: Record<string, string> = {};
  new Headers(init.headers ?? {}).forEach((value, key) => {
    headers[key] = value;
  });
  const body = init.body;
  let payload: Buffer | null = null;
  if (typeof body === 'string') payload = Buffer.from(body);
  else if (body instanceof Uint8Array) payload = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  else if (body instanceof ArrayBuffer) payload = Buffer.from(body);
  else if (body !== undefined && body !== null) return fetch(input, init); // anything else: the built-in fetch
  if (payload) headers['content-length'] = String(payload.length);
  const signal = init.signal ?? null;
  if (signal?.aborted) throw abortError();
  return new Promise<Response>((resolve, reject) => {
    const req = (secure ? https : http).request(
      {
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: init.method ?? 'GET',
        headers,
        agent: secure ? agents.https : agents.http,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          signal?.removeEventListener('abort', onAbort);
          const responseHeaders = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (Array.isArray(v)) for (const item of v) responseHeaders.append(k, item);
            else if (v !== undefined) responseHeaders.set(k, v);
          }
          const status = res.statusCode ?? 500;
          const noBody = status === 204 || status === 304 || (init.method ?? 'GET') === 'HEAD';
          resolve(
            new Response(noBody ? null : Buffer.concat(chunks), {
              status,
              statusText: res.statusMessage ?? '',
              headers: responseHeaders,
            }),
          );
        });
        res.on('error', reject);
      },
    );
    const onAbort = (): void => {
      req.destroy(abortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(signal?.aborted ? abortError() : err);
    });
    if (payload) req.end(payload);
    else req.end();
  });
}
