/**
 * `evaluate`: a checkpoint next to every baseline agent on the same tasks and seeds
 * (deterministic policy), printed and written as CSV and Markdown.
 */

import { join } from 'node:path';
import { BACKEND_PREFERENCES } from '../../agents/policy/backend.js';
import { loadPolicyCheckpoint } from '../../agents/policy/checkpoint.js';
import { GOV_PLANNER_NAMES } from '../../agents/registry.js';
import { VARIANTS } from '../../envs/gov-workflow/types.js';
import type { EnvOptions } from '../../envs/registry.js';
import { familyTasks, govEnvOptions } from '../../envs/registry.js';
import { REMOTE_PREFIX } from '../../envs/vector/remote.js';
import { formatEpisodesCsv } from '../../training/baseline-table.js';
import { BASELINE_FAMILIES, baselineAgentNames } from '../../training/baselines.js';
import { describeSeeds, evaluateCheckpoints } from '../../training/pipeline.js';
import { runId, writeFileAtomic } from '../../training/run-io.js';
import { parseChoice, parseList, parseOptions, parseSeeds, parseServers, UsageError } from '../args.js';
import { LLM_HELP, LLM_OPTION_SPEC, llmOptionValues, llmSettings } from '../llm-options.js';

export const EVALUATE_HELP = `usage: npm run cli -- evaluate --checkpoint <dir> [options]

  --checkpoint <dirs> one or more PPO or GRPO policy checkpoints, comma-separated (a checkpoint
                      directory, or a directory with a 'latest' pointer); label=dir names a row
  --env <id>          gov-workflow or helixdesk, or a full id such as gov-workflow/mixed_urgency_medium
                      (default: the checkpoint's env family)
  --task <list>       all, or the env's tasks (default all)
  --seeds <list>      episode seeds (default 100-119)
  --variant <v>       gov-workflow variant: ${VARIANTS.join(', ')} (default: the checkpoint's)
  --backend <b>       ${BACKEND_PREFERENCES.join(', ')} (default auto)
  --sample            sample actions instead of the deterministic (argmax) policy
  --agent <list>      baseline agents next to the checkpoints: all (default: every rule/random agent), none,
                      or a comma-separated list; add llm for an LLM through an OpenAI-compatible endpoint
  --env-servers <urls> play the checkpoints' episodes on env servers (serve-env), comma-separated
                      ws:// or http:// URLs; the key from $QUEUE_RL_API_KEY. Rule agents stay in-process
                      (they read the env's JSON state)
  --out <dir>         results root (default results)

${LLM_HELP}

Writes <out>/<run-id>/{evaluation.csv, evaluation.md, episodes.csv}.`;

export async function evaluateCommand(argv: string[]): Promise<number> {
  const { values: flags } = parseOptions(argv, {
    checkpoint: 'string',
    env: 'string',
    task: 'string',
    seeds: 'string',
    variant: 'string',
    backend: 'string',
    sample: 'boolean',
    out: 'string',
    agent: 'string',
    'env-servers': 'string',
    help: 'boolean',
    ...LLM_OPTION_SPEC,
  });
  if (flags.help) {
    console.log(EVALUATE_HELP);
    return 0;
  }
  const spec = flags.checkpoint;
  if (!spec) throw new UsageError('--checkpoint is required');
  const checkpoints = spec.split(',').map((part, i) => {
    const eq = part.indexOf('=');
    return eq > 0
      ? { label: part.slice(0, eq), dir: part.slice(eq + 1) }
      : { label: i === 0 ? 'ppo' : `ppo-${i + 1}`, dir: part };
  });
  const first = loadPolicyCheckpoint((checkpoints[0] as { dir: string }).dir);
  if (flags.env?.startsWith(REMOTE_PREFIX))
    throw new UsageError('--env: give the env id, and the servers with --env-servers ws://host:port[,…]');
  const envArg = flags.env ?? first.envId.split('/')[0] ?? 'gov-workflow';
  const [familyText, taskInId] = envArg.split('/') as [string, string | undefined];
  const family = parseChoice(familyText, BASELINE_FAMILIES, '--env');
  const tasks = taskInId ? [taskInId] : parseList(flags.task ?? 'all', familyTasks(family), '--task');
  const seeds = parseSeeds(flags.seeds ?? '100-119');
  const envOptions: EnvOptions =
    family === 'gov-workflow'
      ? {
          variant: parseChoice(
            flags.variant ?? govEnvOptions(first.envOptions).variant ?? 'corrected',
            VARIANTS,
            '--variant',
          ),
        }
      : { ...(first.envOptions.config ? { config: first.envOptions.config } : {}) };
  const backend = parseChoice(flags.backend ?? 'auto', BACKEND_PREFERENCES, '--backend');
  const servers = parseServers(flags['env-servers']);
  const agentText = flags.agent ?? 'all';
  const agents =
    agentText === 'all'
      ? [...baselineAgentNames(family)]
      : agentText === 'none'
        ? []
        : parseList(
            agentText,
            [...baselineAgentNames(family), ...(family === 'gov-workflow' ? GOV_PLANNER_NAMES : []), 'llm'],
            '--agent',
          );
  const llmValues = llmOptionValues(flags);
  if (!agents.includes('llm') && Object.values(llmValues).some((v) => v !== undefined))
    throw new UsageError('the LLM options need --agent llm (or a list with llm)');
  const llm = agents.includes('llm') ? llmSettings(llmValues) : undefined;
  const result = await evaluateCheckpoints({
    checkpoints,
    family,
    tasks,
    seeds,
    envOptions,
    backend,
    deterministic: flags.sample !== true,
    agents: agents.filter((a) => a !== 'llm'),
    ...(llm ? { llm: llm.policy } : {}),
    ...(servers.length > 0 ? { servers } : {}),
  });
  const dir = join(flags.out ?? 'results', runId(`evaluate-${family}`));
  writeFileAtomic(join(dir, 'evaluation.csv'), result.csv);
  writeFileAtomic(join(dir, 'evaluation.md'), `${result.markdown}\n`);
  writeFileAtomic(join(dir, 'episodes.csv'), formatEpisodesCsv(result.records));
  console.log(
    `${family}: ${checkpoints.map((c) => `${c.label} = ${c.dir}`).join(', ')} vs baselines, seeds ` +
      `${describeSeeds(seeds)}\n`,
  );
  console.log(result.text);
  console.log(`\nwrote ${join(dir, 'evaluation.csv')}, ${join(dir, 'evaluation.md')} and ${join(dir, 'episodes.csv')}`);
  return 0;
}
