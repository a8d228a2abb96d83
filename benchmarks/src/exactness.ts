import { fork } from 'node:child_process';
import { once } from 'node:events';
import type { Algorithm, RuleObject } from '@periodkey/ratelimit';
import { ensureRedisServer, startRedis } from '@periodkey/test/servers';
import { type ExactnessResult, writeResult } from './results.js';

// Correctness under contention: 8 processes (`hammer-child.ts`) hammer one identity at once, 4x more calls
// than the limit between them; exactly `limit` may be admitted, not one more. One case per algorithm, each
// with a period far longer than the run, so that nothing resets or refills meanwhile.

const PROCESSES = 8;
const LIMIT = 1_000;
const ATTEMPTS_PER_PROCESS = 500;
const CONCURRENCY_PER_PROCESS = 32;

const rolling = (algorithm: Algorithm): RuleObject => ({
  limit: LIMIT,
  per: '1 day',
  algorithm,
});
const CASES: readonly { name: string; rule: string | RuleObject }[] = [
  { name: `fixed, ${LIMIT}/month`, rule: `${LIMIT}/month` },
  { name: `sliding, ${LIMIT} per day`, rule: rolling('sliding') },
  { name: `sliding-counter, ${LIMIT} per day`, rule: rolling('sliding-counter') },
  { name: `token-bucket, ${LIMIT} per day`, rule: rolling('token-bucket') },
  { name: `gcra, ${LIMIT} per day`, rule: rolling('gcra') },
];

async function hammer(url: string, prefix: string, rule: string | RuleObject): Promise<number> {
  const job = JSON.stringify({
    prefix,
    rule,
    attempts: ATTEMPTS_PER_PROCESS,
    concurrency: CONCURRENCY_PER_PROCESS,
  });
  // fork() passes on this process's execArgv, so the children run under tsx too.
  const children = Array.from({ length: PROCESSES }, () =>
    fork(new URL('./hammer-child.ts', import.meta.url), [url, job], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  // A child that dies fails the case instead of leaving it waiting.
  const died = Promise.race(
    children.map((child) =>
      once(child, 'exit').then(([code]) => Promise.reject(new Error(`a hammering process exited (${code})`))),
    ),
  );
  died.catch(() => {}); // they all exit at the end
  try {
    await Promise.race([Promise.all(children.map((child) => once(child, 'message'))), died]);
    const replies = Promise.all(children.map((child) => once(child, 'message')));
    for (const child of children) child.send('go');
    const admitted = await Promise.race([replies, died]);
    return admitted.reduce((sum, [reply]) => sum + (reply as { admitted: number }).admitted, 0);
  } finally {
    for (const child of children) child.kill();
  }
}

async function main() {
  await ensureRedisServer();
  const server = await startRedis();
  const results: ExactnessResult[] = [];
  try {
    for (const [i, { name, rule }] of CASES.entries()) {
      const admitted = await hammer(server.url, `exact${i}`, rule);
      const result = {
        name,
        processes: PROCESSES,
        attempts: PROCESSES * ATTEMPTS_PER_PROCESS,
        limit: LIMIT,
        admitted,
      };
      results.push(result);
      console.log(JSON.stringify(result));
    }
  } finally {
    await server.stop();
  }
  await writeResult('exactness.json', results);
}

await main();
