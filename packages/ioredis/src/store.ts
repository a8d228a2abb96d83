import { InvalidOptionError } from '@periodkey/ratelimit';
import {
  checkHealth,
  defaultHealthKey,
  type HealthOptions,
  ScriptStore,
  type StoreHealth,
} from '@periodkey/ratelimit/store';
import { type Cluster, Redis, type RedisOptions } from 'ioredis';

/** ioredis options for a limiter's client; see the README. */
const LIMITER_OPTIONS: RedisOptions = { maxRetriesPerRequest: 1, autoResendUnfulfilledCommands: false };

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
  extends Pick<Redis, 'evalsha' | 'eval' | 'unlink' | 'ping' | 'set' | 'get' | 'isCluster'> {
  nodes?(role: 'master'): ClusterNode[];
}

/**
 * The periodkey store over ioredis. Every key of one call shares a hash tag, so on a Cluster the script
 * runs on the one node that owns the identity's slot.
 *
 * @example
 * const store = new IORedisStore(new Redis(process.env.REDIS_URL));
 */
export class IORedisStore<C extends IORedisCommands = IORedisClient> extends ScriptStore {
  /** The client, for closing it (`store.client.quit()`). */
  readonly client: C;
  readonly #healthKey = defaultHealthKey();

  /** @throws {InvalidOptionError} when `client` is not an ioredis `Redis` or `Cluster`. */
  constructor(client: C) {
    if (typeof client?.evalsha !== 'function' || typeof client.unlink !== 'function') {
      throw new InvalidOptionError(
        'IORedisStore takes an ioredis client: new IORedisStore(new Redis(url)) or new IORedisStore(new Cluster(nodes))',
      );
    }
    super({
      evalsha: (sha, keys, args) => client.evalsha(sha, keys.length, ...keys, ...args),
      eval: (source, keys, args) => client.eval(source, keys.length, ...keys, ...args),
      unlink: (keys) => client.unlink(...keys),
    });
    this.client = client;
  }

  /**
   * `PING`, then `SET` a fresh value with a 30 s TTL under the health key and `GET` it back, within
   * `timeout`. On a Cluster, every master known to the client must answer `PING` and report
   * `cluster_state:ok` (`CLUSTER INFO`): a cluster with a slot range down is not healthy. Never throws.
   * Needs `+ping +set +get` (and `+cluster|info` on a Cluster) and the key in the ACL.
   */
  health(options: HealthOptions = {}): Promise<StoreHealth> {
    const client: IORedisCommands = this.client;
    return checkHealth(
      {
        ping: () => (client.isCluster ? clusterPing(client as Required<IORedisCommands>) : client.ping()),
        write: (key, value, ttlMs) => client.set(key, value, 'PX', ttlMs),
        read: (key) => client.get(key),
      },
      { key: this.#healthKey, ...options },
    );
  }

  /**
   * A store on a new client for a `redis://` or `rediss://` (TLS) URL, as `REDIS_URL` selects it, with the
   * options a limiter wants: a command fails after one reconnection attempt instead of twenty
   * (`maxRetriesPerRequest: 1`), and commands cut off by a disconnect are not replayed after it
   * (`autoResendUnfulfilledCommands: false`): the limiter has answered them already.
   */
  static fromUrl(url: string): IORedisStore {
    return new IORedisStore(new Redis(url, LIMITER_OPTIONS));
  }
}

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
