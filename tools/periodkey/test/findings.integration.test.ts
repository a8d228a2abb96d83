import { readFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createAclUser, servers, startRedis, testPrefix } from '@periodkey/test';
import { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, test } from 'vitest';
import { globMatch, matchesEverything } from '../src/pattern.js';
import { type CliRun, existing, Owned, runCli, scanAll, sdk, writeDataSet } from './helpers.js';

// Issue 12: one test (or a table of them) per finding, against real servers. Each failed on the tool as it
// was before the fix.

const client = new Redis(servers().redis.url);
const owned = new Owned();
afterAll(async () => {
  client.disconnect();
  await owned.stop();
});
const privateRedis = () => owned.redis();

/**
 * `flush --match '<fresh prefix>:*' --yes --json` with `args(prefix)` after one key under the prefix was
 * written to the shared Redis; `kept`: whether that key is still there after the run.
 */
async function flushOneKey(
  args: (prefix: string) => Promise<string[]> | string[],
): Promise<{ run: CliRun; kept: boolean }> {
  const prefix = testPrefix();
  await client.set(`${prefix}:a`, '1');
  const run = await runCli(['flush', '--match', `${prefix}:*`, '--yes', '--json', ...(await args(prefix))]);
  return { run, kept: (await client.exists(`${prefix}:a`)) === 1 };
}

