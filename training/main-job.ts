/**
 * The main job (`npm start`): Gov Workflow Phase 1 → Phase 2 and one HelixDesk policy per graded
 * task, each warm-started by imitation and fine-tuned by PPO on the grader reward; then every final
 * policy and every rule agent on held-out seeds (and the search agent, the upper reference, on a
 * subset), and results/<run-id>/summary.md with the verdict: mean ± std per agent, and the paired
 * difference ± its standard error between the final policy and the best rule agent (docs/ppo.md).
 */
import { join, relative } from 'node:path';
import { describeBackend } from '../agents/policy/backend.js';
import { GOV_AGENT_NAMES, HELIX_AGENT_NAMES } from '../agents/registry.js';
import type { EpisodeRecord } from '../agents/types.js';
import { formatEpisodesCsv, formatMarkdown, GOV_QUANTITIES, HELIX_QUANTITIES, summarise } from './baseline-table.js';
import { baselineRunOptions, runBaselines } from './baselines.js';
import { bestAgent, formatDifference, pairedDifference, scoreStats } from './comparison.js';
import type { CheckpointEvaluation, RunTrainingResult } from './pipeline.js';
import { describeSeeds, evaluateCheckpoints, INVALID_RATE, runTraining } from './pipeline.js';
import type { PpoConfig } from './ppo/config.js';
import { trainingTasks } from './ppo/config.js';
import { writeFileAtomic } from './run-io.js';

export interface MainJobOptions {
  /**
   * `phase2PerTask`: Phase 2 fine-tunes one specialist per task from Phase 1's final policy (its curriculum
   * narrowed to that task), and each task's verdict plays its specialist; otherwise one Phase 2 for all tasks.
   * `phase2ByTask`: a task's own Phase 2 config instead of `phase2` (per task only); one that names a warm
   * start (`init_from_agent`) starts from its own clone on that task instead of Phase 1's final policy.
   */
  gov: {
    phase1: PpoConfig;
    phase2: PpoConfig;
    tasks: readonly string[];
    phase2PerTask?: boolean;
    phase2ByTask?: Readonly<Record<string, PpoConfig>>;
  } | null;
  helixdesk: { config: PpoConfig; tasks: readonly string[] } | null;
  runId: string;
  resultsRoot: string;
  checkpointsRoot: string;
  /** Held-out seeds of the verdict (never used for training or selection). */
  evalSeeds: readonly number[];
  /** The search agent's seeds (a subset: it plans by simulation and is slow). */
  searchSeeds: readonly number[];
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface MainJobResult {
  summaryPath: string;
  interrupted: boolean;
  /** The verdict table as text. */
  verdict: string;
}

interface Trained {
  family: 'gov-workflow' | 'helixdesk';
  task: string;
  label: string;
  result: RunTrainingResult;
  config: PpoConfig;
}

/** Trains everything, evaluates on the held-out seeds and writes summary.md. */
export async function runMainJob(opts: MainJobOptions): Promise<MainJobResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = performance.now();
  const runDir = join(opts.resultsRoot, opts.runId);
  const train = (config: PpoConfig) =>
    runTraining({
      config,
      runId: opts.runId,
      resultsRoot: opts.resultsRoot,
      checkpointsRoot: opts.checkpointsRoot,
      ...(opts.signal ? { signal: opts.signal } : {}),
      log,
    });
  const trained: Trained[] = [];
  const interrupted = (): MainJobResult => ({ summaryPath: '', interrupted: true, verdict: '' });
  if (opts.gov) {
    const p1 = await train(opts.gov.phase1);
    if (p1.interrupted) return interrupted();
    trained.push({ family: 'gov-workflow', task: '*', label: 'phase1', result: p1, config: opts.gov.phase1 });
    for (const run of phase2Runs(opts.gov)) {
      const config: PpoConfig = run.config.init_from_agent
        ? run.config
        : { ...run.config, init_from: p1.finalCheckpoint };
      const p2 = await train(config);
      if (p2.interrupted) return interrupted();
      trained.push({ family: 'gov-workflow', task: run.task, label: config.phase, result: p2, config });
    }
  }
  for (const task of opts.helixdesk?.tasks ?? []) {
    const base = opts.helixdesk?.config as PpoConfig;
    const config: PpoConfig = {
      ...base,
      env: { ...base.env, id: `helixdesk/${task}` },
      phase: `helixdesk-${task}`,
    };
    const r = await train(config);
    if (r.interrupted) return interrupted();
    trained.push({ family: 'helixdesk', task, label: `helixdesk-${task}`, result: r, config });
  }
  log(`[main] evaluating on seeds ${describeSeeds(opts.evalSeeds)} (search: ${describeSeeds(opts.searchSeeds)})`);
  const gov = opts.gov ? await evaluateGov(opts, trained) : null;
  const helix = opts.helixdesk ? await evaluateHelix(opts, trained) : null;
  const records = [...(gov?.records ?? []), ...(helix?.records ?? [])];
  writeFileAtomic(join(runDir, 'episodes.csv'), formatEpisodesCsv(records));
  const verdict = verdictTable(opts, gov, helix);
  const minutes = (performance.now() - started) / 60000;
  const summaryPath = join(runDir, 'summary.md');
  writeFileAtomic(summaryPath, summary(opts, runDir, trained, gov, helix, verdict, minutes));
  return { summaryPath, interrupted: false, verdict };
}

