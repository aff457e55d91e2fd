/** PPO over env servers (serve-env) trains exactly as in-process: same metrics, same checkpoints. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadPolicyCheckpoint } from '../../agents/policy/checkpoint.js';
import { ActorCriticPolicy } from '../../agents/policy/policy.js';
import type { RunningEnvServer } from '../../envs/server/env-server.js';
import { startEnvServer } from '../../envs/server/env-server.js';
import { main } from '../../scripts/cli.js';
import { runBaselines } from '../baselines.js';
import { evaluatePolicy } from '../evaluation.js';

const TMP = mkdtempSync(join(tmpdir(), 'queue-rl-remote-train-'));
const TINY = [
  ['--config', 'gov-phase1'],
  ['--net-arch', '16,16'],
  ['--n-steps', '64'],
  ['--n-envs', '3'],
  ['--batch-size', '64'],
  ['--n-epochs', '2'],
  ['--total-timesteps', '576'],
  ['--eval.freq', '192'],
  ['--eval.seeds', '1,2'],
  ['--checkpoint.freq', '192'],
  ['--backend', 'cpu'],
  ['--out', TMP],
  ['--checkpoints', join(TMP, 'ck')],
].flat();

async function train(extra: string[]): Promise<number> {
  const quiet = [
    vi.spyOn(console, 'log').mockImplementation(() => undefined),
    vi.spyOn(console, 'error').mockImplementation(() => undefined),
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true),
  ];
  try {
    return await main(['train', ...TINY, ...extra]);
  } finally {
    for (const q of quiet) q.mockRestore();
  }
}

/** A CSV without its time/* columns (wall-clock figures differ between any two runs). */
function withoutTimes(file: string): string[][] {
  const rows = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  const keep = (rows[0] as string[]).map((h, k) => (h.startsWith('time/') ? -1 : k)).filter((k) => k >= 0);
  return rows.map((r) => keep.map((k) => r[k] as string));
}

describe('PPO over two env servers', () => {
  const servers: RunningEnvServer[] = [];
  beforeAll(async () => {
    servers.push(await startEnvServer({ family: 'gov-workflow', port: 0 }));
    servers.push(await startEnvServer({ family: 'gov-workflow', port: 0 }));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    rmSync(TMP, { recursive: true, force: true });
  });

  it('writes the metrics.csv and eval.csv of the in-process run, with env.servers or a remote: id', async () => {
    expect(await train(['--run-id', 'local'])).toBe(0);
    const urls = servers.map((s) => s.wsUrl).join(',');
    expect(await train(['--run-id', 'servers', '--env.servers', urls])).toBe(0);
    expect(await train(['--run-id', 'id', '--env.id', `remote:gov-workflow/district_backlog_easy@${urls}`])).toBe(0);
    const local = withoutTimes(join(TMP, 'local/phase1/metrics.csv'));
    expect(local.length).toBe(4);
    for (const run of ['servers', 'id']) {
      expect(withoutTimes(join(TMP, run, 'phase1/metrics.csv'))).toEqual(local);
      expect(readFileSync(join(TMP, run, 'phase1/eval.csv'), 'utf8')).toBe(
        readFileSync(join(TMP, 'local/phase1/eval.csv'), 'utf8'),
      );
    }
    const config = JSON.parse(readFileSync(join(TMP, 'id/phase1/config.json'), 'utf8'));
    expect(config.env).toMatchObject({ id: 'gov-workflow/district_backlog_easy', servers: urls.split(',') });
  });

  it('evaluate plays a checkpoint on env servers and writes the in-process episodes', async () => {
    const quiet = [
      vi.spyOn(console, 'log').mockImplementation(() => undefined),
      vi.spyOn(console, 'error').mockImplementation(() => undefined),
    ];
    const episodes = async (out: string, extra: string[]): Promise<string> => {
      const argv = ['evaluate', '--checkpoint', join(TMP, 'ck/local/phase1/final'), '--agent', 'none'];
      expect(await main([...argv, '--seeds', '3-8', '--backend', 'cpu', '--out', join(TMP, out), ...extra])).toBe(0);
      const [dir] = readdirSync(join(TMP, out));
      return readFileSync(join(TMP, out, dir as string, 'episodes.csv'), 'utf8');
    };
    try {
      const local = await episodes('eval-local', []);
      const remote = await episodes('eval-remote', ['--env-servers', servers.map((s) => s.origin).join(',')]);
      expect(remote).toBe(local);
      expect(local.trim().split('\n').length).toBe(1 + 6 * 4); // 6 seeds × 4 tasks
    } finally {
      for (const q of quiet) q.mockRestore();
    }
  });

  it('an evaluation stopped early reads the same score and metrics from the server', async () => {
    const ckpt = loadPolicyCheckpoint(join(TMP, 'ck/local/phase1/final'));
    const policy = new ActorCriticPolicy(ckpt.spec, ckpt.parameters);
    try {
      const id = 'gov-workflow/mixed_urgency_medium';
      const local = await evaluatePolicy(policy, id, {}, [5, 6], { maxSteps: 7 });
      const remote = await evaluatePolicy(policy, id, {}, [5, 6], { maxSteps: 7, servers: [servers[1]?.wsUrl ?? ''] });
      expect(remote).toEqual(local);
      expect(local[0]?.steps).toBe(7);
    } finally {
      policy.dispose();
    }
  });

  it('refuses a remote id without the env in a config, naming the field', async () => {
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await main(['train', ...TINY, '--env.id', `remote:${servers[0]?.wsUrl}`])).toBe(2);
      expect(String(quiet.mock.calls[0]?.[0])).toMatch(/env\.id.*remote:<family>\/<task>@ws:\/\/host:port/);
    } finally {
      quiet.mockRestore();
    }
  });
});

describe('HelixDesk baselines on an env server', () => {
  it('the rule and random agents play the in-process episodes; Gov Workflow agents are refused', async () => {
    const server = await startEnvServer({ family: 'helixdesk', port: 0 });
    try {
      const args = ['helixdesk', ['hard', 'expert'], ['rule', 'random'], [1, 2, 3]] as const;
      const local = await runBaselines(...args);
      const remote = await runBaselines(...args, { servers: [server.wsUrl] });
      expect(remote).toEqual(local);
      expect(local.length).toBe(12);
      expect(new Set(local.map((r) => r.score)).size).toBeGreaterThan(1);
      await expect(
        runBaselines('gov-workflow', ['district_backlog_easy'], ['heuristic'], [1], { servers: [server.wsUrl] }),
      ).rejects.toThrow(/only HelixDesk rule and random agents play remotely/);
    } finally {
      await server.close();
    }
  });
});
