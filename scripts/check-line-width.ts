// Fails when a source line is wider than the formatter's width: Biome wraps code but leaves long strings,
// comments and template text alone, so this catches what it cannot fold.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const MAX_WIDTH = 120;
const ROOTS = ['envs', 'agents', 'training', 'scripts'];
const EXTENSIONS = /\.(ts|mts|mjs|js)$/;
const SKIP_DIRS = new Set(['node_modules', 'dist']);

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) yield* sourceFiles(path);
    } else if (EXTENSIONS.test(entry.name)) {
      yield path;
    }
  }
}

const rootFiles = readdirSync('.').filter((name) => EXTENSIONS.test(name));
let wide = 0;
for (const file of [...rootFiles, ...ROOTS.flatMap((root) => [...sourceFiles(root)])]) {
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      // Code points, not UTF-16 units: '…' and '—' count as one column.
      const width = [...line].length;
      if (width > MAX_WIDTH) {
        console.error(`${file}:${i + 1}: ${width} columns (max ${MAX_WIDTH})`);
        wide++;
      }
    });
}
if (wide > 0) {
  console.error(`${wide} line(s) wider than ${MAX_WIDTH} columns`);
  process.exit(1);
}