/** A TCP server on 127.0.0.1 that accepts connections and never answers: an unhealthy server. */
async function hangingServer(): Promise<{ port: number; connected: Promise<void> }> {
  const sockets = new Set<Socket>();
  let onConnection: () => void = () => {};
  const connected = new Promise<void>((resolve) => {
    onConnection = resolve;
  });
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.resume(); // reads and drops everything
    onConnection();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  owned.add(
    () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { port: address.port, connected };
}

const redisUrl = () => servers().redis.url;
const firstNode = () => servers().cluster.nodes[0] as { host: string; port: number };
const clusterUrl = () => `redis://${firstNode().host}:${firstNode().port}`;

function expectFailedSummary(run: CliRun, command: string, code: number, error: RegExp): void {
  expect(run.code).toBe(code);
  expect(run.summary).toMatchObject({ event: `${command}.failed`, status: 'failure' });
  expect(String(run.summary.error)).toMatch(error);
}

describe('finding 1: the URL database is honoured and checked', () => {
  test('a database the server does not have (/99) is a usage error before anything is scanned', async () => {
    const { run, kept } = await flushOneKey(() => ['--url', `${redisUrl()}/99`]);
    expectFailedSummary(run, 'flush', 2, /has no database 99: use one it has in the URL/);
    expect(run.lines).toHaveLength(1);
    expect(kept).toBe(true);
  });

  test('the database of the URL is the one cleaned (/3), not database 0', async () => {
    const prefix = testPrefix();
    const db3 = new Redis(`${redisUrl()}/3`);
    try {
      await Promise.all([
        client.set(`${prefix}:a`, 'db0'),
        db3.set(`${prefix}:a`, 'db3'),
        db3.set(`${prefix}:b`, 'db3'),
      ]);
      const run = await runCli([
        'flush',
        '--match',
        `${prefix}:*`,
        '--yes',
        '--json',
        '--url',
        `${redisUrl()}/3`,
      ]);
      expect(run.code).toBe(0);
      expect(run.summary).toMatchObject({ keys_deleted: 2, status: 'success' });
      expect(await db3.exists(`${prefix}:a`, `${prefix}:b`)).toBe(0);
      expect(await client.get(`${prefix}:a`)).toBe('db0');
    } finally {
      db3.disconnect();
    }
  });

  test.each([
    ['redis://127.0.0.1:6379/abc', /names database "abc": a database is a number/],
    ['redis://', /has no host/],
    ['redis://127.0.0.1:99999', /must look like redis:\/\/\[user:password@\]host/],
    ['127.0.0.1:6379', /must look like redis:\/\//],
  ])(
    'the malformed URL %j is a usage error: one line, exit 2, and a summary with --json',
    async (url, message) => {
      const run = await runCli(['migrate', '--yes', '--json', '--url', url]);
      expectFailedSummary(run, 'migrate', 2, message);
      expect(run.lines).toHaveLength(1);
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(2);
      expect(run.stderr).not.toMatch(/ at /); // no stack trace
    },
  );
});

describe('finding 2: timeouts and signals', () => {
  test('a Redis that accepts and never answers ends in an ERROR line and exit 1 within the bound', async () => {
    const { port } = await hangingServer();
    const startedAt = performance.now();
    const run = await runCli([
      'migrate',
      '--yes',
      '--url',
      `redis://127.0.0.1:${port}`,
      '--log-format',
      'gcp',
      '--command-timeout',
      '1',
      '--connect-timeout',
      '1',
    ]);
    expect(performance.now() - startedAt).toBeLessThan(8000);
    expectFailedSummary(run, 'migrate', 1, /did not answer within 1 s \(--command-timeout\)/);
    expect(run.summary.severity).toBe('ERROR');
  });

  test('an Upstash endpoint that never answers ends in an ERROR line and exit 1 within the bound', async () => {
    const { port } = await hangingServer();
    const startedAt = performance.now();
    const run = await runCli(
      ['flush', '--match', 'x:*', '--yes', '--log-format', 'gcp', '--command-timeout', '1'],
      { env: { UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${port}`, UPSTASH_REDIS_REST_TOKEN: 'token' } },
    );
    expect(performance.now() - startedAt).toBeLessThan(8000);
    expectFailedSummary(run, 'flush', 1, /did not answer within 1 s \(--command-timeout\)/);
    expect(run.summary.severity).toBe('ERROR');
  });

  test('the first SIGTERM while the server hangs stops the run at once, with the summary, exit 130', async () => {
    const hanging = await hangingServer();
    const done = await runCli(['migrate', '--yes', '--json', '--url', `redis://127.0.0.1:${hanging.port}`], {
      onStart: (child) => hanging.connected.then(() => child.kill('SIGTERM')),
    });
    expect(done.code).toBe(130);
    expect(done.summary).toMatchObject({ event: 'migrate.failed', status: 'interrupted', keys_deleted: 0 });
  });

  test('a second signal, while the commands in flight hang, exits at once with the summary; the rerun completes', async () => {
    const { server, client: own } = await privateRedis();
    const prefix = testPrefix();
    await own.call('DEBUG', 'POPULATE', '100000', `${prefix}:legacy`);
    const args = ['migrate', '--url', server.url, '--match', `${prefix}:*`, '--yes', '--json'];
    const stopped = await runCli(args, {
      onLine: (line, child) => {
        if (line.event !== 'migrate.started') return;
        // Redis stops answering, so what is in flight cannot finish: only the second signal ends the run.
        server.signal('SIGSTOP');
        child.kill('SIGTERM');
        child.kill('SIGINT');
      },
    });
    server.signal('SIGCONT');
    expect(stopped.code).toBe(130);
    expect(stopped.summary).toMatchObject({ event: 'migrate.failed', status: 'interrupted' });
    // Batches sent before Redis stopped are in its socket: it runs them when it resumes, after the CLI has
    // exited, so the summary names them as unconfirmed rather than as deleted or left.
    const deleted = Number(stopped.summary.keys_deleted);
    const unconfirmed = Number(stopped.summary.keys_unconfirmed ?? 0);
    expect(unconfirmed).toBeLessThanOrEqual(100_000 - deleted);

    const again = await runCli(args);
    expect(again.code).toBe(0);
    expect(again.summary).toMatchObject({ status: 'success' });
    expect(again.summary).not.toHaveProperty('keys_unconfirmed');
    const rest = Number(again.summary.keys_deleted);
    expect(rest).toBeLessThanOrEqual(100_000 - deleted);
    expect(rest).toBeGreaterThanOrEqual(100_000 - deleted - unconfirmed);
    expect(await own.dbsize()).toBe(0);
  });

  test('SIGTERM mid-run is handled like SIGINT (batches in flight finish, summary, exit 130), and the rerun completes', async () => {
    const { server, client: own } = await privateRedis();
    const prefix = testPrefix();
    await own.call('DEBUG', 'POPULATE', '200000', `${prefix}:legacy`);
    const args = ['flush', '--url', server.url, '--match', `${prefix}:*`, '--yes', '--json'];
    const run = await runCli([...args, '--rate', '50000'], {
      onLine: (line, child) => {
        if (line.event === 'flush.progress' && Number(line.keys_deleted) > 0) child.kill('SIGTERM');
      },
    });
    expect(run.code).toBe(130);
    const left = await own.dbsize();
    expect(left).toBeGreaterThan(0);
    // Every batch sent was finished and counted: what is gone is exactly what the summary says.
    expect(run.summary).toMatchObject({ status: 'interrupted', keys_deleted: 200_000 - left });

    const again = await runCli(args);
    expect(again.summary).toMatchObject({ status: 'success', keys_deleted: left });
    expect(await own.dbsize()).toBe(0);
  });
});

describe('finding 3: an option that takes a value never takes the next option', () => {
  test('flush --match --dry-run --yes is a usage error, and the key named --dry-run stays', async () => {
    const { server, client: own } = await privateRedis();
    await own.set('--dry-run', 'keep me');
    const run = await runCli(['flush', '--match', '--dry-run', '--yes', '--url', server.url]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/option '--match <pattern>' argument '--dry-run' is invalid\. it is missing/);
    expect(await own.get('--dry-run')).toBe('keep me');
  });
});

describe('finding 4: the guard refuses any pattern that matches every key, by what it matches', () => {
  test.each(['*', '**', '*?*', '?*', '[^]*', '*[^]', '?**', '[^]**'])(
    '--match %j is refused without --force, exit 2',
    async (match) => {
      const prefix = testPrefix();
      await client.set(`${prefix}:a`, '1');
      const run = await runCli(['flush', '--match', match, '--yes', '--url', redisUrl()]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/matches every key/);
      expect(await client.exists(`${prefix}:a`)).toBe(1);
    },
  );

  test.each(['ratelimit:*', '\\*', '???', '[a-z]*', '*a', '[^a]*'])('%j is not refused', (match) => {
    expect(matchesEverything(match)).toBe(false);
  });

  test('the matcher agrees with SCAN MATCH of a real Redis, byte for byte', async () => {
    const { client: own } = await privateRedis();
    const keys = [
      'a',
      'b',
      'ab',
      'abc',
      '*',
      '?',
      '[',
      ']',
      '\\',
      '^',
      '-',
      'a-b',
      'ratelimit:x',
      'ratelimit:',
      'ключ',
      'x]y',
      'A',
      'Z',
    ];
    const bytes = [Buffer.from([0xff]), Buffer.from([0x80, 0x41]), Buffer.from([0x00])];
    await own.mset(...keys.flatMap((key) => [key, '1']));
    for (const key of bytes) await own.set(key, '1');
    const all = [...keys.map((key) => Buffer.from(key)), ...bytes];
    const patterns = [
      '*',
      '?',
      '??',
      '[^]*',
      '[^a]*',
      '[a-c]*',
      '[c-a]',
      '[\\]]',
      '\\*',
      '\\?',
      'a*c',
      '*b*',
      '[',
      '[a',
      'ratelimit:*',
      '[!-~]*',
      '[\x00-\x7f]*',
      '*[^]',
      'a\\',
      '[^\\]]',
    ];
    for (const pattern of patterns) {
      const [, found] = await own.scanBuffer('0', 'MATCH', pattern, 'COUNT', 1000);
      const expected = all.filter((key) => found.some((hit) => hit.equals(key)));
      expect(
        all.filter((key) => globMatch(pattern, key)),
        pattern,
      ).toEqual(expected);
    }
  });
});

describe('finding 5: status decodes every algorithm through the SDK storage module', () => {
  const rules = {
    monthly: '100/month',
    burst: { limit: 10, per: '1 minute', algorithm: 'sliding' },
    // Slow to refill, so that the moment between the SDK's reading and the tool's does not show. A
    // sliding counter's count also decays once its window rolls over: over a day, the two readings
    // straddle a rollover once in tens of thousands of runs, not once in a hundred as over a minute.
    smooth: { limit: 10, per: '1 day', algorithm: 'sliding-counter' },
    bucket: { limit: 10, per: '1 day', algorithm: 'token-bucket' },
    pace: { limit: 10, per: '1 day', algorithm: 'gcra' },
  } as const;
  const ruleFlags = [
    '--rule',
    'monthly=100/month',
    '--rule',
    'burst=10/minute',
    '--rule',
    'smooth=10/day',
    '--rule',
    'bucket=10/day',
    '--rule',
    'pace=10/day',
  ];

  test("status over every algorithm's keys written by the SDK shows what the SDK says, in units", async () => {
    const prefix = testPrefix();
    const limiter = sdk(client, prefix, rules);
    await limiter.limit('user:1', { scope: '/api', cost: 2.5 });
    await limiter.limit('user:1', { scope: '/api', cost: 0.1234 });
    const sdkUsage = await limiter.usage('user:1', { scope: '/api' });

    const run = await runCli([
      'status',
      '--match',
      `${prefix}:*`,
      '--json',
      '--url',
      redisUrl(),
      ...ruleFlags,
    ]);
    expect(run.code).toBe(0);
    const rows = run.lines.filter((line) => line.event === 'status.key');
    expect(rows.map((row) => row.rule).sort()).toEqual(Object.keys(rules).sort());
    for (const expected of sdkUsage) {
      const row = rows.find((line) => line.rule === expected.rule);
      expect(row, expected.rule).toMatchObject({ limit: expected.limit });
      // The SDK reads a moment earlier: rolling windows may have refilled a little since.
      expect(Number(row?.count), expected.rule).toBeCloseTo(expected.used, 2);
      expect(Number(row?.remaining), expected.rule).toBeCloseTo(expected.remaining, 2);
      expect(Math.abs(Number(row?.reset) - expected.reset), expected.rule).toBeLessThan(2000);
    }
  });

  test('without the rules, no timestamp is shown as a count, and fractions print as fractions', async () => {
    const prefix = testPrefix();
    const limiter = sdk(client, prefix, rules);
    await limiter.limit('user:1', { scope: '/api', cost: 0.1234 });

    const json = await runCli(['status', '--match', `${prefix}:*`, '--json', '--url', redisUrl()]);
    expect(json.code).toBe(0);
    const rows = Object.fromEntries(
      json.lines.filter((line) => line.event === 'status.key').map((row) => [row.rule, row]),
    );
    expect(rows.monthly).toMatchObject({ algorithm: 'fixed', count: 0.1234 });
    expect(rows.burst).toMatchObject({ algorithm: 'sliding', count: 0.1234 });
    expect(rows.smooth).toMatchObject({ algorithm: 'sliding-counter', count: 0.1234 });
    // Their use depends on the limit's rate, which is not in the key.
    expect(rows.bucket).toMatchObject({ algorithm: 'token-bucket', count: null });
    expect(rows.pace).toMatchObject({ algorithm: 'gcra', count: null });

    const pretty = await runCli(['status', '--match', `${prefix}:*`, '--url', redisUrl()]);
    expect(pretty.stdout).toMatch(/monthly\s+\d{6}\s+0\.1234\s+-\s+\d/);
    expect(pretty.stdout).not.toMatch(/\d,\d{3}\.\d/);
  });
});

describe('finding 6: least privilege', () => {
  async function templateAcl(): Promise<string[]> {
    const path = fileURLToPath(new URL('../examples/monthly-flush.yml', import.meta.url));
    const text = await readFile(path, 'utf8');
    const rules = /A Redis user with only `([^`]+)`/.exec(text)?.[1];
    if (!rules) throw new Error('the template names no ACL');
    return rules.split(' ');
  }

  test("the workflow template's ACL is enough for its dry run (the default manual run) and its real run", async () => {
    const prefix = testPrefix();
    const data = await writeDataSet(client, prefix, { bulk: 50 });
    const rules = (await templateAcl()).map((rule) => rule.replace('~ratelimit:*', `~${prefix}:*`));
    const url = await createAclUser(redisUrl(), rules);
    const args = ['flush', '--match', `${prefix}:*`, '--yes', '--json', '--url', url];

    const dry = await runCli([...args, '--dry-run']);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(await existing(client, data.legacy)).toBe(data.legacy.length);

    const real = await runCli(args);
    expect(real.code).toBe(0);
    expect(real.summary).toMatchObject({ keys_deleted: data.legacy.length + data.periodkey.length });
  });

  test('a user without UNLINK (or DEL) is told to add +unlink, before anything is deleted', async () => {
    const { run, kept } = await flushOneKey(async (prefix) => [
      '--url',
      await createAclUser(redisUrl(), ['+scan', '+type', `~${prefix}:*`]),
    ]);
    expectFailedSummary(run, 'flush', 1, /may not run UNLINK \(NOPERM\): add \+unlink to its ACL/);
    expect(kept).toBe(true);
  });

  test('a dry run without TYPE fails in the pre-flight, saying to add +type', async () => {
    const { run } = await flushOneKey(async (prefix) => [
      '--dry-run',
      '--url',
      await createAclUser(redisUrl(), ['+scan', '+unlink', `~${prefix}:*`]),
    ]);
    expectFailedSummary(run, 'flush', 1, /add \+type to its ACL/);
  });

  test('a --match wider than the ACL fails in the pre-flight, before anything is deleted', async () => {
    const { run, kept } = await flushOneKey(async (prefix) => [
      '--url',
      await createAclUser(redisUrl(), ['+scan', '+unlink', `~${prefix}:a*`]),
    ]);
    expectFailedSummary(run, 'flush', 1, /may not touch keys matching .* add ~/);
    expect(kept).toBe(true);
  });
});

describe('finding 7: a Cluster is detected, and every failure says its cause', () => {
  test('migrate and status on a Cluster without --cluster cover every master', async () => {
    const prefix = testPrefix();
    const cluster = new Cluster(servers().cluster.nodes);
    try {
      const data = await writeDataSet(cluster, prefix, { bulk: 200 });
      const status = await runCli(['status', '--match', `${prefix}:*`, '--json', '--url', clusterUrl()]);
      expect(status.summary).toMatchObject({
        periodkey_keys: data.periodkey.length,
        legacy_keys: data.legacy.length,
      });
      const run = await runCli([
        'migrate',
        '--match',
        `${prefix}:*`,
        '--yes',
        '--json',
        '--url',
        clusterUrl(),
      ]);
      expect(run.code).toBe(0);
      expect(run.summary).toMatchObject({
        keys_deleted: data.legacy.length,
        keys_kept: data.periodkey.length,
      });
      expect(await existing(cluster, data.legacy)).toBe(0);
    } finally {
      cluster.disconnect();
    }
  });

  test('--no-cluster on a Cluster node fails before deleting, saying it is a Cluster', async () => {
    const prefix = testPrefix();
    const cluster = new Cluster(servers().cluster.nodes);
    try {
      const data = await writeDataSet(cluster, prefix, { bulk: 20 });
      const run = await runCli([
        'migrate',
        '--match',
        `${prefix}:*`,
        '--yes',
        '--json',
        '--no-cluster',
        '--url',
        clusterUrl(),
      ]);
      expectFailedSummary(
        run,
        'migrate',
        1,
        /is a node of a Redis Cluster \(MOVED\).*do not pass --no-cluster/,
      );
      expect(await existing(cluster, data.legacy)).toBe(data.legacy.length);
    } finally {
      cluster.disconnect();
    }
  });

  test('a wrong password is reported as such (WRONGPASS), not as NOAUTH', async () => {
    const url = await createAclUser(redisUrl(), ['+scan', '+unlink', '~x:*']);
    const wrong = new URL(url);
    wrong.password = 'not-the-password';
    const run = await runCli(['flush', '--match', 'x:*', '--yes', '--json', '--url', wrong.toString()]);
    expectFailedSummary(run, 'flush', 1, /refused the user name or password of the URL \(WRONGPASS\)/);
    expect(run.stdout).not.toContain('not-the-password');
  });

  test.each([
    ['a standalone server', [] as string[], /refused the connection \(ECONNREFUSED\): nothing listens there/],
    ['a Cluster', ['--cluster'], /refused the connection \(ECONNREFUSED\): nothing listens there/],
  ])('on %s where nothing listens, the error says so and what to check', async (_, flags, message) => {
    const server = await startRedis();
    await server.stop();
    const run = await runCli(['flush', '--match', 'x:*', '--yes', '--json', ...flags, '--url', server.url]);
    expectFailedSummary(run, 'flush', 1, message);
  });
});

describe('finding 8: progress, metrics file, skipped keys', () => {
  test("the progress total is a sampled estimate of the matching keys, not the database's size", async () => {
    const { server, client: own } = await privateRedis();
    const prefix = testPrefix();
    await own.call('DEBUG', 'POPULATE', '3000', `${prefix}:legacy`);
    await own.call('DEBUG', 'POPULATE', '7000', 'other');
    const run = await runCli(['flush', '--match', `${prefix}:*`, '--dry-run', '--json', '--url', server.url]);
    expect(run.code).toBe(0);
    const estimate = Number(run.lines[0]?.keys_estimated);
    // 200 samples of a 30% share: far more than 4 standard deviations inside these bounds.
    expect(estimate).toBeGreaterThan(1800);
    expect(estimate).toBeLessThan(4200);
  });

  test('an unwritable --metrics-file is a usage error before anything is deleted', async () => {
    const { run, kept } = await flushOneKey(() => [
      '--url',
      redisUrl(),
      '--metrics-file',
      '/nonexistent-directory/flush.prom',
    ]);
    expectFailedSummary(run, 'flush', 2, /--metrics-file .* cannot be written \(ENOENT\)/);
    expect(kept).toBe(true);
  });

  test('on Upstash, a key whose name is not UTF-8 is left with a warning', async () => {
    const prefix = testPrefix();
    const behind = new Redis(servers().upstash.redisUrl);
    try {
      const bytes = Buffer.concat([Buffer.from(`${prefix}:`), Buffer.from([0xff, 0xfe])]);
      await behind.set(bytes, '1');
      await behind.set(`${prefix}:plain`, '1');
      const run = await runCli(['flush', '--match', `${prefix}:*`, '--yes', '--json'], {
        env: {
          UPSTASH_REDIS_REST_URL: servers().upstash.url,
          UPSTASH_REDIS_REST_TOKEN: servers().upstash.token,
        },
      });
      expect(run.code).toBe(0);
      expect(run.lines.find((line) => line.event === 'flush.warning')).toMatchObject({ keys_skipped: 1 });
      expect(run.summary).toMatchObject({ keys_deleted: 1 });
      expect(await behind.exists(bytes)).toBe(1);
      expect(await scanAll(behind, `${prefix}:*`)).toHaveLength(1);
      await behind.del(bytes);
    } finally {
      behind.disconnect();
    }
  });
});
