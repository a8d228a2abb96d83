import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { servers } from '@periodkey/test';
import { describe, expect, test } from 'vitest';

const run = promisify(execFile);
const FIXTURE = fileURLToPath(new URL('fixtures/commonjs.cjs', import.meta.url));
// The lowest Node of the packages' engines (>=20.19), from the npm package of its Linux x64 build (an
// optional dependency: other platforms test the running Node only).
const FLOOR = fileURLToPath(new URL('node_modules/node-20.19/bin/node', import.meta.url));
const linuxX64 = process.platform === 'linux' && process.arch === 'x64';
const NODES = [
  { version: process.version, path: process.execPath },
  ...(linuxX64 || existsSync(FLOOR) ? [{ version: 'v20.19.0', path: FLOOR }] : []),
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
