/**
 * `inference`: the baseline inference run OpenEnv environments are judged by (docs/llm.md):
 * for each task, exactly one `[START]`, one `[STEP]` per step and one `[END]` line on stdout, each
 * flushed as it is written, and nothing else on stdout (diagnostics go to stderr):
 *
 *   [START] task=<task> env=<benchmark> model=<model>
 *   [STEP] step=<n> action=<compact JSON> reward=<0.00> done=<true|false> error=<msg|null>
 *   [END] success=<true|false> steps=<n> score=<0.000> rewards=<r1,r2,…>
 *
 * Numbers are formatted as Python's f"{x:.2f}" / f"{x:.3f}" would (round half to even on the exact
 * binary value). The score is the task grader's, clamped to [0.01, 0.99] as the OpenEnv convention
 * advises (so it never prints as 0 or 1; the unclamped score goes to stderr); success = score ≥
 * --success-threshold (default 0.5, the references'). `[END]` is printed even when the run fails.
 * Tasks may run concurrently (--concurrency limits requests in flight), but each task's lines come
 * out together and in task order, exactly as a sequential run prints them.
 */
import type { LlmEpisodeResult, LlmStepLog } from '../../agents/llm/llm-episodes.js';
import { runGovLlmEpisode, runHelixLlmEpisode } from '../../agents/llm/llm-episodes.js';
import { pyFixed } from '../../envs/core/py-round.js';
import { getTask } from '../../envs/gov-workflow/tasks.js';
import type { Variant } from '../../envs/gov-workflow/types.js';
import { VARIANTS } from '../../envs/gov-workflow/types.js';
import type { HelixConfig } from '../../envs/helixdesk/config.js';
import { loadHelixConfig } from '../../envs/helixdesk/config.js';
import { familyTasks } from '../../envs/registry.js';
import {
  MAX_EPISODE_STEPS,
  parseChoice,
  parseIntInRange,
  parseList,
  parseNumberInRange,
  parseOptions,
  parsePositiveInt,
  refuseRemoteEnv,
  UsageError,
} from '../args.js';
import type { LlmSettings } from '../llm-options.js';
import { LLM_HELP, LLM_OPTION_SPEC, llmOptionValues, llmSettings } from '../llm-options.js';

export const INFERENCE_ENVS = ['gov-workflow', 'helixdesk'] as const;
const BENCHMARK_NAMES: Record<(typeof INFERENCE_ENVS)[number], string> = {
  'gov-workflow': 'gov-workflow-openenv',
  helixdesk: 'helixdesk-openenv',
};

export const INFERENCE_HELP = `usage: npm run cli -- inference --env gov-workflow|helixdesk [options]

  --env <e>                   ${INFERENCE_ENVS.join(' | ')} (default gov-workflow)
  --task <list>               all, or a comma-separated list of the env's tasks (default all)
  --seed <n>                  episode seed (default: Gov Workflow each task's own seed, as the reference; HelixDesk 42)
  --max-steps <n>             stop an episode after n steps (default: the env's own end)
  --success-threshold <x>     success = score ≥ x, x in [0, 1] (default 0.5)
  --benchmark <name>          the env= field (default ${Object.values(BENCHMARK_NAMES).join(' / ')})
  --variant <v>               gov-workflow: ${VARIANTS.join(' | ')} (default corrected)
  --config <file>             helixdesk config (YAML or JSON)
${LLM_HELP}

stdout carries only the [START] / [STEP] / [END] lines; everything else goes to stderr.`;

/** Prints each task's block in task order: the earliest unfinished task streams live, later ones wait their turn. */
class OrderedPrinter {
  private readonly blocks: string[][];
  private readonly finished: boolean[];
  private next = 0;

  constructor(count: number) {
    this.blocks = Array.from({ length: count }, () => []);
    this.finished = new Array<boolean>(count).fill(false);
  }

  line(task: number, text: string): void {
    if (task === this.next) process.stdout.write(`${text}\n`);
    else this.blocks[task]?.push(text);
  }

  finish(task: number): void {
    this.finished[task] = true;
    while (this.next < this.finished.length && this.finished[this.next]) {
      this.next++;
      if (this.next < this.blocks.length) {
        for (const text of this.blocks[this.next] as string[]) process.stdout.write(`${text}\n`);
        (this.blocks[this.next] as string[]).length = 0;
      }
    }
  }
}

/** The inference run's settings, from the command line and the environment. */
interface InferenceSettings {
  env: (typeof INFERENCE_ENVS)[number];
  tasks: string[];
  seed: number | undefined;
  maxSteps: number | undefined;
  threshold: number;
  variant: Variant;
  helixConfig: HelixConfig | undefined;
  benchmark: string;
  llm: LlmSettings;
}

