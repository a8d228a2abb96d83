import { isUtf8 } from 'node:buffer';
import {
  type CounterAdd,
  classifyRedisError,
  counterCommands,
  readCommand,
  type StorageLayout,
  type StoredValue,
  storedValue,
} from '@periodkey/ratelimit/storage';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import {
  type Backend,
  DeleteCommand,
  type Key,
  type Reading,
  type Sample,
  type ScanPage,
  type Shard,
} from './backend.js';
import {
  connectTimeout,
  Explained,
  explain,
  messageOf,
  type Situation,
  type Timeouts,
  within,
} from './failure.js';
import { keySlot } from './slot.js';
import { type RedisTarget, redactUrl } from './target.js';
import { UsageError } from './usage.js';

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
      else if (this.cluster && isRedirect(result.reason)) {
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
          if (classifyRedisError(error).kind === 'wrongtype') return undefined;
          throw error;
        }),
      ),
    );
  }

  types(keys: readonly Key[]): Promise<string[]> {
    return Promise.all(keys.map((key) => this.client.type(key)));
  }

  read(keys: readonly Key[], layouts: readonly StorageLayout[]): Promise<Reading[]> {
    return Promise.all(
      keys.map(async (key, i) => {
        const [stored, pttl] = await Promise.all([
          readValue(this.client, key, layouts[i] ?? { type: 'string' }),
          this.client.pttl(key),
        ]);
        return { stored, pttl };
      }),
    );
  }

  async sample(count: number): Promise<Sample> {
    const [size, ...keys] = await Promise.all([
      this.client.dbsize(),
      ...Array.from({ length: count }, () => this.client.randomkeyBuffer()),
    ]);
    return { size: size as number, keys: keys.filter((key): key is Buffer => key !== null) };
  }
}

/** A key's value in `layout`; `undefined` if it is gone or of another type (WRONGTYPE). */
async function readValue(client: Redis, key: Key, layout: StorageLayout): Promise<StoredValue | undefined> {
  const [name, ...args] = readCommand(key, layout);
  try {
    return storedValue(layout, await client.call(name, ...args));
  } catch (error) {
    if (classifyRedisError(error).kind === 'wrongtype') return undefined;
    throw error;
  }
}

/** The slot moved since the scan (resharding), or is moving. */
function isRedirect(error: unknown): boolean {
  const { kind } = classifyRedisError(error);
  return kind === 'moved' || kind === 'ask';
}

function clientOptions(timeouts: Timeouts): RedisOptions {
  return {
    lazyConnect: true,
    // The ready check runs INFO, and client info CLIENT SETINFO, which a least-privilege user may not run. A
    // server still loading its data answers LOADING instead, which fails the run with that message.
    enableReadyCheck: false,
    disableClientInfo: true,
    maxRetriesPerRequest: 2,
    connectTimeout: timeouts.connectMs,
    // A command without a reply within this fails the run; a connection that goes silent is dropped.
    commandTimeout: timeouts.commandMs,
    socketTimeout: timeouts.commandMs,
    retryStrategy: (attempt) => (attempt <= 3 ? 200 * attempt : null),
  };
}

/** See {@link Backend.addCounts}; `client` routes each key (a Cluster client routes by slot). */
async function addCounts(client: Redis | Cluster, adds: readonly CounterAdd[]): Promise<void> {
  const commands = adds.map(counterCommands);
  const created = await Promise.all(
    commands.map(({ create: [name, ...args] }) => client.call(name, ...args)),
  );
  await Promise.all(
    commands.map(({ increment: [name, ...args] }, i) =>
      created[i] === null ? client.call(name, ...args) : null,
    ),
  );
}

/**
 * The last error each connection reported, which says why a command failed (a wrong password answers
 * `WRONGPASS` on the connection, then `NOAUTH` on every command; a refused connection only closes it).
 */
class Errors {
  last: string | undefined;

  watch<T extends Redis | Cluster>(client: T): T {
    // Errors reach the caller through the failed commands; the event would only be logged by ioredis.
    const record = (error: Error) => {
      // A Cluster's summary errors say less than the node error before them.
      if (this.last === undefined || !/Failed to refresh slots cache/.test(error.message))
        this.last = error.message;
    };
    client.on('error', record);
    client.on('node error', record);
    return client;
  }
}

async function connected<T extends Redis | Cluster>(client: T, where: Situation): Promise<T> {
  try {
    await within(client.connect(), where.timeouts.connectMs, () => connectTimeout(where));
  } catch (error) {
    client.disconnect();
    throw error;
  }
  return client;
}

