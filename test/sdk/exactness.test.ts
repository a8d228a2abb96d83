import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { servers, testPrefix } from '@periodkey/test';
import { describe, expect, test } from 'vitest';
import { REDIS_BACKENDS, SERVERS } from './backends.js';

const run = promisify(execFile);
const HAMMER = fileURLToPath(new URL('./hammer.mjs', import.meta.url));
const PROCESSES = 8;
const ATTEMPTS = 50;

// Eight processes race for one identity's 100/month: the Lua check-and-consume is atomic, so exactly 100
// calls are admitted, not one more, whatever the interleaving.
describe.each(REDIS_BACKENDS)('exactly the limit across %s processes', (backend) => {
  test(`${PROCESSES} processes x ${ATTEMPTS} calls against 100/month admit exactly 100`, async () => {
    const { redis, cluster, upstash } = servers();
    const target = { standalone: redis, cluster, upstash }[SERVERS[backend]];
    const args = JSON.stringify({ backend, target, prefix: testPrefix(), attempts: ATTEMPTS });
    const outputs = await Promise.all(
      Array.from({ length: PROCESSES }, () =>
        run(process.execPath, [HAMMER, args], { cwd: import.meta.dirname }),
      ),
    );
    const admitted = outputs.map((o) => Number(o.stdout.trim()));
    expect(admitted.every(Number.isInteger)).toBe(true);
    expect(admitted.reduce((a, b) => a + b, 0)).toBe(100);
  });
});
