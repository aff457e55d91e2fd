import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import '../registry.js';
import { createStream } from '../core/random/streams.js';
import { encodePlain } from '../core/wire.js';
import type { RunningEnvServer } from '../server/env-server.js';
import { startEnvServer } from '../server/env-server.js';
import { openVectorEnv } from './open.js';
import { sampleMaskedActions } from './random-actions.js';
import { parseRemoteId, RemoteVectorEnv } from './remote.js';
import { fingerprintRollout } from './rollout-hash.js';
import { SyncVectorEnv } from './sync.js';
import type { CompletedEpisode, VectorEnv } from './vector-env.js';
import { VectorEnvError } from './vector-env.js';

/** Episodes compared number by number with Object.is (−0 and NaN included). */
function sameEpisodes(a: readonly CompletedEpisode[], b: readonly CompletedEpisode[]): void {
  expect(b.length).toBe(a.length);
  a.forEach((e, k) => {
    const f = b[k] as CompletedEpisode;
    expect([f.envIndex, f.length]).toEqual([e.envIndex, e.length]);
    expect(Object.is(f.return, e.return)).toBe(true);
    expect(Object.is(f.score, e.score)).toBe(true);
    expect(Object.keys(f.metrics)).toEqual(Object.keys(e.metrics));
    for (const [name, v] of Object.entries(e.metrics)) expect(Object.is(f.metrics[name], v), name).toBe(true);
  });
}

/** Steps both envs with the same seeded random masked actions, comparing every batch byte for byte. */
async function stepTogether(a: VectorEnv, b: VectorEnv, masks: Uint8Array, steps: number, seed: number) {
  const rng = createStream(seed, 'test', 'actions');
  let current = masks;
  for (let t = 0; t < steps; t++) {
    sampleMaskedActions(a.spec, a.numEnvs, current, rng, a.actionBuffer);
    const ra = await a.step();
    const rb = await b.step(a.actionBuffer);
    expect(Buffer.from(rb.observations.buffer).equals(Buffer.from(ra.observations.buffer))).toBe(true);
    expect(Buffer.from(rb.masks).equals(Buffer.from(ra.masks))).toBe(true);
    expect(Buffer.from(rb.rewards.buffer).equals(Buffer.from(ra.rewards.buffer))).toBe(true);
    expect(Array.from(rb.terminated)).toEqual(Array.from(ra.terminated));
    expect(Array.from(rb.truncated)).toEqual(Array.from(ra.truncated));
    sameEpisodes(ra.episodes, rb.episodes);
    current = ra.masks.slice();
  }
  return current;
}

describe('remote ids', () => {
  it('parses remote:[<id>@]<url>[,<url>…] and refuses malformed ones', () => {
    expect(parseRemoteId('gov-workflow/district_backlog_easy')).toBeNull();
    expect(parseRemoteId('remote:ws://127.0.0.1:8000')).toEqual({ envId: null, urls: ['ws://127.0.0.1:8000'] });
    expect(parseRemoteId('remote:helixdesk/hard@ws://a:1, http://b:2')).toEqual({
      envId: 'helixdesk/hard',
      urls: ['ws://a:1', 'http://b:2'],
    });
    expect(() => parseRemoteId('remote:')).toThrow(/expected remote:/);
    expect(() => parseRemoteId('remote:ws://a:1,,ws://b:2')).toThrow(/expected remote:/);
    expect(() => parseRemoteId('remote:ftp://a:1')).toThrow(/unsupported scheme 'ftp:'/);
    expect(() => parseRemoteId('remote:not a url')).toThrow(/not a URL/);
  });
});

