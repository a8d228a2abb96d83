import type { TestProject } from 'vitest/node';
import { startCluster } from './cluster.js';
import { ensureRedisServer, startRedis } from './redis.js';
import { startUpstashServer } from './upstash-server.js';

/**
 * Starts the servers once per test run and hands their addresses to the tests (`inject('servers')`):
 * a standalone Redis, a 3-master Redis Cluster, and the Upstash-compatible REST server in front of its
 * own Redis. Everything stops in teardown; if this process dies instead, the reaper kills the servers.
 */
export default async function setup(project: TestProject) {
  const started = Date.now();
  await ensureRedisServer();
  const [standalone, cluster, upstashBackend] = await Promise.all([
    startRedis(),
    startCluster(3),
    startRedis(),
  ]);
  const upstash = await startUpstashServer({ redisUrl: upstashBackend.url });
  project.provide('servers', {
    redis: { url: standalone.url, port: standalone.port },
    cluster: { nodes: [...cluster.startupNodes] },
    upstash: { url: upstash.url, token: upstash.token, redisUrl: upstashBackend.url },
  });
  if (process.env.PERIODKEY_HARNESS_TIMING) console.log(`harness started in ${Date.now() - started} ms`);
  return async () => {
    await upstash.close();
    await Promise.all([standalone.stop(), cluster.stop(), upstashBackend.stop()]);
  };
}

export interface Servers {
  redis: { url: string; port: number };
  cluster: { nodes: { host: string; port: number }[] };
  /** `redisUrl` is the Redis behind the REST server, for tests that check what really landed. */
  upstash: { url: string; token: string; redisUrl: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    servers: Servers;
  }
}
