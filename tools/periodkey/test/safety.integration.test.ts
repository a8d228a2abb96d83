import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAclUser, servers, startRedis, testPrefix } from '@periodkey/test';
import { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, test } from 'vitest';
import { existing, Owned, runCli, snapshot, writeDataSet } from './helpers.js';

const client = new Redis(servers().redis.url);
const owned = new Owned();
afterAll(async () => {
  client.disconnect();
  await owned.stop();
});
const privateRedis = (args: string[] = []) => owned.redis(args);

describe('refusals (exit 2, nothing deleted)', () => {
  test.each(['*', '**', '*?*'])(
    '--match %j matches every key and is refused without --force',
    async (match) => {
      const prefix = testPrefix();
      const data = await writeDataSet(client, prefix, { bulk: 5 });
      const run = await runCli(['flush', '--match', match, '--yes', '--url', servers().redis.url]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/matches every key/);
      expect(await existing(client, data.legacy)).toBe(data.legacy.length);
    },
  );

  test('--force lets a pattern match every key', async () => {
    const { server, client: own } = await privateRedis();
    await own.mset('a', '1', 'b', '2', 'ratelimit:c', '3');
    const run = await runCli(['flush', '--match', '*', '--force', '--yes', '--json', '--url', server.url]);
    expect(run.code).toBe(0);
    expect(run.summary).toMatchObject({ keys_deleted: 3, status: 'success' });
    expect(await own.dbsize()).toBe(0);
  });

  test.each([
    [['flush', '--yes'], /required option '--match <pattern>'/],
    [['migrate', '--yes', '--batch-size', '0'], /--batch-size <n>' argument '0' is invalid/],
    [['migrate', '--yes', '--nope'], /unknown option '--nope'/],
    [['migrate', '--yes', '--json', '--log-format', 'pretty'], /contradict/],
    [['migrate', '--yes', '--log-format', 'xml'], /Allowed choices are json, gcp, pretty/],
    [['migrate', '--yes', '--match', ''], /--match must not be empty/],
    [['migrate', '--yes', '--url', 'http://127.0.0.1:1'], /must look like redis:\/\/\[user:password@\]host/],
    [['purge'], /unknown command 'purge'/],
    [['migrate', '--yes', '--carry-over', '--rule', 'monthly=10/month'], /--carry-over needs --template/],
    [['migrate', '--yes', '--template', 'x:{identity}'], /--template and --rule go with --carry-over/],
    [
      ['migrate', '--yes', '--carry-over', '--template', 'x:{scope}', '--rule', 'm=1/month'],
      /needs \{identity\} once/,
    ],
    [
      ['migrate', '--yes', '--carry-over', '--template', 'x:{identity}', '--rule', 'm=1/fortnight'],
      /Invalid rule "m"/,
    ],
    [
      [
        'migrate',
        '--yes',
        '--carry-over',
        '--template',
        'x:{identity}',
        '--rule',
        'm=1/month',
        '--time-zone',
        'Mars/Base',
      ],
      /Mars\/Base/,
    ],
  ])(
    'finding 8: usage error %j prints one line that says what to change and a hint, not the help; exit 2',
    async (args, message) => {
      const run = await runCli(args, { env: { REDIS_URL: servers().redis.url } });
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      const [line, hint, ...rest] = run.stderr.trimEnd().split('\n');
      expect(line).toMatch(/^error: /);
      expect(line).toMatch(message);
      expect(hint).toMatch(/^\(periodkey (\w+ )?--help lists the/);
      expect(rest).toEqual([]);
    },
  );

  test('without arguments it prints the help, exit 2', async () => {
    const run = await runCli([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Usage: periodkey/);
  });

  test('with no database named anywhere it says how to name one', async () => {
    const run = await runCli(['status']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/pass --url redis:\/\/\.\.\. \(or set REDIS_URL\)/);
  });
});

describe('interruptions', () => {
  const legacyKeys = 200_000;

  async function bigDataSet() {
    const { server, client: own } = await privateRedis();
    const prefix = testPrefix();
    await own.call('DEBUG', 'POPULATE', String(legacyKeys), `${prefix}:legacy`);
    const data = await writeDataSet(own, prefix, { bulk: 0 });
    const stays = [...data.periodkey, ...data.unrelated];
    const legacyTotal = legacyKeys + data.legacy.length;
    return { server, own, prefix, data, stays, legacyTotal, before: await snapshot(own, stays) };
  }

  test('after SIGKILL mid-run, running again deletes the rest and keeps every other key', async () => {
    const { server, own, prefix, stays, legacyTotal, before } = await bigDataSet();
    const args = ['migrate', '--url', server.url, '--match', `${prefix}:*`, '--yes', '--json'];

    const killed = await runCli([...args, '--rate', '50000'], {
      onLine: (line, child) => {
        if (line.event === 'migrate.progress' && Number(line.keys_deleted) > 0) child.kill('SIGKILL');
      },
    });
    expect(killed.signal).toBe('SIGKILL');
    const left = (await own.dbsize()) - stays.length;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(legacyTotal);

    const again = await runCli(args);
    expect(again.code).toBe(0);
    // Exact: counted from UNLINK replies. (Deleting most of the keys shrinks Redis's table mid-run, after
    // which SCAN may return a key twice, so keys_scanned and keys_kept are not compared here.)
    expect(again.summary).toMatchObject({ keys_deleted: left, status: 'success' });
    expect(await own.dbsize()).toBe(stays.length);
    expect(await snapshot(own, stays)).toEqual(before);
  });

  test('SIGINT stops scanning, finishes the batches in flight, reports "interrupted" and exits 130', async () => {
    const { server, own, prefix, stays, legacyTotal, before } = await bigDataSet();

    const run = await runCli(
      ['migrate', '--url', server.url, '--match', `${prefix}:*`, '--yes', '--json', '--rate', '50000'],
      {
        onLine: (line, child) => {
          if (line.event === 'migrate.progress' && Number(line.keys_deleted) > 0) child.kill('SIGINT');
        },
      },
    );

    expect(run.code).toBe(130);
    const left = (await own.dbsize()) - stays.length;
    expect(left).toBeGreaterThan(0);
    expect(run.summary).toMatchObject({
      event: 'migrate.failed',
      status: 'interrupted',
      keys_deleted: legacyTotal - left,
    });
    expect(await snapshot(own, stays)).toEqual(before);
  });
});

describe('least privilege', () => {
  test('migrate, dry run and status work as a user with exactly the documented ACL', async () => {
    const prefix = testPrefix();
    const data = await writeDataSet(client, prefix, { bulk: 300 });
    const stays = [...data.periodkey, ...data.unrelated];
    const before = await snapshot(client, stays);
    const url = await createAclUser(servers().redis.url, [
      '+scan',
      '+unlink',
      '+type',
      '+get',
      '+hmget',
      '+zrange',
      '+pttl',
      `~${prefix}:*`,
    ]);
    const password = new URL(url).password;
    const runs = [
      await runCli(['migrate', '--dry-run', '--url', url, '--match', `${prefix}:*`, '--json']),
      await runCli(['migrate', '--yes', '--url', url, '--match', `${prefix}:*`, '--json']),
      await runCli(['status', '--url', url, '--match', `${prefix}:*`, '--json']),
    ];

    expect(runs.map((run) => run.code)).toEqual([0, 0, 0]);
    expect(runs[1]?.summary).toMatchObject({ keys_deleted: data.legacy.length, status: 'success' });
    expect(runs[2]?.summary).toMatchObject({ legacy_keys: 0, periodkey_keys: data.periodkey.length });
    expect(await existing(client, data.legacy)).toBe(0);
    expect(await snapshot(client, stays)).toEqual(before);
    for (const run of runs) expect(run.stdout + run.stderr).not.toContain(password);
  });

  test('the smallest ACL for a deleting run is +scan and +unlink on the pattern', async () => {
    const prefix = testPrefix();
    const data = await writeDataSet(client, prefix, { bulk: 100 });
    const url = await createAclUser(servers().redis.url, ['+scan', '+unlink', `~${prefix}:*`]);
    const run = await runCli(['flush', '--yes', '--url', url, '--match', `${prefix}:*`, '--json']);
    expect(run.code).toBe(0);
    expect(await existing(client, [...data.legacy, ...data.periodkey])).toBe(0);
  });

  test('migrate --carry-over works with +getdel +set +incrby added', async () => {
    const prefix = testPrefix();
    await client.mset(`${prefix}:user:1:/api`, '2', `${prefix}:user:2:/api`, '3');
    const url = await createAclUser(servers().redis.url, [
      '+scan',
      '+unlink',
      '+getdel',
      '+set',
      '+incrby',
      `~${prefix}:*`,
    ]);
    const carry = [
      '--carry-over',
      '--template',
      `${prefix}:{identity}:{scope}`,
      '--rule',
      'monthly=1/month',
      '--prefix',
      prefix,
    ];
    const run = await runCli([
      'migrate',
      '--yes',
      '--json',
      '--url',
      url,
      '--match',
      `${prefix}:*`,
      ...carry,
    ]);
    expect(run.stderr).toBe('');
    expect(run.summary).toMatchObject({ keys_deleted: 2, keys_carried: 2, status: 'success' });
  });

  test('where UNLINK is not allowed, DEL is used instead', async () => {
    const prefix = testPrefix();
    const data = await writeDataSet(client, prefix, { bulk: 100 });
    const url = await createAclUser(servers().redis.url, ['+scan', '+del', `~${prefix}:*`]);
    const run = await runCli(['migrate', '--yes', '--url', url, '--match', `${prefix}:*`, '--json']);
    expect(run.code).toBe(0);
    expect(run.summary).toMatchObject({ keys_deleted: data.legacy.length });
    expect(await existing(client, data.legacy)).toBe(0);
  });

  test('where UNLINK is an unknown command, DEL is used instead', async () => {
    const { server, client: own } = await privateRedis(['--rename-command', 'UNLINK', '']);
    const prefix = testPrefix();
    const data = await writeDataSet(own, prefix, { bulk: 100 });
    const run = await runCli(['migrate', '--yes', '--url', server.url, '--match', `${prefix}:*`, '--json']);
    expect(run.code).toBe(0);
    expect(run.summary).toMatchObject({ keys_deleted: data.legacy.length });
    expect(await existing(own, data.legacy)).toBe(0);
  });

  test('on a Cluster, the same ACL plus CLUSTER SLOTS is enough', async () => {
    const prefix = testPrefix();
    const cluster = new Cluster(servers().cluster.nodes);
    try {
      const data = await writeDataSet(cluster, prefix, { bulk: 300 });
      const [user, password] = [`u${prefix.replace(/-/g, '')}`, `p${prefix}secret`];
      await Promise.all(
        cluster
          .nodes('master')
          .map((node) =>
            node.acl(
              'SETUSER',
              user,
              'reset',
              'on',
              `>${password}`,
              '+scan',
              '+unlink',
              '+cluster|slots',
              `~${prefix}:*`,
            ),
          ),
      );
      const [node] = servers().cluster.nodes;
      const url = `redis://${user}:${password}@${node?.host}:${node?.port}`;
      const run = await runCli([
        'migrate',
        '--yes',
        '--cluster',
        '--url',
        url,
        '--match',
        `${prefix}:*`,
        '--json',
      ]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.summary).toMatchObject({
        keys_deleted: data.legacy.length,
        keys_kept: data.periodkey.length,
      });
      expect(await existing(cluster, data.legacy)).toBe(0);
      expect(run.stdout).not.toContain(password);
    } finally {
      cluster.disconnect();
    }
  });
});

describe('limits and reporting', () => {
  test('--max-delete deletes at most N keys, then fails with exit 1 if more remain', async () => {
    const prefix = testPrefix();
    const data = await writeDataSet(client, prefix, { bulk: 200 });
    const args = ['migrate', '--yes', '--json', '--url', servers().redis.url, '--match', `${prefix}:*`];

    const stopped = await runCli([...args, '--max-delete', '50', '--batch-size', '16']);
    expect(stopped.code).toBe(1);
    expect(stopped.summary).toMatchObject({ event: 'migrate.failed', status: 'failure', keys_deleted: 50 });
    expect(stopped.summary.error).toMatch(/--max-delete 50: more matching keys remain/);
    expect(await existing(client, data.legacy)).toBe(data.legacy.length - 50);

    const done = await runCli([...args, '--max-delete', String(data.legacy.length - 50)]);
    expect(done.code).toBe(0);
    expect(await existing(client, data.legacy)).toBe(0);
  });

  test('--metrics-file writes rate_limit_flush_keys_deleted in Prometheus text format', async () => {
    const prefix = testPrefix();
    const data = await writeDataSet(client, prefix, { bulk: 40 });
    const file = join(tmpdir(), `${prefix}.prom`);
    const run = await runCli([
      'flush',
      '--yes',
      '--url',
      servers().redis.url,
      '--match',
      `${prefix}:*`,
      '--metrics-file',
      file,
    ]);
    expect(run.code).toBe(0);
    const text = await readFile(file, 'utf8');
    const deleted = data.legacy.length + data.periodkey.length;
    expect(text).toContain('# TYPE rate_limit_flush_keys_deleted gauge');
    expect(text).toContain(`rate_limit_flush_keys_deleted{command="flush"} ${deleted}`);
    expect(text).toContain('rate_limit_flush_success{command="flush"} 1');
  });

  test('--log-format gcp writes severity and message; a failure is an ERROR entry, exit 1, password redacted', async () => {
    // A port where nothing listens any more.
    const server = await startRedis();
    await server.stop();
    const url = `redis://someone:s3cret-password@127.0.0.1:${server.port}`;
    const run = await runCli(['flush', '--yes', '--url', url, '--match', 'x:*', '--log-format', 'gcp']);
    expect(run.code).toBe(1);
    expect(run.summary).toMatchObject({ severity: 'ERROR', event: 'flush.failed', status: 'failure' });
    expect(run.summary.message).toMatch(/^flush failed: /);
    expect(run.stdout + run.stderr).not.toContain('s3cret-password');
  });

  test('in the pretty format, people get messages on stderr and the result on stdout', async () => {
    const prefix = testPrefix();
    const data = await writeDataSet(client, prefix, { bulk: 20 });
    const run = await runCli([
      'migrate',
      '--dry-run',
      '--url',
      servers().redis.url,
      '--match',
      `${prefix}:*`,
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`migrate --dry-run: keys matching "${prefix}:*"`);
    expect(run.stdout).toContain(`would delete ${data.legacy.length} keys`);
    expect(run.stdout).toMatch(/migrate: nothing deleted \(dry run\)/);
  });
});