describe('remote vector envs equal local ones bit for bit', () => {
  const servers: RunningEnvServer[] = [];
  beforeAll(async () => {
    servers.push(await startEnvServer({ family: 'gov-workflow', port: 0, task: 'mixed_urgency_medium' }));
    servers.push(await startEnvServer({ family: 'gov-workflow', port: 0, task: 'mixed_urgency_medium' }));
    servers.push(await startEnvServer({ family: 'helixdesk', port: 0, task: 'hard' }));
  });
  afterAll(() => Promise.all(servers.map((s) => s.close())));

  it.each([
    ['gov-workflow/mixed_urgency_medium', {}, [0, 1], true],
    ['gov-workflow/mixed_urgency_medium', {}, [0, 1], false],
    [
      'gov-workflow/cross_department_hard',
      { adapter: 'v2', reward: { mode: 'grader', graderScale: 100 } },
      [0, 1],
      true,
    ],
    [
      'gov-workflow/district_backlog_easy',
      { variant: 'reference', reward: { mode: 'mix', envWeight: 0.5 } },
      [1],
      false,
    ],
    ['helixdesk/hard', {}, [2], true],
    ['helixdesk/hard', {}, [2], false],
  ] as const)(
    '%s %j on servers %j, batch %s: same batches, rewards, flags, episodes and scores',
    async (id, options, which, batch) => {
      const urls = which.map((k) => (servers[k] as RunningEnvServer).wsUrl);
      const local = new SyncVectorEnv(id, 5, options);
      const remote = await RemoteVectorEnv.create(5, { urls, envId: id, options, batch });
      try {
        expect(remote).toBeInstanceOf(RemoteVectorEnv);
        const [fl, fr] = [await fingerprintRollout(local, 9, 400), await fingerprintRollout(remote, 9, 400)];
        expect(fr.hash).toBe(fl.hash);
        expect(fl.episodes.length).toBeGreaterThan(3);
        sameEpisodes(fl.episodes, fr.episodes);
        // Negative rewards crossed the wire with their sign (the env reward of these tasks is mostly negative).
        if (id.startsWith('gov') && !('reward' in options)) expect(fl.episodes.some((e) => e.return < 0)).toBe(true);
      } finally {
        await remote.close();
      }
    },
  );

  it("takes the servers' default env for remote:<url>, and agrees snapshots both ways", async () => {
    const remote = await openVectorEnv(`remote:${servers[0]?.wsUrl},${servers[1]?.origin}`, 4);
    const local = new SyncVectorEnv('gov-workflow/mixed_urgency_medium', 4);
    try {
      expect(remote.spec.id).toBe('gov-workflow/mixed_urgency_medium');
      const rr = await remote.reset(5);
      const rl = await local.reset(5);
      expect(Buffer.from(rr.observations.buffer).equals(Buffer.from(rl.observations.buffer))).toBe(true);
      let masks = await stepTogether(local, remote, rl.masks.slice(), 70, 1);
      // Remote → local: the snapshot restores into a local env, and both continue alike.
      const snap = await remote.snapshot();
      const other = new SyncVectorEnv('gov-workflow/mixed_urgency_medium', 4);
      const r = await other.restore(snap);
      expect(Buffer.from(r.masks).equals(Buffer.from(masks))).toBe(true);
      masks = await stepTogether(local, other, masks, 60, 2);
      // Local → remote, into fresh sessions that never saw a reset.
      const fresh = await openVectorEnv(`remote:${servers[1]?.wsUrl}`, 4);
      try {
        await fresh.restore(await local.snapshot());
        await stepTogether(local, fresh, masks, 80, 3);
      } finally {
        await fresh.close();
      }
    } finally {
      await remote.close();
    }
  });
});

describe('batch frames stay below the server limit', () => {
  it('restores 8 Gov Workflow members through a 200 kB --max-body (~80 kB snapshots), then steps alike', async () => {
    const server = await startEnvServer({ family: 'gov-workflow', port: 0, maxBodyBytes: 200_000 });
    try {
      const id = 'gov-workflow/cross_department_hard';
      const local = new SyncVectorEnv(id, 8);
      let masks = (await local.reset(2)).masks.slice();
      const rng = createStream(2, 'test', 'actions');
      for (let t = 0; t < 120; t++) {
        sampleMaskedActions(local.spec, 8, masks, rng, local.actionBuffer);
        masks = (await local.step()).masks.slice();
      }
      const snap = await local.snapshot();
      const bytes = snap.members.map((m) => JSON.stringify(encodePlain(m.state)).length);
      expect(Math.min(...bytes)).toBeGreaterThan(50_000);
      expect(bytes.reduce((a, b) => a + b, 0)).toBeGreaterThan(200_000); // one frame could not carry them
      const remote = await RemoteVectorEnv.create(8, { urls: [server.wsUrl], envId: id });
      try {
        await remote.restore(snap);
        await stepTogether(local, remote, masks, 40, 5);
        const back = await remote.snapshot(); // answers come back in frames of at most 256 items
        expect(back.members.length).toBe(8);
      } finally {
        await remote.close();
      }
    } finally {
      await server.close();
    }
  });

  it('a single message above the limit fails with the reason instead of closing the connection', async () => {
    const server = await startEnvServer({ family: 'gov-workflow', port: 0, maxBodyBytes: 5_000 });
    try {
      const local = new SyncVectorEnv('gov-workflow/cross_department_hard', 1);
      await local.reset(0);
      const remote = await RemoteVectorEnv.create(1, { urls: [server.wsUrl], envId: local.spec.id });
      await expect(remote.restore(await local.snapshot())).rejects.toThrow(
        /larger than the server's 5000-byte limit; start serve-env with a larger --max-body/,
      );
      await remote.close();
    } finally {
      await server.close();
    }
  });
});

