// Cloudflare's workerd, through miniflare 3: the fixture Worker, bundled for workerd without
// nodejs_compat, reaches the harness' Upstash REST server on 127.0.0.1 with workerd's own fetch (miniflare's
// default outbound network allows private addresses; no outboundService or fetchMock routes it
// through Node).
import { beforeAll } from 'vitest';
import { edgeRuntimeSuite } from './edge-suite.js';
import { bundleFixture, startWorker, WORKERD } from './fixtures/bundle.js';

let script: string;
beforeAll(async () => {
  script = await bundleFixture('./workerd-worker.ts', WORKERD);
});

// Without nodejs_compat (the core's Web APIs only), and with it, as many Workers run: then `process` exists
// (with an empty env) and timers are Node-like.
for (const compatibilityFlags of [[], ['nodejs_compat']]) {
  const name = compatibilityFlags.length === 0 ? 'workerd (miniflare)' : 'workerd with nodejs_compat';
  edgeRuntimeSuite(name, async (env) => {
    const mf = await startWorker(script, { compatibilityFlags, bindings: { ...env } });
    return {
      fetch: async (path, init) => {
        const response = await mf.dispatchFetch(`http://worker.test${path}`, init as never);
        return response as unknown as Response;
      },
      close: () => mf.dispose(),
    };
  });
}
