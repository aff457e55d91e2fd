/**
 * bench:env — single-thread Gov Workflow env throughput, whole episodes, median of several runs.
 *
 *   advance-only, JSON API     env.step({action_type: 'advance_time'}) → JSON observation (as the reference)
 *   advance-only, RL adapter   rlEnv.step(20) → 163 features + 31-action mask (what PPO sees)
 *   masked random, RL adapter  uniform among allowed actions → features + mask
 *   masked random, JSON API    the baseline agent: masks, decode to JSON, env.step(json)
 *
 * Run compiled (npm run bench:env builds first): tsx's on-the-fly transform costs about 2×.
 * The reference figures (474 and 225 advance-only steps/s) were measured on the Python reference on
 * the project's 2-core development machine (issue 2); they are quoted, not re-measured here — the
 * Python reference cannot be installed on this machine (no PyPI).
 *
 * HelixDesk: steps/s of the rule agent acting on the env (agent + step), whole 100-email episodes,
 * default config; the reference does about 7,400 on the development machine (issue 3).
 */
import { cpus } from 'node:os';
import { HelixRuleAgent } from '../../agents/helixdesk-rule.js';
import { MaskedRandomAgent } from '../../agents/random.js';
import { createStream } from '../../envs/core/random/streams.js';
import type { GovAction } from '../../envs/gov-workflow/actions.js';
import { ADVANCE_INDEX, N_ACTIONS } from '../../envs/gov-workflow/adapter/action-table.js';
import { GovAgentView } from '../../envs/gov-workflow/adapter/agent-view.js';
import { GovWorkflowRlEnv } from '../../envs/gov-workflow/adapter/rl-env.js';
import { GovWorkflowEnv } from '../../envs/gov-workflow/env.js';
import type { Variant } from '../../envs/gov-workflow/types.js';
import { HelixDeskEnv } from '../../envs/helixdesk/env.js';

const REFERENCE_STEPS_PER_SEC: Readonly<Record<string, number>> = {
  mixed_urgency_medium: 474,
  cross_department_hard: 225,
};
const HELIX_REFERENCE_STEPS_PER_SEC = 7400;
const TASKS = ['mixed_urgency_medium', 'cross_department_hard'];
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const EPISODES = Number(process.env.BENCH_EPISODES ?? 40);

type Mode = 'advance/json' | 'advance/rl' | 'random/rl' | 'random/json';

function runEpisodes(taskId: string, variant: Variant, mode: Mode, firstSeed: number): number {
  let steps = 0;
  if (mode === 'advance/json' || mode === 'random/json') {
    const env = new GovWorkflowEnv({ taskId, variant });
    const view = new GovAgentView(env);
    const agent = new MaskedRandomAgent();
    const advance: GovAction = { action_type: 'advance_time' };
    for (let e = 0; e < EPISODES; e++) {
      env.reset({ seed: firstSeed + e });
      view.begin(firstSeed + e);
      agent.reset(firstSeed + e);
      for (;;) {
        const action = mode === 'advance/json' ? advance : agent.act(view);
        const r = env.step(action);
        view.record(action, r.info.invalid_action);
        steps++;
        if (r.terminated || r.truncated) break;
      }
    }
    return steps;
  }
  const env = new GovWorkflowRlEnv({ taskId, variant });
  const mask = new Uint8Array(N_ACTIONS);
  const allowed = new Int32Array(N_ACTIONS);
  const rng = createStream(firstSeed, 'bench', 'actions');
  for (let e = 0; e < EPISODES; e++) {
    env.reset({ seed: firstSeed + e });
    for (;;) {
      env.actionMasksInto(mask);
      let action = ADVANCE_INDEX;
      if (mode === 'random/rl') {
        let n = 0;
        for (let i = 0; i < N_ACTIONS; i++) if (mask[i] === 1) allowed[n++] = i;
        action = allowed[rng.int(n)] as number;
      }
      const r = env.step(action);
      steps++;
      if (r.terminated || r.truncated) break;
    }
  }
  return steps;
}

