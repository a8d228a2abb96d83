import { InvalidOptionError } from '@periodkey/ratelimit';
import {
  checkHealth,
  defaultHealthKey,
  type HealthOptions,
  ScriptStore,
  type StoreHealth,
} from '@periodkey/ratelimit/store';

const USAGE =
  'NodeRedisStore takes a connected node-redis client: ' +
  'new NodeRedisStore(await createClient({ url }).connect()) or ' +
  'new NodeRedisStore(await createCluster({ rootNodes: [{ url }] }).connect())';

/** `EVAL`/`EVALSHA` options as node-redis takes them: every key and argument a string. */
interface ScriptOptions {
  keys: string[];
  arguments: string[];
}

/** The commands the store sends through a node-redis client or cluster (v5 and v6). */
interface Commands {
  readonly isOpen: boolean;
  evalSha(sha: string, options: ScriptOptions): Promise<unknown>;
  eval(script: string, options: ScriptOptions): Promise<unknown>;
  unlink(keys: string[]): Promise<unknown>;
  set(key: string, value: string, options: { expiration: { type: 'PX'; value: number } }): Promise<unknown>;
  get(key: string): Promise<unknown>;
}

/** A client of `createClient()` (standalone Redis), as far as the store uses it. */
export interface NodeRedisStandalone extends Commands {
  ping(): Promise<unknown>;
}

interface ClusterMaster {
  readonly host: string;
  readonly port: number;
}

/** A client of `createCluster()`, as far as the store uses it. */
export interface NodeRedisCluster extends Commands {
  readonly masters: readonly ClusterMaster[];
  nodeClient(node: ClusterMaster): Promise<{ ping(): Promise<unknown>; clusterInfo(): Promise<unknown> }>;
}

/** A connected node-redis client: `createClient()` or `createCluster()`, after `connect()`. */
export type NodeRedisClient = NodeRedisStandalone | NodeRedisCluster;

function isCluster(client: NodeRedisClient): client is NodeRedisCluster {
  return 'masters' in client && typeof (client as NodeRedisCluster).nodeClient === 'function';
}

/**
 * The periodkey store over node-redis (the `redis` package, v5 or v6). Every key of one call shares a hash
 * tag, so on a Cluster node-redis sends the script to the one master that owns the identity's slot.
 *
 * @example
 * const store = new NodeRedisStore(await createClient({ url: process.env.REDIS_URL }).connect());
 */
export class NodeRedisStore<C extends NodeRedisClient = NodeRedisClient> extends ScriptStore {
  /** The client, for closing it (`store.client.close()`). */
  readonly client: C;
  /** Drawn at the first check: a Worker may not generate random values in its global scope. */
  #healthKey: string | undefined;

  /**
   * @throws {InvalidOptionError} when `client` is not a node-redis client or cluster, or when `connect()`
   * was not called on it (node-redis refuses every command of a client that is not open).
   */
  constructor(client: C) {
    const commands: Partial<Commands> | undefined = client;
    if (
      typeof commands?.evalSha !== 'function' ||
      typeof commands.eval !== 'function' ||
      typeof commands.unlink !== 'function'
    ) {
      throw new InvalidOptionError(USAGE);
    }
    if (commands.isOpen === false) {
      throw new InvalidOptionError(`the node-redis client is not connected (call connect() first): ${USAGE}`);
    }
    super({
      evalsha: (sha, keys, args) => client.evalSha(sha, { keys, arguments: args }),
      eval: (source, keys, args) => client.eval(source, { keys, arguments: args }),
      unlink: (keys) => client.unlink(keys),
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
    const client: NodeRedisClient = this.client;
    this.#healthKey ??= defaultHealthKey();
    return checkHealth(
      {
        ping: () => (isCluster(client) ? clusterPing(client) : client.ping()),
        write: (key, value, ttlMs) => client.set(key, value, { expiration: { type: 'PX', value: ttlMs } }),
        read: (key) => client.get(key),
      },
      { key: this.#healthKey, ...options },
    );
  }
}

async function clusterPing(cluster: NodeRedisCluster): Promise<void> {
  await Promise.all(
    cluster.masters.map(async (master) => {
      const node = await cluster.nodeClient(master);
      await node.ping();
      const info = String(await node.clusterInfo());
      if (!info.includes('cluster_state:ok')) {
        throw new Error(
          `cluster node ${master.host}:${master.port} reports ${/cluster_state:\w+/.exec(info)?.[0]}`,
        );
      }
    }),
  );
}
