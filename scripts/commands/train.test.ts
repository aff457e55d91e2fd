/**
 * `train`, `evaluate` and `pipeline` as users run them, on tiny configs: in-process through the
 * CLI's `main(argv)` (exit codes, files written), and as a real child process (node with tsx's
 * loader) where signals matter (SIGINT saves an 'interrupted' checkpoint and exits 130; --resume continues it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ParameterLayout } from '../../agents/policy/parameters.js';
import { familyTasks } from '../../envs/registry.js';
import { parseGrpoConfig } from '../../training/grpo/config.js';
import { TfjsGrpoLearner } from '../../training/grpo/learners.js';
import { builtinConfigNames, loadPpoConfig, PpoConfigSchema } from '../../training/ppo/config.js';
import { main } from '../cli.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TMP = mkdtempSync(join(tmpdir(), 'queue-rl-train-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** The tiny PPO run every test uses (a few hundred env steps, 16×16 towers, cpu backend). */
const TINY: [string, string][] = [
  ['--net-arch', '16,16'],
  ['--n-steps', '32'],
  ['--n-envs', '2'],
  ['--batch-size', '32'],
  ['--n-epochs', '2'],
  ['--total-timesteps', '256'],
  ['--eval.freq', '128'],
  ['--eval.seeds', '1,2'],
  ['--checkpoint.freq', '128'],
  ['--backend', 'cpu'],
];
const flat = (pairs: readonly (readonly [string, string])[]): string[] => pairs.flat();
const withFlag = (pairs: readonly [string, string][], flag: string, value: string): [string, string][] =>
  pairs.map(([k, v]) => [k, k === flag ? value : v]);

/** Runs the CLI in this process, capturing what it prints (console and the trainer's stderr lines). */
async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const text = (args: unknown[]): string => `${args.map(String).join(' ')}\n`;
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    stdout += text(args);
  });
  const error = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    stderr += text(args);
  });
  const write = vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write);
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
  }
}

const readJson = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
const csvLines = (path: string): string[] => readFileSync(path, 'utf8').trim().split('\n');
const isPng = (path: string): boolean =>
  readFileSync(path)
    .subarray(0, 8)
    .equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

/** Set by the first test: the finished run's final checkpoint (evaluated below). */
let finalCheckpoint: string | null = null;

