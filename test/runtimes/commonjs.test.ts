import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { servers } from '@periodkey/test';
import { describe, expect, test } from 'vitest';

const run = promisify(execFile);
const FIXTURE = fileURLToPath(new URL('fixtures/commonjs.cjs', import.meta.url));
// Nodes of the packages' engines (>=20.19): its floor and the later LTS lines, from the npm packages of
// their Linux x64 builds (optional dependencies: other platforms test the running Node only), and the
// running Node.
const BUILDS = [
  { version: 'v20.19.0', package: 'node-20.19' },
  { version: 'v22.23.5', package: 'node-22' },
  { version: 'v24.22.3', package: 'node-24' },
].map(({ version, package: name }) => ({
  version,
  path: fileURLToPath(new URL(`node_modules/${name}/bin/node`, import.meta.url)),
}));
const linuxX64 = process.platform === 'linux' && process.arch === 'x64';
const NODES = [
  { version: process.version, path: process.execPath },
  ...BUILDS.filter(({ path }) => linuxX64 || existsSync(path)),
];

describe.each(NODES)('CommonJS on Node $version', ({ version, path }) => {
  test('require() loads every package and limits on memory and on Redis, without a warning', async () => {
    const identity = `cjs-${randomBytes(4).toString('hex')}`;
    const { stdout, stderr } = await run(path, [FIXTURE, servers().redis.url, identity], {
      timeout: 20_000,
    });
    expect((await run(path, ['--version'])).stdout.trim()).toBe(version);
    expect(
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([
      ['function', 'function', 'function'],
      [true, true, false],
      [true, true, false],
    ]);
    expect(stderr).toBe('');
  });
});
