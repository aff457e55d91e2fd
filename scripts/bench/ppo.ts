/**
 * bench:ppo — end-to-end PPO throughput on Gov Workflow district_backlog_easy with the Phase 1
 * config (4 envs, n_steps 512, batch 64, 10 epochs), once with net [256, 256] and once with
 * [64, 64]: env steps/s, the split between rollout (env + policy forward + sampling) and update, and
 * sample-updates/s of the update. One warm-up iteration, then ITERATIONS timed ones (2,048 env steps
 * each); figures are per 20,480 env steps to compare with Stable-Baselines3 MaskablePPO (PyTorch CPU)
 * on the reference env, measured on the 2-core development machine (quoted from the issue that set the goal):
 * 900 env steps/s and 8.6 s of update per 20,480 steps with [256, 256]; 1,100 and 5.0 s with [64, 64].
 *
 *   npm run bench:ppo [-- --backend wasm|cpu|tensorflow] [--iterations 10] [--workers 0] [--threads both|1|2]
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeBackend } from '../../agents/policy/backend.js';
import { loadPpoConfig } from '../../training/ppo/config.js';
import { trainPpo } from '../../training/ppo/ppo.js';

const SB3 = {
  '256,256': { fps: 900, updateSeconds: 8.6 },
  '64,64': { fps: 1100, updateSeconds: 5.0 },
} as const;

interface BenchOptions {
  backend: string;
  iterations: number;
  workers: string;
}

/** Trains `iterations + 1` iterations of gov-phase1 and returns the table row of the timed ones. */
async function measure(net: keyof typeof SB3, threads: '1' | '2', options: BenchOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ppo-'));
  const config = loadPpoConfig('gov-phase1', [
    ['--net-arch', net],
    ['--total-timesteps', String(2048 * (options.iterations + 1))],
    ['--eval.freq', '0'],
    ['--eval.seeds', '1000'],
    ['--checkpoint.freq', '0'],
    ['--backend', options.backend],
    ['--workers', options.workers],
    ['--update-threads', threads],
  ]);
  const result = await trainPpo({
    config,
    resultsDir: join(dir, 'r'),
    checkpointDir: join(dir, 'c'),
    log: () => undefined,
  });
  rmSync(dir, { recursive: true, force: true });
  const timed = result.metrics.slice(1);
  const rollout = timed.reduce((a, r) => a + (r['time/rollout_seconds'] as number), 0);
  const update = timed.reduce((a, r) => a + (r['time/update_seconds'] as number), 0);
  const steps = timed.length * 2048;
  const per = 20_480 / steps;
  const fps = steps / (rollout + update);
  const samples = (steps * config.n_epochs) / update;
  const sb3 = SB3[net];
  const row = [
    `[${net}]`,
    threads,
    fps.toFixed(0),
    (rollout * per).toFixed(2),
    (update * per).toFixed(2),
    `${(samples / 1000).toFixed(1)}k`,
    `${(fps / sb3.fps).toFixed(2)}×`,
    `${(sb3.updateSeconds / (update * per)).toFixed(2)}×`,
  ];
  return { row, backend: describeBackend(result.backend) };
}

function printTable(rows: string[][]): void {
  const head = [
    'net',
    'update threads',
    'env steps/s',
    'rollout s / 20,480',
    'update s / 20,480',
    'update samples/s',
    'vs SB3 end-to-end',
    'vs SB3 update',
  ];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] as string).length)));
  const line = (r: string[]): string =>
    r.map((t, c) => (c === 0 ? t.padEnd(widths[c] as number) : t.padStart(widths[c] as number))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'wasm' },
      iterations: { type: 'string', default: '10' },
      workers: { type: 'string', default: '0' },
      // 'both' measures the update on one thread and with the critic on a second thread (same results).
      threads: { type: 'string', default: 'both' },
    },
  });
  if (!['both', '1', '2'].includes(values.threads as string))
    throw new Error(`--threads: '${values.threads}' is not one of both, 1, 2`);
  const options: BenchOptions = {
    backend: values.backend as string,
    iterations: Number(values.iterations),
    workers: values.workers as string,
  };
  console.log(
    `bench:ppo — Gov Workflow district_backlog_easy, gov-phase1 config, ` +
      `${options.iterations} timed iterations of 2,048 env steps after 1 warm-up`,
  );
  console.log(
    `machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}\n`,
  );
  const rows: string[][] = [];
  let backendText = '';
  const threadSettings = values.threads === 'both' ? (['1', '2'] as const) : ([values.threads as '1' | '2'] as const);
  for (const net of ['256,256', '64,64'] as const)
    for (const threads of threadSettings) {
      const { row, backend } = await measure(net, threads, options);
      rows.push(row);
      backendText = backend;
    }
  console.log(`backend: ${backendText}\n`);
  printTable(rows);
  console.log(
    '\nSB3 MaskablePPO reference (same machine, same config): [256,256] 900 env steps/s, 8.6 s update per 20,480 ' +
      'steps; [64,64] 1,100 and 5.0 s.',
  );
  console.log(
    'The end-to-end figures count rollout + update (the time SB3 reports as fps); evaluation and checkpoints are ' +
      'excluded.',
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
