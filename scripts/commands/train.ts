/**
 * `train`: run one PPO config (`npm run train -- --config gov-phase1`), with any config field
 * overridden by a flag, resumable with --resume. SIGINT finishes the current iteration, saves a
 * checkpoint and exits (code 130); a second SIGINT exits at once.
 */

import { runTraining } from '../../training/pipeline.js';
import { loadCheckpoint } from '../../training/ppo/checkpoint.js';
import type { PpoConfig } from '../../training/ppo/config.js';
import {
  applyOverrides,
  builtinConfigNames,
  isConfigFlag,
  loadPpoConfig,
  PPO_CONFIG_FIELDS,
  parsePpoConfig,
} from '../../training/ppo/config.js';
import { runId as makeRunId } from '../../training/run-io.js';
import { parseOptions, UsageError } from '../args.js';

export const TRAIN_HELP = `usage: npm run train -- --config <name|file> [options] [--<field> <value> …]

  --config <c>        a built-in config (${builtinConfigNames().join(', ')})
                      or a JSON/YAML file (default gov-phase1)
  --resume <dir>      continue a run exactly from a checkpoint (a checkpoint directory, or a
                      phase directory with a 'latest' pointer); the config comes from the
                      checkpoint, and only --total-timesteps, --eval.*, --checkpoint.*, --workers,
                      --backend may change
  --init-from <dir>   warm start: initialise the policy from a checkpoint's weights (Phase 2)
  --run-id <id>       results/<id>/ and checkpoints/<id>/ (default train-<config>-<UTC time>)
  --out <dir>         results root (default results)
  --checkpoints <dir> checkpoints root (default checkpoints)
  --<field> <value>   any config field, e.g. --learning-rate 1e-4 --n-envs 8 --net-arch 64,64
                      --total-timesteps 50000 --backend wasm --eval.seeds 100-104
                      --env.id helixdesk/medium --env.options.variant reference

Writes results/<run-id>/<phase>/{config.json, metrics.csv, eval.csv, reward.svg|png,
score.svg|png, baselines.csv} and checkpoints/<run-id>/<phase>/{step-…, best, final, latest}.`;

const OPTIONS = {
  config: 'string',
  resume: 'string',
  'init-from': 'string',
  'run-id': 'string',
  out: 'string',
  checkpoints: 'string',
  help: 'boolean',
} as const;

/** parseOptions settings for commands whose other flags are PPO config fields. */
export const PPO_OVERRIDES = {
  acceptsOverride: (name: string) => isConfigFlag(name, PPO_CONFIG_FIELDS),
  overrideHint:
    `a config field: ${PPO_CONFIG_FIELDS.map((f) => `--${f.replace(/_/g, '-')}`).join(', ')} (nested ` +
    `with dots, e.g. --eval.seeds 100-104)`,
};

export function installSigint(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let first = 0;
  const handler = (): void => {
    // Under tsx (npm run train) one Ctrl-C arrives twice: from the terminal and relayed by tsx.
    if (controller.signal.aborted && Date.now() - first < 1500) return;
    if (controller.signal.aborted) {
      process.stderr.write('\nsecond SIGINT: exiting without a checkpoint\n');
      process.exit(130);
    }
    process.stderr.write(
      '\nSIGINT: finishing this iteration, then saving a checkpoint (Ctrl-C again to quit at once)\n',
    );
    first = Date.now();
    controller.abort();
  };
  process.on('SIGINT', handler);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', handler) };
}

export async function trainCommand(argv: string[]): Promise<number> {
  const { values: flags, overrides } = parseOptions(argv, OPTIONS, PPO_OVERRIDES);
  if (flags.help) {
    console.log(TRAIN_HELP);
    return 0;
  }
  const resume = flags.resume ?? null;
  if (resume && flags.config !== undefined)
    throw new UsageError('--resume takes the config from the checkpoint; drop --config (override fields with flags)');
  const initFrom = flags['init-from'];
  const all: [string, string][] = [...overrides, ...(initFrom ? [['--init-from', initFrom] as [string, string]] : [])];
  let config: PpoConfig;
  let runId: string;
  if (resume) {
    const ckpt = loadCheckpoint(resume);
    config = parsePpoConfig(
      applyOverrides(ckpt.state.config as unknown as Record<string, unknown>, all),
      `${ckpt.dir}/state.json config`,
    );
    // results/<run-id>/<phase> and checkpoints/<run-id>/<phase>: continue in the same run.
    runId = flags['run-id'] ?? ckpt.dir.split('/').slice(-3, -2)[0] ?? makeRunId(`train-${config.name}`);
  } else {
    config = loadPpoConfig(flags.config ?? 'gov-phase1', all);
    runId = flags['run-id'] ?? makeRunId(`train-${config.name}`);
  }
  const sigint = installSigint();
  try {
    const result = await runTraining({
      config,
      runId,
      resultsRoot: flags.out ?? 'results',
      checkpointsRoot: flags.checkpoints ?? 'checkpoints',
      resume,
      signal: sigint.signal,
    });
    console.log(
      `${result.interrupted ? 'stopped' : 'trained'} ${result.numTimesteps} steps (${result.iterations} iterations)`,
    );
    console.log(`results:     ${result.resultsDir}`);
    console.log(
      `checkpoints: ${result.checkpointDir} (final/last: ` +
        `${result.finalCheckpoint}${result.bestCheckpoint ? `, best: ${result.bestCheckpoint}` : ''})`,
    );
    console.log(`plots:       ${result.plots.join(', ')}`);
    const dirs =
      (flags.out !== undefined ? ` --out ${flags.out}` : '') +
      (flags.checkpoints !== undefined ? ` --checkpoints ${flags.checkpoints}` : '');
    if (result.interrupted) console.log(`resume with: npm run train -- --resume ${result.finalCheckpoint}${dirs}`);
    return sigint.signal.aborted ? 130 : 0;
  } finally {
    sigint.dispose();
  }
}
