/**
 * bench:llm — the LLM policy path against the local policy server: the Gov Workflow heuristic
 * served by `serve-policy` in its own process on 127.0.0.1, and this process playing episodes
 * through the real `openai` client with 1, 8 and 32 requests in flight. Prints requests/s and the
 * client's CPU time per step (process.cpuUsage of this process: building the prompt — features,
 * allowed actions, observation block —, the openai client's request and response handling,
 * extracting and validating the answer, stepping the env). The server's work is in the other
 * process, so it is not counted. Goal: client overhead < 1 ms per step; throughput that grows with
 * concurrency until the server saturates.
 *
 *   npm run bench:llm [-- --episodes-per-slot 2 --task mixed_urgency_medium]
 */
import { spawn } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LlmClient } from '../../agents/llm/client.js';
import { runGovLlmEpisode } from '../../agents/llm/llm-episodes.js';

async function startServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const cli = fileURLToPath(new URL('../cli.js', import.meta.url));
  const child = spawn(
    process.execPath,
    [cli, 'serve-policy', '--agent', 'heuristic', '--env', 'gov-workflow', '--port', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/\S+\/v1)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve-policy exited with ${code}`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGINT');
      }),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'episodes-per-slot': { type: 'string', default: '2' },
      task: { type: 'string', default: 'mixed_urgency_medium' },
    },
  });
  const perSlot = Number(values['episodes-per-slot']);
  const task = values.task as string;
  const server = await startServer();
  console.log(
    `bench:llm — Gov Workflow ${task}; the heuristic served by serve-policy in another process (${server.url})`,
  );
  console.log(`machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}\n`);
  const rows: string[][] = [];
  try {
    const warm = new LlmClient({
      baseURL: server.url,
      apiKey: 'x',
      model: 'heuristic',
      maxRetries: 0,
      log: () => undefined,
    });
    for (let i = 0; i < 2; i++)
      await runGovLlmEpisode({ client: warm, fallback: 'none' }, { taskId: task, seed: 1 + i });
    for (const concurrency of [1, 8, 32]) {
      const client = new LlmClient({
        baseURL: server.url,
        apiKey: 'x',
        model: 'heuristic',
        maxRetries: 0,
        concurrency,
        log: () => undefined,
      });
      const episodes = concurrency * perSlot;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const results = await Promise.all(
        Array.from({ length: episodes }, (_, i) =>
          runGovLlmEpisode({ client, fallback: 'none' }, { taskId: task, seed: 100 + i }),
        ),
      );
      const wall = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const steps = results.reduce((a, r) => a + r.steps.length, 0);
      const invalid = results.reduce((a, r) => a + (r.record.metrics.invalid_outputs ?? 0), 0);
      rows.push([
        String(concurrency),
        String(episodes),
        String(steps),
        (steps / wall).toFixed(0),
        ((cpu.user + cpu.system) / steps / 1000).toFixed(3),
        String(invalid),
      ]);
    }
  } finally {
    await server.stop();
  }
  const head = ['concurrency', 'episodes', 'requests', 'requests/s', 'client ms/step (CPU)', 'invalid answers'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] as string).length)));
  const line = (r: string[]): string => r.map((t, c) => t.padStart(widths[c] as number)).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log(
    "\nclient ms/step: this process's CPU time per request (prompt, openai client, parsing, env step); goal < 1 ms.",
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
