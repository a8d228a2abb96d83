// Vercel's edge-runtime: the fixture handler, bundled for `edge-light`, in an EdgeRuntime (a VM context with
// the Web APIs of Vercel Edge and `process.env`), served over HTTP by runServer.
import { EdgeRuntime, runServer } from 'edge-runtime';
import { beforeAll } from 'vitest';
import { edgeRuntimeSuite } from './edge-suite.js';
import { bundleFixture, EDGE_LIGHT } from './fixtures/bundle.js';

let script: string;
beforeAll(async () => {
  script = await bundleFixture('./edge-runtime-entry.ts', EDGE_LIGHT);
});

edgeRuntimeSuite('edge-runtime', async (env) => {
  const runtime = new EdgeRuntime({
    extend: (context) => Object.assign(context, { process: { env: { ...env } } }),
  });
  // Evaluated after `extend`: the script reads process.env as it loads.
  runtime.evaluate(script);
  const server = await runServer({ runtime, host: '127.0.0.1', port: 0 });
  return {
    fetch: (path, init) => fetch(new URL(path, server.url), init),
    close: () => server.close(),
  };
});
