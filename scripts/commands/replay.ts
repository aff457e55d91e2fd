/** `replay <trace.json>…`: replay golden Gov Workflow traces; PASS or the first mismatch per file. */
import { formatMismatch, loadTrace, replayTrace } from '../../envs/gov-workflow/trace.js';
import { VARIANTS } from '../../envs/gov-workflow/types.js';
import { replayV1Trace, V1_TRACE_ENV } from '../../envs/gov-workflow/v1/trace.js';
import { parseChoice, parseOptions, UsageError } from '../args.js';

export const REPLAY_HELP = `usage: npm run cli -- replay <trace.json> [more.json …] [--variant reference|corrected]

Replays each gov-workflow-trace/1 file through the env (reference variant by default; a v1 trace,
env "gov-workflow-v1", through the v1 ruleset) and prints "PASS <file> (<n> steps)" or the first
mismatch (step, field path, expected, got).
Exit code 0 when every file passes, 1 otherwise.`;

export function replayCommand(argv: string[]): number {
  const { values, positionals } = parseOptions(argv, { variant: 'string', help: 'boolean' }, { positionals: true });
  if (values.help) {
    console.log(REPLAY_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError(`replay: give at least one trace file\n\n${REPLAY_HELP}`);
  const variant = parseChoice(values.variant ?? 'reference', VARIANTS, '--variant');
  let failed = 0;
  for (const file of positionals) {
    let line: string;
    try {
      const trace = loadTrace(file);
      const result = trace.env === V1_TRACE_ENV ? replayV1Trace(trace) : replayTrace(trace, variant);
      line = result.ok ? `PASS ${file} (${result.steps} steps)` : formatMismatch(file, result.mismatch);
      if (!result.ok) failed++;
    } catch (err) {
      failed++;
      line = `FAIL ${file}: ${(err as Error).message}`;
    }
    console.log(line);
  }
  return failed === 0 ? 0 : 1;
}
