import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';

// The built package (dist), each in a process of its own where it matters: what no test of the sources can
// show. Integration: it needs `pnpm build` first, which `pnpm test` runs.

describe('a limiter never keeps its process alive', () => {
  test('an unclosed limiter whose primary is down does not keep the process alive', async () => {
    // The built package, in a process of its own: it must exit by itself while probes are scheduled.
    const script = `
      import { Ratelimit } from '@periodkey/ratelimit';
      const store = { evaluate: async () => { throw new Error('down'); }, delete: async () => {},
        health: async () => ({ ok: false, latencyMs: 0 }) };
      const rl = new Ratelimit({ store, rules: { m: '1/minute' }, probe: { initialDelay: 50_000, maxDelay: 60_000 } });
      for (let i = 0; i < 5; i++) await rl.limit('x');
      console.log(rl.stats().fallbackActive);
    `;
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const started = performance.now();
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd,
      timeout: 20_000,
    });
    expect(stdout.trim()).toBe('true');
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  test('a limiter with a long timeout does not keep the process alive once its calls are answered', async () => {
    const script = `
      import { Ratelimit } from '@periodkey/ratelimit';
      const store = { evaluate: async (r) => r.rules.map(() => ({ allowed: true, used: 1, reset: 0, retryAt: 0 })),
        delete: async () => {} };
      const rl = new Ratelimit({ store, rules: { m: '1/minute' }, timeout: 600_000 });
      console.log((await rl.limit('x')).reason);
    `;
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd,
      timeout: 20_000,
    });
    expect(stdout.trim()).toBe('store');
  });
});

describe('the build', () => {
  test('the core does not load prom-client', async () => {
    const source = await fs.readFile(new URL('../dist/index.js', import.meta.url), 'utf8');
    expect(source).not.toContain('prom-client');
  });
});

describe('the core does not depend on its adapters', () => {
  test('an application without @periodkey/ioredis gets a typed error naming the install line', async () => {
    // An application's node_modules with the built core and its dependencies only: a copy, so that
    // resolution from the core never walks up into this repository's node_modules.
    const app = await fs.mkdtemp(path.join(os.tmpdir(), 'periodkey-app-'));
    try {
      const core = path.join(app, 'node_modules/@periodkey/ratelimit');
      await fs.mkdir(core, { recursive: true });
      await fs.cp(new URL('../package.json', import.meta.url), path.join(core, 'package.json'));
      await fs.cp(new URL('../dist', import.meta.url), path.join(core, 'dist'), { recursive: true });
      const manifest = JSON.parse(await fs.readFile(new URL('../package.json', import.meta.url), 'utf8'));
      for (const dependency of Object.keys(manifest.dependencies)) {
        const real = await fs.realpath(
          fileURLToPath(new URL(`../node_modules/${dependency}`, import.meta.url)),
        );
        const link = path.join(app, 'node_modules', dependency);
        await fs.mkdir(path.dirname(link), { recursive: true });
        await fs.symlink(real, link);
      }
      const script = `
        import { Ratelimit, isInvalidOptionError } from '@periodkey/ratelimit';
        const rl = new Ratelimit({ rules: { m: '1/minute' }, store: 'redis://127.0.0.1:6379' });
        try { await rl.limit('x'); console.log('admitted'); }
        catch (error) { console.log(isInvalidOptionError(error), error.message); }
      `;
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
        cwd: app,
        timeout: 20_000,
      });
      expect(stdout.trim()).toBe(
        'true the store needs @periodkey/ioredis, which could not be loaded; install it with its client: ' +
          '`npm install @periodkey/ioredis ioredis`, or pass a store explicitly (in a bundle, for Workers, ' +
          'edge functions or Next.js, always pass the store: a bundler does not follow this import)',
      );
    } finally {
      await fs.rm(app, { recursive: true, force: true });
    }
  });
});
