import {
  type RedisServer,
  servers,
  startRedis,
  startUpstashServer,
  testPrefix,
  type UpstashServer,
} from '@periodkey/test';
import { Redis } from '@upstash/redis';
import { Redis as IORedis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';

const NON_ASCII = 'héllo ✓ 日本';
const NOT_AN_INTEGER = 'ERR value is not an integer or out of range';

/** POSTs `body` to the shared server as the client would, minus the client. */
async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const { url, token } = servers().upstash;
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

describe('@upstash/redis against the shared REST server', () => {
  let redis: Redis;
  let backend: IORedis;
  beforeAll(() => {
    const { url, token, redisUrl } = servers().upstash;
    redis = new Redis({ url, token });
    backend = new IORedis(redisUrl);
  });
  afterAll(() => backend.disconnect());

  test('get, set and incr read and write the Redis behind it', async () => {
    const p = testPrefix();
    expect(await redis.set(`${p}:s`, 'value')).toBe('OK');
    expect(await redis.get(`${p}:s`)).toBe('value');
    expect(await redis.get(`${p}:missing`)).toBeNull();
    expect(await redis.incr(`${p}:n`)).toBe(1);
    expect(await redis.incr(`${p}:n`)).toBe(2);
    expect(await backend.mget(`${p}:s`, `${p}:n`)).toEqual(['value', '2']);
  });

  test('strings at every depth round-trip exactly through base64, integers stay numbers', async () => {
    const p = testPrefix();
    expect(await redis.set(`${p}:u`, NON_ASCII)).toBe('OK');
    expect(await redis.get(`${p}:u`)).toBe(NON_ASCII);
    expect(await backend.getBuffer(`${p}:u`)).toEqual(Buffer.from(NON_ASCII, 'utf8'));
    expect(await redis.hset(`${p}:h`, { plain: 'v', [NON_ASCII]: NON_ASCII })).toBe(2);
    expect(await redis.hgetall(`${p}:h`)).toEqual({ plain: 'v', [NON_ASCII]: NON_ASCII });

    // Bulk and status replies (OK, PONG) nested three deep, next to integers.
    const nested = await redis.eval(
      "return {KEYS[1], 42, {ARGV[1], redis.call('SET', KEYS[1], ARGV[2]), {ARGV[2], -7}}, redis.call('PING')}",
      [`${p}:k`],
      [NON_ASCII, 'ünïcødé "quoted"'],
    );
    expect(nested).toEqual([`${p}:k`, 42, [NON_ASCII, 'OK', ['ünïcødé "quoted"', -7]], 'PONG']);
  });

  test('an error inside an auto-pipeline fails only its own call', async () => {
    const p = testPrefix();
    await backend.set(`${p}:text`, 'abc');
    const [first, failed, last] = await Promise.allSettled([
      redis.incr(`${p}:n`),
      redis.incr(`${p}:text`),
      redis.incr(`${p}:n`),
    ]);
    expect(first).toEqual({ status: 'fulfilled', value: 1 });
    expect(failed).toMatchObject({ status: 'rejected', reason: { name: 'UpstashError' } });
    expect(String((failed as PromiseRejectedResult).reason.message)).toBe(
      `Command failed: ${NOT_AN_INTEGER}`,
    );
    expect(last).toEqual({ status: 'fulfilled', value: 2 });
  });

  test('an explicit pipeline throws on an error item unless keepErrors, and is not atomic', async () => {
    const p = testPrefix();
    await backend.set(`${p}:text`, 'abc');
    const failing = redis.pipeline().set(`${p}:a`, 'v').incr(`${p}:text`).incr(`${p}:n`);
    await expect(failing.exec()).rejects.toThrow(`Command 2 [ incr ] failed: ${NOT_AN_INTEGER}`);
    // The commands around the failed one ran anyway.
    expect(await backend.mget(`${p}:a`, `${p}:n`)).toEqual(['v', '1']);

    const items = await redis.pipeline().incr(`${p}:n`).incr(`${p}:text`).exec({ keepErrors: true });
    expect(items).toEqual([{ result: 2 }, { error: NOT_AN_INTEGER }]);
  });

  test('multi() returns every result, and concurrent transactions never interleave', async () => {
    const p = testPrefix();
    expect(await redis.multi().set(`${p}:n`, 5).incr(`${p}:n`).get(`${p}:n`).exec()).toEqual(['OK', 6, 6]);

    // Concurrent transactions share one Redis connection; each still gets its own INCR and GET, in one piece.
    const counter = `${p}:counter`;
    const transactions = Array.from({ length: 20 }, () => redis.multi().incr(counter).get(counter).exec());
    const plain = Array.from({ length: 20 }, () => redis.incr(counter));
    const results = await Promise.all(transactions);
    await Promise.all(plain);
    for (const [incremented, read] of results) expect(read).toBe(incremented);
    expect(new Set(results.map(([incremented]) => incremented)).size).toBe(20);
    expect(await backend.get(counter)).toBe('40');
  });

  test('multi(): a runtime error is one item, a queue-time error aborts the whole transaction', async () => {
    const p = testPrefix();
    const runtime = redis.multi().set(`${p}:a`, 'text').incr(`${p}:a`).get(`${p}:a`);
    expect(await runtime.exec({ keepErrors: true })).toEqual([
      { result: 'OK' },
      { error: NOT_AN_INTEGER },
      { result: 'text' },
    ]);

    // HSET without fields is refused when queued, so EXEC answers EXECABORT and nothing runs.
    const aborted = redis.multi().set(`${p}:b`, 'v').hset(`${p}:h`, {});
    await expect(aborted.exec()).rejects.toThrow(
      /^EXECABORT Transaction discarded because of previous errors/,
    );
    expect(await backend.exists(`${p}:b`)).toBe(0);
  });

  test('SCAN with MATCH and COUNT iterates to cursor 0 and finds exactly the keys written', async () => {
    const p = testPrefix();
    const wanted = Array.from({ length: 30 }, (_, i) => `${p}:scan:${i}`);
    const others = Array.from({ length: 10 }, (_, i) => `${p}:other:${i}`);
    await redis.mset(Object.fromEntries([...wanted, ...others].map((key) => [key, 1])));

    const found = new Set<string>();
    let cursor = '0';
    let calls = 0;
    do {
      const [next, keys] = await redis.scan(cursor, { match: `${p}:scan:*`, count: 10 });
      for (const key of keys) found.add(key);
      cursor = next;
      calls++;
    } while (cursor !== '0');
    expect([...found].sort()).toEqual([...wanted].sort());
    expect(calls).toBeGreaterThan(1);
  });

  test('UNLINK of 1000 keys in one call removes them all; UNLINK of none answers 0 as Upstash does', async () => {
    const p = testPrefix();
    const keys = Array.from({ length: 1000 }, (_, i) => `${p}:u:${i}`);
    await backend.mset(keys.flatMap((key) => [key, 'x']));
    expect(await redis.unlink(...keys)).toBe(1000);
    expect(await backend.exists(...keys)).toBe(0);
    expect(await redis.unlink()).toBe(0);
    expect(await redis.del()).toBe(0);
  });

  test('a wrong token is refused with 401 WRONGPASS', async () => {
    const wrong = new Redis({ url: servers().upstash.url, token: 'not-the-token' });
    await expect(wrong.get('anything')).rejects.toThrow(/^WRONGPASS invalid or missing auth token/);
  });

  test('a body over 10 MB is refused with the max request size error; 9 MB is fine', async () => {
    const key = `${testPrefix()}:big`;
    await expect(redis.set(key, 'x'.repeat(11 * 1024 * 1024))).rejects.toThrow(
      /^ERR max request size exceeded/,
    );
    expect(await backend.exists(key)).toBe(0);
    expect(await redis.set(key, 'y'.repeat(9 * 1024 * 1024))).toBe('OK');
    expect(await backend.strlen(key)).toBe(9 * 1024 * 1024);
    await backend.unlink(key);
  });

  test('blocking and connection-state commands are refused and the server keeps working', async () => {
    const p = testPrefix();
    await expect(redis.exec(['BLPOP', `${p}:list`, 0])).rejects.toThrow(/Command is not available: 'blpop'/);
    await expect(redis.exec(['SELECT', 1])).rejects.toThrow(/Command is not available: 'select'/);
    await expect(redis.exec(['SUBSCRIBE', `${p}:ch`])).rejects.toThrow(
      /Command is not available: 'subscribe'/,
    );
    await expect(redis.exec(['XREAD', 'BLOCK', 0, 'STREAMS', `${p}:s`, '$'])).rejects.toThrow(/'xread'/);
    expect(await redis.set(`${p}:still`, 'works')).toBe('OK');
    expect(await backend.get(`${p}:still`)).toBe('works');
  });
});

describe('the REST protocol on the wire', () => {
  test('with Upstash-Encoding: base64 every string is base64, integers and null are not; without, plain UTF-8', async () => {
    const p = testPrefix();
    const base64 = { 'upstash-encoding': 'base64' };
    const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

    expect((await post('/', ['SET', `${p}:k`, NON_ASCII], base64)).body).toEqual({ result: b64('OK') });
    expect((await post('/', ['GET', `${p}:k`], base64)).body).toEqual({ result: b64(NON_ASCII) });
    expect((await post('/', ['PING'], base64)).body).toEqual({ result: b64('PONG') });
    expect((await post('/', ['TYPE', `${p}:k`], base64)).body).toEqual({ result: b64('string') });
    const scan = (await post('/', ['SCAN', 0, 'MATCH', `${p}:*`, 'COUNT', 1], base64)).body as {
      result: unknown[];
    };
    const cursor = Buffer.from(String(scan.result[0]), 'base64').toString();
    expect(cursor).toMatch(/^\d+$/);
    expect(scan.result[0]).toBe(b64(cursor));
    expect((await post('/', ['STRLEN', `${p}:k`], base64)).body).toEqual({
      result: Buffer.byteLength(NON_ASCII),
    });
    expect((await post('/', ['GET', `${p}:missing`], base64)).body).toEqual({ result: null });

    expect((await post('/', ['GET', `${p}:k`])).body).toEqual({ result: NON_ASCII });
    expect((await post('/', ['PING'])).body).toEqual({ result: 'PONG' });
    // `result` is present even when null, or the client throws "Request did not return a result".
    const missing = await post('/', ['GET', `${p}:missing`]);
    expect(missing.status).toBe(200);
    expect(Object.hasOwn(missing.body as object, 'result')).toBe(true);
  });

  test('numbers and booleans are stringified and null is the empty string', async () => {
    const p = testPrefix();
    expect((await post('/', ['RPUSH', `${p}:l`, 1, 2.5, true, null, 's'])).body).toEqual({ result: 5 });
    expect((await post('/', ['LRANGE', `${p}:l`, 0, -1])).body).toEqual({
      result: ['1', '2.5', 'true', '', 's'],
    });
  });

  test('errors: a Redis error is 400 { error } on / and an item in /pipeline; NOSCRIPT passes through', async () => {
    const p = testPrefix();
    expect(await post('/', ['INCR', `${p}:n`, 'extra'])).toMatchObject({
      status: 400,
      body: { error: "ERR wrong number of arguments for 'incr' command" },
    });
    expect(await post('/', ['EVALSHA', 'a'.repeat(40), 0])).toMatchObject({
      status: 400,
      body: { error: 'NOSCRIPT No matching script. Please use EVAL.' },
    });
    const pipeline = await post('/pipeline', [
      ['SET', `${p}:t`, 'text'],
      ['INCR', `${p}:t`],
      ['GET', `${p}:t`],
    ]);
    expect(pipeline).toMatchObject({
      status: 200,
      body: [{ result: 'OK' }, { error: NOT_AN_INTEGER }, { result: 'text' }],
    });
    const aborted = await post('/multi-exec', [['SET', `${p}:x`, 'v'], ['NOSUCHCOMMAND']]);
    expect(aborted.status).toBe(400);
    expect(aborted.body).toEqual({ error: 'EXECABORT Transaction discarded because of previous errors.' });
  });

  test('auth: missing or malformed is 400, wrong is 401; every answer is JSON with a sync token', async () => {
    const { url, token } = servers().upstash;
    const send = (init: RequestInit, path = '/') =>
      fetch(`${url}${path}`, { method: 'POST', body: '["PING"]', ...init }).then(async (res) => ({
        status: res.status,
        type: res.headers.get('content-type'),
        body: (await res.json()) as { error?: string },
      }));
    const json = { 'content-type': 'application/json' };

    const missing = await send({ headers: json });
    expect(missing).toMatchObject({ status: 400, type: 'application/json' });
    expect(missing.body.error).toMatch(/Authorization/);
    expect((await send({ headers: { ...json, authorization: `Basic ${token}` } })).status).toBe(400);
    expect(await send({ headers: { ...json, authorization: 'Bearer wrong' } })).toEqual({
      status: 401,
      type: 'application/json',
      body: { error: 'WRONGPASS invalid or missing auth token' },
    });

    const authorized = { ...json, authorization: `Bearer ${token}` };
    expect((await send({ headers: authorized }, '/nowhere')).status).toBe(404);
    expect((await send({ headers: authorized, body: '["PING"' })).status).toBe(400);
    expect((await send({ headers: { ...authorized, 'content-type': 'text/plain' } })).status).toBe(400);
    expect(
      (await send({ headers: { ...authorized, 'content-type': 'application/json; charset=utf-8' } })).status,
    ).toBe(200);
    const get = await fetch(url, { headers: authorized });
    expect(get.status).toBe(405);
    expect(await get.json()).toHaveProperty('error');

    const ok = await post('/', ['PING']);
    expect(ok.headers.get('upstash-sync-token')).toMatch(/^\d+$/);
  });
});

describe('a REST server and Redis of this file alone (faults and counters stay here)', () => {
  let backend: RedisServer;
  let server: UpstashServer;
  let direct: IORedis;
  beforeAll(async () => {
    backend = await startRedis();
    server = await startUpstashServer({ redisUrl: backend.url });
    direct = new IORedis(backend.url);
  });
  afterEach(() => server.faults.clear());
  afterAll(async () => {
    direct?.disconnect();
    await server?.close();
    await backend?.stop();
  });

  /** `cmdstat_<name>` of INFO commandstats: how often Redis ran the command and how often it failed. */
  async function commandStats(name: string): Promise<{ calls: number; failed: number }> {
    const line = (await direct.info('commandstats'))
      .split('\n')
      .find((l) => l.startsWith(`cmdstat_${name}:`));
    const field = (key: string) => Number(line?.match(new RegExp(`${key}=(\\d+)`))?.[1] ?? 0);
    return { calls: field('calls'), failed: field('failed_calls') };
  }

  /** Requests per path since `before`, a copy of `server.stats.paths`. */
  function pathsSince(before: Readonly<Record<string, number>>): Record<string, number> {
    const now = server.stats.paths;
    return Object.fromEntries(
      Object.entries(now)
        .map(([path, count]) => [path, count - (before[path] ?? 0)] as const)
        .filter(([, count]) => count > 0),
    );
  }

  test('several calls in one tick go out as one /pipeline request and each gets its own result', async () => {
    const redis = new Redis({ url: server.url, token: server.token });
    const p = testPrefix();
    let before = server.stats.paths;
    const writes = await Promise.all([
      redis.set(`${p}:a`, 'A'),
      redis.set(`${p}:b`, NON_ASCII),
      redis.incr(`${p}:n`),
      redis.incr(`${p}:n`),
    ]);
    expect(writes).toEqual(['OK', 'OK', 1, 2]);
    expect(pathsSince(before)).toEqual({ '/pipeline': 1 });

    before = server.stats.paths;
    const reads = await Promise.all([redis.get(`${p}:a`), redis.get(`${p}:b`), redis.get(`${p}:n`)]);
    expect(reads).toEqual(['A', NON_ASCII, 2]);
    expect(pathsSince(before)).toEqual({ '/pipeline': 1 });

    // SCAN bypasses auto-pipelining.
    before = server.stats.paths;
    await redis.scan(0, { match: `${p}:*` });
    expect(pathsSince(before)).toEqual({ '/': 1 });
  });

  test('multi() is one /multi-exec request that Redis runs as MULTI ... EXEC', async () => {
    const redis = new Redis({ url: server.url, token: server.token });
    const p = testPrefix();
    await direct.config('RESETSTAT');
    const before = server.stats.paths;
    expect(await redis.multi().set(`${p}:n`, 1).incr(`${p}:n`).exec()).toEqual(['OK', 2]);
    expect(pathsSince(before)).toEqual({ '/multi-exec': 1 });
    expect(await commandStats('multi')).toEqual({ calls: 1, failed: 0 });
    expect(await commandStats('exec')).toEqual({ calls: 1, failed: 0 });
  });

  test('a Script: the first EVALSHA gets NOSCRIPT and falls back to EVAL; the next call uses EVALSHA', async () => {
    await direct.script('FLUSH');
    await direct.config('RESETSTAT');
    const redis = new Redis({ url: server.url, token: server.token });
    const script = redis.createScript<string>('return ARGV[1]');

    expect(await script.exec([], ['first'])).toBe('first');
    expect(await commandStats('evalsha')).toEqual({ calls: 1, failed: 1 });
    expect(await commandStats('eval')).toEqual({ calls: 1, failed: 0 });

    expect(await script.exec([], ['second'])).toBe('second');
    expect(await commandStats('evalsha')).toEqual({ calls: 2, failed: 1 });
    expect(await commandStats('eval')).toEqual({ calls: 1, failed: 0 });
  });

  // `retries: 0`, not `retry: false`: in @upstash/redis 1.39 `retry: false` still makes a second attempt.
  const client = (retry?: { retries: number; backoff?: () => number }) =>
    new Redis({ url: server.url, token: server.token, ...(retry && { retry }) });

  test('503 and 429 surface as client errors, are not retried, and clear() restores service', async () => {
    const p = testPrefix();
    const redis = client(); // default retries: they cover network errors only
    server.faults.set({ status: 503 });
    let before = server.stats.requests;
    await expect(redis.set(`${p}:a`, 'v')).rejects.toThrow(/^Service Unavailable/);
    expect(server.stats.requests - before).toBe(1);

    server.faults.set({ status: 429 });
    before = server.stats.requests;
    await expect(redis.get(`${p}:a`)).rejects.toThrow(/^Too Many Requests/);
    expect(server.stats.requests - before).toBe(1);
    expect(await direct.exists(`${p}:a`)).toBe(0);

    server.faults.clear();
    expect(await redis.set(`${p}:a`, 'v')).toBe('OK');
    expect(await direct.get(`${p}:a`)).toBe('v');
  });

  test('times: N applies to the next N requests only', async () => {
    const p = testPrefix();
    const redis = client({ retries: 0 });
    server.faults.set({ status: 500, times: 2 });
    await expect(redis.incr(`${p}:n`)).rejects.toThrow(/^Internal Server Error/);
    await expect(redis.incr(`${p}:n`)).rejects.toThrow(/^Internal Server Error/);
    expect(await redis.incr(`${p}:n`)).toBe(1);
    expect(await redis.incr(`${p}:n`)).toBe(2);
  });

  test('drop makes the client see a network error and the command does not run', async () => {
    const p = testPrefix();
    const redis = client({ retries: 0 });
    server.faults.set({ drop: true });
    await expect(redis.set(`${p}:a`, 'v')).rejects.toThrow(/fetch failed/);
    await expect(redis.get(`${p}:a`)).rejects.toThrow(/fetch failed/);
    expect(await direct.exists(`${p}:a`)).toBe(0);

    server.faults.clear();
    expect(await redis.set(`${p}:a`, 'v')).toBe('OK');
  });

  test('the client retries a dropped request and recovers after times: 1', async () => {
    const p = testPrefix();
    const redis = client({ retries: 2, backoff: () => 0 });
    server.faults.set({ drop: true, times: 1 });
    const before = server.stats.requests;
    expect(await redis.incr(`${p}:n`)).toBe(1);
    expect(server.stats.requests - before).toBe(2);
    expect(await direct.get(`${p}:n`)).toBe('1');
  });

  test('delayMs holds the request at least that long before answering', async () => {
    const p = testPrefix();
    const redis = client({ retries: 0 });
    server.faults.set({ delayMs: 300, times: 1 });
    const before = server.stats.delayed;
    const started = performance.now();
    expect(await redis.set(`${p}:a`, 'v')).toBe('OK');
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    expect(server.stats.delayed - before).toBe(1);

    expect(await redis.get(`${p}:a`)).toBe('v');
    expect(server.stats.delayed - before).toBe(1);
  });

  test('close() ends held requests and idle keep-alive connections instead of waiting for them', async () => {
    const own = await startUpstashServer({ redisUrl: backend.url });
    const redis = new Redis({ url: own.url, token: own.token, retry: { retries: 0 } });
    expect(await redis.ping()).toBe('PONG'); // leaves an idle keep-alive connection
    own.faults.set({ delayMs: 60_000 });
    const held = redis.get('anything');
    await vi.waitFor(() => expect(own.stats.delayed).toBe(1));
    await own.close();
    await expect(held).rejects.toThrow(/fetch failed/);
  });
});
