/** The CLI as users run it: a real child process through tsx, checking stdout, stderr and exit codes. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const FIXTURES = resolve(ROOT, '../shared/fixtures/gov-workflow');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(TSX, ['scripts/cli.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('replay', () => {
  it('passes a shipped trace and a second one in the same call', () => {
    const a = join(FIXTURES, 'district_backlog_easy__seed42__mixed_admin.json');
    const b = join(FIXTURES, 'cross_department_hard__seed999__random.json');
    const r = cli('replay', a, b);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`PASS ${a} (135 steps)\nPASS ${b} (143 steps)\n`);
  });

  it('reports the first mismatch of an edited trace and exits 1', () => {
    const trace = JSON.parse(readFileSync(join(FIXTURES, 'mixed_urgency_medium__seed123__advance_only.json'), 'utf8'));
    trace.steps[9].reward_breakdown.sla_penalty -= 1.5;
    const file = join(mkdtempSync(join(tmpdir(), 'queue-rl-')), 'edited.json');
    writeFileSync(file, JSON.stringify(trace));
    const r = cli('replay', file);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(
        `^FAIL ${file}: step 10: reward_breakdown\\.sla_penalty: expected -?\\d+(\\.\\d+)?, got -?\\d+(\\.\\d+)?\\n$`,
      ),
    );
  });

  it('explains a file that is not a trace', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'queue-rl-')), 'not-a-trace.json');
    writeFileSync(file, JSON.stringify({ format: 'something-else' }));
    const r = cli('replay', file);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL .*not a gov-workflow-trace\/1 file: field 'format'/);
  });
});

describe('baseline', () => {
  it('--json prints only per-episode records on stdout, and the tables are written', () => {
    const out = mkdtempSync(join(tmpdir(), 'queue-rl-results-'));
    const r = cli(
      'baseline',
      '--env',
      'gov-workflow',
      '--task',
      'district_backlog_easy,mixed_urgency_medium',
      '--agent',
      'heuristic,random',
      '--seeds',
      '0-1,7',
      '--json',
      '--out',
      out,
    );
    expect(r.code).toBe(0);
    const records = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(records).toHaveLength(2 * 2 * 3);
    expect(Object.keys(records[0] as object)).toEqual([
      'env',
      'task',
      'agent',
      'seed',
      'score',
      'reward',
      'steps',
      'metrics',
    ]);
    expect(records.map((x) => x.seed)).toEqual([0, 1, 7, 0, 1, 7, 0, 1, 7, 0, 1, 7]);
    const [run] = readdirSync(out);
    expect(run).toMatch(/^baseline-gov-workflow-corrected-\d{8}T\d{6}Z$/);
    const dir = join(out, run as string);
    expect(readdirSync(dir).sort()).toEqual(['baseline.csv', 'baseline.md', 'config.json', 'episodes.csv']);
    const csv = readFileSync(join(dir, 'baseline.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^task,agent,episodes,score_mean,score_std,score_min,score_max,completed_mean/);
    expect(csv).toHaveLength(1 + 4);
    // Every column is the mean of the records' own figures (the SLA column reads total_sla_breached).
    const header = (csv[0] as string).split(',');
    const row = (csv[1] as string).split(',');
    const mine = records.filter((x) => x.task === 'district_backlog_easy' && x.agent === 'heuristic') as {
      score: number;
      metrics: Record<string, number>;
    }[];
    const mean = (get: (x: (typeof mine)[number]) => number): number =>
      mine.reduce((a, x) => a + get(x), 0) / mine.length;
    expect(Number(row[header.indexOf('sla_breaches_mean')])).toBeCloseTo(
      mean((x) => x.metrics.total_sla_breached ?? Number.NaN),
      9,
    );
    expect(mean((x) => x.metrics.total_sla_breached ?? 0)).toBeGreaterThan(0);
    expect(Number(row[header.indexOf('completed_mean')])).toBeCloseTo(
      mean((x) => x.metrics.total_completed ?? Number.NaN),
      9,
    );
    expect(Number(row[header.indexOf('score_mean')])).toBeCloseTo(
      mean((x) => x.score),
      9,
    );
    expect(readFileSync(join(dir, 'baseline.md'), 'utf8')).toMatch(
      /\| district_backlog_easy \| heuristic \| 3 \| 0\.\d{4} ± 0\.\d{4} \|/,
    );
  });

  it('helixdesk: graded records per task, the table with min/max, and a config file that propagates', () => {
    const out = mkdtempSync(join(tmpdir(), 'queue-rl-results-'));
    const cfg = join(out, 'six.yaml');
    writeFileSync(cfg, 'env:\n  n_employees: 6\n  episode_emails: 30\n');
    const r = cli(
      'baseline',
      '--env',
      'helixdesk',
      '--task',
      'medium,expert',
      '--agent',
      'rule',
      '--seeds',
      '0-2',
      '--config',
      cfg,
      '--json',
      '--out',
      out,
    );
    expect(r.code).toBe(0);
    const records = JSON.parse(r.stdout) as {
      task: string;
      steps: number;
      score: number;
      metrics: Record<string, number>;
    }[];
    expect(records.map((x) => x.task)).toEqual(['medium', 'medium', 'medium', 'expert', 'expert', 'expert']);
    expect(records.every((x) => x.steps === 30 && x.score >= 0 && x.score <= 1)).toBe(true);
    expect(records[3]?.metrics).toHaveProperty('classify');
    const text = cli('baseline', '--env', 'helixdesk', '--task', 'easy', '--seeds', '0-4', '--out', out);
    expect(text.stdout).toMatch(/easy\s+rule\s+5\s+1\.000 ± 0\.000 \[1\.000, 1\.000\]/);
  });

  it('the same seeds give the same records (reference variant too)', () => {
    const args = [
      'baseline',
      '--task',
      'cross_department_hard',
      '--agent',
      'random',
      '--seeds',
      '3',
      '--variant',
      'reference',
      '--json',
      '--out',
      mkdtempSync(join(tmpdir(), 'queue-rl-')),
    ];
    expect(cli(...args).stdout).toBe(cli(...args).stdout);
  });

  it.each([
    [['--task', 'nope'], /--task: unknown value 'nope'; allowed: all, district_backlog_easy, mixed_urgency_medium/],
    [
      ['--agent', 'genius'],
      /--agent: unknown value 'genius'; allowed: all, urgent_first, oldest_first, backlog_clearance, heuristic, random/,
    ],
    [['--seeds', '3-1'], /--seeds: range '3-1' is empty/],
    [['--seeds', 'x'], /--seeds: 'x' is not a seed/],
    [['--variant', 'fixed'], /--variant: 'fixed' is not allowed; allowed: corrected, reference/],
    [['--env', 'gym'], /--env: 'gym' is not allowed; allowed: gov-workflow, helixdesk/],
    [
      ['--env', 'helixdesk', '--task', 'district_backlog_easy'],
      /--task: unknown value 'district_backlog_easy'; allowed: all, easy, medium, hard, expert/,
    ],
    [['--env', 'helixdesk', '--variant', 'reference'], /--variant applies to gov-workflow only/],
    [['--bogus'], /unknown option --bogus; options: --env, --task, --agent, --seeds/],
    [['--seeds', '-1', '--agent', 'heuristic', '--task', 'district_backlog_easy', '--bogus'], /unknown option --bogus/],
  ])('rejects %j with exit code 2 and a message naming the option', (args, message) => {
    const r = cli('baseline', ...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });
});

it('an unknown command lists the commands', () => {
  const r = cli('trian');
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/unknown command 'trian'; commands: baseline, replay/);
});

describe('serve-env and remote ids', () => {
  it('rollout over a serve-env child process prints the in-process sha256; SIGTERM closes the server', async () => {
    const server = spawn(TSX, ['scripts/cli.ts', 'serve-env', '--env', 'helixdesk', '--port', '0'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)));
    const url = await new Promise<string>((resolveUrl, reject) => {
      let out = '';
      server.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /^serving helixdesk at (http:\/\/127\.0\.0\.1:\d+) \((ws:\/\/127\.0\.0\.1:\d+\/ws)\)$/m.exec(out);
        if (m) resolveUrl(m[2] as string);
      });
      server.once('exit', () => reject(new Error(`serve-env exited: ${out}`)));
    });
    try {
      const args = ['--num-envs', '3', '--steps', '60', '--seed', '4'];
      const local = cli('rollout', '--env', 'helixdesk/medium', ...args);
      const remote = await cliAsync('rollout', '--env', `remote:helixdesk/medium@${url}`, ...args);
      expect(local.code).toBe(0);
      expect(remote.code).toBe(0);
      expect(remote.stdout).toBe(local.stdout);
      expect(remote.stdout).toMatch(/^sha256=[0-9a-f]{64}\n$/);
      expect(remote.stderr).toMatch(/RemoteVectorEnv/);
    } finally {
      server.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('refuses bad settings and remote ids where the agents read JSON state, with exit 2', () => {
    const open = cli('serve-env', '--env', 'gov-workflow', '--host', '0.0.0.0', '--port', '0');
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/--host 0\.0\.0\.0: not a loopback address, and no API key is set/);
    const sessions = cli('serve-env', '--env', 'gov-workflow', '--max-sessions', '0');
    expect(sessions.code).toBe(2);
    expect(sessions.stderr).toMatch(/--max-sessions/);
    const variant = cli('serve-env', '--env', 'helixdesk', '--variant', 'reference');
    expect(variant.code).toBe(2);
    expect(variant.stderr).toMatch(/only gov-workflow has variants/);
    const baseline = cli('baseline', '--env', 'remote:ws://127.0.0.1:1');
    expect(baseline.code).toBe(2);
    expect(baseline.stderr).toMatch(/baseline runs its envs in-process .* evaluate \(--env-servers\)/);
    const url = cli('rollout', '--env', 'remote:ftp://x', '--steps', '1');
    expect(url.code).toBe(1);
    expect(url.stderr).toMatch(/unsupported scheme 'ftp:'/);
  });
});

function cliAsync(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(TSX, ['scripts/cli.ts', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.once('exit', (code) => resolveRun({ code: code ?? -1, stdout, stderr }));
  });
}

describe('the v1 ruleset', () => {
  it("baseline --variant v1 prints the seed document's published table; replay passes the v1 traces", () => {
    const out = mkdtempSync(join(tmpdir(), 'queue-rl-v1-'));
    const r = cli('baseline', '--variant', 'v1', '--agent', 'backlog_clearance', '--task', 'all', '--out', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/variant v1, each task's own seed/);
    expect(r.stdout).toMatch(
      /district_backlog_easy\s+backlog_clearance\s+1\s+0\.6716 ± 0\.0000\s+33 ± 0\s+27 ± 0\s+24 ± 0\s+142\.74/,
    );
    expect(r.stdout).toMatch(
      /mixed_urgency_medium\s+backlog_clearance\s+1\s+0\.5867 ± 0\.0000\s+61 ± 0\s+49 ± 0\s+53 ± 0\s+190\.17/,
    );
    expect(r.stdout).toMatch(
      /cross_department_hard\s+backlog_clearance\s+1\s+0\.6522 ± 0\.0000\s+89 ± 0\s+73 ± 0\s+92 ± 0\s+178\.55/,
    );
    const files = readdirSync(resolve(ROOT, '../shared/fixtures/gov-workflow-v1'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => resolve(ROOT, '../shared/fixtures/gov-workflow-v1', f));
    const replay = cli('replay', ...files);
    expect(replay.code).toBe(0);
    expect(
      replay.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[0]),
    ).toEqual(['PASS', 'PASS', 'PASS']);
  });

  it('refuses v2 agents on v1, and v1 where the RL adapter would need it', () => {
    const agent = cli('baseline', '--variant', 'v1', '--agent', 'heuristic');
    expect(agent.code).toBe(2);
    expect(agent.stderr).toMatch(
      /--variant v1 plays v1's own agents; allowed: urgent_first, oldest_first, backlog_clearance/,
    );
    const rollout = cli('rollout', '--env', 'gov-workflow/district_backlog_easy', '--variant', 'v1');
    expect(rollout.code).toBe(2);
    expect(rollout.stderr).toMatch(/--variant: 'v1'.*corrected, reference/);
  });
});
