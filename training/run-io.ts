/**
 * Run I/O for PPO, GRPO and the learners, in one place: files and checkpoint directories written
 * atomically (a temporary sibling renamed into place, so a crash never leaves half a file), the
 * `latest` pointer, keep-last pruning, clean-up after killed runs, run ids and the package version.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function writeFileAtomic(path: string, contents: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    writeFileSync(tmp, contents);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Writes a directory atomically: `fill(tmp)` writes into a temporary sibling, which then takes the
 * place of `dir`. An existing `dir` is moved aside first and removed last; if the process dies in
 * between, removeStaleTemporaries puts it back at the next run's start.
 */
export function writeDirAtomic(dir: string, fill: (tmp: string) => void): void {
  const parent = dirname(dir);
  const stamp = `${process.pid}-${Date.now()}`;
  const tmp = join(parent, `.${basename(dir)}.tmp-${stamp}`);
  mkdirSync(parent, { recursive: true });
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  const old = join(parent, `.${basename(dir)}.old-${stamp}`);
  let movedAside = false;
  try {
    fill(tmp);
    if (existsSync(dir)) {
      renameSync(dir, old);
      movedAside = true;
    }
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (movedAside && !existsSync(dir)) renameSync(old, dir);
    throw err;
  }
  if (movedAside) rmSync(old, { recursive: true, force: true });
}

/**
 * Temporary names this project writes: `.<name>.tmp-<pid>-<ms>` (a checkpoint directory being
 * written), `.<name>.old-<pid>-<ms>` (the checkpoint it replaces, until the new one is in place) and
 * `.<pid>.<ms>.<random>.tmp` (writeFileAtomic).
 */
const CHECKPOINT_TEMP = /^\.(.+)\.(tmp|old)-(\d+)-(\d+)$/;
const FILE_TEMP = /^\.(\d+)\.(\d+)\.[a-z0-9]*\.tmp$/;

/** Whether a process with this pid runs (EPERM: it does, as another user). */
function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Cleans what a killed run (kill -9, power loss) left in `dirs`: temporaries of processes that no
 * longer run, and of this process from before `startedAt` (its writes are synchronous, so none is in
 * progress). A `.X.old-…` whose X is missing — killed between moving the old checkpoint aside and
 * putting the new one in place — is renamed back to X, so `latest` points at a whole checkpoint
 * again. Temporaries of live processes (another run writing here) are left alone.
 */
export function removeStaleTemporaries(
  dirs: readonly string[],
  options: { startedAt?: number; log?: (line: string) => void } = {},
): { removed: string[]; restored: string[] } {
  const startedAt = options.startedAt ?? Date.now();
  const removed: string[] = [];
  const restored: string[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir)) {
      const checkpoint = CHECKPOINT_TEMP.exec(name);
      const file = checkpoint ? null : FILE_TEMP.exec(name);
      const pid = Number(checkpoint ? checkpoint[3] : file?.[1]);
      const ms = Number(checkpoint ? checkpoint[4] : file?.[2]);
      if ((!checkpoint && !file) || ms >= startedAt || (pid !== process.pid && processAlive(pid))) continue;
      const path = join(dir, name);
      if (checkpoint && checkpoint[2] === 'old' && !existsSync(join(dir, checkpoint[1] as string))) {
        renameSync(path, join(dir, checkpoint[1] as string));
        restored.push(join(dir, checkpoint[1] as string));
        continue;
      }
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    }
  }
  for (const r of restored) options.log?.(`[run] restored ${r}: a killed run had moved it aside`);
  if (removed.length > 0)
    options.log?.(`[run] removed ${removed.length} stale temporary file(s) of killed runs: ${removed.join(', ')}`);
  return { removed, restored };
}

/** A run id: `<kind>-<UTC timestamp>`, e.g. `baseline-gov-workflow-20261122T004512Z`. */
export function runId(kind: string, now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${kind}-${stamp}`;
}

/** queue-rl's version, from the nearest package.json above this module (works from the sources and from dist/). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'queue-rl' && pkg.version) return pkg.version;
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

/** Points `<root>/latest` at the checkpoint `name` (written last, so it never names a half-written one). */
export function pointLatest(root: string, name: string): void {
  writeFileAtomic(join(root, 'latest'), `${name}\n`);
}

/** Removes all but the `keep` last (in name order) entries of `dir` whose names match `pattern`. */
export function pruneKeepLast(dir: string, pattern: RegExp, keep: number): void {
  const names = readdirSync(dir)
    .filter((n) => pattern.test(n))
    .sort();
  for (const name of names.slice(0, Math.max(0, names.length - keep)))
    rmSync(join(dir, name), { recursive: true, force: true });
}

/** Pretty JSON with a final newline, written atomically (config.json and friends). */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
