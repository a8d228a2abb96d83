import { InvalidOptionError } from './errors.js';
import { MemoryStore } from './memory-store.js';
import type { Store } from './store.js';

type Env = Readonly<Record<string, string | undefined>>;

// The adapters are optional packages; the specifiers are variables so that bundlers and the type checker
// do not require them when the application never selects them.
const IOREDIS = '@periodkey/ioredis';
const UPSTASH = '@periodkey/upstash';

async function load<T>(specifier: string, peer: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (cause) {
    throw new InvalidOptionError(
      `the store needs ${specifier}, which could not be loaded; install it with its client: ` +
        `\`npm install ${specifier} ${peer}\`, or pass a store explicitly`,
      { cause },
    );
  }
}

async function fromUrl(url: string): Promise<Store> {
  const scheme = url.slice(0, url.indexOf(':'));
  if (scheme === 'memory') return new MemoryStore();
  if (scheme === 'redis' || scheme === 'rediss') {
    const { IORedisStore } = await load<{ IORedisStore: { fromUrl(url: string): Store } }>(
      IOREDIS,
      'ioredis',
    );
    return IORedisStore.fromUrl(url);
  }
  throw new InvalidOptionError(
    `store URL scheme "${scheme}:" is not supported; use memory://, redis://host:port or rediss://host:port`,
  );
}

let warned = false;

/**
 * The store chosen from a URL or from the environment, in this order: `UPSTASH_REDIS_REST_URL` with
 * `UPSTASH_REDIS_REST_TOKEN` (Upstash over REST), `REDIS_URL` (ioredis; `rediss://` means TLS), else the
 * in-memory store, with one warning per process that it does not share counts between instances.
 */
export async function resolveStore(url: string | undefined, env: Env = process.env): Promise<Store> {
  if (url !== undefined) return fromUrl(url);
  const { UPSTASH_REDIS_REST_URL: restUrl, UPSTASH_REDIS_REST_TOKEN: token, REDIS_URL: redisUrl } = env;
  if (restUrl && token) {
    const { UpstashStore } = await load<{ UpstashStore: { fromUrl(url: string, token: string): Store } }>(
      UPSTASH,
      '@upstash/redis',
    );
    return UpstashStore.fromUrl(restUrl, token);
  }
  if (redisUrl) return fromUrl(redisUrl);
  if (!warned) {
    warned = true;
    console.warn(
      'periodkey: using the in-memory store. For production, configure UPSTASH_REDIS_REST_URL+TOKEN or ' +
        'REDIS_URL: counts are not shared between instances.',
    );
  }
  return new MemoryStore();
}
