/**
 * The README and docs/ stay true: the two commands are there, the README fits its limit, every
 * relative link (file and #anchor) resolves, and the README's TypeScript examples run as written
 * (imports pointed at the repository, run directories moved to a temporary folder).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .map((name) => join('docs', name));

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^#{1,6} (.+)$/.exec(line);
    if (heading)
      out.add(
        (heading[1] as string)
          .toLowerCase()
          .replace(/[^\p{L}\p{N}\s_-]/gu, '')
          .replace(/ /g, '-'),
      );
  }
  return out;
}

function links(markdown: string): string[] {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string);
}

describe('README and docs', () => {
  it('the README keeps the two commands and fits in 250 lines', () => {
    expect(README).toContain('npm ci && npm start');
    expect(README).toContain('npm ci && npm test');
    expect(README.split('\n').length).toBeLessThanOrEqual(250);
  });

  it('every relative link resolves to a file, and every #anchor to a heading', () => {
    const broken: string[] = [];
    for (const file of ['README.md', ...DOCS]) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const link of links(text)) {
        if (/^[a-z]+:/.test(link)) continue;
        const [path, anchor] = link.split('#') as [string, string | undefined];
        const target = path === '' ? join(ROOT, file) : resolve(join(ROOT, dirname(file)), path);
        if (!existsSync(target)) broken.push(`${file}: ${link} (no such file)`);
        else if (anchor !== undefined && !anchors(readFileSync(target, 'utf8')).has(anchor))
          broken.push(`${file}: ${link} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
    expect(DOCS.length).toBeGreaterThanOrEqual(10);
  });

  describe('the README examples run', () => {
    const work = mkdtempSync(join(tmpdir(), 'queue-rl-readme-'));
    afterAll(() => rmSync(work, { recursive: true, force: true }));
    const blocks = [...README.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);

    it('has an example per env and one of training', () => {
      expect(blocks.length).toBe(3);
    });

    blocks.forEach((block, i) => {
      const title = /import \{ (\w+) \}/.exec(block)?.[1] ?? `block ${i}`;
      it(`${title} example`, { timeout: 120_000 }, async () => {
        const source = block
          .replaceAll("from './", `from '${ROOT}/`)
          .replaceAll("'results/demo'", JSON.stringify(join(work, 'results')))
          .replaceAll("'checkpoints/demo'", JSON.stringify(join(work, 'checkpoints')));
        const file = join(work, `example-${i}.ts`);
        writeFileSync(file, `${source}\nexport {};\n`);
        const logged: unknown[][] = [];
        const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
          logged.push(args);
        });
        const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
        try {
          await import(pathToFileURL(file).href);
        } finally {
          spy.mockRestore();
          stderr.mockRestore();
        }
        // The Gov and training examples print what they computed; the HelixDesk one only steps.
        for (const args of logged) for (const value of args) expect(value).not.toBeUndefined();
        if (title === 'GovWorkflowEnv') {
          expect(logged[0]).toEqual([0, expect.any(Number)]);
          expect(logged[1]?.[0]).toMatchObject({ grader_name: expect.any(String), score: expect.any(Number) });
        }
        if (title === 'loadPpoConfig') {
          expect(logged[0]?.[0]).toEqual(expect.any(Number));
          expect(existsSync(logged[0]?.[1] as string)).toBe(true);
        }
      });
    });
  });
});
