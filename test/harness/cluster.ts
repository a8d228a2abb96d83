import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { type RedisServer, startRedis } from './redis.js';

const run = promisify(execFile);

export interface RedisCluster {
  readonly nodes: readonly RedisServer[];
  /** `{ host, port }` of every master, as ioredis `Cluster` takes them. */
  readonly startupNodes: readonly { host: string; port: number }[];
  stop(): Promise<void>;
}

async function waitForState(node: RedisServer, deadline: number): Promise<void> {
  const client = new Redis(node.port, node.host, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    for (;;) {
      const info = await client.cluster('INFO');
      if (String(info).includes('cluster_state:ok')) return;
      if (Date.now() > deadline)
        throw new Error(`cluster node ${node.port} did not reach cluster_state:ok:\n${info}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    client.disconnect();
  }
}

/** A real Redis Cluster of `masters` masters on 127.0.0.1, all 16384 slots assigned, state ok. */
export async function startCluster(masters = 3): Promise<RedisCluster> {
  const nodes = await Promise.all(
    Array.from({ length: masters }, () =>
      startRedis({
        bus: true,
        args: [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000',
        ],
      }),
    ),
  );
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((n) => `${n.host}:${n.port}`),
      '--cluster-yes',
    ]);
    const deadline = Date.now() + 20_000;
    await Promise.all(nodes.map((node) => waitForState(node, deadline)));
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, startupNodes: nodes.map((n) => ({ host: n.host, port: n.port })), stop };
}
