import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['envs/**/*.test.ts', 'agents/**/*.test.ts', 'training/**/*.test.ts', 'scripts/**/*.test.ts'],
    exclude: ['dist/**', 'node_modules/**'],
    testTimeout: 60_000,
  },
});
