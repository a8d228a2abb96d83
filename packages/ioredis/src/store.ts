import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { InvalidOptionError } from '@periodkey/ratelimit';
import { classifyRedisError, isRefusal, type RedisErrorKind } from '@periodkey/ratelimit/storage';
import {
  checkHealth,
  defaultHealthKey,
  type HealthOptions,
  parseRedisUrl,
  type RedisTarget,
  ScriptStore,
  type StoreHealth,
} from '@periodkey/ratelimit/store';
import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** ioredis options for a limiter's client; see the README. */
const LIMITER_OPTIONS: RedisOptions = { maxRetriesPerRequest: 1, autoResendUnfulfilledCommands: false };

/** How {@link IORedisStore.fromUrl} connects, besides the URL. */
export interface FromUrlOptions {
  /**
   * For a `rediss://` URL: `caFile`, a PEM file of the CA certificates to trust (instead of the system's;
   * `REDIS_TLS_CA_FILE` from the environment), `servername`, the name the server's certificate is for when
   * the URL's host is an address (`REDIS_TLS_SERVERNAME`), and any other option of `tls.connect`.
   */
  readonly tls?: ConnectionOptions & { readonly caFile?: string };
}

/** A connected ioredis client: a standalone `Redis` or a `Cluster`. */
export type IORedisClient = Redis | Cluster;

/** What the health check uses of a Cluster's master. */
type ClusterNode = Pick<Redis, 'ping' | 'cluster'> & {
  readonly options: Pick<RedisOptions, 'host' | 'port'>;
};

/**
 * What the store uses of a client: a `Redis` or `Cluster` of ioredis 5 or 6, also when it is another copy of
 * ioredis than the one this package's types resolve to.
 */
export interface IORedisCommands
  extends Pick<
    Redis,
    'evalsha' | 'eval' | 'unlink' | 'ping' | 'set' | 'get' | 'isCluster' | 'quit' | 'disconnect'
  > {
  nodes?(role: 'master'): ClusterNode[];
}

/**
 * The client a store talks to. A store from a URL owns it: it may replace a standalone client by a Cluster
 * client (when the server answers MOVED) and remembers the connection's last error.
 */
interface Connection<C extends IORedisCommands> {
  client: C;
  /** Set for a client the store created: switches to a Cluster client, once. */
  toCluster: (() => Promise<void>) | undefined;
  /** The last `error` event of a client the store created (ECONNREFUSED, a TLS failure, ...). */
  lastError: Error | undefined;
  /**
   * A refusal the client met on its own, where no command sees it (NOPERM for CLUSTER SLOTS, SELECT of a
   * database the server lacks): every command of the store then fails with it.
   */
  refusal: unknown;
  /** The store created the client (`fromUrl`): it recovers from MOVED and explains the client's errors. */
  owned: boolean;
  /** The switch to a Cluster client under way, or done. */
  switching: Promise<void> | undefined;
  closed: boolean;
}

/**
 * The periodkey store over ioredis. Every key of one call shares a hash tag, so on a Cluster the script
 * runs on the one node that owns the identity's slot.
 *
 * @example
 * const store = new IORedisStore(new Redis(process.env.REDIS_URL));
 */
export class IORedisStore<C extends IORedisCommands = IORedisClient> extends ScriptStore {
  readonly #connection: Connection<C>;
  /** Drawn at the first check: a Worker may not generate random values in its global scope. */
  #healthKey: string | undefined;

  /** @throws {InvalidOptionError} when `client` is not an ioredis `Redis` or `Cluster`. */
  constructor(client: C) {
    if (typeof client?.evalsha !== 'function' || typeof client.unlink !== 'function') {
      throw new InvalidOptionError(
        'IORedisStore takes an ioredis client: new IORedisStore(new Redis(url)) or new IORedisStore(new Cluster(nodes))',
      );
    }
    const connection: Connection<C> = {
      client,
      toCluster: undefined,
      lastError: undefined,
      refusal: undefined,
      owned: false,
      switching: undefined,
      closed: false,
    };
    const run = <T>(command: (client: C) => Promise<T>) => send(connection, command);
    super({
      evalsha: (sha, keys, args) => run((c) => c.evalsha(sha, keys.length, ...keys, ...args)),
      eval: (source, keys, args) => run((c) => c.eval(source, keys.length, ...keys, ...args)),
      unlink: (keys) => run((c) => c.unlink(...keys)),
    });
    this.#connection = connection;
  }

  /**
   * The client, for closing a client you passed in (`store.client.quit()`). For a store from
   * {@link IORedisStore.fromUrl}, a `Cluster` once a plain URL turned out to reach a cluster node.
   */
  get client(): C {
    return this.#connection.client;
  }

