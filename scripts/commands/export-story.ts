/** `export-story`: the Gov Workflow training-story files (docs/grpo.md) from a run or a story CSV. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { TASK_IDS } from '../../envs/gov-workflow/tasks.js';
import type { StoryOptions, StoryRow } from '../../training/story.js';
import {
  checkRowWidths,
  metricsKind,
  parseCsv,
  readStoryCsv,
  storyRowsFromGrpoMetrics,
  storyRowsFromPpoMetrics,
  writeStory,
} from '../../training/story.js';
import { parseIntInRange, parseOptions, UsageError } from '../args.js';

export const EXPORT_STORY_HELP = `usage: npm run cli -- export-story --run <results dir> --task <task_id> [options]
       npm run cli -- export-story --csv <story.csv> --task <task_id> --out <dir> [options]

Writes <out>/<task_id>_training_log.json (the JSON the Gov Workflow /training/* story endpoints
serve, as scripts/convert_grpo_csv.py writes it) and <out>/<task_id>_story.csv
(step,reward,fn1_valid,fn2_no_halluc,fn3_env_score).

  --run <dir>     results/<run-id>/<phase> holding metrics.csv (GRPO or PPO, told apart by its
                  columns; a PPO run's eval.csv is read too), or results/<run-id>: then the last
                  phase directory (in natural name order) with a metrics.csv is used.
                  Default --out: <run dir>/story.
  --csv <file>    convert an existing story CSV (the reference converter's columns and aliases:
                  total_reward, valid_action_rate, hallucination_free, env_score).
  --task <id>     the story's task id, e.g. ${TASK_IDS.join(', ')};
                  it needs a '_' (adapter_path is artifacts/llm/<second '_' part>/) unless --adapter-path is given.
  --out <dir>     output directory (required with --csv).
  --lenient       accept what the reference converter accepts: missing columns and empty cells take
                  its defaults (fn1, fn2 1.0; fn3 the min-max-normalised reward; step the row number;
                  reward 0) and rows with missing fields are read as far as they go. Without it, a
                  story CSV needs all five columns with a number in every cell, and every CSV row
                  needs the header's number of fields; otherwise the error names the column or row.

meta options (defaults: the reference's constants; for a PPO run: training method PPO, lora rank 0,
base model "none (queue-rl MaskablePPO MLP policy)", adapter path checkpoints/<run-id>/<phase>/):
  --base-model <text>  --training-method <text>  --lora-rank <int >= 0>  --adapter-path <text>

A PPO run maps onto the story columns as: step = time/iterations, reward = rollout/ep_rew_mean,
fn1_valid = 1 - invalid-action rate (1.0: masked actions are always valid), fn2_no_halluc = 1.0,
fn3_env_score = rollout/ep_score_mean (grader score), or the reward for a run without scores.`;

/** Natural order: phase2 before phase10. */
const natural = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

interface Source {
  kind: 'grpo' | 'ppo' | 'csv';
  rows: StoryRow[];
  description: string;
}

function readMetricsDir(dir: string, lenient: boolean): Source {
  const file = join(dir, 'metrics.csv');
  const parsed = parseCsv(readFileSync(file, 'utf8'));
  if (!lenient) checkRowWidths(parsed, file);
  const records = parsed.records.map(({ cells }) => Object.fromEntries(parsed.header.map((h, k) => [h, cells[k]])));
  const kind = metricsKind(parsed.header);
  if (kind === null) {
    throw new Error(
      `${file}: neither a PPO metrics.csv (needs rollout/ep_rew_mean) nor a GRPO metrics.csv (needs reward, ` +
        `rewards/fn1_valid, …); columns: ${parsed.header.join(', ')}`,
    );
  }
  if (kind === 'grpo') {
    const rows = storyRowsFromGrpoMetrics(records);
    return { kind, rows, description: `GRPO metrics ${file} (${rows.length} of ${records.length} rows)` };
  }
  const evalFile = join(dir, 'eval.csv');
  let evalRecords: Record<string, string | undefined>[] = [];
  if (existsSync(evalFile)) {
    const ev = parseCsv(readFileSync(evalFile, 'utf8'));
    if (!lenient) checkRowWidths(ev, evalFile);
    evalRecords = ev.records.map(({ cells }) => Object.fromEntries(ev.header.map((h, k) => [h, cells[k]])));
  }
  const rows = storyRowsFromPpoMetrics(records, evalRecords);
  const skipped = records.length - rows.length;
  return {
    kind,
    rows,
    description:
      `PPO metrics ${file} (${rows.length} iterations` +
      (skipped > 0 ? `; ${skipped} without a finished episode left out` : '') +
      `${evalRecords.length > 0 ? '; eval.csv read' : ''})`,
  };
}

