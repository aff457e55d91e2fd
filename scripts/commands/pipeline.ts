/**
 * `pipeline` (what `npm start` runs): a short Phase 1 and Phase 2 on Gov Workflow (corrected
 * variant) with the built-in smoke configs, evaluation of the final and best checkpoints against
 * every baseline agent, and results/<run-id>/summary.md with the table and the plots.
 */
import { familyTasks } from '../../envs/registry.js';
import { runPipeline } from '../../training/pipeline.js';
import { loadPpoConfig } from '../../training/ppo/config.js';
import { runId as makeRunId } from '../../training/run-io.js';
import { parseList, parseOptions, parseSeeds, UsageError } from '../args.js';
import { installSigint, PPO_OVERRIDES } from './train.js';

export const PIPELINE_HELP = `usage: npm start [-- options]   (= npm run cli -- pipeline [options])

  --phase1 <c>        Phase 1 config (default gov-smoke-phase1: the reference Phase 1 settings, 61,440 steps)
  --phase2 <c>        Phase 2 config (default gov-smoke-phase2: the reference curriculum, 102,400 steps)
  --full              use the reference budgets instead (gov-phase1 200k + gov-phase2 500k)
  --seeds <list>      evaluation seeds (default 100-119)
  --task <list>       evaluation tasks (default district_backlog_easy,mixed_urgency_medium,cross_department_hard)
  --run-id <id>       default pipeline-gov-workflow-<UTC time>
  --out <dir>         results root (default results); --checkpoints <dir> (default checkpoints)
  --<field> <value>   override a field in both phases, e.g. --backend tensorflow --workers 2

Writes results/<run-id>/summary.md (+ per-phase curves and the evaluation table) and
checkpoints/<run-id>/phase1|phase2/.`;

export async function pipelineCommand(argv: string[]): Promise<number> {
  const { values: flags, overrides } = parseOptions(
    argv,
    {
      phase1: 'string',
      phase2: 'string',
      full: 'boolean',
      seeds: 'string',
      task: 'string',
      'run-id': 'string',
      out: 'string',
      checkpoints: 'string',
      help: 'boolean',
    },
    PPO_OVERRIDES,
  );
  if (flags.help) {
    console.log(PIPELINE_HELP);
    return 0;
  }
  const full = flags.full === true;
  if (full && (flags.phase1 !== undefined || flags.phase2 !== undefined))
    throw new UsageError('--full picks the configs; drop --phase1/--phase2');
  const phase1 = loadPpoConfig(flags.phase1 ?? (full ? 'gov-phase1' : 'gov-smoke-phase1'), overrides);
  const phase2 = loadPpoConfig(flags.phase2 ?? (full ? 'gov-phase2' : 'gov-smoke-phase2'), overrides);
  const evalTasks = parseList(
    flags.task ?? 'district_backlog_easy,mixed_urgency_medium,cross_department_hard',
    familyTasks('gov-workflow'),
    '--task',
  );
  const runId = flags['run-id'] ?? makeRunId('pipeline-gov-workflow');
  const sigint = installSigint();
  try {
    const result = await runPipeline({
      phase1,
      phase2,
      runId,
      resultsRoot: flags.out ?? 'results',
      checkpointsRoot: flags.checkpoints ?? 'checkpoints',
      evalSeeds: parseSeeds(flags.seeds ?? '100-119'),
      evalTasks,
      signal: sigint.signal,
    });
    if (result.interrupted) {
      console.log(
        `interrupted; checkpoints are under ${flags.checkpoints ?? 'checkpoints'}/${runId}/ (resume a phase with npm ` +
          `run train -- --resume <dir>)`,
      );
      return 130;
    }
    if (result.evaluation) console.log(result.evaluation.text);
    console.log(`\nsummary: ${result.summaryPath}`);
    return 0;
  } finally {
    sigint.dispose();
  }
}
