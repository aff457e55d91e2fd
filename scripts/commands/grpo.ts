/**
 * `grpo`: GRPO over an OpenAI-compatible endpoint (training/grpo/grpo.ts). One config, or both
 * phases with --phases (Phase 2 starts from Phase 1's trained policy). Results go to
 * results/<run-id>/<phase>/ (config.json, metrics.csv, reward.svg|png, reward-functions.svg|png,
 * groups/*.jsonl for the export learner) and checkpoints/<run-id>/<phase>/.
 */
import { join } from 'node:path';
import type { GrpoConfig } from '../../training/grpo/config.js';
import { GRPO_CONFIG_FIELDS, loadGrpoConfig } from '../../training/grpo/config.js';
import { trainGrpo } from '../../training/grpo/grpo.js';
import { isConfigFlag } from '../../training/ppo/config.js';
import { runId as makeRunId } from '../../training/run-io.js';
import { parseOptions, UsageError } from '../args.js';
import { installSigint } from './train.js';

export const GRPO_HELP = `usage: npm run cli -- grpo --config grpo-phase1 --init-from <checkpoint> [options]
       npm run cli -- grpo --phases --init-from <checkpoint> [options]

  --config <c>        grpo-phase1, grpo-phase2, or a JSON/YAML file (default grpo-phase1)
  --phases            run grpo-phase1, then grpo-phase2 from Phase 1's trained policy
  --init-from <dir>   the policy to start from (a PPO or GRPO checkpoint)
  --resume <dir>      continue a GRPO run from its checkpoint (a directory with 'latest', or iter-N)
  --run-id <id>       results/<id>/ and checkpoints/<id>/ (default grpo-<UTC time>)
  --out <dir>         results root (default results); --checkpoints <dir> (default checkpoints)
  --<field> <value>   any config field: --group-size 4 --iterations 10 --learner.type export
                      --endpoint.base-url http://gpu-box:8000/v1 --endpoint.model my-model
                      --learner.trainer-url http://trainer:9000/train --beta 0.04 --backend wasm

The endpoint key comes from API_KEY, HF_TOKEN or OPENAI_API_KEY (never printed).`;

export async function grpoCommand(argv: string[]): Promise<number> {
  const { values: flags, overrides } = parseOptions(
    argv,
    {
      config: 'string',
      phases: 'boolean',
      'init-from': 'string',
      resume: 'string',
      'run-id': 'string',
      out: 'string',
      checkpoints: 'string',
      help: 'boolean',
    },
    {
      acceptsOverride: (name) => isConfigFlag(name, GRPO_CONFIG_FIELDS),
      overrideHint: 'a GRPO config field such as --group-size 4',
    },
  );
  if (flags.help) {
    console.log(GRPO_HELP);
    return 0;
  }
  if (flags.phases && (flags.config !== undefined || flags.resume !== undefined))
    throw new UsageError('--phases runs grpo-phase1 then grpo-phase2: drop --config/--resume');
  const initFrom = flags['init-from'];
  const over = [...overrides, ...(initFrom !== undefined ? [['--init-from', initFrom] as [string, string]] : [])];
  const runId = flags['run-id'] ?? makeRunId('grpo');
  const out = flags.out ?? 'results';
  const ckpts = flags.checkpoints ?? 'checkpoints';
  const sigint = installSigint();
  try {
    const run = async (config: GrpoConfig, resume: string | null) => {
      const result = await trainGrpo({
        config,
        resultsDir: join(out, runId, config.phase),
        checkpointDir: join(ckpts, runId, config.phase),
        resume,
        signal: sigint.signal,
      });
      console.log(
        `${config.phase}: ${result.iterations} iterations${result.interrupted ? ' (interrupted)' : ''}; results ` +
          `${join(out, runId, config.phase)}; checkpoint ` +
          `${result.finalCheckpoint}${result.policyDir ? `; trained policy ${result.policyDir}` : ''}`,
      );
      return result;
    };
    if (flags.phases) {
      const p1 = await run(loadGrpoConfig('grpo-phase1', over), null);
      if (p1.interrupted) return 130;
      if (!p1.policyDir)
        throw new UsageError('--phases needs the tfjs learner (Phase 2 starts from Phase 1’s trained policy)');
      const p2 = await run(loadGrpoConfig('grpo-phase2', [...overrides, ['--init-from', p1.policyDir]]), null);
      return p2.interrupted ? 130 : 0;
    }
    const result = await run(loadGrpoConfig(flags.config ?? 'grpo-phase1', over), flags.resume ?? null);
    return result.interrupted ? 130 : 0;
  } finally {
    sigint.dispose();
  }
}
