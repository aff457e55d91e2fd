/**
 * `baseline`: run baseline agents over tasks and seeds; print the table (task × agent: mean ± std of
 * grader score, completed, SLA breaches, reward) and write it, with every episode, under results/.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createGovAgent, GOV_AGENT_NAMES } from '../../agents/registry.js';
import { runGovEpisode } from '../../agents/run-episode.js';
import type { EpisodeRecord } from '../../agents/run-episode.js';
import { TASK_IDS } from '../../envs/gov-workflow/tasks.js';
import { VARIANTS } from '../../envs/gov-workflow/types.js';
import type { Variant } from '../../envs/gov-workflow/types.js';
import { formatCsv, formatEpisodesCsv, formatMarkdown, formatText, summarise } from '../../training/baseline-table.js';
import { runId, writeFileAtomic } from '../../training/results-io.js';
import { parseChoice, parseList, parsePositiveInt, parseSeeds, UsageError } from '../args.js';
import { Progress } from '../progress.js';

export const BASELINE_ENVS = ['gov-workflow'] as const;

export const BASELINE_HELP = `usage: npm run cli -- baseline [options]

  --env <id>          environment: ${BASELINE_ENVS.join(', ')} (default gov-workflow)
  --task <list>       all, or a comma-separated list of: ${TASK_IDS.join(', ')} (default all)
  --agent <list>      all, or a comma-separated list of: ${GOV_AGENT_NAMES.join(', ')} (default all)
  --seeds <list>      seeds and ranges, e.g. 0-9,42 (default 0-9)
  --variant <v>       case-flow variant: ${VARIANTS.join(', ')} (default corrected)
  --max-steps <n>     stop episodes after n steps (default: the env's own cap, max_days × 10)
  --out <dir>         results root (default results); files go to <dir>/<run-id>/
  --json              print a JSON array of per-episode records on stdout instead of the table

Writes <out>/<run-id>/{config.json, episodes.csv, baseline.csv, baseline.md}.`;

export interface BaselineConfig {
  env: (typeof BASELINE_ENVS)[number];
  tasks: string[];
  agents: string[];
  seeds: number[];
  variant: Variant;
  maxSteps: number | undefined;
}

export function parseBaselineArgs(argv: string[]): { config: BaselineConfig; json: boolean; out: string; help: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      env: { type: 'string', default: 'gov-workflow' },
      task: { type: 'string', default: 'all' },
      agent: { type: 'string', default: 'all' },
      seeds: { type: 'string', default: '0-9' },
      variant: { type: 'string', default: 'corrected' },
      'max-steps': { type: 'string' },
      out: { type: 'string', default: 'results' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const config: BaselineConfig = {
    env: parseChoice(values.env as string, BASELINE_ENVS, '--env'),
    tasks: parseList(values.task as string, TASK_IDS, '--task'),
    agents: parseList(values.agent as string, GOV_AGENT_NAMES, '--agent'),
    seeds: parseSeeds(values.seeds as string),
    variant: parseChoice(values.variant as string, VARIANTS, '--variant'),
    maxSteps: values['max-steps'] === undefined ? undefined : parsePositiveInt(values['max-steps'], '--max-steps'),
  };
  return { config, json: values.json as boolean, out: values.out as string, help: values.help as boolean };
}

export function runBaseline(config: BaselineConfig, progress?: Progress): EpisodeRecord[] {
  const records: EpisodeRecord[] = [];
  for (const taskId of config.tasks) {
    for (const agentName of config.agents) {
      const agent = createGovAgent(agentName);
      for (const seed of config.seeds) {
        records.push(runGovEpisode(agent, { taskId, seed, variant: config.variant, ...(config.maxSteps !== undefined ? { maxSteps: config.maxSteps } : {}) }));
        progress?.tick();
      }
    }
  }
  return records;
}

export function baselineCommand(argv: string[]): number {
  const { config, json, out, help } = parseBaselineArgs(argv);
  if (help) {
    console.log(BASELINE_HELP);
    return 0;
  }
  if (config.seeds.length === 0) throw new UsageError('--seeds: no seeds given');
  const progress = new Progress('baseline', config.tasks.length * config.agents.length * config.seeds.length);
  const records = runBaseline(config, progress);
  const rows = summarise(records);

  const dir = join(out, runId(`baseline-${config.env}-${config.variant}`));
  writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  writeFileAtomic(join(dir, 'episodes.csv'), formatEpisodesCsv(records));
  writeFileAtomic(join(dir, 'baseline.csv'), formatCsv(rows));
  writeFileAtomic(join(dir, 'baseline.md'), `${formatMarkdown(rows)}\n`);

  if (json) {
    process.stdout.write(`${JSON.stringify(records)}\n`);
  } else {
    console.log(`${config.env} baseline — variant ${config.variant}, seeds ${describeSeeds(config.seeds)}\n`);
    console.log(formatText(rows));
    console.log(`\nwrote ${join(dir, 'baseline.csv')}, ${join(dir, 'baseline.md')} and ${join(dir, 'episodes.csv')}`);
  }
  return 0;
}

function describeSeeds(seeds: number[]): string {
  const contiguous = seeds.every((s, i) => i === 0 || s === (seeds[i - 1] as number) + 1);
  return contiguous && seeds.length > 2 ? `${seeds[0]}-${seeds[seeds.length - 1]}` : seeds.join(',');
}
