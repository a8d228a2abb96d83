import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { IORedisStore } from '@periodkey/ioredis';
import { Ratelimit, type RatelimitEvent } from '@periodkey/ratelimit';
import { servers, startRedis, startSentinel, startTlsRedis, testPrefix } from '@periodkey/test';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, test, vi } from 'vitest';

const ENV = [
  'UPSTASH_REDIS_REST_URL',
  'UPSTASH_REDIS_REST_TOKEN',
  'REDIS_URL',
  'REDIS_TLS_CA_FILE',
  'REDIS_TLS_SERVERNAME',
] as const;
const run = promisify(execFile);

function setEnv(values: Partial<Record<(typeof ENV)[number], string>>) {
  for (const name of ENV) vi.stubEnv(name, values[name] ?? '');
}

/** A port of 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Runs an ES module as a child process of the test package, as an application would. */
function child(source: string, env: Record<string, string>) {
  return spawn(process.execPath, ['--input-type=module', '-e', source], {
    cwd: import.meta.dirname,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('a Redis Cluster from a URL', () => {
  test('REDIS_URL at one cluster node: the store switches to a Cluster client and limits exactly', async () => {
    const [node] = servers().cluster.nodes;
    setEnv({ REDIS_URL: `redis://${node?.host}:${node?.port}` });
    const limiter = new Ratelimit({ rules: { m: '10/minute' }, prefix: testPrefix(), failure: 'closed' });
    // Three identities land in different slots, so most calls reach a node that does not own their slot.
    const results = await Promise.all(
      ['user:1', 'user:2', 'user:3'].flatMap((id) => Array.from({ length: 17 }, () => limiter.limit(id))),
    );
    expect(results.filter((r) => r.success)).toHaveLength(30);
    expect(results.every((r) => r.reason === 'store')).toBe(true);
    expect(((await limiter.store()) as IORedisStore).client.isCluster).toBe(true);
    limiter.close();
  });

  test('a plain URL at a cluster node, or a cluster URL, for a user that may not run CLUSTER SLOTS: a refusal that names it, not an outage', async () => {
    const nodes = servers().cluster.nodes;
    const prefix = testPrefix();
    const user = `noslots${prefix.slice(-6)}`;
    for (const { host, port } of nodes) {
      const admin = new Redis(port, host);
      await admin.acl('SETUSER', user, 'reset', 'on', '>pw', `~${prefix}:*`, '+@all', '-cluster|slots');
      admin.disconnect();
    }
    for (const scheme of ['redis', 'redis+cluster']) {
      const limiter = new Ratelimit({
        store: `${scheme}://${user}:pw@${nodes[0]?.host}:${nodes[0]?.port}`,
        rules: { m: '3/minute' },
        prefix,
      });
      const ids = ['user:1', 'user:2', 'user:3'];
      const outcomes = await Promise.allSettled(ids.map((id) => limiter.limit(id)));
      const refusals = outcomes.filter((o) => o.status === 'rejected').map((o) => String(o.reason));
      expect(refusals.length).toBeGreaterThan(0);
      for (const refusal of refusals) {
        expect(refusal).toMatch(/^StoreRefusedError: NOPERM .*'cluster\|slots'.*\(grant the command/);
      }
      for (const outcome of outcomes) {
        if (outcome.status === 'fulfilled') expect(outcome.value.reason).toBe('store');
      }
      limiter.close();
    }
  });

  test('a database the server does not have is a refusal, not counts in database 0', async () => {
    const limiter = new Ratelimit({ store: `${servers().redis.url}/99`, rules: { m: '3/minute' } });
    await expect(limiter.limit('user:1')).rejects.toThrow(
      /^ERR DB index is out of range.*\(the server has no such database/,
    );
    limiter.close();
  });

  test('redis+cluster:// names the startup nodes', async () => {
    const nodes = servers().cluster.nodes.map(({ host, port }) => `${host}:${port}`);
    const limiter = new Ratelimit({
      store: `redis+cluster://${nodes.join(',')}`,
      rules: { m: '2/minute' },
      prefix: testPrefix(),
    });
    const store = (await limiter.store()) as IORedisStore;
    expect(store.client.isCluster).toBe(true);
    const admitted = [];
    for (let i = 0; i < 3; i++) admitted.push((await limiter.limit('user:1')).success);
    expect(admitted).toEqual([true, true, false]);
    expect((await store.health()).ok).toBe(true);
    limiter.close();
  });

  test('8 processes with REDIS_URL at one cluster node admit exactly the limit', async () => {
    const [node] = servers().cluster.nodes;
    const source = `
      import { Ratelimit } from '@periodkey/ratelimit';
      const limiter = new Ratelimit({ rules: { monthly: '100/month' }, prefix: process.env.PREFIX,
        failure: 'closed', timeout: 30000 });
      const results = await Promise.all(Array.from({ length: 50 }, () => limiter.limit('user:hammered')));
      process.stdout.write(String(results.filter((r) => r.success).length));
      limiter.close();`;
    const env = { REDIS_URL: `redis://${node?.host}:${node?.port}`, PREFIX: testPrefix() };
    const outputs = await Promise.all(
      Array.from({ length: 8 }, () =>
        run(process.execPath, ['--input-type=module', '-e', source], {
          cwd: import.meta.dirname,
          env: { ...process.env, ...env },
        }),
      ),
    );
    expect(outputs.reduce((sum, { stdout }) => sum + Number(stdout), 0)).toBe(100);
  });
});

describe('connections have an owner', () => {
  test('20 limiters from REDIS_URL share one connection, closed with the last of them', async () => {
    const server = await startRedis();
    const own = new Redis(server.url);
    try {
      setEnv({ REDIS_URL: server.url });
      const limiters = Array.from({ length: 20 }, () => new Ratelimit({ rules: { m: '5/minute' } }));
      for (const limiter of limiters) expect((await limiter.limit('user:1')).reason).toBe('store');
      const clients = async () =>
        String(await own.client('LIST'))
          .trim()
          .split('\n').length;
      expect(await clients()).toBe(2); // the limiters' one, and this test's
      const store = (await limiters[0]?.store()) as IORedisStore;
      for (const limiter of limiters.slice(1)) limiter.close();
      expect(store.client.status).toBe('ready');
      const ended = once(store.client, 'end');
      limiters[0]?.close();
      await ended;
      expect(await clients()).toBe(1);
    } finally {
      own.disconnect();
      await server.stop();
    }
  });

  test('a limiter used after close() still limits, on its URL opened for the call', async () => {
    const limiter = new Ratelimit({
      store: servers().redis.url,
      rules: { m: '5/minute' },
      prefix: testPrefix(),
    });
    expect((await limiter.limit('user:1')).reason).toBe('store');
    const first = (await limiter.store()) as IORedisStore;
    const ended = once(first.client, 'end');
    limiter.close();
    await ended;
    expect(await limiter.limit('user:1')).toMatchObject({ reason: 'store', remaining: 3 });
    expect(await limiter.usage('user:1')).toMatchObject([{ used: 2 }]);
  });

  test('memory:// keeps its counts across close()', async () => {
    const limiter = new Ratelimit({ store: 'memory://', rules: { m: '5/minute' } });
    await limiter.limit('user:1');
    limiter.close();
    expect(await limiter.limit('user:1')).toMatchObject({ reason: 'store', remaining: 3 });
  });

  test('a store passed in is never closed by the limiter', async () => {
    const client = new Redis(servers().redis.url);
    const limiter = new Ratelimit({ store: new IORedisStore(client), rules: { m: '5/minute' } });
    await limiter.limit('user:1');
    limiter.close();
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  test('a script that limits with REDIS_URL and closes its limiter exits by itself within a second', async () => {
    const script = child(
      `import { Ratelimit } from '@periodkey/ratelimit';
       const limiter = new Ratelimit({ rules: { m: '5/minute' }, prefix: process.env.PREFIX });
       const { reason } = await limiter.limit('user:1');
       // A call in flight at close(), and one after it: both limit, and neither keeps the connection open.
       const inFlight = limiter.limit('user:1');
       limiter.close();
       const after = await limiter.limit('user:1');
       process.stdout.write([reason, (await inFlight).reason, after.reason, after.remaining].join(' ') + '\\n');`,
      { REDIS_URL: servers().redis.url, PREFIX: testPrefix() },
    );
    let closedAt = 0;
    let out = '';
    script.stdout.on('data', (chunk) => {
      out += chunk;
      closedAt ||= performance.now();
    });
    const killer = setTimeout(() => script.kill('SIGKILL'), 5000);
    const [code] = await once(script, 'exit');
    clearTimeout(killer);
    expect(out.trim()).toBe('store store store 2');
    expect(code).toBe(0);
    expect(performance.now() - closedAt).toBeLessThan(1000);
  });
});

describe('Sentinel', () => {
  test('a failover while calls run: every call answers within the timeout, and limiting resumes on the new master', async () => {
    const deployment = await startSentinel();
    const watcher = new Redis(deployment.sentinels[0] as { host: string; port: number });
    try {
      setEnv({ REDIS_URL: deployment.url });
      const timeout = 500;
      const limiter = new Ratelimit({
        rules: { m: '1000/minute' },
        prefix: testPrefix(),
        timeout,
        failure: 'closed',
        probe: { initialDelay: 50, maxDelay: 200 },
      });
      for (let i = 0; i < 5; i++) expect((await limiter.limit('user:1')).reason).toBe('store');
      // Replication is asynchronous: a write the replica has not received is lost in a failover. WAIT
      // makes sure these reached it, so the counts can be checked on the new master.
      const master = new Redis(deployment.master.url);
      expect(await master.call('WAIT', '1', '5000')).toBe(1);
      master.disconnect();

      await watcher.subscribe('+switch-master');
      const switched = once(watcher, 'message');
      deployment.master.signal('SIGKILL');
      let slowest = 0;
      let failed = 0;
      let stored = 0;
      // Calls run back to back (yielding to I/O between them) until the new master has answered 5 of them.
      const started = performance.now();
      while (stored < 5) {
        const callStarted = performance.now();
        const result = await limiter.limit('user:1');
        slowest = Math.max(slowest, performance.now() - callStarted);
        if (result.reason === 'store') {
          if (failed > 0) stored += 1;
        } else {
          failed += 1;
          expect(result).toMatchObject({ success: false });
        }
        await new Promise((resolve) => setImmediate(resolve));
        expect(performance.now() - started).toBeLessThan(30_000);
      }
      const [, message] = await switched;
      expect(String(message)).toContain(`${deployment.replica.port}`);
      expect(failed).toBeGreaterThan(0);
      expect(slowest).toBeLessThan(timeout + 100);
      // The counts went on where the replica had them: 5 before, plus every call the new master answered.
      const promoted = new Redis(deployment.replica.url);
      const [key] = await promoted.keys('*user:1*');
      expect(Number(await promoted.get(key as string)) / 1e6).toBeGreaterThanOrEqual(5 + stored);
      promoted.disconnect();
      limiter.close();
    } finally {
      watcher.disconnect();
      await deployment.stop();
    }
  });
});

describe('TLS', () => {
  test('rediss:// with REDIS_TLS_CA_FILE and REDIS_TLS_SERVERNAME limits; without them the certificate is refused, with its cause', async () => {
    const tls = await startTlsRedis();
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const url = `rediss://127.0.0.1:${tls.tlsPort}`;
      setEnv({ REDIS_URL: url, REDIS_TLS_CA_FILE: tls.caFile, REDIS_TLS_SERVERNAME: tls.servername });
      const trusted = new Ratelimit({ rules: { m: '2/minute' }, failure: 'closed' });
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push((await trusted.limit('user:1')).success);
      expect(answers).toEqual([true, true, false]);
      expect((await ((await trusted.store()) as IORedisStore).health()).ok).toBe(true);
      trusted.close();

      // The system's CAs do not trust the test's CA; with the CA but no servername, the name is wrong.
      for (const env of [{ REDIS_URL: url }, { REDIS_URL: url, REDIS_TLS_CA_FILE: tls.caFile }]) {
        setEnv(env);
        const limiter = new Ratelimit({ rules: { m: '2/minute' }, failure: 'closed' });
        expect(await limiter.limit('user:1')).toMatchObject({ success: false, reason: 'error' });
        const health = await ((await limiter.store()) as IORedisStore).health();
        expect(health.error?.message).toMatch(
          env.REDIS_TLS_CA_FILE
            ? /Hostname\/IP does not match certificate's altnames/
            : /self.signed certificate/,
        );
        limiter.close();
      }
      expect(printed.mock.calls.flat().join(' ')).not.toMatch(/Unhandled error event/);
    } finally {
      await tls.stop();
    }
  });

  test('TLS settings for a URL that is not TLS, or a CA file that cannot be read, are typed errors', async () => {
    setEnv({ REDIS_URL: servers().redis.url, REDIS_TLS_CA_FILE: '/etc/ssl/ca.pem' });
    expect(() => new Ratelimit({ rules: { m: '2/minute' } })).toThrow(
      /^REDIS_TLS_CA_FILE is set, but REDIS_URL URL redis:\/\/127\.0\.0\.1:\d+ is not TLS; use rediss:\/\//,
    );
    setEnv({ REDIS_URL: 'redis://:hunt/er2@127.0.0.1:1', REDIS_TLS_SERVERNAME: 'x' });
    expect(() => new Ratelimit({ rules: { m: '2/minute' } })).toThrow(
      /^REDIS_TLS_SERVERNAME is set, but REDIS_URL URL redis:\/\/\*\*\*@127\.0\.0\.1:1 is not TLS/,
    );
    setEnv({ REDIS_URL: 'rediss://127.0.0.1:1', REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' });
    const limiter = new Ratelimit({ rules: { m: '2/minute' } });
    await expect(limiter.limit('user:1')).rejects.toThrow(
      /^the TLS CA file \/nonexistent\/ca\.pem \(REDIS_TLS_CA_FILE\) cannot be read: ENOENT/,
    );
    limiter.close();
    expect(() => IORedisStore.fromUrl(servers().redis.url, { tls: { servername: 'x' } })).toThrow(
      /TLS options were given for a URL that is not TLS/,
    );
  });
});

describe('client errors surface once, with their cause', () => {
  test('Redis down: nothing printed by ioredis; events and health() name ECONNREFUSED', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    const events: RatelimitEvent[] = [];
    const limiter = new Ratelimit({
      store: `redis://127.0.0.1:${await closedPort()}`,
      rules: { m: '5/minute' },
      onEvent: (event) => events.push(event),
    });
    const result = await limiter.limit('user:1');
    expect(result).toMatchObject({ success: true, reason: 'error' });
    const failed = events.find((event) => event.type === 'operation' && event.outcome === 'error');
    const cause = (failed as { error?: Error } | undefined)?.error?.cause as Error | undefined;
    expect(cause?.message).toMatch(/ECONNREFUSED/);
    const health = await ((await limiter.store()) as IORedisStore).health();
    expect(health.ok).toBe(false);
    expect(health.error?.message).toMatch(/the connection's last error: connect ECONNREFUSED/);
    limiter.close();
    expect(printed.mock.calls.flat().join(' ')).not.toMatch(/Unhandled error event/);
  });
});

describe('Upstash from the environment', () => {
  test('an endpoint that is down is seen within the timeout, not after the client retries for seconds', async () => {
    setEnv({
      UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${await closedPort()}`,
      UPSTASH_REDIS_REST_TOKEN: 'token',
    });
    const limiter = new Ratelimit({ rules: { m: '5/minute' }, timeout: 1000 });
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      expect(await limiter.limit('user:1')).toMatchObject({ success: true, reason: 'error' });
      expect(performance.now() - started).toBeLessThan(500);
    }
    limiter.close();
  });
});
