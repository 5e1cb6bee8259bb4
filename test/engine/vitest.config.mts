// The engine suite: real llama-server, real model files, one server for all tests. Run with `npm run test:engine`.
// Files end in `.engine.ts` (not `.test.ts`) so the unit run (`vitest run`, default include) never picks them up.
import { defineConfig } from 'vitest/config';
import { SummaryReporter } from './summaryReporter';

export default defineConfig({
  test: {
    include: ['test/engine/**/*.engine.ts'],
    globalSetup: ['test/engine/globalSetup.ts'],
    reporters: ['default', new SummaryReporter()],
    // One server with one slot: tests run one after another.
    fileParallelism: false,
    sequence: { concurrent: false },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
