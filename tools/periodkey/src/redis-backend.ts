import { isUtf8 } from 'node:buffer';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import {
  type Backend,
  type CountWrite,
  DeleteCommand,
  type Key,
  type Reading,
  type ScanPage,
  type Shard,
} from './backend.js';
import { keySlot } from './slot.js';
import { redactUrl } from './target.js';

function reason(result: PromiseSettledResult<unknown>): string {
  return result.status === 'rejected' ? String((result.reason as Error)?.message ?? result.reason) : '';
}

/**
 * One keyspace: a standalone server, or one master of a Cluster. SCAN has a connection of its own; deletes
 * and reads go on `client`, written without waiting for earlier replies (ioredis sends each at once), which
 * pipelines them without the cost of ioredis `pipeline()` objects.
 */
class RedisShard implements Shard {
  constructor(
    readonly name: string,
    private readonly scanner: Redis,
    private readonly client: Redis,
    private readonly command: DeleteCommand,
    /** Set on a Cluster: keys go out as one command per slot, and moved slots go through the cluster. */
    private readonly cluster?: Cluster,
  ) {}

  async scan(cursor: string, match: string, count: number): Promise<ScanPage> {
    const [next, keys] = await this.scanner.scanBuffer(cursor, 'MATCH', match, 'COUNT', count);
    // Strings are far cheaper for ioredis to write back than Buffers.
    return { cursor: next.toString(), keys: keys.map((key) => (isUtf8(key) ? key.toString() : key)) };
  }

  async remove(keys: readonly Key[]): Promise<number> {
    if (!this.cluster) return this.removeGroups([keys]);
    // A multi-key command on a Cluster must stay within one slot (CROSSSLOT otherwise).
    const groups = new Map<number, Key[]>();
    for (const key of keys) {
      const slot = keySlot(key);
      const group = groups.get(slot);
      if (group) group.push(key);
      else groups.set(slot, [key]);
    }
    return this.removeGroups([...groups.values()]);
  }

  /** One delete command per group. */
  private async removeGroups(groups: readonly (readonly Key[])[]): Promise<number> {
    const command = this.command.name;
    const results = await Promise.allSettled(groups.map((group) => this.client.call(command, ...group)));
    let deleted = 0;
    const again: (readonly Key[])[] = [];
    for (const [i, result] of results.entries()) {
      const group = groups[i] ?? [];
      if (result.status === 'fulfilled') deleted += result.value as number;
      else if (command !== this.command.name || this.command.fallBack(reason(result))) again.push(group);
      else if (this.cluster && /^(MOVED|ASK) /.test(reason(result))) {
        // The slot moved since the scan (resharding); the cluster client follows the redirection.
        deleted += (await this.cluster.call(this.command.name, ...group)) as number;
      } else throw result.reason;
    }
    return again.length > 0 ? deleted + (await this.removeGroups(again)) : deleted;
  }

  take(keys: readonly Key[]): Promise<(string | null | undefined)[]> {
    return Promise.all(
      keys.map((key) =>
        this.client.getdel(key).catch((error: Error) => {
          if (/^WRONGTYPE/.test(error.message)) return undefined;
          throw error;
        }),
      ),
    );
  }

  types(keys: readonly Key[]): Promise<string[]> {
    return Promise.all(keys.map((key) => this.client.type(key)));
  }

  read(keys: readonly Key[]): Promise<Reading[]> {
    return Promise.all(
      keys.map(async (key) => {
        const [type, pttl, value] = await Promise.all([
          this.client.type(key),
          this.client.pttl(key),
          // WRONGTYPE for other types, whose type is all the table shows.
          this.client.get(key).catch(() => null),
        ]);
        return { type, pttl, value: type === 'string' ? value : null };
      }),
    );
  }
}

const CLIENT_OPTIONS: RedisOptions = {
  lazyConnect: true,
  // The ready check runs INFO, and client info CLIENT SETINFO, which a least-privilege user may not run. A
  // server still loading its data answers LOADING instead, which fails the run with that message.
  enableReadyCheck: false,
  disableClientInfo: true,
  maxRetriesPerRequest: 2,
  connectTimeout: 10_000,
  retryStrategy: (attempt) => (attempt <= 3 ? 200 * attempt : null),
};

/** See {@link Backend.addCounts}; `client` routes each key (a Cluster client routes by slot). */
async function addCounts(client: Redis | Cluster, writes: readonly CountWrite[]): Promise<void> {
  const created = await Promise.all(
    writes.map(({ key, units, expireAt }) => client.set(key, units, 'PXAT', expireAt, 'NX')),
  );
  await Promise.all(
    writes.map(({ key, units }, i) => (created[i] === null ? client.incrby(key, units) : null)),
  );
}

function silence(client: Redis | Cluster): void {
  // Errors reach the caller through the failed commands; the event would only be logged by ioredis.
  client.on('error', () => {});
}

async function dbsizes(clients: readonly Redis[]): Promise<number | undefined> {
  try {
    const sizes = await Promise.all(clients.map((client) => client.dbsize()));
    return sizes.reduce((sum, size) => sum + size, 0);
  } catch {
    return undefined;
  }
}

async function connected<T extends Redis | Cluster>(client: T): Promise<T> {
  silence(client);
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw error;
  }
  return client;
}

/** A standalone server (`cluster: false`) or a Redis Cluster reached through one of its nodes. */
export async function connectRedis(url: string, cluster: boolean): Promise<Backend> {
  const label = redactUrl(url);
  const command = new DeleteCommand();
  if (!cluster) {
    const client = await connected(new Redis(url, CLIENT_OPTIONS));
    const scanner = await connected(client.duplicate());
    return {
      label,
      shards: [new RedisShard(label, scanner, client, command)],
      addCounts: (writes) => addCounts(client, writes),
      dbsize: () => dbsizes([client]),
      close: async () => {
        scanner.disconnect();
        client.disconnect();
      },
    };
  }
  const parsed = new URL(url);
  const client = await connected(
    new Cluster([{ host: parsed.hostname, port: Number(parsed.port || 6379) }], {
      lazyConnect: true,
      enableReadyCheck: false,
      clusterRetryStrategy: (attempt) => (attempt <= 3 ? 200 * attempt : null),
      redisOptions: {
        ...CLIENT_OPTIONS,
        ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
        ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
        ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
      },
    }),
  );
  const masters = client.nodes('master');
  for (const master of masters) silence(master);
  const scanners = await Promise.all(masters.map((master) => connected(master.duplicate())));
  return {
    label: `cluster ${label}`,
    shards: masters.map(
      (master, i) =>
        new RedisShard(
          `${master.options.host}:${master.options.port}`,
          scanners[i] ?? master,
          master,
          command,
          client,
        ),
    ),
    addCounts: (writes) => addCounts(client, writes),
    dbsize: () => dbsizes(masters),
    close: async () => {
      for (const scanner of scanners) scanner.disconnect();
      client.disconnect();
    },
  };
}