  /**
   * `PING`, then `SET` a fresh value with a 30 s TTL under the health key and `GET` it back, within
   * `timeout`. On a Cluster, every master known to the client must answer `PING` and report
   * `cluster_state:ok` (`CLUSTER INFO`): a cluster with a slot range down is not healthy. Never throws.
   * Needs `+ping +set +get` (and `+cluster|info` on a Cluster) and the key in the ACL. For a store from a
   * URL, a failure's `cause` is the connection's last error (ECONNREFUSED, a TLS failure, ...).
   */
  health(options: HealthOptions = {}): Promise<StoreHealth> {
    const run = <T>(command: (client: C) => Promise<T>) => send(this.#connection, command);
    this.#healthKey ??= defaultHealthKey();
    return checkHealth(
      {
        ping: () =>
          run<unknown>((c) => (c.isCluster ? clusterPing(c as Required<IORedisCommands>) : c.ping())),
        write: (key, value, ttlMs) => run((c) => c.set(key, value, 'PX', ttlMs)),
        read: (key) => run((c) => c.get(key)),
      },
      { key: this.#healthKey, ...options },
    );
  }

  /**
   * Closes the client: `QUIT`, or a disconnect when the connection is down. The limiter calls it on a store
   * it opened from a URL or `REDIS_URL` once no limiter uses it; call it yourself on a store you created.
   */
  async close(): Promise<void> {
    const connection = this.#connection;
    connection.closed = true;
    // A switch to a Cluster client under way finishes first, so that the client it makes is closed too.
    await connection.switching?.catch(() => undefined);
    const { client } = connection;
    // QUIT waits behind queued commands, which a client that is not connected may never send.
    if ((client as { status?: string }).status !== 'ready') client.disconnect();
    else await client.quit().catch(() => client.disconnect());
  }

  /**
   * A store on a new client for a Redis URL, as `REDIS_URL` selects it:
   * - `redis://[user:password@]host:6379[/db]`, `rediss://` for TLS: a standalone client; when the server
   *   turns out to be a Cluster node (it answers MOVED), the store switches to a Cluster client seeded with
   *   that node and sends the command again (a MOVED command was not run);
   * - `redis+cluster://host1:7000,host2:7000`, `rediss+cluster://` for TLS: a Cluster client from the start;
   * - `redis+sentinel://s1:26379,s2:26379/mymaster[/db]`, `rediss+sentinel://` for TLS: the master that the
   *   sentinels name, through ioredis' Sentinel support; after a failover, the new master.
   *
   * The client has the options a limiter wants: a command fails after one reconnection attempt instead of
   * twenty (`maxRetriesPerRequest: 1`), and commands cut off by a disconnect are not replayed after it
   * (`autoResendUnfulfilledCommands: false`): the limiter has answered them already. Its `error` events are
   * kept rather than printed: a failed command's `cause` (in the limiter's events) and `health()` name the
   * last one. The store owns the client: `store.close()` closes it.
   * @throws {InvalidOptionError} for a URL that does not name a Redis deployment, TLS options for a URL
   * that is not TLS, or a CA file that cannot be read.
   */
  static fromUrl(url: string, options: FromUrlOptions = {}): IORedisStore<IORedisClient> {
    const parsed = parseRedisUrl(url);
    const target = { ...parsed, tls: tlsOptions(parsed.tls, options) };
    const client: IORedisClient = target.mode === 'cluster' ? cluster(target) : standalone(target);
    const store = new IORedisStore(client);
    const connection = store.#connection;
    connection.owned = true;
    const watch = (client: IORedisClient) =>
      client.on('error', (error: Error) => {
        connection.lastError = error;
        // A Cluster client that may not run CLUSTER SLOTS never becomes ready, a failed SELECT leaves the
        // client in database 0, and a runtime that may not open the socket (Deno without --allow-net)
        // retries for ever: refusals no command reports, so the store reports them.
        const node = (error as { lastNodeError?: unknown }).lastNodeError;
        const refused = isRefusal(node)
          ? node
          : LATCHED.has(classifyRedisError(error).kind)
            ? error
            : undefined;
        if (refused !== undefined && connection.refusal === undefined) {
          connection.refusal = refused;
          client.disconnect();
        }
      });
    watch(connection.client);
    if (target.mode === 'standalone') {
      connection.toCluster = () => {
        connection.switching ??= (async () => {
          const old = connection.client;
          // A Cluster client finds the slots with CLUSTER SLOTS: a user that may not run it gets its NOPERM,
          // a refusal that names the fix, instead of a client that never becomes ready (an outage).
          await old.call('CLUSTER', 'SLOTS');
          if (connection.closed) return;
          connection.client = cluster(target);
          watch(connection.client);
          await old.quit().catch(() => old.disconnect());
        })();
        // Only a refusal stays: after another failure (a dropped connection), the next MOVED tries again.
        const switching = connection.switching;
        switching.catch((error: unknown) => {
          if (!isRefusal(error) && connection.switching === switching) connection.switching = undefined;
        });
        return switching;
      };
    }
    return store;
  }
}

/** A {@link RedisTarget} with the TLS options to connect with, `undefined` without TLS. */
type Target = Omit<RedisTarget, 'tls'> & { readonly tls: ConnectionOptions | undefined };

function tlsOptions(secure: boolean, { tls }: FromUrlOptions): ConnectionOptions | undefined {
  if (!secure) {
    if (tls !== undefined && Object.keys(tls).length > 0) {
      throw new InvalidOptionError('TLS options were given for a URL that is not TLS; use rediss://');
    }
    return undefined;
  }
  const { caFile, ...rest } = tls ?? {};
  if (caFile === undefined) return rest;
  try {
    return { ...rest, ca: readFileSync(caFile) };
  } catch (cause) {
    throw new InvalidOptionError(
      `the TLS CA file ${caFile} (REDIS_TLS_CA_FILE) cannot be read: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/** A client of one server, or of the master that the sentinels name (found again after a failover). */
function standalone(target: Target): Redis {
  const options = { ...LIMITER_OPTIONS, ...credentials(target), db: target.db };
  if (target.mode !== 'sentinel') return new Redis({ ...options, ...target.nodes[0] });
  return new Redis({
    ...options,
    sentinels: [...target.nodes],
    name: target.master as string,
    // Subscribes to the sentinels' +switch-master, so a failover is followed at once, not at the next error.
    failoverDetector: true,
    ...(target.tls === undefined ? {} : { enableTLSForSentinelMode: true, sentinelTLS: target.tls }),
  });
}

function cluster(target: Target): Cluster {
  return new Cluster([...target.nodes], { redisOptions: { ...LIMITER_OPTIONS, ...credentials(target) } });
}

function credentials(target: Target): RedisOptions {
  return {
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password }),
    ...(target.tls === undefined ? {} : { tls: target.tls }),
  };
}

/**
 * Sends `command` on the connection's client. On a client the store created: MOVED switches to a Cluster
 * client and sends it again, and an error of the client's own (a closed connection, retries exhausted) gets
 * the connection's last error as its cause.
 */
function send<T, C extends IORedisCommands>(
  connection: Connection<C>,
  command: (client: C) => Promise<T>,
): Promise<T> {
  if (connection.refusal !== undefined) return Promise.reject(connection.refusal);
  const sent = command(connection.client);
  // A client you passed in is used as it is: no recovery, and nothing added to the call.
  return connection.owned ? sent.catch((error: unknown) => recover(connection, command, error)) : sent;
}

/** What a store's own client does about a failed command: see {@link send}. */
async function recover<T, C extends IORedisCommands>(
  connection: Connection<C>,
  command: (client: C) => Promise<T>,
  error: unknown,
): Promise<T> {
  if (connection.refusal !== undefined) throw connection.refusal;
  const { toCluster } = connection;
  if (toCluster !== undefined && classifyRedisError(error).kind === 'moved') {
    if (connection.closed)
      throw new Error('the store was closed while the call was redirected', { cause: error });
    await toCluster();
    return command(connection.client);
  }
  const last = connection.lastError;
  if (last === undefined || classifyRedisError(error).kind !== 'other' || !(error instanceof Error)) {
    throw error;
  }
  throw new Error(`${error.message} (the connection's last error: ${last.message})`, { cause: last });
}

/** Errors of the client's own connection that are refusals (see {@link IORedisStore.fromUrl}). */
const LATCHED: ReadonlySet<RedisErrorKind['kind']> = new Set(['db-out-of-range', 'runtime-permission']);

async function clusterPing(cluster: Required<IORedisCommands>): Promise<void> {
  await Promise.all(
    cluster.nodes('master').map(async (node) => {
      await node.ping();
      const info = String(await node.cluster('INFO'));
      if (!info.includes('cluster_state:ok')) {
        const { host, port } = node.options;
        throw new Error(`cluster node ${host}:${port} reports ${/cluster_state:\w+/.exec(info)?.[0]}`);
      }
    }),
  );
}