function runHelixEpisodes(agentic: boolean, firstSeed: number): number {
  const env = new HelixDeskEnv({ rewards: { agentic: { enabled: agentic } } });
  const agent = new HelixRuleAgent();
  const nvec = [...env.actionSpace.nvec];
  const mask = new Uint8Array(nvec.reduce((a, b) => a + b, 0)).fill(1);
  let steps = 0;
  for (let e = 0; e < EPISODES * 5; e++) {
    let { observation } = env.reset({ seed: firstSeed + e });
    for (;;) {
      const r = env.step(agent.act({ observation, mask, nvec }));
      observation = r.observation;
      steps++;
      if (r.terminated || r.truncated) break;
    }
  }
  return steps;
}

function measureRate(
  run: (firstSeed: number) => number,
  episodesPerRun: number,
): { median: number; min: number; max: number } {
  run(10_000); // warm-up (JIT)
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    const steps = run(r * episodesPerRun);
    rates.push(steps / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  return { median: median(rates), min: Math.min(...rates), max: Math.max(...rates) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

interface Row {
  task: string;
  variant: Variant;
  mode: Mode;
  median: number;
  min: number;
  max: number;
}

function measure(task: string, variant: Variant, mode: Mode): Row {
  return { task, variant, mode, ...measureRate((first) => runEpisodes(task, variant, mode, first), EPISODES) };
}

function main(): void {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `bench:env — Node ${process.version}, ${cpus().length} × ${cpu}; ` +
      `${RUNS} runs × ${EPISODES} whole episodes each, median steps/s\n`,
  );
  const rows: Row[] = [];
  const modes: Mode[] = ['advance/json', 'advance/rl', 'random/rl', 'random/json'];
  for (const task of TASKS) {
    for (const variant of ['reference', 'corrected'] as const) {
      for (const mode of modes) {
        const row = measure(task, variant, mode);
        rows.push(row);
        const ref = REFERENCE_STEPS_PER_SEC[task] as number;
        const ratio = mode.startsWith('advance') ? `${(row.median / ref).toFixed(0)}× the reference's ${ref}` : '';
        console.log(
          `${task.padEnd(22)} ${variant.padEnd(9)} ${mode.padEnd(13)} ` +
            `${Math.round(row.median).toString().padStart(7)} steps/s  ` +
            `(${Math.round(row.min)}–${Math.round(row.max)})  ${ratio}`,
        );
      }
    }
  }
  console.log('');
  const helix: { agentic: boolean; median: number; min: number; max: number }[] = [];
  for (const agentic of [false, true]) {
    const rate = measureRate((first) => runHelixEpisodes(agentic, first), EPISODES * 5);
    helix.push({ agentic, ...rate });
    console.log(
      `${'helixdesk'.padEnd(22)} ${(agentic ? 'agentic' : 'default').padEnd(9)} ${'rule agent'.padEnd(13)} ` +
        `${Math.round(rate.median).toString().padStart(7)} steps/s  ` +
        `(${Math.round(rate.min)}–${Math.round(rate.max)})  ` +
        `${(rate.median / HELIX_REFERENCE_STEPS_PER_SEC).toFixed(0)}× the reference's ` +
        `${HELIX_REFERENCE_STEPS_PER_SEC}`,
    );
  }
  const goal = rows.filter((r) => r.variant === 'reference' && r.mode === 'advance/json');
  console.log('\ngoal: advance-only (reference variant, JSON API) ≥ 100× the Python reference');
  for (const r of goal) {
    const ratio = r.median / (REFERENCE_STEPS_PER_SEC[r.task] as number);
    console.log(`  ${r.task}: ${ratio.toFixed(0)}× — ${ratio >= 100 ? 'met' : 'NOT met'}`);
  }
  console.log('goal: helixdesk rule agent + step ≥ 30× the reference');
  for (const h of helix) {
    const ratio = h.median / HELIX_REFERENCE_STEPS_PER_SEC;
    console.log(
      `  ${h.agentic ? 'agentic terms on' : 'default config'}: ${ratio.toFixed(0)}× — ` +
        `${ratio >= 30 ? 'met' : 'NOT met'}`,
    );
  }
}

main();