/** The phase directory: `dir` itself when it holds metrics.csv, else its last sub-directory that does. */
function resolveRunDir(dir: string, log: (line: string) => void): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(
      `--run: '${dir}' is not a directory; give results/<run-id>/<phase> (holding metrics.csv) or results/<run-id>`,
    );
  }
  if (existsSync(join(dir, 'metrics.csv'))) return dir;
  const phases = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'metrics.csv')))
    .map((e) => e.name)
    .sort(natural);
  const last = phases[phases.length - 1];
  if (last === undefined) {
    throw new UsageError(
      `--run: '${dir}' has no metrics.csv and no phase directory with one; give results/<run-id>/<phase> (holding ` +
        `metrics.csv) or results/<run-id>`,
    );
  }
  const chosen = join(dir, last);
  log(
    `export-story: ${dir} is a run directory; using its last phase with a metrics.csv: ` +
      `${chosen}${phases.length > 1 ? ` (phases: ${phases.join(', ')})` : ''}`,
  );
  return chosen;
}

const parseLoraRank = (text: string): number => parseIntInRange(text, '--lora-rank', 0, 1_000_000);

export function exportStoryCommand(argv: string[]): number {
  const { values } = parseOptions(argv, {
    run: 'string',
    csv: 'string',
    task: 'string',
    out: 'string',
    lenient: 'boolean',
    'base-model': 'string',
    'training-method': 'string',
    'lora-rank': 'string',
    'adapter-path': 'string',
    help: 'boolean',
  });
  if (values.help) {
    console.log(EXPORT_STORY_HELP);
    return 0;
  }
  if ((values.run === undefined) === (values.csv === undefined)) {
    throw new UsageError('export-story: give exactly one of --run <results dir> or --csv <story.csv>');
  }
  const task = values.task;
  if (task === undefined || task.trim() === '') {
    throw new UsageError(`--task: required; the story's task id, e.g. one of ${TASK_IDS.join(', ')}`);
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(task)) {
    throw new UsageError(
      `--task: '${task}' is not allowed; allowed: a task id of letters, digits, '.', '_' and '-', e.g. one of ` +
        `${TASK_IDS.join(', ')}`,
    );
  }
  if (!task.includes('_') && values['adapter-path'] === undefined) {
    throw new UsageError(
      `--task: '${task}' has no '_', so the reference's adapter_path (artifacts/llm/<second '_' part>/) is ` +
        `undefined; give --adapter-path or a task id such as ${TASK_IDS.join(', ')}`,
    );
  }

  const log = (line: string): void => console.log(line);
  let source: Source;
  let outDir: string;
  let defaults: StoryOptions = {};
  if (values.csv !== undefined) {
    if (values.out === undefined)
      throw new UsageError(
        '--out: required with --csv (the directory for <task_id>_training_log.json and <task_id>_story.csv)',
      );
    if (!existsSync(values.csv) || !statSync(values.csv).isFile())
      throw new UsageError(
        `--csv: '${values.csv}' is not a file; give a story CSV (step,reward,fn1_valid,fn2_no_halluc,fn3_env_score)`,
      );
    const rows = readStoryCsv(readFileSync(values.csv, 'utf8'), { lenient: values.lenient === true });
    source = { kind: 'csv', rows, description: `story CSV ${values.csv} (${rows.length} rows)` };
    outDir = values.out;
  } else {
    const runDir = resolveRunDir(values.run as string, log);
    source = readMetricsDir(runDir, values.lenient === true);
    outDir = values.out ?? join(runDir, 'story');
    if (source.kind === 'ppo') {
      const abs = resolve(runDir);
      defaults = {
        trainingMethod: 'PPO',
        baseModel: 'none (queue-rl MaskablePPO MLP policy)',
        loraRank: 0,
        adapterPath: `checkpoints/${basename(dirname(abs))}/${basename(abs)}/`,
      };
    }
  }
  const options: StoryOptions = {
    ...defaults,
    ...(values['base-model'] !== undefined ? { baseModel: values['base-model'] } : {}),
    ...(values['training-method'] !== undefined ? { trainingMethod: values['training-method'] } : {}),
    ...(values['lora-rank'] !== undefined ? { loraRank: parseLoraRank(values['lora-rank']) } : {}),
    ...(values['adapter-path'] !== undefined ? { adapterPath: values['adapter-path'] } : {}),
  };
  log(`export-story: ${source.description}`);
  const written = writeStory(source.rows, task, outDir, options);
  const s = written.json.summary;
  log(
    `export-story: ${task}: ${written.json.total_episodes} episodes, reward ${s.first_episode_reward} -> ` +
      `${s.last_episode_reward} (best ${s.best_episode_reward}), ` +
      `score ${s.first_episode_score} -> ${s.last_episode_score} (best ${s.best_episode_score}), invalid steps ` +
      `${s.invalid_action_steps}, hallucination steps ${s.hallucination_steps}`,
  );
  log(`wrote ${written.jsonPath}`);
  log(`wrote ${written.csvPath}`);
  return 0;
}
