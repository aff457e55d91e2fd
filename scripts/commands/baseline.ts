/**
 * `baseline`: run baseline agents over tasks and seeds; print the table and write it, with every
 * episode, under results/<run-id>/.
 *   gov-workflow  task × agent: mean ± std of grader score, completed, SLA breaches, reward
 *   helixdesk     task × agent: mean ± std [min, max] of grader score and episode reward
 */
import { join } from 'node:path';
import { ALL_GOV_AGENT_NAMES, GOV_AGENT_NAMES, GOV_PLANNER_NAMES, HELIX_AGENT_NAMES } from '../../agents/registry.js';
import type { EpisodeRecord } from '../../agents/types.js';
import type { Variant } from '../../envs/gov-workflow/types.js';
import { VARIANTS } from '../../envs/gov-workflow/types.js';
import { V1_POLICY_NAMES } from '../../envs/gov-workflow/v1/policies.js';
import { V1_TASK_IDS } from '../../envs/gov-workflow/v1/tasks.js';
import type { HelixConfig } from '../../envs/helixdesk/config.js';
import { loadHelixConfig } from '../../envs/helixdesk/config.js';
import { familyTasks } from '../../envs/registry.js';
import {
  formatCsv,
  formatEpisodesCsv,
  formatMarkdown,
  formatText,
  GOV_QUANTITIES,
  GOV_V1_QUANTITIES,
  HELIX_QUANTITIES,
  summarise,
} from '../../training/baseline-table.js';
import { orderRecords, runBaselines } from '../../training/baselines.js';
import { runId, writeFileAtomic } from '../../training/run-io.js';
import {
  MAX_EPISODE_STEPS,
  parseChoice,
  parseList,
  parseOptions,
  parsePositiveInt,
  parseSeeds,
  parseServers,
  refuseRemoteEnv,
  UsageError,
} from '../args.js';
import type { LlmSettings } from '../llm-options.js';
import { LLM_HELP, LLM_OPTION_SPEC, llmOptionValues, llmSettings } from '../llm-options.js';
import { Progress } from '../progress.js';

export const BASELINE_ENVS = ['gov-workflow', 'helixdesk'] as const;
type BaselineEnv = (typeof BASELINE_ENVS)[number];

/** Default task lists come from the env registry. */
const TASKS: Readonly<Record<BaselineEnv, readonly string[]>> = {
  'gov-workflow': familyTasks('gov-workflow'),
  helixdesk: familyTasks('helixdesk'),
};
const AGENTS: Readonly<Record<BaselineEnv, readonly string[]>> = {
  'gov-workflow': GOV_AGENT_NAMES,
  helixdesk: HELIX_AGENT_NAMES,
};

export const BASELINE_HELP = `usage: npm run cli -- baseline [options]

  --env <id>          environment: ${BASELINE_ENVS.join(', ')} (default gov-workflow)
  --task <list>       all, or a comma-separated list of the env's tasks:
                        gov-workflow: ${TASKS['gov-workflow'].join(', ')}
                        helixdesk:    ${TASKS.helixdesk.join(', ')}
  --agent <list>      all (every rule/random agent), or a comma-separated list of the env's agents:
                        gov-workflow: ${GOV_AGENT_NAMES.join(', ')}, ${GOV_PLANNER_NAMES.join(', ')}, llm
                      search = a planner: one-step lookahead with heuristic rollouts (slow: ~1 s per
                      medium episode) that see the env's own future; search-sampled = the same over
                      four freshly seeded futures (no clairvoyance; 4× slower)
                        helixdesk:    ${HELIX_AGENT_NAMES.join(', ')}, llm
                      llm = an LLM through an OpenAI-compatible endpoint (options below)
  --seeds <list>      seeds and ranges, e.g. 0-9,42, or task: each task's own seed (default 0-9;
                      task with --variant v1)
  --variant <v>       gov-workflow case-flow variant: ${VARIANTS.join(', ')} (default corrected), or v1:
                      the v1 ruleset behind the seed's published table, with v1's own agents
                      ${V1_POLICY_NAMES.join(', ')} (docs/envs.md#gov-workflow-v1)
  --config <file>     helixdesk config (YAML or JSON; keys you omit keep the reference defaults)
  --max-steps <n>     gov-workflow: stop episodes after n steps (default: the env's cap, max_days × 10)
  --env-servers <urls> helixdesk: play the rule and random agents on env servers (serve-env),
                      comma-separated ws:// or http:// URLs; the key from $QUEUE_RL_API_KEY
  --out <dir>         results root (default results); files go to <dir>/<run-id>/
  --json              print a JSON array of per-episode records on stdout instead of the table

${LLM_HELP}

Writes <out>/<run-id>/{config.json, episodes.csv, baseline.csv, baseline.md}.`;

