/** probe:heuristic — the heuristic with one rule changed against the unchanged one (training/heuristic-probe.ts). */
import { familyTasks } from '../envs/registry.js';
import { formatDifference } from '../training/comparison.js';
import { probeHeuristic } from '../training/heuristic-probe.js';
import { parseList, parseOptions, parseSeeds, UsageError } from './args.js';

const USAGE = `usage: npm run probe:heuristic -- [--task <list>] [--seeds <list>]

  --task <list>   all, or Gov Workflow tasks (default all three graded ones)
  --seeds <list>  seeds and ranges (default 1000-1029: validation seeds, never in a verdict)`;

try {
  const { values } = parseOptions(process.argv.slice(2), { task: 'string', seeds: 'string', help: 'boolean' });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const tasks = parseList(
    values.task ?? 'district_backlog_easy,mixed_urgency_medium,cross_department_hard',
    familyTasks('gov-workflow'),
    '--task',
  );
  const seeds = parseSeeds(values.seeds ?? '1000-1029');
  const rows = await probeHeuristic(tasks, seeds);
  console.log('| task | heuristic with | score | − heuristic (paired, ± SE) |\n|---|---|---:|---:|');
  for (const r of rows)
    console.log(`| ${r.task} | ${r.variant} | ${r.score.toFixed(4)} | ${formatDifference(r.difference)} |`);
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  console.error(`error: ${e.message}\n\n${USAGE}`);
  process.exit(2);
}
