import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, expect, test } from 'vitest';

// workerd (through miniflare) runs a Worker's global scope under rules of its own: no random values, no
// timers, no I/O. Limiters and stores are made there, once per isolate.
let worker: Miniflare;

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('fixtures/global-scope-worker.mjs', import.meta.url))],
    bundle: true,
    platform: 'neutral',
    mainFields: ['module', 'main'],
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  const [output] = bundle.outputFiles;
  if (output === undefined) throw new Error('esbuild wrote no bundle');
  worker = new Miniflare({
    modules: [{ type: 'ESModule', path: 'worker.mjs', contents: output.text }],
    compatibilityDate: '2025-07-01',
  });
});
afterAll(async () => {
  await worker?.dispose();
});

test('a Worker makes its limiter and stores in its global scope, and limits', async () => {
  const answers = [];
  for (let i = 0; i < 3; i++) answers.push(await (await worker.dispatchFetch('http://worker/user:1')).json());
  expect(answers).toEqual([
    { success: true, remaining: 1, upstash: true },
    { success: true, remaining: 0, upstash: true },
    { success: false, remaining: 0, upstash: true },
  ]);
});
