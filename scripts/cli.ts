/**
 * queue-rl command line: `npm run cli -- <command> [options]`.
 * Exit codes: 0 success, 1 a failed check or job, 2 bad usage.
 */

import { InvalidConfigError } from '../envs/core/errors.js';
import { UsageError } from './args.js';
import { BASELINE_HELP, baselineCommand } from './commands/baseline.js';
import { EVALUATE_HELP, evaluateCommand } from './commands/evaluate.js';
import { EXPORT_STORY_HELP, exportStoryCommand } from './commands/export-story.js';
import { GRPO_HELP, grpoCommand } from './commands/grpo.js';
import { INFERENCE_HELP, inferenceCommand } from './commands/inference.js';
import { PIPELINE_HELP, pipelineCommand } from './commands/pipeline.js';
import { REPLAY_HELP, replayCommand } from './commands/replay.js';
import { ROLLOUT_HELP, rolloutCommand } from './commands/rollout.js';
import { SERVE_ENV_HELP, serveEnvCommand } from './commands/serve-env.js';
import { SERVE_POLICY_HELP, servePolicyCommand } from './commands/serve-policy.js';
import { TRAIN_HELP, trainCommand } from './commands/train.js';

const COMMANDS: Record<string, { run: (argv: string[]) => number | Promise<number>; summary: string; help: string }> = {
  baseline: {
    run: baselineCommand,
    summary: 'run baseline agents over tasks and seeds; print and save the table',
    help: BASELINE_HELP,
  },
  replay: {
    run: replayCommand,
    summary: 'replay golden Gov Workflow trace files and report PASS or the first mismatch',
    help: REPLAY_HELP,
  },
  rollout: {
    run: rolloutCommand,
    summary: 'step a vector env with seeded random actions and print a sha256 of every batch',
    help: ROLLOUT_HELP,
  },
  train: {
    run: trainCommand,
    summary: 'train PPO with a config (built-in or file); resume with --resume',
    help: TRAIN_HELP,
  },
  evaluate: {
    run: evaluateCommand,
    summary: 'evaluate PPO checkpoints next to every baseline agent on given seeds',
    help: EVALUATE_HELP,
  },
  grpo: {
    run: grpoCommand,
    summary: 'GRPO over an OpenAI-compatible endpoint (tfjs, export or http learner); --phases for both',
    help: GRPO_HELP,
  },
  inference: {
    run: inferenceCommand,
    summary: 'the [START]/[STEP]/[END] baseline inference run of an LLM over OpenAI-compatible endpoints',
    help: INFERENCE_HELP,
  },
  'serve-policy': {
    run: servePolicyCommand,
    summary: 'serve a PPO checkpoint or baseline agent as an OpenAI-compatible endpoint',
    help: SERVE_POLICY_HELP,
  },
  'serve-env': {
    run: serveEnvCommand,
    summary: 'serve gov-workflow or helixdesk over OpenEnv (HTTP + /ws) beside the seed routes',
    help: SERVE_ENV_HELP,
  },
  'export-story': {
    run: exportStoryCommand,
    summary: 'write the Gov Workflow training-story JSON and CSV from a run or a story CSV',
    help: EXPORT_STORY_HELP,
  },
  pipeline: {
    run: pipelineCommand,
    summary: 'the main job: short Phase 1 + Phase 2, evaluation, summary.md (npm start)',
    help: PIPELINE_HELP,
  },
};

export const USAGE = `usage: npm run cli -- <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run a command with --help for its options.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    console.error(`error: unknown command '${command}'; commands: ${Object.keys(COMMANDS).join(', ')}`);
    return 2;
  }
  try {
    return await entry.run(rest);
  } catch (err) {
    if (
      err instanceof UsageError ||
      err instanceof InvalidConfigError ||
      (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      console.error(`error: ${(err as Error).message}\n\n${entry.help}`);
      return 2;
    }
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
}

const isEntry =
  process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop() ?? '');
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