export interface BaselineConfig {
  env: BaselineEnv;
  tasks: string[];
  agents: string[];
  /** The seeds of every task, or 'task': each task's own seed. */
  seeds: number[] | 'task';
  variant: Variant | 'v1';
  maxSteps: number | undefined;
  /** helixdesk only: the config file, or null for the defaults. */
  configFile: string | null;
  /** helixdesk only: env servers to play the episodes on. */
  servers: string[];
}

export function parseBaselineArgs(argv: string[]): {
  config: BaselineConfig;
  json: boolean;
  out: string;
  help: boolean;
  llmValues: Record<string, string | undefined>;
} {
  const { values } = parseOptions(argv, {
    env: 'string',
    task: 'string',
    agent: 'string',
    seeds: 'string',
    variant: 'string',
    config: 'string',
    'max-steps': 'string',
    'env-servers': 'string',
    out: 'string',
    json: 'boolean',
    help: 'boolean',
    ...LLM_OPTION_SPEC,
  });
  refuseRemoteEnv(values.env, 'baseline');
  const env = parseChoice(values.env ?? 'gov-workflow', BASELINE_ENVS, '--env');
  if (env === 'helixdesk' && values.variant !== undefined)
    throw new UsageError('--variant applies to gov-workflow only');
  if (env === 'helixdesk' && values['max-steps'] !== undefined)
    throw new UsageError('--max-steps applies to gov-workflow only (helixdesk tasks fix their own length)');
  if (env === 'gov-workflow' && values.config !== undefined) throw new UsageError('--config applies to helixdesk only');
  const config: BaselineConfig = {
    env,
    tasks: parseList(values.task ?? 'all', values.variant === 'v1' ? V1_TASK_IDS : TASKS[env], '--task'),
    agents:
      (values.agent ?? 'all').trim() === 'all'
        ? [...AGENTS[env]]
        : parseList(
            values.agent ?? 'all',
            [...(env === 'gov-workflow' ? [...ALL_GOV_AGENT_NAMES, ...V1_POLICY_NAMES] : AGENTS[env]), 'llm'],
            '--agent',
          ),
    seeds:
      (values.seeds ?? (values.variant === 'v1' ? 'task' : '0-9')).trim() === 'task'
        ? 'task'
        : parseSeeds(values.seeds ?? '0-9'),
    variant: parseChoice(values.variant ?? 'corrected', [...VARIANTS, 'v1'] as const, '--variant'),
    maxSteps:
      values['max-steps'] === undefined
        ? undefined
        : parsePositiveInt(values['max-steps'], '--max-steps', MAX_EPISODE_STEPS),
    configFile: values.config ?? null,
    servers: parseServers(values['env-servers']),
  };
  if (config.variant === 'v1') {
    if (values.agent === undefined) config.agents = [...V1_POLICY_NAMES];
    const bad = config.agents.filter((a) => !(V1_POLICY_NAMES as readonly string[]).includes(a));
    if (bad.length > 0)
      throw new UsageError(
        `--agent ${bad.join(',')}: --variant v1 plays v1's own agents; allowed: ${V1_POLICY_NAMES.join(', ')}`,
      );
  }
  if (config.servers.length > 0 && env !== 'helixdesk')
    throw new UsageError(
      "--env-servers: gov-workflow agents read the env's JSON state and play in-process; env servers serve " +
        'helixdesk baselines, rollout, train and evaluate',
    );
  if (config.servers.length > 0 && config.agents.includes('llm'))
    throw new UsageError('--env-servers: the llm agent reads the email text and plays in-process');
  const llmValues = llmOptionValues(values);
  if (!config.agents.includes('llm') && Object.values(llmValues).some((v) => v !== undefined))
    throw new UsageError('the LLM options need --agent llm (or a list with llm)');
  return { config, json: values.json === true, out: values.out ?? 'results', help: values.help === true, llmValues };
}

