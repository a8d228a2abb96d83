import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through the `@periodkey/source` export condition,
// so tests never run against a stale build.
export default defineConfig({
  ssr: { resolve: { conditions: ['@periodkey/source'], externalConditions: ['@periodkey/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'tools/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/harness/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
