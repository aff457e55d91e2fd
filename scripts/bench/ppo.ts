/**
 * bench:ppo — the PPO learner against PyTorch, measured in the same run. Two parts, for nets
 * [256, 256] and [64, 64] with 1 and 2 update threads:
 *  1. the minibatch update (batch 64, Gov Workflow Phase 1 shapes): queue-rl's GradientStep
 *     (update-timing.ts) and PyTorch doing the same work (scripts/bench/torch_update.py, run with
 *     Debian's python3-torch when it is installed), ms per minibatch for the forward pass, backward +
 *     optimizer, and the whole update, and their ratios;
 *  2. end to end: gov-phase1 training, one warm-up and ITERATIONS timed iterations of 2,048 env steps:
 *     env steps/s, rollout and update seconds per 20,480 env steps, and against "our rollout + the
 *     same-run PyTorch update" (what an SB3 run with our envs would take; SB3 itself is not installable
 *     here). Without PyTorch it says so and prints absolute figures only: never a ratio against a
 *     number from another machine.
 *
 *  3. with --main-job, the main job (npm start) in a child process: its phases' wall times and peak memory.
 *
 *   npm run bench:ppo [-- --backend native,wasm] [--iterations 10] [--workers 0] [--threads both|1|2]
 *                     [--main-job]
 *   --backend takes a comma-separated list (native, wasm, cpu, tensorflow): every table has a row per
 *   backend, so the native learner and tfjs's wasm are compared with each other and with PyTorch in one run.
 *   QUEUE_RL_TORCH_PYTHON=/usr/bin/python3 (default) selects the Python that has torch.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeBackend } from '../../agents/policy/backend.js';
import { loadPpoConfig } from '../../training/ppo/config.js';
import { trainPpo } from '../../training/ppo/ppo.js';
import type { UpdateTiming } from './update-timing.js';
import { timeOurUpdate } from './update-timing.js';

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));
const NETS = ['256,256', '64,64'] as const;
type Net = (typeof NETS)[number];
const TORCH_SCRIPT = fileURLToPath(new URL('../../../scripts/bench/torch_update.py', import.meta.url));

/**
 * `--main-job`: the main job (`npm start`, compiled) in a child process; its summary's phase times,
 * wall time and peak memory (the process's max RSS, worker threads included).
 */
function mainJob(backend: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'bench-main-'));
  try {
    const args = [CLI, 'pipeline', '--out', dir, '--checkpoints', join(dir, 'ck'), '--backend', backend];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0)
      throw new Error(`the main job failed (exit ${r.status}): ${r.stderr.trim().split('\n').at(-1)}`);
    const file = /^summary: (.+)$/m.exec(r.stdout)?.[1];
    const summary = file ? readFileSync(file, 'utf8') : '';
    console.log('\n3. The main job (npm start), from its summary.md');
    for (const m of summary.matchAll(/^- ([\w-]+): `([^`]+)`, (\d+) steps .*\((\d+) s\)$/gm))
      console.log(`  ${(m[1] as string).padEnd(18)} ${(m[4] as string).padStart(5)} s  (${m[3]} steps, ${m[2]})`);
    console.log(`  ${/Wall time .*$/m.exec(summary)?.[0] ?? 'no summary found'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** PyTorch's timings per "net/threads", or the reason there are none. */
function torchAnchor(threads: readonly string[]): { results: Map<string, UpdateTiming>; about: string } {
  const python = process.env.QUEUE_RL_TORCH_PYTHON ?? '/usr/bin/python3';
  const results = new Map<string, UpdateTiming>();
  let about = '';
  for (const t of threads) {
    // One BLAS/OpenMP thread count per process: OpenBLAS sizes its pool when it loads.
    const r = spawnSync(python, [TORCH_SCRIPT, '--threads', t, '--nets', ...NETS], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: t, OPENBLAS_NUM_THREADS: t, MKL_NUM_THREADS: t },
    });
    if (r.status !== 0) {
      const why = (r.stderr || r.error?.message || '').trim().split('\n').at(-1) ?? '';
      return {
        results,
        about:
          `PyTorch not available (${python}: ${why}); on Debian: apt-get install python3-torch libopenblas0-pthread. ` +
          'Absolute figures only',
      };
    }
    const out = JSON.parse(r.stdout) as {
      torch: string;
      sgemm_gflops: number;
      results: Record<string, { forward_ms: number; backward_optimizer_ms: number; update_ms: number }>;
    };
    about = `PyTorch ${out.torch} (${python}), sgemm 64×256×256 on one thread: ${out.sgemm_gflops.toFixed(0)} GFLOP/s`;
    for (const [key, v] of Object.entries(out.results))
      results.set(key, {
        forwardMs: v.forward_ms,
        backwardOptimizerMs: v.backward_optimizer_ms,
        updateMs: v.update_ms,
      });
  }
  return { results, about };
}

interface BenchOptions {
  backends: string[];
  iterations: number;
  workers: string;
}

