import { ScriptStore } from '@periodkey/ratelimit';
import { type Cluster, Redis } from 'ioredis';

/** A connected ioredis client: a standalone `Redis` or a `Cluster`. */
export type IORedisClient = Redis | Cluster;

/**
 * The periodkey store over ioredis. Every key of one call shares a hash tag, so on a Cluster the script
 * runs on the one node that owns the identity's slot.
 *
 * @example
 * const store = new IORedisStore(new Redis(process.env.REDIS_URL));
 */
export class IORedisStore extends ScriptStore {
  /** The client, for health checks and for closing it (`store.client.quit()`). */
  readonly client: IORedisClient;

  constructor(client: IORedisClient) {
    super({
      evalsha: (sha, keys, args) => client.evalsha(sha, keys.length, ...keys, ...args),
      eval: (source, keys, args) => client.eval(source, keys.length, ...keys, ...args),
      unlink: (keys) => client.unlink(...keys),
    });
    this.client = client;
  }

  /** A store on a new client for `redis://` or `rediss://` (TLS) URL, as `REDIS_URL` selects it. */
  static fromUrl(url: string): IORedisStore {
    return new IORedisStore(new Redis(url));
  }
}
