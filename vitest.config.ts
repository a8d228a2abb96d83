import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through the `@periodkey/source` export condition,
// so tests never run against a stale build.
const conditions = ['@periodkey/source', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'tools/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/harness/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
