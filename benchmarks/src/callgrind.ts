import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { runCli } from './cli.js';
import { contenders } from './contenders.js';
import { commandStats } from './redis-stats.js';
import { referenceFlush } from './reference.js';
import { type CallgrindResult, writeResult } from './results.js';
import { LEGACY_MATCH, seedLegacyKeys } from './seed.js';

// Redis's work, counted in instructions by callgrind: the same on a busy host as on an idle one, so it
// tells what a slow timing was made of. redis-server runs under valgrind, counting only while a measured
// piece runs: the CLI's flush and the reference loop on the same 100k keys, and each limiter's calls.
// Needs valgrind (`apt-get install valgrind`); `pnpm bench` runs it when valgrind is there.

const run = promisify(execFile);
const FLUSH_KEYS = 100_000;
const LIMITER_CALLS = 2_000;
const CONCURRENCY = 64;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** redis-server under callgrind, not counting until {@link count}. */
async function startCounted(dir: string) {
  const port = await freePort();
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      `--callgrind-out-file=${join(dir, 'callgrind.out')}`,
      'redis-server',
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Ready to accept connections')) resolve();
    });
    child.stderr.resume();
    child.once('exit', (code) => reject(new Error(`valgrind redis-server exited (${code}):\n${log}`)));
  });
  const pid = String(child.pid);
  const control = (...args: string[]) => run('callgrind_control', [...args, pid]);
  let dumps = 0;
  return {
    url: `redis://127.0.0.1:${port}`,
    /** Instructions Redis ran during `work`, in all (`total`) and inclusive in each of `functions`. */
    async count(
      work: () => Promise<unknown>,
      functions: readonly string[] = [],
    ): Promise<Map<string, number>> {
      await control('--zero');
      await control('--instr=on');
      await work();
      await control('--instr=off');
      await control('--dump');
      dumps++;
      const { stdout } = await run(
        'callgrind_annotate',
        ['--inclusive=yes', '--threshold=100', join(dir, `callgrind.out.${dumps}`)],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      const ir = (pattern: string) =>
        Number(new RegExp(`^\\s*([\\d,]+) .*${pattern}`, 'm').exec(stdout)?.[1]?.replaceAll(',', '') ?? 0);
      return new Map([
        ['total', ir('PROGRAM TOTALS')],
        ...functions.map((f): [string, number] => [f, ir(`:${f} `)]),
      ]);
    },
    stop: async () => {
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}

async function main() {
  try {
    await run('valgrind', ['--version']);
  } catch {
    console.log('callgrind: valgrind is not installed; skipped (apt-get install valgrind)');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'periodkey-callgrind-'));
  const redis = await startCounted(dir);
  const admin = new Redis(redis.url);
  try {
    const flush = async (label: string, work: () => Promise<unknown>) => {
      await seedLegacyKeys(admin, FLUSH_KEYS);
      await admin.config('RESETSTAT');
      const ir = await redis.count(work, ['scanGenericCommand', 'delGenericCommand']);
      const stats = await commandStats(admin, ['scan', 'unlink']);
      const result = {
        ir_per_key: Math.round((ir.get('total') ?? 0) / FLUSH_KEYS),
        scan_ir_per_key: Math.round((ir.get('scanGenericCommand') ?? 0) / FLUSH_KEYS),
        unlink_ir_per_key: Math.round((ir.get('delGenericCommand') ?? 0) / FLUSH_KEYS),
        scan_calls: stats.scan?.calls ?? 0,
        unlink_calls: stats.unlink?.calls ?? 0,
      };
      console.log(`callgrind: ${label}: ${JSON.stringify(result)}`);
      return result;
    };
    const cli = await flush('periodkey flush', () =>
      runCli(['flush', '--match', LEGACY_MATCH, '--yes', '--url', redis.url]),
    );
    const reference = await flush('reference loop', () => referenceFlush(admin, LEGACY_MATCH));

    const limiter: { name: string; ir_per_call: number }[] = [];
    for (const { name, call, redis: onRedis } of await contenders(admin, Number.POSITIVE_INFINITY)) {
      if (!onRedis) continue;
      const calls = async (n: number) => {
        let next = 0;
        const loop = async () => {
          while (next < n) await call(next++);
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, loop));
      };
      await calls(LIMITER_CALLS); // scripts loaded, keys created: the steady state that is counted next
      const ir = await redis.count(() => calls(LIMITER_CALLS));
      const row = { name, ir_per_call: Math.round((ir.get('total') ?? 0) / LIMITER_CALLS) };
      console.log(`callgrind: ${JSON.stringify(row)}`);
      limiter.push(row);
    }
    await writeResult('callgrind.json', {
      written_at: new Date().toISOString(),
      flush: { keys: FLUSH_KEYS, cli, reference },
      limiter_concurrency: CONCURRENCY,
      limiter,
    } satisfies CallgrindResult);
  } finally {
    admin.disconnect();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
