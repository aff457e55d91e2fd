/**
 * bench:vec — aggregate env steps/s of vector envs (random masked actions, whole episodes with
 * same-step autoreset): SyncVectorEnv vs WorkerVectorEnv with 1, 2 and (cores permitting) 4 workers,
 * 8–64 envs, for Gov Workflow mixed_urgency_medium and HelixDesk medium; then the per-step cost of
 * the worker barrier, measured on a no-op env (the test fixture `faulty/ok`) so that it is nothing
 * but the command/answer round trip. Median of several runs; run compiled (`npm run bench:vec`).
 *
 * Last, the machine's own ceiling for this workload: two separate processes, each stepping half the
 * envs in-process with no communication at all, against one process stepping all of them. Workers
 * cannot beat that ratio; it shows how much of the gap is the machine rather than the protocol.
 */
import { spawn } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import '../../envs/registry.js';
import '../../envs/vector/faulty-env.fixture.js';
import { SyncVectorEnv } from '../../envs/vector/sync.js';
import type { VectorEnv } from '../../envs/vector/vector-env.js';
import { WorkerVectorEnv } from '../../envs/vector/workers.js';
import { vecThroughput } from './vec-throughput.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/**
 * Env-steps per timed run, and for the warm-up: V8 compiles each worker's code separately, and short runs measure the
 * JIT, not the envs.
 */
const ENV_STEPS = Number(process.env.BENCH_ENV_STEPS ?? 60_000);
const ENVS = [8, 16, 32, 64];
const FIXTURE = fileURLToPath(new URL('../../envs/vector/faulty-env.fixture.js', import.meta.url));

function throughput(vec: VectorEnv, envSteps: number): Promise<number> {
  return vecThroughput(vec, { envSteps, runs: RUNS, minSteps: 50, label: 'bench-vec' });
}

async function make(id: string, n: number, workers: number): Promise<VectorEnv> {
  return workers === 0 ? new SyncVectorEnv(id, n) : WorkerVectorEnv.create(id, n, { workers, setupModules: [FIXTURE] });
}

/** Child mode: step `n` envs in-process and print env-steps/s. */
async function child(id: string, n: number): Promise<void> {
  const vec = new SyncVectorEnv(id, n);
  console.log(String(await throughput(vec, ENV_STEPS)));
}

function spawnChild(id: string, n: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', id, String(n)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) =>
      code === 0 ? resolve(Number(out.trim())) : reject(new Error(`bench child exited with ${code}`)),
    );
  });
}

async function main(): Promise<void> {
  const cores = availableParallelism();
  const workerCounts = [1, 2, ...(cores >= 4 ? [4] : [])];
  console.log(
    `bench:vec — Node ${process.version}, ${cores} × ${cpus()[0]?.model ?? 'CPU'}; ` +
      `after a warm-up, ${RUNS} runs × ~${ENV_STEPS} env-steps, median env-steps/s\n`,
  );
  const header = [
    'env',
    'envs',
    'sync',
    ...workerCounts.map((w) => `${w} worker${w > 1 ? 's' : ''}`),
    ...workerCounts.map((w) => `×${w}w`),
  ];
  console.log(header.join('\t'));
  for (const id of ['gov-workflow/mixed_urgency_medium', 'helixdesk/medium']) {
    for (const n of ENVS) {
      const rates: number[] = [];
      for (const w of [0, ...workerCounts]) {
        const vec = await make(id, n, w);
        try {
          rates.push(await throughput(vec, ENV_STEPS));
        } finally {
          await vec.close();
        }
      }
      const sync = rates[0] as number;
      console.log(
        [id, n, ...rates.map((x) => Math.round(x)), ...rates.slice(1).map((x) => `${(x / sync).toFixed(2)}×`)].join(
          '\t',
        ),
      );
    }
  }

  // The barrier alone: a no-op env, one env per worker; per vector step = command + answer round trip.
  console.log('\nworker barrier (no-op env faulty/ok, 1 env per worker): µs per vector step');
  for (const w of workerCounts) {
    const vec = await make('faulty/ok', w, w);
    try {
      const rate = await throughput(vec, 4000 * w);
      console.log(`  ${w} worker${w > 1 ? 's' : ''}: ${((w / rate) * 1e6).toFixed(1)} µs`);
    } finally {
      await vec.close();
    }
  }
  const syncNoop = new SyncVectorEnv('faulty/ok', 1);
  console.log(`  in-process (no barrier): ${((1 / (await throughput(syncNoop, 4000))) * 1e6).toFixed(1)} µs`);
  await syncNoop.close();

  console.log('\nmachine ceiling: two independent processes (no IPC) vs one, 64 envs in all, env-steps/s');
  for (const id of ['gov-workflow/mixed_urgency_medium', 'helixdesk/medium']) {
    const one = await spawnChild(id, 64);
    const two = await Promise.all([spawnChild(id, 32), spawnChild(id, 32)]);
    const total = two[0] + two[1];
    console.log(
      `  ${id}: one process ${Math.round(one)}, two processes ${Math.round(total)} (${(total / one).toFixed(2)}×)`,
    );
  }
}

if (process.argv[2] === '--child') await child(process.argv[3] as string, Number(process.argv[4]));
else await main();