/** Phase 2's runs: one for every task, or one specialist per task (its curriculum and evaluation narrowed to it). */
function phase2Runs(gov: NonNullable<MainJobOptions['gov']>): { task: string; config: PpoConfig }[] {
  if (!gov.phase2PerTask) return [{ task: '*', config: gov.phase2 }];
  return gov.tasks.map((task) => {
    const base = gov.phase2ByTask?.[task] ?? gov.phase2;
    return {
      task,
      config: {
        ...base,
        phase: `${gov.phase2.phase}-${task}`,
        curriculum: [{ until: 1, weights: { [task]: 1 } }],
        eval: { ...base.eval, tasks: [task] },
      },
    };
  });
}

/** The Gov policies (final of both phases, Phase 2's best, the warm start) and every Gov agent, task by task. */
async function evaluateGov(opts: MainJobOptions, trained: readonly Trained[]): Promise<CheckpointEvaluation> {
  const [phase1, ...phase2] = trained.filter((t) => t.family === 'gov-workflow');
  const p1 = (phase1 as Trained).result;
  const tasks = opts.gov?.tasks ?? [];
  const evaluated: EpisodeRecord[] = [];
  for (const task of tasks) {
    const specialist = phase2.find((t) => t.task === task || t.task === '*') as Trained;
    const p2 = specialist.result;
    // The warm start the final policy descends from: its own clone, or Phase 1's.
    const warm = specialist.config.init_from_agent ? p2 : opts.gov?.phase1.init_from_agent ? p1 : null;
    const checkpoints = [
      { label: 'ppo-final', dir: p2.finalCheckpoint },
      ...(p2.bestCheckpoint ? [{ label: 'ppo-best', dir: p2.bestCheckpoint }] : []),
      { label: 'ppo-phase1-final', dir: p1.finalCheckpoint },
      ...(warm ? [{ label: 'warm-start', dir: join(warm.checkpointDir, 'warm-start') }] : []),
    ];
    const evaluation = await evaluateCheckpoints({
      checkpoints,
      family: 'gov-workflow',
      tasks: [task],
      seeds: opts.evalSeeds,
      agents: GOV_AGENT_NAMES,
    });
    evaluated.push(...evaluation.records);
  }
  const search = await runBaselines(
    'gov-workflow',
    tasks,
    ['search'],
    opts.searchSeeds,
    baselineRunOptions('gov-workflow', opts.gov?.phase1.env.options ?? {}),
  );
  const records = [...evaluated, ...search];
  const quantities = [...GOV_QUANTITIES.slice(0, 3), INVALID_RATE, ...GOV_QUANTITIES.slice(3)];
  const markdown = formatMarkdown(summarise(records, quantities), quantities);
  return { records, quantities, text: '', markdown, csv: '' };
}

/** Each HelixDesk task's own policy (final and best) and every HelixDesk agent, task by task. */
async function evaluateHelix(opts: MainJobOptions, trained: readonly Trained[]): Promise<CheckpointEvaluation> {
  const records: EpisodeRecord[] = [];
  for (const t of trained.filter((x) => x.family === 'helixdesk')) {
    const evaluation = await evaluateCheckpoints({
      checkpoints: [
        { label: 'ppo-final', dir: t.result.finalCheckpoint },
        ...(t.result.bestCheckpoint ? [{ label: 'ppo-best', dir: t.result.bestCheckpoint }] : []),
      ],
      family: 'helixdesk',
      tasks: [t.task],
      seeds: opts.evalSeeds,
      agents: HELIX_AGENT_NAMES,
    });
    records.push(...evaluation.records);
  }
  const markdown = formatMarkdown(summarise(records, HELIX_QUANTITIES), HELIX_QUANTITIES);
  return { records, quantities: HELIX_QUANTITIES, text: '', markdown, csv: '' };
}