/** null: --help was printed. */
function parseInferenceArgs(argv: string[]): InferenceSettings | null {
  const { values } = parseOptions(argv, {
    env: 'string',
    task: 'string',
    seed: 'string',
    'max-steps': 'string',
    'success-threshold': 'string',
    benchmark: 'string',
    variant: 'string',
    config: 'string',
    help: 'boolean',
    ...LLM_OPTION_SPEC,
  });
  if (values.help) {
    console.log(INFERENCE_HELP);
    return null;
  }
  refuseRemoteEnv(values.env, 'inference');
  const env = parseChoice(values.env ?? 'gov-workflow', INFERENCE_ENVS, '--env');
  // Gov Workflow: the three graded tasks of the reference's inference run first.
  const first =
    env === 'gov-workflow' ? ['district_backlog_easy', 'mixed_urgency_medium', 'cross_department_hard'] : [];
  const tasks = parseList(
    values.task ?? 'all',
    [...first, ...familyTasks(env).filter((t) => !first.includes(t))],
    '--task',
  );
  if (env === 'helixdesk' && values.variant !== undefined)
    throw new UsageError('--variant applies to gov-workflow only');
  if (env === 'gov-workflow' && values.config !== undefined) throw new UsageError('--config applies to helixdesk only');
  return {
    env,
    tasks,
    seed:
      values.seed === undefined
        ? undefined
        : parseIntInRange(values.seed, '--seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    maxSteps:
      values['max-steps'] === undefined
        ? undefined
        : parsePositiveInt(values['max-steps'], '--max-steps', MAX_EPISODE_STEPS),
    threshold: parseNumberInRange(values['success-threshold'] ?? '0.5', '--success-threshold', 0, 1),
    variant: parseChoice(values.variant ?? 'corrected', VARIANTS, '--variant'),
    helixConfig: values.config ? loadHelixConfig(values.config) : undefined,
    benchmark: values.benchmark ?? BENCHMARK_NAMES[env],
    llm: llmSettings(llmOptionValues(values)),
  };
}

export async function inferenceCommand(argv: string[]): Promise<number> {
  const settings = parseInferenceArgs(argv);
  if (!settings) return 0;
  const printer = new OrderedPrinter(settings.tasks.length);
  const outcomes = await Promise.all(settings.tasks.map((task, k) => runTask(settings, task, k, printer)));
  const u = settings.llm.client.usage;
  process.stderr.write(
    `[inference] ${u.requests} requests (${u.retries} retries, ${u.failures} failed), ${u.promptTokens} prompt + ` +
      `${u.completionTokens} completion tokens\n`,
  );
  return outcomes.every(Boolean) ? 0 : 1;
}

/** One task's [START], [STEP]s and [END] (always printed); false when the episode failed. */
async function runTask(s: InferenceSettings, task: string, k: number, printer: OrderedPrinter): Promise<boolean> {
  const seed = s.seed ?? (s.env === 'gov-workflow' ? getTask(task).seed : 42);
  // The sample's control flow prints [START] before the env resets; the model field is the model id.
  printer.line(k, `[START] task=${task} env=${s.benchmark} model=${s.llm.model}`);
  const steps: LlmStepLog[] = [];
  const onStep = (step: LlmStepLog): void => {
    steps.push(step);
    printer.line(
      k,
      `[STEP] step=${step.step} action=${step.action} reward=${pyFixed(step.reward, 2)} done=${step.done} ` +
        `error=${step.error ?? 'null'}`,
    );
  };
  const maxSteps = s.maxSteps !== undefined ? { maxSteps: s.maxSteps } : {};
  let result: LlmEpisodeResult | null = null;
  try {
    result =
      s.env === 'gov-workflow'
        ? await runGovLlmEpisode(s.llm.policy, { taskId: task, seed, variant: s.variant, ...maxSteps }, onStep)
        : await runHelixLlmEpisode(
            s.llm.policy,
            { task, seed, ...(s.helixConfig ? { config: s.helixConfig } : {}), ...maxSteps },
            onStep,
          );
  } catch (err) {
    process.stderr.write(`[inference] ${task}: ${err instanceof Error ? err.message : String(err)}\n`);
  } finally {
    const raw = result ? result.record.score : 0;
    const score = Math.min(Math.max(raw, 0.01), 0.99);
    if (result) {
      const m = result.record.metrics;
      process.stderr.write(
        `[inference] ${task}: grader score ${raw.toFixed(4)}, reward ${result.record.reward.toFixed(2)}, ` +
          `${m.invalid_outputs ?? 0} invalid answers, ${m.fallbacks ?? 0} fallbacks, ` +
          `${m.prompt_tokens ?? 0}+${m.completion_tokens ?? 0} tokens\n`,
      );
    }
    const rewards = steps.map((step) => pyFixed(step.reward, 2)).join(',');
    printer.line(
      k,
      `[END] success=${result !== null && score >= s.threshold} steps=${steps.length} score=${pyFixed(score, 3)} ` +
        `rewards=${rewards}`,
    );
    printer.finish(k);
  }
  return result !== null;
}
