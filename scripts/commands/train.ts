/**
 * `train`: run one PPO config (`npm run train -- --config gov-phase1`), with any config field
 * overridden by a flag, resumable with --resume. SIGINT finishes the current iteration, saves a
 * checkpoint and exits (code 130); a second SIGINT exits at once.
 */
import { applyOverrides, builtinConfigNames, loadPpoConfig, parsePpoConfig } from '../../training/ppo/config.js';
import { runTraining } from '../../training/pipeline.js';
import { loadCheckpoint } from '../../training/ppo/checkpoint.js';
import { runId as makeRunId } from '../../training/results-io.js';
import { UsageError } from '../args.js';

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

const OWN = new Set(['config', 'resume', 'init-from', 'run-id', 'out', 'checkpoints', 'help']);

/** Splits argv into the command's own flags and config overrides (`--field value` or `--field=value`). */
export function splitFlags(argv: string[], own: ReadonlySet<string>, booleans: ReadonlySet<string> = new Set(['help'])): { flags: Map<string, string>; overrides: [string, string][] } {
  const flags = new Map<string, string>();
  const overrides: [string, string][] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}' (options are --name value)`);
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string;
    if (booleans.has(name)) value = 'true';
    else if (eq > 0) value = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && !/^--?\d/.test(next))) throw new UsageError(`--${name} needs a value`);
      value = next;
      i++;
    }
    if (own.has(name)) flags.set(name, value);
    else overrides.push([`--${name}`, value]);
  }
  return { flags, overrides };
}

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
    process.stderr.write('\nSIGINT: finishing this iteration, then saving a checkpoint (Ctrl-C again to quit at once)\n');
    first = Date.now();
    controller.abort();
  };
  process.on('SIGINT', handler);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', handler) };
}

export async function trainCommand(argv: string[]): Promise<number> {
  const { flags, overrides } = splitFlags(argv, OWN);
  if (flags.has('help')) {
    console.log(TRAIN_HELP);
    return 0;
  }
  const resume = flags.get('resume') ?? null;
  if (resume && flags.has('config')) throw new UsageError('--resume takes the config from the checkpoint; drop --config (override fields with flags)');
  const initFrom = flags.get('init-from');
  const all: [string, string][] = [...overrides, ...(initFrom ? [['--init-from', initFrom] as [string, string]] : [])];
  let config;
  let runId: string;
  if (resume) {
    const ckpt = loadCheckpoint(resume);
    config = parsePpoConfig(applyOverrides(ckpt.state.config as unknown as Record<string, unknown>, all), `${ckpt.dir}/state.json config`);
    // results/<run-id>/<phase> and checkpoints/<run-id>/<phase>: continue in the same run.
    runId = flags.get('run-id') ?? ckpt.dir.split('/').slice(-3, -2)[0] ?? makeRunId(`train-${config.name}`);
  } else {
    config = loadPpoConfig(flags.get('config') ?? 'gov-phase1', all);
    runId = flags.get('run-id') ?? makeRunId(`train-${config.name}`);
  }
  const sigint = installSigint();
  try {
    const result = await runTraining({
      config,
      runId,
      resultsRoot: flags.get('out') ?? 'results',
      checkpointsRoot: flags.get('checkpoints') ?? 'checkpoints',
      resume,
      signal: sigint.signal,
    });
    console.log(`${result.interrupted ? 'stopped' : 'trained'} ${result.numTimesteps} steps (${result.iterations} iterations)`);
    console.log(`results:     ${result.resultsDir}`);
    console.log(`checkpoints: ${result.checkpointDir} (final/last: ${result.finalCheckpoint}${result.bestCheckpoint ? `, best: ${result.bestCheckpoint}` : ''})`);
    console.log(`plots:       ${result.plots.join(', ')}`);
    const dirs = `${flags.has('out') ? ` --out ${flags.get('out')}` : ''}${flags.has('checkpoints') ? ` --checkpoints ${flags.get('checkpoints')}` : ''}`;
    if (result.interrupted) console.log(`resume with: npm run train -- --resume ${result.finalCheckpoint}${dirs}`);
    return sigint.signal.aborted ? 130 : 0;
  } finally {
    sigint.dispose();
  }
}
