/**
 * `pipeline` (what `npm start` runs): Gov Workflow Phase 1 → Phase 2 and a HelixDesk policy per
 * graded task, each warm-started by imitation and fine-tuned with PPO on the grader reward; every
 * policy and rule agent on held-out seeds; results/<run-id>/summary.md with the verdict.
 */
import { familyTasks } from '../../envs/registry.js';
import { runMainJob } from '../../training/main-job.js';
import type { PpoConfig } from '../../training/ppo/config.js';
import { loadPpoConfig } from '../../training/ppo/config.js';
import { runId as makeRunId } from '../../training/run-io.js';
import { parseList, parseOptions, parseSeeds, UsageError } from '../args.js';
import { installSigint, PPO_OVERRIDES } from './train.js';

const ENVS = ['gov-workflow', 'helixdesk'] as const;
const GOV_TASKS = 'district_backlog_easy,mixed_urgency_medium,cross_department_hard';
/** --full's own Phase 2 configs (the others use gov-main-phase2-full). */
const FULL_PHASE2_BY_TASK =
  'district_backlog_easy=gov-main-phase2-full-easy,cross_department_hard=gov-main-phase2-full-hard';

export const PIPELINE_HELP = `usage: npm start [-- options]   (= npm run cli -- pipeline [options])

  --full              the longer budgets (gov-main-*-full, helixdesk-main-full; search on every seed)
                      and Gov Phase 2 per task
  --env <list>        ${ENVS.join(', ')} (default both)
  --gov-phase1 <c>    Gov Phase 1 config (default gov-main-phase1: imitation of the heuristic, then PPO)
  --gov-phase2 <c>    Gov Phase 2 config (default gov-main-phase2: the curriculum, from Phase 1)
  --gov-phase2-per-task
                      Phase 2 trains one specialist per Gov task from Phase 1 (each task's verdict
                      plays its own); the default with --full
  --gov-phase2-task <task=c,…>
                      a task's own Phase 2 config (per task only); a config with init_from_agent
                      starts from its own clone instead of Phase 1 (--full: easy and hard have
                      gov-main-phase2-full-easy, gov-main-phase2-full-hard)
  --helixdesk <c>     HelixDesk config, trained once per task (default helixdesk-main)
  --task <list>       Gov tasks to evaluate (default ${GOV_TASKS})
  --helixdesk-task <list>
                      HelixDesk tasks to train and evaluate (default ${familyTasks('helixdesk').join(',')})
  --seeds <list>      held-out evaluation seeds (default 100-199)
  --search-seeds <list>
                      seeds of the search agent, the upper reference (default 100-119; --full: 100-199)
  --run-id <id>       default main-<UTC time>
  --out <dir>         results root (default results); --checkpoints <dir> (default checkpoints)
  --<field> <value>   override a field in every config, e.g. --backend tensorflow --workers 2

Writes results/<run-id>/summary.md (the verdict, every agent, the curves) and checkpoints/<run-id>/.`;

export async function pipelineCommand(argv: string[]): Promise<number> {
  const { values: flags, overrides } = parseOptions(
    argv,
    {
      full: 'boolean',
      env: 'string',
      'gov-phase1': 'string',
      'gov-phase2': 'string',
      'gov-phase2-per-task': 'boolean',
      'gov-phase2-task': 'string',
      helixdesk: 'string',
      task: 'string',
      'helixdesk-task': 'string',
      seeds: 'string',
      'search-seeds': 'string',
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
  const suffix = full ? '-full' : '';
  if (
    full &&
    [flags['gov-phase1'], flags['gov-phase2'], flags['gov-phase2-task'], flags.helixdesk].some((c) => c !== undefined)
  )
    throw new UsageError('--full picks the configs; drop --gov-phase1/--gov-phase2/--gov-phase2-task/--helixdesk');
  const perTask = full || flags['gov-phase2-per-task'] === true;
  if (flags['gov-phase2-task'] !== undefined && !perTask)
    throw new UsageError('--gov-phase2-task needs --gov-phase2-per-task (one Phase 2 for all tasks has one config)');
  const envs = parseList(flags.env ?? ENVS.join(','), ENVS, '--env');
  const govTasks = parseList(flags.task ?? GOV_TASKS, familyTasks('gov-workflow'), '--task');
  const gov = envs.includes('gov-workflow')
    ? {
        phase1: loadPpoConfig(flags['gov-phase1'] ?? `gov-main-phase1${suffix}`, overrides),
        phase2: loadPpoConfig(flags['gov-phase2'] ?? `gov-main-phase2${suffix}`, overrides),
        tasks: govTasks,
        phase2PerTask: perTask,
        phase2ByTask: phase2Configs(
          flags['gov-phase2-task'] ?? (full ? FULL_PHASE2_BY_TASK : ''),
          // A task the user names must be one the job trains; --full's defaults may cover more.
          flags['gov-phase2-task'] !== undefined ? govTasks : familyTasks('gov-workflow'),
          overrides,
        ),
      }
    : null;
  const helixdesk = envs.includes('helixdesk')
    ? {
        config: loadPpoConfig(flags.helixdesk ?? `helixdesk-main${suffix}`, overrides),
        tasks: parseList(flags['helixdesk-task'] ?? 'all', familyTasks('helixdesk'), '--helixdesk-task'),
      }
    : null;
  const evalSeeds = parseSeeds(flags.seeds ?? '100-199');
  const runId = flags['run-id'] ?? makeRunId('main');
  const sigint = installSigint();
  try {
    const result = await runMainJob({
      gov,
      helixdesk,
      runId,
      resultsRoot: flags.out ?? 'results',
      checkpointsRoot: flags.checkpoints ?? 'checkpoints',
      evalSeeds,
      searchSeeds: flags['search-seeds']
        ? parseSeeds(flags['search-seeds'])
        : full
          ? evalSeeds
          : evalSeeds.slice(0, 20),
      signal: sigint.signal,
    });
    if (result.interrupted) {
      console.log(
        `interrupted; checkpoints are under ${flags.checkpoints ?? 'checkpoints'}/${runId}/ (resume a phase with npm ` +
          `run train -- --resume <dir>)`,
      );
      return 130;
    }
    console.log(`${result.verdict}\n\nsummary: ${result.summaryPath}`);
    return 0;
  } finally {
    sigint.dispose();
  }
}

/** `task=config,…` (each task one of `tasks`) → each task's own Phase 2 config; empty text → none. */
function phase2Configs(
  text: string,
  tasks: readonly string[],
  overrides: ReadonlyArray<readonly [string, string]>,
): Record<string, PpoConfig> | undefined {
  if (text.trim() === '') return undefined;
  const named = new Map<string, string>();
  for (const item of text.split(',')) {
    const [task, config, ...rest] = item.split('=').map((s) => s.trim());
    if (!task || !config || rest.length > 0)
      throw new UsageError(
        `--gov-phase2-task: '${item}' is not <task>=<config> (e.g. cross_department_hard=gov-main-phase2)`,
      );
    if (!tasks.includes(task))
      throw new UsageError(
        `--gov-phase2-task: '${task}' is not one of the job's Gov tasks; allowed: ${tasks.join(', ')}`,
      );
    if (named.has(task)) throw new UsageError(`--gov-phase2-task: '${task}' is given twice`);
    named.set(task, config);
  }
  return Object.fromEntries([...named].map(([task, config]) => [task, loadPpoConfig(config, overrides)]));
}
