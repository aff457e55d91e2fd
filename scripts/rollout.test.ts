/**
 * The rollout determinism tool, as users run it: under tsx (TS sources, workers bootstrapped with
 * tsx) and from compiled JS (tsc output, workers started from worker-entry.js). Every worker count
 * must print the same sha256.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');
const TSC = resolve(ROOT, 'node_modules/.bin/tsc');

function run(cmd: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const rolloutArgs = (env: string, workers: number): string[] => [
  'rollout',
  '--env',
  env,
  '--num-envs',
  '5',
  '--workers',
  String(workers),
  '--steps',
  '60',
  '--seed',
  '9',
];

describe('rollout under tsx', () => {
  it.each(['gov-workflow/cross_department_hard', 'helixdesk/hard'])(
    '%s: the same sha256 for 0, 1, 2 and 3 workers',
    (env) => {
      const outputs = [0, 1, 2, 3].map((w) => run(TSX, ['scripts/cli.ts', ...rolloutArgs(env, w)]));
      for (const o of outputs) {
        expect(o.code).toBe(0);
        expect(o.stdout).toMatch(/^sha256=[0-9a-f]{64}\n$/);
        expect(o.stderr).toMatch(/5 envs × 60 steps = 300 env-steps in [\d.]+ s \(\d+ env-steps\/s/);
      }
      expect(new Set(outputs.map((o) => o.stdout)).size).toBe(1);
      const otherSeed = run(TSX, ['scripts/cli.ts', ...rolloutArgs(env, 0).slice(0, -1), '10']);
      expect(otherSeed.stdout).not.toBe(outputs[0]?.stdout);
    },
  );

  it('rejects a missing or unknown env id, listing the ids', () => {
    const missing = run(TSX, ['scripts/cli.ts', 'rollout']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--env is required/);
    const unknown = run(TSX, ['scripts/cli.ts', 'rollout', '--env', 'gov-workflow/nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /--env: unknown id 'gov-workflow\/nope'; allowed: gov-workflow\/district_backlog_easy, /,
    );
  });
});

describe('rollout from compiled JS', () => {
  const outDir = resolve(ROOT, 'dist');
  beforeAll(() => {
    const build = run(TSC, ['-p', 'tsconfig.build.json', '--outDir', outDir]);
    expect(build.code, build.stdout + build.stderr).toBe(0);
  }, 120_000);

  it('workers start from worker-entry.js and agree with the tsx run', () => {
    const compiled = run(process.execPath, [
      resolve(outDir, 'scripts/cli.js'),
      ...rolloutArgs('gov-workflow/cross_department_hard', 2),
    ]);
    expect(compiled.code, compiled.stderr).toBe(0);
    const viaTsx = run(TSX, ['scripts/cli.ts', ...rolloutArgs('gov-workflow/cross_department_hard', 0)]);
    expect(compiled.stdout).toBe(viaTsx.stdout);
  });
});