describe('train', () => {
  it('runs a config with overrides: results, curves, checkpoints and an echoed config', async () => {
    const out = join(TMP, 'results');
    const ckpts = join(TMP, 'checkpoints');
    const r = await run([
      'train',
      '--config',
      'gov-phase1',
      '--run-id',
      'tiny',
      '--out',
      out,
      '--checkpoints',
      ckpts,
      ...flat(TINY),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const phase = join(ckpts, 'tiny', 'phase1');
    if (existsSync(join(phase, 'final', 'state.json'))) finalCheckpoint = join(phase, 'final');
    expect(r.stdout).toMatch(/^trained 256 steps \(4 iterations\)$/m);

    const results = join(out, 'tiny', 'phase1');
    for (const f of [
      'config.json',
      'metrics.csv',
      'eval.csv',
      'reward.png',
      'reward.svg',
      'score.png',
      'score.svg',
      'baselines.csv',
    ])
      expect(existsSync(join(results, f)), f).toBe(true);
    expect(isPng(join(results, 'reward.png'))).toBe(true);
    expect(isPng(join(results, 'score.png'))).toBe(true);
    expect(readFileSync(join(results, 'score.svg'), 'utf8')).toMatch(/<svg[\s>]/);

    const metrics = csvLines(join(results, 'metrics.csv'));
    const header = (metrics[0] as string).split(',');
    for (const name of [
      'time/iterations',
      'time/total_timesteps',
      'time/fps',
      'rollout/ep_rew_mean',
      'rollout/ep_len_mean',
      'train/approx_kl',
      'train/clip_fraction',
      'train/entropy_loss',
      'train/explained_variance',
      'train/policy_gradient_loss',
      'train/value_loss',
      'train/learning_rate',
      'train/n_updates',
    ]) {
      expect(header).toContain(name);
    }
    expect(metrics).toHaveLength(1 + 4); // 256 steps / (32 steps × 2 envs)
    const steps = header.indexOf('time/total_timesteps');
    expect(metrics.slice(1).map((l) => Number(l.split(',')[steps]))).toEqual([64, 128, 192, 256]);

    const evals = csvLines(join(results, 'eval.csv'));
    expect((evals[0] as string).split(',')).toContain('eval/grader_score');
    expect(evals.slice(1).map((l) => Number(l.split(',')[0]))).toEqual([128, 256]); // eval.freq 128

    // config.json: every field of the resolved config, overrides included.
    const config = readJson(join(results, 'config.json'));
    const expected = loadPpoConfig('gov-phase1', TINY) as unknown as Record<string, unknown>;
    for (const key of Object.keys(PpoConfigSchema.shape)) {
      expect(config, key).toHaveProperty(key);
      if (key === 'backend')
        expect((config.backend as { backend: string }).backend).toBe('cpu'); // replaced by the resolved backend
      else expect(config[key], key).toEqual(expected[key]);
    }
    expect(config).toMatchObject({
      name: 'gov-phase1',
      n_steps: 32,
      n_envs: 2,
      batch_size: 32,
      n_epochs: 2,
      total_timesteps: 256,
      net_arch: { pi: [16, 16], vf: [16, 16] },
      eval: { freq: 128, seeds: [1, 2] },
      checkpoint: { freq: 128 },
    });

    expect(readFileSync(join(phase, 'latest'), 'utf8').trim()).toBe('final');
    const state = readJson(join(phase, 'final', 'state.json'));
    expect(state).toMatchObject({ kind: 'final', numTimesteps: 256, phase: 'phase1' });
    for (const f of ['model.json', 'weights.bin', 'optimizer.bin', 'env-state.bin'])
      expect(existsSync(join(phase, 'final', f)), f).toBe(true);
    expect(readJson(join(phase, 'best', 'state.json')).kind).toBe('best');
  });

  it.each([
    [
      ['--n-stepz', '3'],
      [/unknown option --n-stepz/, /config field: .*--n-steps, .*--batch-size, .*--net-arch/],
    ],
    [
      ['--eval.frq', '3'],
      [/eval\.frq/, /freq, seeds, tasks, deterministic/],
    ],
    [
      ['--activation-fn', 'gelu'],
      [/activation_fn/, /allowed: tanh, relu/],
    ],
    [
      ['--batch-size', '1000'],
      [/batch_size/, /n_steps × n_envs = 64/],
    ],
    [
      ['--config', 'no-such'],
      [/'no-such' was not found/, new RegExp(`built-in config: ${builtinConfigNames().join(', ')}`)],
    ],
    [['--n-steps'], [/--n-steps needs a value/]],
    [['stray'], [/unexpected argument 'stray'/]],
  ])('rejects %j with a message naming the field and what is allowed', async (args, messages) => {
    const out = join(TMP, 'bad');
    const r = await run([
      'train',
      '--run-id',
      'bad',
      '--out',
      out,
      '--checkpoints',
      out,
      ...flat(TINY.filter(([k]) => !args.includes(k))),
      ...args,
    ]);
    expect([1, 2]).toContain(r.code);
    for (const m of messages) expect(r.stderr).toMatch(m);
    expect(existsSync(out)).toBe(false); // nothing trained, nothing written
  });

  it(
    'SIGINT finishes the iteration, saves an interrupted checkpoint and exits 130; --resume continues ' + 'the run',
    async () => {
      const out = join(TMP, 'sig-results');
      const ckpts = join(TMP, 'sig-checkpoints');
      const args = [
        '--import',
        'tsx',
        'scripts/cli.ts',
        'train',
        '--run-id',
        'sig',
        '--out',
        out,
        '--checkpoints',
        ckpts,
        ...flat(
          withFlag(
            withFlag(withFlag(TINY, '--total-timesteps', '200000'), '--eval.freq', '0'),
            '--checkpoint.freq',
            '0',
          ),
        ),
      ];
      // One node process with tsx's loader: the signal goes straight to the CLI. (The tsx binary is a
      // wrapper that relays SIGINT to its node child and SIGKILLs it unless the child acknowledges
      // within ~60 ms, which makes a loaded machine, not the CLI, decide the outcome.) Own process
      // group, so a failing test can kill whatever it started.
      const child = spawn(process.execPath, args, {
        cwd: ROOT,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NO_COLOR: '1' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
        child.on('exit', (code, signal) => done({ code, signal })),
      );
      const waitFor = async (what: () => boolean, ms: number): Promise<boolean> => {
        for (const end = Date.now() + ms; Date.now() < end; ) {
          if (what()) return true;
          if (child.exitCode !== null || child.signalCode !== null) return what();
          await new Promise((r) => setTimeout(r, 25));
        }
        return what();
      };
      try {
        expect(
          await waitFor(() => /^\[ppo\] it \d+ /m.test(stderr), 30_000),
          `no training iteration logged:\n${stderr}`,
        ).toBe(true);
        child.kill('SIGINT');
        const exit = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
        expect(exit, `still running 10 s after SIGINT:\n${stderr.slice(-600)}`).not.toBeNull();
        expect(exit).toEqual({ code: 130, signal: null });
      } finally {
        if (child.exitCode === null && child.signalCode === null && child.pid !== undefined)
          process.kill(-child.pid, 'SIGKILL');
      }
      expect(stderr).toMatch(/SIGINT: finishing this iteration, then saving a checkpoint/);
      const phase = join(ckpts, 'sig', 'phase1');
      const latest = readFileSync(join(phase, 'latest'), 'utf8').trim();
      expect(latest).toMatch(/^step-\d{9}$/);
      const stopped = join(phase, latest);
      expect(stdout).toContain(`resume with: npm run train -- --resume ${stopped}`);
      const state = readJson(join(stopped, 'state.json'));
      expect(state.kind).toBe('interrupted');
      const at = state.numTimesteps as number;
      expect(at).toBe(Number(latest.slice('step-'.length)));
      expect(at).toBeGreaterThan(0);
      expect(at).toBeLessThan(200_000);
      expect(at % 64).toBe(0); // whole iterations only
      const metricsFile = join(out, 'sig', 'phase1', 'metrics.csv');
      const before = csvLines(metricsFile);
      expect(before).toHaveLength(1 + at / 64);

      // Resume in-process, one more iteration; the run id comes from the checkpoint's path.
      const r = await run([
        'train',
        '--resume',
        stopped,
        '--total-timesteps',
        String(at + 64),
        '--out',
        out,
        '--checkpoints',
        ckpts,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`resumed from ${stopped} at ${at} steps`);
      expect(readFileSync(join(phase, 'latest'), 'utf8').trim()).toBe('final');
      expect(readJson(join(phase, 'final', 'state.json'))).toMatchObject({ kind: 'final', numTimesteps: at + 64 });
      const after = csvLines(metricsFile);
      expect(after).toHaveLength(before.length + 1);
      expect(after.slice(0, before.length)).toEqual(before);
      const steps = (after[0] as string).split(',').indexOf('time/total_timesteps');
      expect(Number((after[after.length - 1] as string).split(',')[steps])).toBe(at + 64);
      expect(readJson(join(out, 'sig', 'phase1', 'config.json')).total_timesteps).toBe(at + 64);
    },
  );

  it('--resume refuses --config and changed training fields', async () => {
    expect(finalCheckpoint, 'the first test must run first').not.toBeNull();
    const out = join(TMP, 'resume-bad');
    const withConfig = await run([
      'train',
      '--resume',
      finalCheckpoint as string,
      '--config',
      'gov-phase1',
      '--out',
      out,
      '--checkpoints',
      out,
    ]);
    expect(withConfig.code).toBe(2);
    expect(withConfig.stderr).toMatch(/--resume takes the config from the checkpoint; drop --config/);
    const changed = await run([
      'train',
      '--resume',
      finalCheckpoint as string,
      '--learning-rate',
      '1e-4',
      '--total-timesteps',
      '320',
      '--out',
      out,
      '--checkpoints',
      out,
    ]);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(
      /learning_rate = 0\.0003, this run asks for 0\.0001; only total_timesteps, eval, checkpoint, .*may change/,
    );
  });
});

describe('evaluate', () => {
  it('a checkpoint next to every baseline agent, written as CSV and Markdown', async () => {
    expect(finalCheckpoint, 'the first test must run first').not.toBeNull();
    const out = join(TMP, 'evaluate');
    const r = await run([
      'evaluate',
      '--checkpoint',
      finalCheckpoint as string,
      '--env',
      'gov-workflow',
      '--task',
      'district_backlog_easy',
      '--seeds',
      '100-101',
      '--backend',
      'cpu',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [runDir, ...others] = readdirSync(out);
    expect(others).toEqual([]);
    expect(runDir).toMatch(/^evaluate-gov-workflow-\d{8}T\d{6}Z$/);
    const dir = join(out, runDir as string);
    expect(readdirSync(dir).sort()).toEqual(['episodes.csv', 'evaluation.csv', 'evaluation.md']);

    const agents = ['ppo', 'urgent_first', 'oldest_first', 'backlog_clearance', 'heuristic', 'random'];
    const csv = csvLines(join(dir, 'evaluation.csv'));
    const header = (csv[0] as string).split(',');
    expect(header.slice(0, 3)).toEqual(['task', 'agent', 'episodes']);
    expect(header).toContain('score_mean');
    expect(header).toContain('invalid_action_rate_mean');
    expect(csv.slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual(
      agents.map((a) => `district_backlog_easy,${a},2`),
    );

    const md = readFileSync(join(dir, 'evaluation.md'), 'utf8');
    expect(md).toMatch(/^\| task \| agent \| episodes \| score \|.*\| invalid actions \|/m);
    for (const a of agents)
      expect(md).toMatch(
        new RegExp(`^\\| district_backlog_easy \\| ${a} \\| 2 \\| \\d\\.\\d{4} ± \\d\\.\\d{4} \\|`, 'm'),
      );
    expect(csvLines(join(dir, 'episodes.csv'))).toHaveLength(1 + agents.length * 2);
    expect(r.stdout).toMatch(/district_backlog_easy\s+ppo\s+2\s/);
  });

  it('a bad --task lists the tasks', async () => {
    expect(finalCheckpoint, 'the first test must run first').not.toBeNull();
    const out = join(TMP, 'evaluate-bad');
    const r = await run(['evaluate', '--checkpoint', finalCheckpoint as string, '--task', 'nope', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--task: unknown value 'nope'; allowed: all, ${familyTasks('gov-workflow').join(', ')}`);
    expect(existsSync(out)).toBe(false);
  });
});

describe('pipeline', () => {
  it('Gov Phase 1 → 2 and HelixDesk per task → evaluation → summary.md with the verdict and curves', async () => {
    const out = join(TMP, 'pipeline');
    const ckpts = join(TMP, 'pipeline-checkpoints');
    const tiny = [
      ...['--total-timesteps', '128', '--net-arch', '8,8', '--n-steps', '32', '--n-envs', '2'],
      ...['--batch-size', '32', '--n-epochs', '1', '--eval.freq', '64', '--eval.seeds', '1', '--backend', 'cpu'],
      ...['--imitation.episodes', '1', '--imitation.epochs', '1'],
    ];
    const r = await run([
      'pipeline',
      ...['--run-id', 'pipe', '--out', out, '--checkpoints', ckpts],
      ...['--seeds', '100,101', '--search-seeds', '100', '--task', 'district_backlog_easy'],
      ...['--helixdesk-task', 'easy,expert'],
      ...tiny,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const runDir = join(out, 'pipe');
    expect(r.stdout).toContain(`summary: ${join(runDir, 'summary.md')}`);
    const summary = readFileSync(join(runDir, 'summary.md'), 'utf8');
    expect(summary).toContain(
      '| env | task | final policy | best rule agent | final − best rule (paired, ± SE) | final ≥ best rule | ' +
        'search agent |',
    );
    const row = (env: string, task: string, rule: string, search: string): RegExp =>
      new RegExp(
        `^\\| ${env} \\| ${task} \\| \\d\\.\\d{4} ± \\d\\.\\d{4} \\| (${rule}) \\d\\.\\d{4} ± \\d\\.\\d{4} ` +
          `\\| [+−]\\d\\.\\d{4} ± \\d\\.\\d{4} \\| (yes|yes \\(> 2 SE\\)|no) \\| ${search} \\|$`,
        'm',
      );
    expect(summary).toMatch(
      row(
        'gov-workflow',
        'district_backlog_easy',
        'urgent_first|oldest_first|backlog_clearance|heuristic',
        '0\\.\\d{4} \\(1 seeds\\)',
      ),
    );
    for (const task of ['easy', 'expert']) expect(summary).toMatch(row('helixdesk', task, 'rule', '—'));
    expect(summary).toMatch(/phase1: `gov-main-phase1`, 128 steps on .*, warm start: imitation of heuristic/);
    expect(summary).toMatch(/helixdesk-expert: `helixdesk-main`, 128 steps on expert, warm start: imitation of rule/);
    expect(summary).toMatch(/Wall time \d+\.\d min; peak memory \d+ MB \(max resident set/);
    // Image links resolve relative to summary.md.
    const images = [...summary.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1] as string);
    expect(images).toEqual(
      expect.arrayContaining(['phase1/score.png', 'phase2/reward.png', 'helixdesk-easy/score.png']),
    );
    for (const img of images) expect(isPng(join(dirname(join(runDir, 'summary.md')), img)), img).toBe(true);
    const episodes = readFileSync(join(runDir, 'episodes.csv'), 'utf8');
    for (const agent of ['ppo-final', 'ppo-phase1-final', 'warm-start', 'heuristic', 'random', 'search'])
      expect(episodes).toContain(`,${agent},`);
    expect(readJson(join(ckpts, 'pipe', 'phase2', 'final', 'state.json'))).toMatchObject({
      kind: 'final',
      phase: 'phase2',
      numTimesteps: 128,
    });
    expect(readJson(join(runDir, 'phase2', 'config.json')).init_from).toBe(join(ckpts, 'pipe', 'phase1', 'final'));
    expect(readJson(join(runDir, 'helixdesk-expert', 'config.json'))).toMatchObject({
      env: { id: 'helixdesk/expert' },
    });
  }, 120_000);
});

describe('pipeline with Gov Phase 2 per task', () => {
  it('trains one Phase 2 specialist per task (from Phase 1, or from its own clone), judged on its own', async () => {
    const out = join(TMP, 'pipeline-per-task');
    const ckpts = join(TMP, 'pipeline-per-task-checkpoints');
    const tasks = ['district_backlog_easy', 'cross_department_hard'];
    const r = await run([
      'pipeline',
      ...['--run-id', 'spec', '--out', out, '--checkpoints', ckpts, '--env', 'gov-workflow'],
      ...['--seeds', '100,101', '--search-seeds', '100', '--task', tasks.join(','), '--gov-phase2-per-task'],
      ...['--total-timesteps', '128', '--net-arch', '8,8', '--n-steps', '32', '--n-envs', '2'],
      ...['--batch-size', '32', '--n-epochs', '1', '--eval.freq', '64', '--eval.seeds', '1', '--backend', 'cpu'],
      ...['--imitation.episodes', '1', '--imitation.epochs', '1'],
      ...['--gov-phase2-task', 'cross_department_hard=gov-main-phase2-full-hard'],
    ]);
    expect(r.code, r.stderr).toBe(0);
    const runDir = join(out, 'spec');
    const narrowed = (task: string) => ({
      phase: `phase2-${task}`,
      curriculum: [{ until: 1, weights: { [task]: 1 } }],
      eval: { tasks: [task] },
    });
    expect(readJson(join(runDir, 'phase2-district_backlog_easy', 'config.json'))).toMatchObject({
      ...narrowed('district_backlog_easy'),
      name: 'gov-main-phase2',
      init_from: join(ckpts, 'spec', 'phase1', 'final'),
      init_from_agent: null,
    });
    // Hard's own config names a warm start: it clones the heuristic on hard instead of starting from Phase 1.
    const hardConfig = readJson(join(runDir, 'phase2-cross_department_hard', 'config.json'));
    expect(hardConfig).toMatchObject({
      ...narrowed('cross_department_hard'),
      name: 'gov-main-phase2-full-hard',
      init_from_agent: 'heuristic',
      imitation: { entropy_coef: 0.3, episodes: 1 },
      env: { options: { adapter: 'v3' } },
    });
    expect(hardConfig.init_from ?? null).toBeNull();
    expect(existsSync(join(ckpts, 'spec', 'phase2-cross_department_hard', 'warm-start'))).toBe(true);
    expect(existsSync(join(runDir, 'phase2'))).toBe(false);
    const summary = readFileSync(join(runDir, 'summary.md'), 'utf8');
    expect(summary).toMatch(
      /^- phase2-district_backlog_easy: `gov-main-phase2`, 128 steps on district_backlog_easy, from Phase 1/m,
    );
    const hardLine = summary.split('\n').find((l) => l.startsWith('- phase2-cross_department_hard:'));
    expect(hardLine).toMatch(/`gov-main-phase2-full-hard`, 128 steps on cross_department_hard, warm start: imitation/);
    expect(hardLine).not.toMatch(/from Phase 1/);
    for (const task of tasks)
      expect(summary).toMatch(new RegExp(`^\\| gov-workflow \\| ${task} \\| \\d\\.\\d{4}`, 'm'));
    // Each task's ppo-final is its own specialist: the same checkpoint played standalone gives the same scores.
    const episodes = readFileSync(join(runDir, 'episodes.csv'), 'utf8').trim().split('\n');
    const head = (episodes[0] as string).split(',');
    const col = (name: string): number => head.indexOf(name);
    const finals = episodes
      .slice(1)
      .map((l) => l.split(','))
      .filter((c) => c[col('agent')] === 'ppo-final');
    expect(finals.map((c) => `${c[col('task')]}/${c[col('seed')]}`).sort()).toEqual(
      tasks.flatMap((t) => [`${t}/100`, `${t}/101`]).sort(),
    );
    const hardDir = join(ckpts, 'spec', 'phase2-cross_department_hard');
    const hard = await run([
      'evaluate',
      ...['--checkpoint', `ppo-final=${join(hardDir, 'final')},warm-start=${join(hardDir, 'warm-start')}`],
      ...['--task', 'cross_department_hard', '--seeds', '100,101', '--agent', 'none', '--backend', 'cpu'],
      ...['--out', join(TMP, 'per-task-eval')],
    ]);
    expect(hard.code, hard.stderr).toBe(0);
    const evalDir = join(TMP, 'per-task-eval', readdirSync(join(TMP, 'per-task-eval'))[0] as string);
    const alone = readFileSync(join(evalDir, 'episodes.csv'), 'utf8').trim().split('\n');
    const aloneHead = (alone[0] as string).split(',');
    const scoresAlone = alone.slice(1).map((l) => {
      const c = l.split(',');
      return `${c[aloneHead.indexOf('agent')]}/${c[aloneHead.indexOf('seed')]}:${c[aloneHead.indexOf('score')]}`;
    });
    // Hard's ppo-final and warm-start rows are its own specialist and its own clone.
    const scoresInJob = episodes
      .slice(1)
      .map((l) => l.split(','))
      .filter(
        (c) =>
          c[col('task')] === 'cross_department_hard' && ['ppo-final', 'warm-start'].includes(c[col('agent')] ?? ''),
      )
      .map((c) => `${c[col('agent')]}/${c[col('seed')]}:${c[col('score')]}`);
    expect(scoresInJob).toHaveLength(4);
    expect(scoresAlone.sort()).toEqual(scoresInJob.sort());
  }, 120_000);
});

describe('bad input and damaged checkpoints', () => {
  /** A copy of the finished run's final checkpoint, to damage. */
  const copyFinal = (name: string): string => {
    expect(finalCheckpoint, 'the first test must run first').not.toBeNull();
    const dir = join(TMP, 'damaged', name);
    cpSync(finalCheckpoint as string, dir, { recursive: true });
    return dir;
  };
  const evaluateArgs = (dir: string): string[] => [
    'evaluate',
    '--checkpoint',
    dir,
    '--task',
    'district_backlog_easy',
    '--seeds',
    '100',
    '--agent',
    'none',
    '--backend',
    'cpu',
    '--out',
    join(TMP, 'damaged-out'),
  ];

  it('evaluate reads GRPO policy checkpoints, and PPO checkpoints without optimizer.bin', async () => {
    const learner = new TfjsGrpoLearner({
      config: parseGrpoConfig({ init_from: finalCheckpoint, backend: 'cpu' }),
      checkpointDir: join(TMP, 'grpo'),
      serverUrl: null,
    });
    const grpoPolicy = join(TMP, 'grpo', 'iter-000002', 'policy');
    learner.writePolicy(grpoPolicy, 2);
    await learner.close();
    const grpo = await run([
      'evaluate',
      '--checkpoint',
      `grpo=${grpoPolicy}`,
      '--task',
      'district_backlog_easy',
      '--seeds',
      '100-101',
      '--agent',
      'heuristic',
      '--backend',
      'cpu',
      '--out',
      join(TMP, 'eval-grpo'),
    ]);
    expect(grpo.code, grpo.stderr).toBe(0);
    expect(grpo.stdout).toMatch(/district_backlog_easy\s+grpo\s+2\s/);
    const noOptimizer = copyFinal('no-optimizer');
    rmSync(join(noOptimizer, 'optimizer.bin'));
    rmSync(join(noOptimizer, 'env-state.bin'));
    const ppo = await run(evaluateArgs(noOptimizer));
    expect(ppo.code, ppo.stderr).toBe(0);
    expect(ppo.stdout).toMatch(/district_backlog_easy\s+ppo\s+1\s/);
  });

  it('damaged checkpoints are refused, naming the file and the problem (never quoting it)', async () => {
    const garbageModel = copyFinal('garbage-model');
    writeFileSync(join(garbageModel, 'model.json'), 'root:x:0:0:root:/root:/bin/bash');
    const nan = copyFinal('nan');
    const w = readFileSync(join(nan, 'weights.bin'));
    w.writeFloatLE(Number.POSITIVE_INFINITY, 0);
    writeFileSync(join(nan, 'weights.bin'), w);
    const wrongShape = copyFinal('wrong-shape'); // 32×32 weights under this run's 16×16 model.json
    const big = new ParameterLayout({ observationSize: 163, nvec: [31] }, { pi: [32, 32], vf: [32, 32] });
    writeFileSync(join(wrongShape, 'weights.bin'), Buffer.from(new Float32Array(big.size).buffer));
    const cases: [string, RegExp][] = [
      [garbageModel, /garbage-model\/model\.json: is not valid JSON$/m],
      [nan, /nan\/weights\.bin: 'pi_0\/kernel' holds Infinity at index 0/],
      [wrongShape, /wrong-shape\/weights\.bin: holds \d+ float32 values; model\.json's manifest lists \d+/],
    ];
    for (const [dir, message] of cases) {
      const r = await run(evaluateArgs(dir));
      expect(r.code, dir).toBe(1);
      expect(r.stderr, dir).toMatch(message);
      expect(r.stderr).not.toContain('root:x');
    }
    const truncatedEnv = copyFinal('truncated-env');
    writeFileSync(
      join(truncatedEnv, 'env-state.bin'),
      readFileSync(join(truncatedEnv, 'env-state.bin')).subarray(0, 40),
    );
    const resumeEnv = await run([
      'train',
      '--resume',
      truncatedEnv,
      '--total-timesteps',
      '320',
      '--out',
      join(TMP, 'damaged-out'),
      '--checkpoints',
      join(TMP, 'damaged-ckpt'),
    ]);
    expect(resumeEnv.code).toBe(1);
    expect(resumeEnv.stderr).toMatch(
      /truncated-env\/env-state\.bin: is not a vector-env snapshot \(truncated or corrupt\)/,
    );
    const resumeShape = await run([
      'train',
      '--resume',
      wrongShape,
      '--total-timesteps',
      '320',
      '--out',
      join(TMP, 'damaged-out'),
      '--checkpoints',
      join(TMP, 'damaged-ckpt'),
    ]);
    expect(resumeShape.code).toBe(1);
    expect(resumeShape.stderr).toMatch(/wrong-shape\/weights\.bin: holds/);
  });

  it.each([
    [['train', '--seed', '-1'], /seed.*allowed: a value >= 0/],
    [['train', '--total-timesteps', '0'], /total_timesteps.*allowed: a value > 0/],
    [['train', '--n-envs', '5000'], /n_envs.*allowed: a value <= 4096/],
    [['train', '--workers', '-3'], /workers.*allowed: a value >= 0/],
    [
      ['train', '--n-steps', '1048576', '--n-envs', '4'],
      /n_steps × n_envs = 4194304 samples per rollout is more than the 1048576 allowed/,
    ],
    [['pipeline', '--frobnicate'], /unknown option --frobnicate; options: --full/],
    [['pipeline', '--seeds', '-1', '--frobnicate', '2'], /unknown option --frobnicate/],
    [['pipeline', '--gov-phase2-task', 'cross_department_hard=gov-main-phase2'], /needs --gov-phase2-per-task/],
    [
      ['pipeline', '--gov-phase2-per-task', '--gov-phase2-task', 'cross_department_hard'],
      /--gov-phase2-task: 'cross_department_hard' is not <task>=<config>/,
    ],
    [
      ['pipeline', '--gov-phase2-per-task', '--gov-phase2-task', 'hardest=gov-main-phase2'],
      /--gov-phase2-task: 'hardest' is not one of the job's Gov tasks; allowed: district_backlog_easy, /,
    ],
    [
      [
        'pipeline',
        '--gov-phase2-per-task',
        '--task',
        'district_backlog_easy',
        '--gov-phase2-task',
        'cross_department_hard=x',
      ],
      /--gov-phase2-task: 'cross_department_hard' is not one of the job's Gov tasks; allowed: district_backlog_easy$/m,
    ],
    [
      ['pipeline', '--gov-phase2-per-task', '--gov-phase2-task', 'mixed_urgency_medium=a,mixed_urgency_medium=b'],
      /'mixed_urgency_medium' is given twice/,
    ],
    [
      ['pipeline', '--full', '--gov-phase2-task', 'mixed_urgency_medium=gov-main-phase2'],
      /--full picks the configs; drop .*--gov-phase2-task/,
    ],
    [['inference', '--temperature', '-1'], /--temperature: '-1' is not allowed; allowed: a number in \[0, 2\]/],
    [
      ['rollout', '--env', 'gov-workflow/district_backlog_easy', '--num-envs', '2000000'],
      /--num-envs: 2000000 is out of range; allowed: an integer in 1…4096/,
    ],
    [['rollout', '--env', 'gov-workflow/district_backlog_easy', '--num-envs', '-3'], /--num-envs: -3 is out of range/],
    [
      ['rollout', '--env', 'gov-workflow/district_backlog_easy', '--workers', '65'],
      /--workers: 65 is out of range; allowed: an integer in 0…64/,
    ],
    [
      ['serve-policy', '--agent', 'heuristic', '--env', 'gov-workflow', '--max-body', '100000000'],
      /--max-body: 100000000 is out of range; allowed: an integer in 1…67,108,864/,
    ],
    [
      ['serve-policy', '--agent', 'heuristic', '--env', 'gov-workflow', '--host', '0.0.0.0'],
      /--host 0\.0\.0\.0: not a loopback address, and no API key is set/,
    ],
    [
      ['serve-policy', '--agent', 'heuristic', '--env', 'gov-workflow', '--allow-load-weights', '.'],
      /--allow-load-weights needs a server started from --checkpoint/,
    ],
  ])('%j: a usage error naming the option and its range (exit 2)', async (args, message) => {
    const out = join(TMP, 'limits');
    const r = await run([...args, ...(args[0] === 'train' ? ['--out', out, '--checkpoints', out] : [])]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('a run removes what killed runs left (never a live process’s), puts back a checkpoint moved aside', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number; // exited: its pid is free
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const out = join(TMP, 'stale-results');
      const ckpts = join(TMP, 'stale-checkpoints');
      const phase = join(ckpts, 'stale', 'phase1');
      mkdirSync(join(phase, `.step-000000064.tmp-${dead}-1000`), { recursive: true });
      mkdirSync(join(phase, `.best.old-${dead}-1000`));
      writeFileSync(join(phase, `.best.old-${dead}-1000`, 'state.json'), '{}');
      mkdirSync(join(phase, `.final.tmp-${sleeper.pid}-1000`)); // a live writer: left alone
      mkdirSync(join(phase, `.step-000000128.tmp-${process.pid}-1000`)); // this process, long ago: stale
      mkdirSync(join(out, 'stale', 'phase1'), { recursive: true });
      writeFileSync(join(out, 'stale', 'phase1', `.${dead}.1000.abc.tmp`), 'half a CSV');
      const r = await run([
        'train',
        '--run-id',
        'stale',
        '--out',
        out,
        '--checkpoints',
        ckpts,
        ...flat(withFlag(TINY, '--total-timesteps', '64')),
        '--eval.freq',
        '0',
        '--checkpoint.freq',
        '0',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/\[run\] restored .*phase1\/best: a killed run had moved it aside/);
      expect(
        readdirSync(phase)
          .filter((n) => n.startsWith('.'))
          .sort(),
      ).toEqual([`.final.tmp-${sleeper.pid}-1000`]);
      expect(readdirSync(join(out, 'stale', 'phase1')).filter((n) => n.startsWith('.'))).toEqual([]);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});