describe('remote failures name the member and the URL, and nothing hangs', () => {
  it('a server that goes away mid-run', async () => {
    const server = await startEnvServer({ family: 'helixdesk', port: 0 });
    const vec = await openVectorEnv(`remote:${server.wsUrl}`, 3);
    await vec.reset(1);
    await vec.step(new Int32Array(12));
    await server.close();
    const err = await vec.step(new Int32Array(12)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VectorEnvError);
    expect((err as VectorEnvError).message).toMatch(new RegExp(`env \\d \\(helixdesk/easy\\) failed: ${server.wsUrl}`));
    expect((err as VectorEnvError).message).toMatch(/CONNECTION/);
    await expect(vec.step()).rejects.toThrow(/failed earlier/);
    await vec.close();
  });

  it.each([true, false])(
    'CAPACITY_REACHED when the servers have fewer sessions than members (batch %s)',
    async (batch) => {
      const server = await startEnvServer({ family: 'helixdesk', port: 0, maxSessions: 2 });
      try {
        const vec = await RemoteVectorEnv.create(3, { urls: [server.wsUrl], batch });
        const err = await vec.reset(0).catch((e: unknown) => e);
        expect((err as Error).message).toMatch(/env 2 \(helixdesk\/easy\) failed: .*CAPACITY_REACHED/);
        await vec.close();
      } finally {
        await server.close();
      }
    },
  );

  it('options the server resolves differently (a server default) are refused before any step', async () => {
    const server = await startEnvServer({ family: 'gov-workflow', port: 0, options: { variant: 'reference' } });
    try {
      const vec = await openVectorEnv(`remote:${server.wsUrl}`, 2);
      await expect(vec.reset(0)).rejects.toThrow(/the server runs gov-workflow\/district_backlog_easy with options/);
      await vec.close();
      const ok = await openVectorEnv(`remote:${server.wsUrl}`, 2, { options: { variant: 'reference' } });
      await ok.reset(0);
      await ok.close();
    } finally {
      await server.close();
    }
  });

  it('a silent server times out; a garbling one is a protocol error; a missing one cannot connect', async () => {
    // A real HTTP + WebSocket server on 127.0.0.1 that serves /metadata and then says nothing, or garbage.
    const http = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          queue_rl: { family: 'helixdesk', spec: { id: 'helixdesk/easy' } },
          name: 'x',
          description: 'y',
        }),
      );
    });
    const wss = new WebSocketServer({ server: http });
    wss.on('connection', (ws, req) => {
      if (req.url?.includes('garble')) ws.on('message', () => ws.send('not json {'));
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as AddressInfo).port;
    try {
      const silent = await RemoteVectorEnv.create(2, { urls: [`ws://127.0.0.1:${port}/ws`], messageTimeoutMs: 150 });
      const t0 = Date.now();
      await expect(silent.reset(0)).rejects.toThrow(/no answer within 150 ms \(TIMEOUT\)/);
      expect(Date.now() - t0).toBeLessThan(5000);
      await silent.close();
      const garble = await RemoteVectorEnv.create(1, { urls: [`ws://127.0.0.1:${port}/garble`] });
      await expect(garble.reset(0)).rejects.toThrow(/not JSON \(PROTOCOL\)/);
      await garble.close();
    } finally {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise((r) => http.close(r));
    }
    await expect(RemoteVectorEnv.create(1, { urls: [`ws://127.0.0.1:${port}`] })).rejects.toThrow(
      /cannot read http:\/\/127\.0\.0\.1:\d+\/metadata/,
    );
  });
});