/** Trains `iterations + 1` iterations of gov-phase1 and returns the table row of the timed ones. */
async function measure(
  net: Net,
  threads: '1' | '2',
  backend: string,
  options: BenchOptions,
  torch: UpdateTiming | undefined,
) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ppo-'));
  const config = loadPpoConfig('gov-phase1', [
    ['--net-arch', net],
    ['--total-timesteps', String(2048 * (options.iterations + 1))],
    ['--eval.freq', '0'],
    ['--eval.seeds', '1000'],
    ['--checkpoint.freq', '0'],
    ['--backend', backend],
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
  const minibatches = (20_480 * config.n_epochs) / config.batch_size;
  const torchUpdate = torch ? (torch.updateMs * minibatches) / 1000 : null;
  const row = [
    `[${net}]`,
    backend,
    threads,
    fps.toFixed(0),
    (rollout * per).toFixed(2),
    (update * per).toFixed(2),
    `${(samples / 1000).toFixed(1)}k`,
    torchUpdate === null ? '—' : torchUpdate.toFixed(2),
    torchUpdate === null ? '—' : `${((rollout * per + torchUpdate) / ((rollout + update) * per)).toFixed(2)}×`,
  ];
  return { row, backend: describeBackend(result.backend) };
}

function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] as string).length)));
  const line = (r: string[]): string =>
    r.map((t, c) => (c === 0 ? t.padEnd(widths[c] as number) : t.padStart(widths[c] as number))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

/** Part 1: one minibatch update, ours against PyTorch's at each thread count and at its best. */
async function printUpdateTable(
  threadSettings: readonly ('1' | '2')[],
  torchResults: Map<string, UpdateTiming>,
  backends: readonly string[],
): Promise<void> {
  console.log('1. One minibatch update (batch 64; ms; ratio = PyTorch time ÷ ours, above 1 = queue-rl faster)');
  const upd: string[][] = [];
  // PyTorch's fastest thread count for a net: a fair anchor when its extra threads only cost (tiny matrices).
  const best = (net: Net): number | undefined => {
    const times = threadSettings.map((t) => torchResults.get(`${net}/${t}`)?.updateMs).filter((x) => x !== undefined);
    return times.length > 0 ? Math.min(...(times as number[])) : undefined;
  };
  for (const net of NETS)
    for (const backend of backends)
      for (const threads of threadSettings) {
        const ours = await timeOurUpdate(net, threads, backend);
        const t = torchResults.get(`${net}/${threads}`);
        const cell = (o: number, p: number | undefined): string =>
          p === undefined ? o.toFixed(3) : `${o.toFixed(3)} / ${p.toFixed(3)} (${(p / o).toFixed(2)}×)`;
        upd.push([
          `[${net}]`,
          backend,
          threads,
          cell(ours.forwardMs, t?.forwardMs),
          cell(ours.backwardOptimizerMs, t?.backwardOptimizerMs),
          cell(ours.updateMs, t?.updateMs),
          `${((64 / ours.updateMs) * 1000).toFixed(0)}`,
          t ? `${((64 / t.updateMs) * 1000).toFixed(0)}` : '—',
          best(net) === undefined ? '—' : `${((best(net) as number) / ours.updateMs).toFixed(2)}×`,
        ]);
      }
  printTable(
    [
      'net',
      'backend',
      'threads',
      'forward, ours / PyTorch',
      'backward + Adam',
      'whole update',
      'samples/s ours',
      'PyTorch',
      "vs PyTorch's best thread count",
    ],
    upd,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'native,wasm' },
      iterations: { type: 'string', default: '10' },
      workers: { type: 'string', default: '0' },
      // 'both' measures the update on one thread and with the critic on a second thread (same results).
      threads: { type: 'string', default: 'both' },
      // Also run the main job (npm start, ~6 min) and report its phases, wall time and peak memory.
      'main-job': { type: 'boolean', default: false },
    },
  });
  if (!['both', '1', '2'].includes(values.threads as string))
    throw new Error(`--threads: '${values.threads}' is not one of both, 1, 2`);
  const options: BenchOptions = {
    backends: (values.backend as string).split(',').map((b) => b.trim()),
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
  const threadSettings = values.threads === 'both' ? (['1', '2'] as const) : ([values.threads as '1' | '2'] as const);
  const torch = torchAnchor(threadSettings);
  console.log(`anchor: ${torch.about}\n`);

  await printUpdateTable(threadSettings, torch.results, options.backends);

  console.log('\n2. End to end, gov-phase1 training');
  const rows: string[][] = [];
  const backendTexts = new Set<string>();
  for (const net of NETS)
    for (const backend of options.backends)
      for (const threads of threadSettings) {
        // Against PyTorch at its fastest thread count: its second thread only costs at these sizes.
        const fastest = threadSettings
          .map((t) => torch.results.get(`${net}/${t}`))
          .filter((x): x is UpdateTiming => x !== undefined)
          .sort((a, b) => a.updateMs - b.updateMs)[0];
        const measured = await measure(net, threads, backend, options, fastest);
        rows.push(measured.row);
        backendTexts.add(measured.backend);
      }
  printTable(
    [
      'net',
      'backend',
      'update threads',
      'env steps/s',
      'rollout s / 20,480',
      'update s / 20,480',
      'update samples/s',
      'PyTorch update s / 20,480 (its best threads)',
      'end to end vs our rollout + PyTorch update',
    ],
    rows,
  );
  console.log(`\nbackends: ${[...backendTexts].join('; ')}`);
  console.log(
    'End to end counts rollout + update (the time SB3 reports as fps); evaluation and checkpoints are excluded. The ' +
      "comparison run takes our measured rollout time plus PyTorch's measured update time for the same minibatches.",
  );
  if (values['main-job']) mainJob(options.backends[0] as string);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
