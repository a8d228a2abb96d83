import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';
import { untrack } from './reaper.js';
import { type RedisServer, startRedis, whenLogged } from './redis.js';

/** A master, one replica and three sentinels on 127.0.0.1 (quorum 2, master down after 1 s). */
export interface RedisSentinel {
  readonly master: RedisServer;
  readonly replica: RedisServer;
  readonly sentinels: readonly { readonly host: '127.0.0.1'; readonly port: number }[];
  /** The name the sentinels monitor the master by. */
  readonly name: string;
  /** `redis+sentinel://` URL of the three sentinels and the master's name. */
  readonly url: string;
  stop(): Promise<void>;
}

async function sentinel(port: number, dir: string, master: RedisServer, name: string): Promise<ChildProcess> {
  const conf = join(dir, `sentinel-${port}.conf`);
  await writeFile(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${master.port} 2`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 5000`,
      '',
    ].join('\n'),
  );
  const child = spawn('redis-server', [conf, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return whenLogged(child, '+monitor master', `sentinel on port ${port}`);
}

/**
 * Waits until the replica is in sync and every sentinel knows it and the two other sentinels, so that a
 * failover can run.
 */
async function waitForQuorum(
  replica: RedisServer,
  ports: readonly number[],
  name: string,
  deadline: number,
): Promise<void> {
  const clients = ports.map((port) => new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0 }));
  const replicaClient = new Redis(replica.port, '127.0.0.1', { maxRetriesPerRequest: 0 });
  clients.push(replicaClient);
  try {
    for (;;) {
      const synced = (await replicaClient.info('replication')).includes('master_link_status:up');
      const views = await Promise.all(
        clients.slice(0, ports.length).map(async (client) => {
          const replicas = (await client.call('SENTINEL', 'REPLICAS', name)) as unknown[];
          const others = (await client.call('SENTINEL', 'SENTINELS', name)) as unknown[];
          return replicas.length >= 1 && others.length >= ports.length - 1;
        }),
      );
      if (synced && views.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error('the sentinels did not find the replica and each other');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    for (const client of clients) client.disconnect();
  }
}

/** A real Sentinel deployment, ready for a failover when this resolves. */
export async function startSentinel(name = 'periodkey'): Promise<RedisSentinel> {
  // Diskless sync at once, so the replica is in sync within milliseconds rather than after the 5 s default delay.
  const master = await startRedis({ args: ['--repl-diskless-sync-delay', '0'] });
  const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
  const dir = await mkdtemp(join(tmpdir(), 'periodkey-sentinel-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const children = await Promise.all(ports.map((port) => sentinel(port, dir, master, name)));
  const stop = async () => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGKILL');
          await exited;
        }
        if (child.pid !== undefined) untrack(child.pid);
      }),
    );
    await Promise.all([master.stop(), replica.stop()]);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForQuorum(replica, ports, name, Date.now() + 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    master,
    replica,
    sentinels: ports.map((port) => ({ host: '127.0.0.1', port })),
    name,
    url: `redis+sentinel://${ports.map((port) => `127.0.0.1:${port}`).join(',')}/${name}`,
    stop,
  };
}