/** One row per (env, task): the final policy, the best rule agent, their paired difference, the verdict. */
function verdictTable(
  opts: MainJobOptions,
  gov: CheckpointEvaluation | null,
  helix: CheckpointEvaluation | null,
): string {
  const rows: string[] = [];
  const fmt = (s: { mean: number; sd: number }): string => `${s.mean.toFixed(4)} ± ${s.sd.toFixed(4)}`;
  const add = (env: string, records: readonly EpisodeRecord[], task: string, rules: readonly string[]): void => {
    const rule = bestAgent(records, task, rules);
    const d = pairedDifference(records, task, 'ppo-final', rule);
    const search = scoreStats(records, task, 'search');
    rows.push(
      `| ${env} | ${task} | ${fmt(scoreStats(records, task, 'ppo-final'))} | ${rule} ` +
        `${fmt(scoreStats(records, task, rule))} | ${formatDifference(d)} | ` +
        `${d.mean >= 0 ? (d.mean > 2 * d.se ? 'yes (> 2 SE)' : 'yes') : 'no'} | ` +
        `${search.n > 0 ? `${search.mean.toFixed(4)} (${search.n} seeds)` : '—'} |`,
    );
  };
  const ruleNames = (names: readonly string[]) => names.filter((a) => a !== 'random');
  for (const task of opts.gov?.tasks ?? []) add('gov-workflow', gov?.records ?? [], task, ruleNames(GOV_AGENT_NAMES));
  for (const task of opts.helixdesk?.tasks ?? [])
    add('helixdesk', helix?.records ?? [], task, ruleNames(HELIX_AGENT_NAMES));
  return [
    '| env | task | final policy | best rule agent | final − best rule (paired, ± SE) | final ≥ best rule | ' +
      'search agent |',
    '|---|---|---:|---|---:|---|---:|',
    ...rows,
  ].join('\n');
}

function summary(
  opts: MainJobOptions,
  runDir: string,
  trained: readonly Trained[],
  gov: CheckpointEvaluation | null,
  helix: CheckpointEvaluation | null,
  verdict: string,
  minutes: number,
): string {
  const rel = (p: string): string => relative(runDir, p);
  const first = trained[0];
  const lines = [
    `# queue-rl run ${opts.runId}`,
    '',
    ...trained.map(
      (t) =>
        `- ${t.label}: \`${t.config.name}\`, ${t.result.numTimesteps} steps on ${trainingTasks(t.config).join(', ')}` +
        `${t.config.init_from_agent ? `, warm start: imitation of ${t.config.init_from_agent}` : ''}` +
        `${t.config.init_from ? ', from Phase 1' : ''} (${t.result.timing.wallSeconds.toFixed(0)} s)`,
    ),
    '',
    `Backend: ${first ? describeBackend(first.result.backend) : 'n/a'}. Wall time ${minutes.toFixed(1)} min; peak ` +
      `memory ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (max resident set of the process, worker ` +
      'threads included).',
    '',
    `## Verdict (seeds ${describeSeeds(opts.evalSeeds)}, never used for training or selection; deterministic policies)`,
    '',
    verdict,
    '',
    'Mean ± standard deviation over the seeds; the difference is per seed (both play the same episodes), its ' +
      'standard error sd/√n. "> 2 SE": the gap is more than twice its standard error. The search agent\'s rollouts ' +
      "continue the env's own random stream, so it knows the arrivals to come: a clairvoyant bound, not room a " +
      'policy can reach (`search-sampled` plans without that knowledge; docs/baselines.md#the-search-agent).',
    '',
  ];
  if (gov) lines.push('## Gov Workflow, every agent', '', gov.markdown, '');
  if (helix) lines.push('## HelixDesk, every agent', '', helix.markdown, '');
  lines.push('## Curves', '');
  for (const t of trained)
    lines.push(
      `${t.label}: ![reward](${rel(join(t.result.resultsDir, 'reward.png'))}) ` +
        `![score](${rel(join(t.result.resultsDir, 'score.png'))})`,
      '',
    );
  lines.push(
    '## Files',
    '',
    ...trained.map((t) => `- ${t.label}: \`${rel(t.result.resultsDir)}\`, checkpoints \`${t.result.checkpointDir}\``),
    '- every episode of the evaluation: `episodes.csv`',
    '',
  );
  return lines.join('\n');
}
