/**
 * bench:remote — env steps/s through `/ws` over loopback against one `serve-env` process (a child of
 * this one: client and server share the machine), for 1, 8 and 64 members (and 256), with queue-rl's
 * batch messages and with plain OpenEnv sessions (one connection per member); next to it, the same
 * envs in-process in this run, and the per-step overhead of the wire. Random masked actions, whole
 * episodes with autoreset, median of several runs. Run compiled (`npm run bench:remote`).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import '../../envs/registry.js';
import { RemoteVectorEnv } from '../../envs/vector/remote.js';
import { SyncVectorEnv } from '../../envs/vector/sync.js';
import type { VectorEnv } from '../../envs/vector/vector-env.js';
import { vecThroughput } from './vec-throughput.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ENV_STEPS = Number(process.env.BENCH_ENV_STEPS ?? 40_000);
const MEMBERS = [1, 8, 64, 256];
const ENVS = [
  ['gov-workflow', 'mixed_urgency_medium'],
  ['helixdesk', 'medium'],
] as const;
const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));

function throughput(vec: VectorEnv): Promise<number> {
  return vecThroughput(vec, { envSteps: ENV_STEPS, runs: RUNS, minSteps: 30, warmupSteps: 200, label: 'bench-remote' });
}

/** CPU seconds (user + system) a process has used, from /proc (Linux); NaN elsewhere. */
function cpuSecondsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return Number.NaN;
  }
}

/** Steps/s, and the CPU µs per member step spent by this process (client) and by the server. */
async function measured(
  vec: VectorEnv,
  serverPid: number,
): Promise<{ rate: number; clientUs: number; serverUs: number }> {
  const c0 = process.cpuUsage();
  const s0 = cpuSecondsOf(serverPid);
  const t0 = performance.now();
  const rate = await throughput(vec);
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const envSteps = rate * wall; // steps of the timed runs and the warm-up, at the median rate (an estimate)
  return {
    rate,
    clientUs: (c.user + c.system) / envSteps,
    serverUs: ((cpuSecondsOf(serverPid) - s0) * 1e6) / envSteps,
  };
}

/** Starts `serve-env` as a child process on a free port; resolves with its ws URL and a stop function. */
function startServer(family: string, task: string): Promise<{ url: string; pid: number; stop: () => void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [CLI, 'serve-env', '--env', family, '--task', task, '--port', '0', '--max-sessions', '1024'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /\((ws:\/\/[^)]+)\)/.exec(out);
      if (m) resolve({ url: m[1] as string, pid: child.pid ?? -1, stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', (code) => reject(new Error(`serve-env exited (${code}) before listening: ${out}`)));
  });
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

async function main(): Promise<void> {
  console.log(
    `bench:remote — ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}, median of ${RUNS}, ` +
      `~${ENV_STEPS} env steps per run; one serve-env child process on 127.0.0.1`,
  );
  console.log(
    '| env | members | in-process steps/s | remote, batch | remote, one session per connection | wire overhead ' +
      'per step (batch) | CPU per step, client / server (batch) |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const [family, task] of ENVS) {
    const id = `${family}/${task}`;
    const server = await startServer(family, task);
    try {
      for (const n of MEMBERS) {
        const local = await throughput(new SyncVectorEnv(id, n));
        const batch = await RemoteVectorEnv.create(n, { urls: [server.url], batch: true });
        const b = await measured(batch, server.pid);
        const viaBatch = b.rate;
        await batch.close();
        const plain = await RemoteVectorEnv.create(n, { urls: [server.url], batch: false });
        const viaPlain = await throughput(plain);
        await plain.close();
        const overheadUs = 1e6 / viaBatch - 1e6 / local;
        console.log(
          `| ${id} | ${n} | ${fmt(local)} | ${fmt(viaBatch)} (${(viaBatch / local).toFixed(2)}×) | ${fmt(viaPlain)} ` +
            `(${(viaPlain / local).toFixed(2)}×) | ${overheadUs.toFixed(1)} µs | ${b.clientUs.toFixed(1)} / ` +
            `${b.serverUs.toFixed(1)} µs |`,
        );
      }
    } finally {
      server.stop();
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
