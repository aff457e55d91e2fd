/**
 * bench:grpo — GRPO with G = 8 against the local policy server (in-process on 127.0.0.1, a [64, 64]
 * policy), tfjs learner: completions/s and where an iteration's time goes — sampling (the HTTP
 * requests, n = 8 each, including the server's forward passes), env scoring (restore the snapshot,
 * apply the completion, H continuation steps, for every completion), learning (the update and
 * pushing the weights to the server), and bookkeeping (prompts, advantages, walkers, metrics).
 * Then the endpoint alone: the same number of n = 8 requests with the same prompts, no scoring and no
 * learning, to show what limits sampling. Goal: scoring + bookkeeping < 5 % of an iteration.
 *
 *   npm run bench:grpo [-- --iterations 10 --states 16 --horizon 3 --backend wasm]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LlmClient } from '../../agents/llm/client.js';
import { startPolicyServer } from '../../agents/llm/policy-server.js';
import { buildGovPrompt } from '../../agents/llm/prompts.js';
import { ppoServedPolicy } from '../../agents/llm/served-policies.js';
import { govAgentInputAt } from '../../envs/gov-workflow/adapter/agent-view.js';
import { freshTrace } from '../../envs/gov-workflow/adapter/trace.js';
import { GovWorkflowEnv } from '../../envs/gov-workflow/env.js';
import { parseGrpoConfig } from '../../training/grpo/config.js';
import { trainGrpo } from '../../training/grpo/grpo.js';
import { parsePpoConfig } from '../../training/ppo/config.js';
import { trainPpo } from '../../training/ppo/ppo.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      iterations: { type: 'string', default: '10' },
      states: { type: 'string', default: '16' },
      horizon: { type: 'string', default: '3' },
      backend: { type: 'string', default: 'wasm' },
    },
  });
  const iterations = Number(values.iterations);
  const states = Number(values.states);
  const dir = mkdtempSync(join(tmpdir(), 'bench-grpo-'));
  try {
    const backend = values.backend as 'wasm';
    const ppo = await trainPpo({
      config: parsePpoConfig({
        env: { id: 'gov-workflow/mixed_urgency_medium', options: {} },
        net_arch: { pi: [64, 64], vf: [64, 64] },
        n_steps: 8,
        n_envs: 1,
        batch_size: 8,
        n_epochs: 1,
        total_timesteps: 8,
        eval: { freq: 0, seeds: [1] },
        update_threads: 1,
        backend,
      }),
      resultsDir: join(dir, 'ppo-r'),
      checkpointDir: join(dir, 'ppo-c'),
      log: () => undefined,
    });
    console.log(
      `bench:grpo — Gov Workflow mixed_urgency_medium, G = 8, ${states} states per iteration, ` +
        `H = ${values.horizon}, tfjs learner, ${iterations} iterations after 2 warm-up ones`,
    );
    console.log(
      `machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}; backend ` +
        `${backend}\n`,
    );
    const config = parseGrpoConfig({
      init_from: ppo.finalCheckpoint,
      task_mix: { mixed_urgency_medium: 1 },
      iterations: iterations + 2,
      states_per_iteration: states,
      group_size: 8,
      continuation_horizon: Number(values.horizon),
      checkpoint_every: 1000,
      backend,
    });
    const result = await trainGrpo({
      config,
      resultsDir: join(dir, 'r'),
      checkpointDir: join(dir, 'c'),
      log: () => undefined,
    });
    const timed = result.metrics.slice(2);
    const sum = (k: string): number => timed.reduce((a, r) => a + (r[k] as number), 0);
    const total = sum('time/iteration_s');
    const sampling = sum('time/sampling_s');
    const scoring = sum('time/scoring_s');
    const learning = sum('time/learning_s');
    const other = total - sampling - scoring - learning;
    const completions = timed.length * states * 8;
    const pct = (x: number): string => `${((100 * x) / total).toFixed(1)} %`;
    console.log(`completions/s: ${(completions / total).toFixed(0)} (${completions} in ${total.toFixed(2)} s)`);
    console.log(`per iteration: ${((1000 * total) / timed.length).toFixed(1)} ms`);
    console.log(`  sampling     ${((1000 * sampling) / timed.length).toFixed(1)} ms  ${pct(sampling)}`);
    console.log(`  env scoring  ${((1000 * scoring) / timed.length).toFixed(1)} ms  ${pct(scoring)}`);
    console.log(
      `  learning     ${((1000 * learning) / timed.length).toFixed(1)} ms  ${pct(learning)}  (update + saving the ` +
        `policy + the server loading it)`,
    );
    console.log(`  bookkeeping  ${((1000 * other) / timed.length).toFixed(1)} ms  ${pct(other)}`);
    console.log(`scoring + bookkeeping: ${pct(scoring + other)} of an iteration (goal < 5 %)`);

    await benchEndpoint(ppo.finalCheckpoint, states, timed.length, completions, sampling);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The endpoint alone: the same kind of requests, back to back, nothing else. */
async function benchEndpoint(
  checkpoint: string,
  states: number,
  rounds: number,
  completions: number,
  sampling: number,
): Promise<void> {
  const server = await startPolicyServer({ policy: ppoServedPolicy(checkpoint, 'p'), modelName: 'p' });
  try {
    const client = new LlmClient({
      baseURL: server.url,
      apiKey: 'x',
      model: 'p',
      maxRetries: 0,
      concurrency: 16,
      log: () => undefined,
    });
    const prompts = Array.from({ length: states }, (_, i) => {
      const env = new GovWorkflowEnv({ taskId: 'mixed_urgency_medium' });
      env.reset({ seed: i });
      for (let d = 0; d < 1 + (i % 5); d++) env.step({ action_type: 'advance_time' });
      const trace = freshTrace(3);
      return buildGovPrompt(govAgentInputAt(env, trace, 1, i));
    });
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++)
      await Promise.all(
        prompts.map((p, i) =>
          client.complete({
            messages: p.messages,
            temperature: 1,
            maxTokens: 64,
            n: 8,
            seed: r * 1000 + i,
            logprobs: true,
            jsonSchema: { name: p.schemaName, schema: p.jsonSchema },
          }),
        ),
      );
    const endpoint = (performance.now() - t0) / 1000;
    console.log(
      `\nendpoint alone: ${(completions / endpoint).toFixed(0)} completions/s ` +
        `(${((1000 * endpoint) / rounds).toFixed(1)} ms per ${states} requests of n = 8) — GRPO's sampling phase ` +
        `runs at ${((100 * endpoint) / sampling).toFixed(0)} % of that rate`,
    );
  } finally {
    await server.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
