import { ScriptStore } from '@periodkey/ratelimit';
import { Redis } from '@upstash/redis';

/**
 * The periodkey store over `@upstash/redis` (REST). Calls go through the client's normal path, so with
 * auto-pipelining on, concurrent limit checks share HTTP requests.
 *
 * @example
 * const store = new UpstashStore(Redis.fromEnv());
 */
export class UpstashStore extends ScriptStore {
  readonly client: Redis;

  constructor(client: Redis) {
    super({
      evalsha: (sha, keys, args) => client.evalsha(sha, keys, args),
      eval: (source, keys, args) => client.eval(source, keys, args),
      unlink: (keys) => client.unlink(...keys),
    });
    this.client = client;
  }

  /** A store on a new client, as `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN` select it. */
  static fromUrl(url: string, token: string): UpstashStore {
    return new UpstashStore(new Redis({ url, token }));
  }
}