/**
 * A standalone server or a Redis Cluster reached through one of its nodes: `target.cluster` says which, or
 * CLUSTER SLOTS when it is `undefined`. Checks the URL's database with SELECT.
 * @throws {UsageError} for a database the server does not have, or a database other than 0 on a Cluster.
 */
export async function connectRedis(target: RedisTarget, timeouts: Timeouts, match: string): Promise<Backend> {
  const label = redactUrl(target.url);
  const errors = new Errors();
  const where: Situation = { label, timeouts, match };
  // A Cluster that found no node to ask keeps the last node's error on the error itself.
  const explainError = (error: unknown) =>
    explain(
      messageOf(error),
      where,
      (error as { lastNodeError?: Error })?.lastNodeError?.message ?? errors.last,
    );
  try {
    return await open(target, where, errors, explainError);
  } catch (error) {
    if (error instanceof UsageError || error instanceof Explained) throw error;
    if (classifyRedisError(error).kind === 'db-out-of-range') {
      throw new UsageError(
        `${label} has no database ${target.db}: use one it has in the URL (0 to 15 unless its 'databases' setting says otherwise)`,
      );
    }
    throw new Error(explainError(error), { cause: error });
  }
}

/**
 * Checks the URL's credentials with an AUTH of its own (a failed AUTH leaves ioredis connected as the
 * default user, which may be allowed far more), then, unless `target.cluster` says, whether the server is a
 * Redis Cluster node: from CLUSTER SLOTS, which a Cluster user needs anyway. One that may not run it is
 * taken as standalone, and the pre-flight's probes meet MOVED if it is a Cluster.
 */
async function inspect(
  target: RedisTarget,
  where: Situation,
  options: RedisOptions,
  errors: Errors,
): Promise<boolean> {
  const url = new URL(target.url);
  const probe = await connected(
    errors.watch(
      new Redis({
        ...options,
        host: url.hostname,
        port: Number(url.port || 6379),
        ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
      }),
    ),
    where,
  );
  try {
    if (url.password) {
      const user = url.username ? [decodeURIComponent(url.username)] : [];
      await probe.call('AUTH', ...user, decodeURIComponent(url.password));
    }
    if (target.cluster !== undefined) return target.cluster;
    try {
      await probe.call('CLUSTER', 'SLOTS');
    } catch (error) {
      const { kind } = classifyRedisError(error);
      if (kind === 'cluster-disabled' || kind === 'noperm') return false;
      throw error;
    }
    if (target.db !== 0) {
      throw new UsageError(
        `${where.label} is a Redis Cluster, which has only database 0: remove /${target.db} from the URL`,
      );
    }
    return true;
  } finally {
    probe.disconnect();
  }
}

async function open(
  target: RedisTarget,
  where: Situation,
  errors: Errors,
  explainError: (error: unknown) => string,
): Promise<Backend> {
  const { label, timeouts } = where;
  const options = clientOptions(timeouts);
  const command = new DeleteCommand();
  const cluster = await inspect(target, where, options, errors);
  if (!cluster) {
    const client = await connected(errors.watch(new Redis(target.url, options)), where);
    const scanner = await connected(errors.watch(client.duplicate()), where);
    try {
      // ioredis selects the URL's database itself, but only reports a failure as an event.
      if (target.db !== 0) await client.select(target.db);
    } catch (error) {
      client.disconnect();
      scanner.disconnect();
      throw error;
    }
    return {
      label,
      shards: [new RedisShard(label, scanner, client, command)],
      addCounts: (writes) => addCounts(client, writes),
      send: ([name = '', ...args]) => client.call(name, ...args),
      deleteCommand: command,
      explain: explainError,
      close: async () => {
        scanner.disconnect();
        client.disconnect();
      },
    };
  }
  const parsed = new URL(target.url);
  const client = await connected(
    errors.watch(
      new Cluster([{ host: parsed.hostname, port: Number(parsed.port || 6379) }], {
        lazyConnect: true,
        enableReadyCheck: false,
        slotsRefreshTimeout: timeouts.commandMs,
        clusterRetryStrategy: (attempt) => (attempt <= 3 ? 200 * attempt : null),
        redisOptions: {
          ...options,
          ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
          ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
          ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
        },
      }),
    ),
    where,
  );
  const masters = client.nodes('master');
  for (const master of masters) errors.watch(master);
  const scanners = await Promise.all(
    masters.map((master) => connected(errors.watch(master.duplicate()), where)),
  );
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
    send: ([name = '', ...args]) => client.call(name, ...args),
    deleteCommand: command,
    explain: explainError,
    close: async () => {
      for (const scanner of scanners) scanner.disconnect();
      client.disconnect();
    },
  };
}