export async function runBaseline(
  config: BaselineConfig,
  progress?: Progress,
  llm?: LlmSettings,
): Promise<EpisodeRecord[]> {
  const helixConfig: HelixConfig | undefined =
    config.env === 'helixdesk' && config.configFile !== null ? loadHelixConfig(config.configFile) : undefined;
  const options = {
    variant: config.variant,
    ...(config.maxSteps !== undefined ? { maxSteps: config.maxSteps } : {}),
    ...(helixConfig ? { helixConfig } : {}),
    ...(config.servers.length > 0 ? { servers: config.servers } : {}),
    onEpisode: () => progress?.tick(),
  };
  if (config.agents.includes('llm') && !llm) throw new Error('runBaseline: --agent llm needs LLM settings');
  const records = await runBaselines(config.env, config.tasks, config.agents, config.seeds, {
    ...options,
    ...(llm ? { llm: llm.policy } : {}),
  });
  return orderRecords(records, config.tasks, config.agents);
}

export async function baselineCommand(argv: string[]): Promise<number> {
  const { config, json, out, help, llmValues } = parseBaselineArgs(argv);
  if (help) {
    console.log(BASELINE_HELP);
    return 0;
  }
  if (config.seeds.length === 0) throw new UsageError('--seeds: no seeds given');
  const perTask = config.seeds === 'task' ? 1 : config.seeds.length;
  const progress = new Progress('baseline', config.tasks.length * config.agents.length * perTask);
  const llm = config.agents.includes('llm') ? llmSettings(llmValues) : undefined;
  const records = await runBaseline(config, progress, llm);
  const quantities =
    config.env === 'helixdesk' ? HELIX_QUANTITIES : config.variant === 'v1' ? GOV_V1_QUANTITIES : GOV_QUANTITIES;
  const rows = summarise(records, quantities);

  const runKind = config.env === 'gov-workflow' ? `baseline-${config.env}-${config.variant}` : `baseline-${config.env}`;
  const dir = join(out, runId(runKind));
  const saved = {
    ...(config.env === 'gov-workflow'
      ? { ...config, configFile: undefined }
      : { ...config, variant: undefined, maxSteps: undefined }),
    ...(llm
      ? {
          llm: {
            model: llm.model,
            baseURL: llm.baseURL,
            keyFrom: llm.keySource,
            temperature: llm.policy.temperature,
            fallback: llm.policy.fallback,
            usage: llm.client.usage,
          },
        }
      : {}),
  };
  writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(saved, null, 2)}\n`);
  writeFileAtomic(join(dir, 'episodes.csv'), formatEpisodesCsv(records));
  writeFileAtomic(join(dir, 'baseline.csv'), formatCsv(rows, quantities));
  writeFileAtomic(join(dir, 'baseline.md'), `${formatMarkdown(rows, quantities)}\n`);

  if (json) {
    process.stdout.write(`${JSON.stringify(records)}\n`);
  } else {
    const what =
      config.env === 'gov-workflow' ? `variant ${config.variant}` : `config ${config.configFile ?? 'defaults'}`;
    const seeds = config.seeds === 'task' ? "each task's own seed" : `seeds ${describeSeeds(config.seeds)}`;
    console.log(`${config.env} baseline — ${what}, ${seeds}\n`);
    console.log(formatText(rows, quantities));
    console.log(`\nwrote ${join(dir, 'baseline.csv')}, ${join(dir, 'baseline.md')} and ${join(dir, 'episodes.csv')}`);
  }
  return 0;
}

function describeSeeds(seeds: number[]): string {
  const contiguous = seeds.every((s, i) => i === 0 || s === (seeds[i - 1] as number) + 1);
  return contiguous && seeds.length > 2 ? `${seeds[0]}-${seeds[seeds.length - 1]}` : seeds.join(',');
}
