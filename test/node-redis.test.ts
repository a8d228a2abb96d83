import { NodeRedisStore } from '@periodkey/node-redis';
import { isStoreRefusedError, Ratelimit } from '@periodkey/ratelimit';
import { classifyRedisError, isRefusal, LIMIT_SCRIPT } from '@periodkey/ratelimit/storage';
import { createAclUser, type RedisServer, rejection, servers, startRedis, testPrefix } from '@periodkey/test';
import { Redis } from 'ioredis';
import * as redis6 from 'redis';
import * as redis5 from 'redis5';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

// @periodkey/node-redis on both majors of the redis package, against real servers: the error replies
// node-redis hands back keep the Redis text (so the core classifies them and the NOSCRIPT fallback works),
// health() on a server and a cluster, and limits through a standalone client and a cluster. Every SDK suite
// runs on node-redis 6 as well (test/sdk/backends.ts).

// Typed as node-redis 6 (the two majors' overloads do not unify); at run time each is itself.
type NodeRedis = Pick<typeof redis6, 'createClient' | 'createCluster' | 'ErrorReply'>;
const MAJORS: readonly (readonly [string, NodeRedis])[] = [
  ['6', redis6],
  ['5', redis5 as unknown as NodeRedis],
];

const UNKNOWN_SHA = '0123456789abcdef0123456789abcdef01234567';

/** How many times `server` answered `code` (INFO errorstats). */
async function errorCount(admin: Redis, code: string): Promise<number> {
  const info = await admin.info('errorstats');
  return Number(new RegExp(`errorstat_${code}:count=(\\d+)`).exec(info)?.[1] ?? 0);
}

describe.each(MAJORS)('node-redis %s', (_, lib) => {
  // A server of its own, so that no other test's scripts or errors change what this one counts.
  let own: RedisServer;
  let admin: Redis;
  const opened: { close(): Promise<unknown> }[] = [];
  async function connect(url: string) {
    const client = await lib.createClient({ url }).connect();
    opened.push(client);
    return client;
  }
  async function connectCluster() {
    const rootNodes = servers().cluster.nodes.map(({ host, port }) => ({ socket: { host, port } }));
    const cluster = await lib.createCluster({ rootNodes }).connect();
    opened.push(cluster);
    return cluster;
  }
  beforeAll(async () => {
    own = await startRedis();
    admin = new Redis(own.url);
  });
  afterAll(async () => {
    for (const client of opened) await client.close().catch(() => undefined);
    admin.disconnect();
    await own.stop();
  });

  test('after SCRIPT FLUSH, EVALSHA answers a noscript error and the store falls back to EVAL', async () => {
    const client = await connect(own.url);
    const reply = await rejection(() => client.evalSha(UNKNOWN_SHA, { keys: [], arguments: [] }));
    expect(reply).toBeInstanceOf(lib.ErrorReply);
    expect(reply.message).toMatch(/^NOSCRIPT /);
    expect(classifyRedisError(reply)).toEqual({ kind: 'noscript' });
    expect(isRefusal(reply)).toBe(false);

    const rl = new Ratelimit({
      store: new NodeRedisStore(client),
      prefix: testPrefix(),
      rules: { d: '2/day' },
    });
    await admin.script('FLUSH');
    const before = await errorCount(admin, 'NOSCRIPT');
    expect((await rl.limit('user:1')).remaining).toBe(1);
    expect(await errorCount(admin, 'NOSCRIPT')).toBe(before + 1);
    expect(await admin.script('EXISTS', LIMIT_SCRIPT.sha)).toEqual([1]);
    expect((await rl.limit('user:1')).remaining).toBe(0);
    expect(await errorCount(admin, 'NOSCRIPT')).toBe(before + 1);
  });

  test('wrongtype and noperm replies keep their code, and the limiter reports a refusal', async () => {
    const prefix = testPrefix();
    const client = await connect(own.url);
    const key = `${prefix}:string`;
    await client.set(key, '1', { expiration: { type: 'PX', value: 60_000 } });
    const script = "return redis.call('HGET', KEYS[1], 'f')";
    const wrongtype = await rejection(() => client.eval(script, { keys: [key], arguments: [] }));
    expect(classifyRedisError(wrongtype)).toEqual({ kind: 'wrongtype' });
    expect(isRefusal(wrongtype)).toBe(true);

    const user = await connect(await createAclUser(own.url, [`~${prefix}:*`, '+get', '+evalsha', '+eval']));
    expect(classifyRedisError(await rejection(() => user.set(`${prefix}:k`, '1')))).toEqual({
      kind: 'noperm',
      command: 'set',
    });
    expect(classifyRedisError(await rejection(() => user.get('elsewhere')))).toEqual({
      kind: 'noperm',
      command: undefined,
    });
    // A key outside the user's ACL, and a command the script calls (INCRBY) that it does not grant: the
    // limiter throws the refusal, whatever its failure policy (Redis 7.0 words the second one as an ERR).
    for (const under of [testPrefix(), prefix]) {
      const rl = new Ratelimit({ store: new NodeRedisStore(user), prefix: under, rules: { d: '2/day' } });
      const refused = await rejection(() => rl.limit('user:1'));
      expect(isStoreRefusedError(refused)).toBe(true);
      expect(classifyRedisError(refused.cause)).toMatchObject({ kind: 'noperm' });
    }
  });

  test('a cluster node asked through a standalone client answers moved, a refusal', async () => {
    const prefix = testPrefix();
    const nodes = await Promise.all(
      servers().cluster.nodes.map(({ host, port }) => connect(`redis://${host}:${port}`)),
    );
    // Keys on every master: whichever node is asked, one of them lives elsewhere.
    const keys = Array.from({ length: 16 }, (_, i) => `${prefix}:${i}`);
    const errors = await Promise.all(
      nodes.flatMap((node) =>
        keys.map((key) =>
          node.get(key).then(
            () => undefined,
            (e: Error) => e,
          ),
        ),
      ),
    );
    const moved = errors.filter((error) => error !== undefined);
    expect(moved.length).toBeGreaterThan(0);
    for (const error of moved) {
      expect(classifyRedisError(error)).toEqual({ kind: 'moved' });
      expect(isRefusal(error)).toBe(true);
    }
  });

  test('limits through a standalone client and a cluster, and health() is ok on both', async () => {
    for (const client of [await connect(servers().redis.url), await connectCluster()]) {
      const store = new NodeRedisStore(client);
      const rules = { m: '3/month', s: '2/second' };
      const rl = new Ratelimit({
        store,
        prefix: testPrefix(),
        rules,
        now: () => Date.parse('2026-11-24T10:00:00Z'),
      });
      const results = await Promise.all([1, 2, 3].map(() => rl.limit('user:1')));
      expect(results.map((r) => r.success)).toEqual([true, true, false]);
      expect((await rl.usage('user:1')).map((r) => r.used)).toEqual([2, 2]);
      await rl.reset('user:1');
      expect((await rl.usage('user:1')).map((r) => r.used)).toEqual([0, 0]);
      expect(await store.health()).toMatchObject({ ok: true });
    }
  });

  test('health() is not ok, without throwing, once the client is closed', async () => {
    for (const client of [await lib.createClient({ url: own.url }).connect(), await connectCluster()]) {
      const store = new NodeRedisStore(client);
      await client.close();
      const health = await store.health({ timeout: 2000 });
      expect(health.ok).toBe(false);
      expect(health.error).toBeInstanceOf(Error);
    }
  });
});
