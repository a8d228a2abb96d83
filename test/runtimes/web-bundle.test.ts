import { build, type Metafile } from 'esbuild';
import { describe, expect, test } from 'vitest';

// The packages that Workers, Vercel Edge, Next.js, Bun and Deno load, each subpath as users import it
// (the build, through the packages' exports). esbuild's neutral platform knows no Node built-in, so an
// import of one, direct or through a dependency, fails the bundle; a Node-only package (a TCP client) that
// slipped in is caught by its path (the workspace's packages by their folders, as esbuild names them).
const WEB_ENTRIES = [
  '@periodkey/ratelimit',
  '@periodkey/ratelimit/store',
  '@periodkey/ratelimit/keys',
  '@periodkey/ratelimit/storage',
  '@periodkey/ratelimit/integration',
  '@periodkey/upstash',
  '@periodkey/http',
  '@periodkey/http/fetch',
  '@periodkey/http/hono',
];
const NODE_ONLY =
  /(^|\/)(node_modules\/(ioredis|redis|@redis\/[^/]+)|packages\/(ioredis|node-redis)|tools\/periodkey)\//;

async function bundle(specifier: string): Promise<Metafile> {
  const result = await build({
    stdin: { contents: `export * from '${specifier}';`, resolveDir: import.meta.dirname, loader: 'js' },
    bundle: true,
    platform: 'neutral',
    mainFields: ['module', 'main'],
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return result.metafile;
}

describe('the Web packages import no Node built-in', () => {
  test.each(WEB_ENTRIES)('%s bundles for a platform without Node', async (specifier) => {
    const metafile = await bundle(specifier).catch((error: { errors?: { text: string }[] }) => {
      throw new Error(`${specifier}: ${error.errors?.map((e) => e.text).join('; ') ?? String(error)}`);
    });
    const imports = Object.values(metafile.inputs).flatMap((input) => input.imports.map((i) => i.path));
    expect(imports.filter((path) => path.startsWith('node:'))).toEqual([]);
    expect(Object.keys(metafile.inputs).filter((path) => NODE_ONLY.test(path))).toEqual([]);
  });
});
