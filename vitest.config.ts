import { defineConfig } from 'vitest/config';

// Three projects, by what a test needs:
// - unit: `*.test.ts` in a package's `test/` folder: sources only, no server, no build, no global setup;
// - integration: `*.integration.test.ts` in a package, and everything under `test/`: real servers started by
//   the harness (`@periodkey/test`), or the built packages (`pnpm test` builds first);
// - types: `*.test-d.ts`, the public types, checked by the compiler.
// Workspace packages resolve to their TypeScript sources through the `@periodkey/source` export condition,
// so tests never run against a stale build.
const ssr = { resolve: { conditions: ['@periodkey/source'], externalConditions: ['@periodkey/source'] } };
const PACKAGE_TESTS = ['packages/*/test/**/*.test.ts', 'tools/*/test/**/*.test.ts'];
const INTEGRATION = ['packages/*/test/**/*.integration.test.ts', 'tools/*/test/**/*.integration.test.ts'];

export default defineConfig({
  test: {
    projects: [
      { ssr, test: { name: 'unit', include: PACKAGE_TESTS, exclude: INTEGRATION, testTimeout: 20_000 } },
      {
        ssr,
        test: {
          name: 'integration',
          include: [...INTEGRATION, 'test/**/*.test.ts'],
          globalSetup: ['test/harness/global-setup.ts'],
          testTimeout: 20_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'types',
          include: [],
          typecheck: {
            enabled: true,
            only: true,
            include: ['packages/*/test/**/*.test-d.ts'],
            tsconfig: 'tsconfig.check.json',
          },
        },
      },
    ],
  },
});
