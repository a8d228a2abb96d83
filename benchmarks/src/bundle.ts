import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { type BundleResult, writeResult } from './results.js';

// What the edge path costs a Worker or an edge function: each entry bundled as a Web platform's bundler
// would (esbuild, no Node built-ins, minified, tree-shaken), then gzipped; and the bytes each package adds.
// @upstash/ratelimit with @upstash/redis, the library edge users reach for today, is bundled alongside.

const CASES: readonly { name: string; code: string }[] = [
  {
    name: '@periodkey/ratelimit (Ratelimit, MemoryStore)',
    code: `export { Ratelimit, MemoryStore } from '@periodkey/ratelimit';`,
  },
  {
    name: '@periodkey/ratelimit + @periodkey/upstash (the edge path)',
    code: `export { Ratelimit } from '@periodkey/ratelimit'; export { UpstashStore } from '@periodkey/upstash';`,
  },
  {
    name: 'the edge path + @periodkey/http/fetch (withRateLimit)',
    code: `export { Ratelimit } from '@periodkey/ratelimit'; export { UpstashStore } from '@periodkey/upstash'; export { withRateLimit } from '@periodkey/http/fetch';`,
  },
  {
    name: '@upstash/ratelimit + @upstash/redis',
    code: `export { Ratelimit } from '@upstash/ratelimit'; export { Redis } from '@upstash/redis';`,
  },
];

async function measure(name: string, code: string): Promise<BundleResult> {
  const result = await build({
    stdin: { contents: code, resolveDir: import.meta.dirname, loader: 'js' },
    bundle: true,
    platform: 'neutral',
    mainFields: ['module', 'main'],
    format: 'esm',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'error',
  });
  const [output] = result.outputFiles;
  const [meta] = Object.values(result.metafile.outputs);
  if (output === undefined || meta === undefined) throw new Error(`${name}: esbuild wrote no bundle`);
  const packages: Record<string, number> = {};
  for (const [path, input] of Object.entries(meta.inputs)) {
    if (path === '<stdin>') continue;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(path)?.[1] ?? workspace(path);
    packages[pkg] = (packages[pkg] ?? 0) + input.bytesInOutput;
  }
  return {
    name,
    minified_bytes: output.contents.length,
    gzipped_bytes: gzipSync(output.contents, { level: 9 }).length,
    packages: Object.fromEntries(Object.entries(packages).sort(([, a], [, b]) => b - a)),
  };
}

/** A workspace package's files, by the package they belong to (`packages/upstash/dist/...`). */
function workspace(path: string): string {
  const dir = /packages\/([^/]+)\//.exec(path)?.[1];
  return dir === undefined ? path : `@periodkey/${dir}`;
}

const results: BundleResult[] = [];
for (const { name, code } of CASES) results.push(await measure(name, code));
await writeResult('bundle.json', results);
for (const r of results)
  console.log(`bundle: ${r.name}: ${r.minified_bytes} B minified, ${r.gzipped_bytes} B gzipped`);
