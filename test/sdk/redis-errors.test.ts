import { classifyRedisError, isRefusal, type RedisErrorKind } from '@periodkey/ratelimit/storage';
import { createAclUser, type RedisServer, rejection, servers, startRedis, testPrefix } from '@periodkey/test';
import { Redis as Upstash } from '@upstash/redis';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

// The classifier's table held to real servers: each kind provoked on redis-server, a Redis Cluster node and
// the Upstash-compatible REST server, through the clients periodkey runs on (ioredis, @upstash/redis).
// Not provoked here: ASK (a slot in migration) and LOADING (a server loading its data set), whose replies
// the unit test covers.

async function kindOf(run: () => Promise<unknown>): Promise<RedisErrorKind> {
  return classifyRedisError(await rejection(run));
}

const UNKNOWN_SHA = '0123456789abcdef0123456789abcdef01234567';

describe('on redis-server, through ioredis', () => {
  const client = new Redis(servers().redis.url);
  const other: (Redis | RedisServer)[] = [];
  afterAll(async () => {
    client.disconnect();
    for (const item of other) {
      if (item instanceof Redis) item.disconnect();
      else await item.stop();
    }
  });
  const connect = (url: string) => {
    const redis = new Redis(url, { enableReadyCheck: false, lazyConnect: true, maxRetriesPerRequest: 0 });
    other.push(redis);
    return redis;
  };

  test('an ACL user refused a command, and a key, is noperm with the command or none', async () => {
    const prefix = testPrefix();
    const user = connect(await createAclUser(servers().redis.url, [`~${prefix}:*`, '+get']));
    expect(await kindOf(() => user.set(`${prefix}:k`, '1'))).toEqual({ kind: 'noperm', command: 'set' });
    expect(await kindOf(() => user.call('CLUSTER', 'SLOTS'))).toEqual({
      kind: 'noperm',
      command: 'cluster|slots',
    });
    expect(await kindOf(() => user.get('elsewhere'))).toEqual({ kind: 'noperm', command: undefined });
    expect(isRefusal(await rejection(() => user.get('elsewhere')))).toBe(true);
  });

  test('a wrong password is wrongpass, none where one is required noauth', async () => {
    const { username } = new URL(await createAclUser(servers().redis.url, ['+get']));
    expect(await kindOf(() => client.call('AUTH', username, 'wrong'))).toEqual({ kind: 'wrongpass' });

    const locked = await startRedis({ args: ['--requirepass', 'secret'] });
    other.push(locked);
    const anonymous = connect(locked.url);
    await anonymous.connect();
    expect(await kindOf(() => anonymous.get('k'))).toEqual({ kind: 'noauth' });
    expect(isRefusal(await rejection(() => anonymous.get('k')))).toBe(true);
  });

  test('a string key read as a hash is wrongtype, in a script too', async () => {
    const key = `${testPrefix()}:string`;
    await client.set(key, '1', 'PX', 60_000);
    expect(await kindOf(() => client.hget(key, 'f'))).toEqual({ kind: 'wrongtype' });
    const script = () => client.eval("return redis.call('HGET', KEYS[1], 'f')", 1, key);
    expect(await kindOf(script)).toEqual({ kind: 'wrongtype' });
  });

  test('scripts: an unknown SHA is noscript, a failing script script', async () => {
    expect(await kindOf(() => client.evalsha(UNKNOWN_SHA, 0))).toEqual({ kind: 'noscript' });
    expect(isRefusal(await rejection(() => client.evalsha(UNKNOWN_SHA, 0)))).toBe(false);
    expect(await kindOf(() => client.eval('return x.y', 0))).toEqual({ kind: 'script' });
    expect(await kindOf(() => client.eval('return (', 0))).toEqual({ kind: 'script' });
  });

  test('an unknown command, CLUSTER on a standalone server, and a database it does not have', async () => {
    expect(await kindOf(() => client.call('PERIODKEY-NO-SUCH-COMMAND'))).toEqual({ kind: 'unknown-command' });
    expect(await kindOf(() => client.call('CLUSTER', 'SLOTS'))).toEqual({ kind: 'cluster-disabled' });
    expect(await kindOf(() => client.call('SELECT', '99'))).toEqual({ kind: 'db-out-of-range' });
    expect(await kindOf(() => client.call('GET'))).toEqual({ kind: 'err' });
  });
});

describe('on a Redis Cluster node, through a client that is not a Cluster client', () => {
  const cluster = new Cluster(servers().cluster.nodes);
  const nodes = servers().cluster.nodes.map(({ host, port }) => new Redis(port, host));
  afterAll(() => {
    cluster.disconnect();
    for (const node of nodes) node.disconnect();
  });

  test('a key of another master is moved, keys of two slots crossslot: both refusals', async () => {
    const prefix = testPrefix();
    // Keys on every master: whichever node is asked, one of them lives elsewhere.
    const keys = Array.from({ length: 16 }, (_, i) => `${prefix}:${i}`);
    const kinds = await Promise.all(
      nodes.flatMap((node) => keys.map((key) => node.get(key).then(() => undefined, classifyRedisError))),
    );
    expect(kinds.filter((kind) => kind !== undefined)).toContainEqual({ kind: 'moved' });
    expect(new Set(kinds.map((kind) => kind?.kind))).toEqual(new Set([undefined, 'moved']));

    const [a, b] = ['{a}x', '{b}x'];
    expect(await kindOf(() => (nodes[0] as Redis).del(a, b))).toEqual({ kind: 'crossslot' });
    expect(isRefusal(await rejection(() => (nodes[0] as Redis).del(a, b)))).toBe(true);
  });
});

describe('on the Upstash REST server, through @upstash/redis', () => {
  const { url, token, redisUrl } = servers().upstash;
  const behind = new Redis(redisUrl);
  let key = '';
  beforeAll(async () => {
    key = `${testPrefix()}:string`;
    await behind.set(key, '1', 'PX', 60_000);
  });
  afterAll(() => behind.disconnect());
  const upstash = (secret = token) =>
    new Upstash({ url, token: secret, automaticDeserialization: false, enableTelemetry: false });

  test('a wrong token is wrongpass', async () => {
    expect(await kindOf(() => upstash('wrong').get('k'))).toEqual({ kind: 'wrongpass' });
  });

  test('wrongtype and noscript, alone and in a pipeline', async () => {
    expect(await kindOf(() => upstash().hget(key, 'f'))).toEqual({ kind: 'wrongtype' });
    expect(await kindOf(() => upstash().pipeline().getdel('x').hget(key, 'f').exec())).toEqual({
      kind: 'wrongtype',
    });
    expect(await kindOf(() => upstash().evalsha(UNKNOWN_SHA, [], []))).toEqual({ kind: 'noscript' });
  });
});
