import { describeValue } from '../_options.js';
import type { Env } from '../_runtime.js';
import { InvalidOptionError } from '../errors.js';
import type { Store } from '../store.js';
import { MemoryStore } from '../stores/memory-store.js';
import { parseRedisUrl, REDIS_URL_FORMS, redactUrl } from '../stores/redis-url.js';

/** TLS settings for a `rediss://` URL, from `REDIS_TLS_CA_FILE` and `REDIS_TLS_SERVERNAME`. */
export interface RedisTls {
  /** A PEM file of the CA certificates to trust instead of the system's. */
  readonly caFile?: string;
  /** The name the server's certificate must be for, when the URL's host is not it (an IP address). */
  readonly servername?: string;
}

/** Where a store URL or the environment says counts live, checked but not connected yet. */
export type StoreSource =
  | { readonly kind: 'memory'; readonly warn: boolean }
  | { readonly kind: 'redis'; readonly url: string; readonly tls: RedisTls }
  | { readonly kind: 'upstash'; readonly url: string; readonly token: string };

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
        `\`npm install ${specifier} ${peer}\`, or pass a store explicitly (in a bundle, for Workers, edge ` +
        'functions or Next.js, always pass the store: a bundler does not follow this import)',
      { cause },
    );
  }
}

/**
 * The store a URL names, checked without connecting: `memory://`, or a Redis URL ({@link parseRedisUrl}).
 * @param what how the message names the URL: `'store'` or `'REDIS_URL'`.
 * @throws {InvalidOptionError} naming what is wrong and what a valid URL looks like.
 */
function fromUrl(url: unknown, what: string, env: Env): StoreSource {
  if (typeof url !== 'string') {
    throw new InvalidOptionError(
      `${what} must be a Store or a URL string, got ${describeValue(url)}; use memory:// or ${REDIS_URL_FORMS}`,
    );
  }
  if (/^memory:/i.test(url)) {
    if (/^memory:(\/\/)?$/i.test(url)) return { kind: 'memory', warn: false };
    throw new InvalidOptionError(`${what} URL ${redactUrl(url)} takes no host; use memory://`);
  }
  const { tls } = parseRedisUrl(url, `${what} URL`);
  const { REDIS_TLS_CA_FILE: caFile, REDIS_TLS_SERVERNAME: servername } = env;
  const set = [caFile && 'REDIS_TLS_CA_FILE', servername && 'REDIS_TLS_SERVERNAME'].filter(Boolean);
  if (set.length > 0 && !tls) {
    throw new InvalidOptionError(
      `${set.join(' and ')} ${set.length > 1 ? 'are' : 'is'} set, but ${what} URL ${redactUrl(url)} is not TLS; use rediss:// (or rediss+cluster://), or unset ${set.join(' and ')}`,
    );
  }
  return {
    kind: 'redis',
    url,
    tls: { ...(caFile ? { caFile } : {}), ...(servername ? { servername } : {}) },
  };
}

/**
 * Where the store lives, from a URL or from the environment, in this order: `UPSTASH_REDIS_REST_URL` with
 * `UPSTASH_REDIS_REST_TOKEN` (Upstash over REST), `REDIS_URL` (ioredis; `rediss://` means TLS), else in
 * memory. The Redis URL, given or from `REDIS_URL`, takes `REDIS_TLS_CA_FILE` and `REDIS_TLS_SERVERNAME`.
 * Checked at once, so a bad URL fails the limiter's construction instead of its first call.
 * @throws {InvalidOptionError} for a URL that cannot name a store.
 */
export function storeSource(url: unknown, env: Env): StoreSource {
  if (url !== undefined) return fromUrl(url, 'store', env);
  const { UPSTASH_REDIS_REST_URL: restUrl, UPSTASH_REDIS_REST_TOKEN: token, REDIS_URL: redisUrl } = env;
  if (restUrl && token) {
    if (!URL.canParse(restUrl) || !/^https?:$/.test(new URL(restUrl).protocol)) {
      throw new InvalidOptionError(
        'UPSTASH_REDIS_REST_URL must be an http:// or https:// URL, such as https://<name>.upstash.io',
      );
    }
    return { kind: 'upstash', url: restUrl, token };
  }
  if (redisUrl) return fromUrl(redisUrl, 'REDIS_URL', env);
  return { kind: 'memory', warn: true };
}

let warned = false;

/** Opens the store of a {@link storeSource}; the in-memory default warns once per process. */
async function openStore(source: StoreSource): Promise<Store> {
  switch (source.kind) {
    case 'upstash': {
      const { UpstashStore } = await load<{
        UpstashStore: { fromUrl(url: string, token: string): Store };
      }>(UPSTASH, '@upstash/redis');
      return UpstashStore.fromUrl(source.url, source.token);
    }
    case 'redis': {
      const { IORedisStore } = await load<{
        IORedisStore: { fromUrl(url: string, options: { tls: RedisTls }): Store };
      }>(IOREDIS, 'ioredis');
      return IORedisStore.fromUrl(source.url, { tls: source.tls });
    }
    case 'memory':
      if (source.warn && !warned) {
        warned = true;
        console.warn(
          'periodkey: using the in-memory store. For production, configure UPSTASH_REDIS_REST_URL+TOKEN or ' +
            'REDIS_URL: counts are not shared between instances.',
        );
      }
      return new MemoryStore();
  }
}

/** A limiter's use of a store opened from a URL or the environment. */
export interface StoreLease {
  readonly store: Promise<Store>;
  /** Ends this use; the last one closes the store. Once per lease: later calls do nothing. */
  release(): void;
}

/** The stores opened from a URL or the environment, per URL (and token), and how many limiters use each. */
const shared = new Map<string, { readonly store: Promise<Store>; users: number }>();

/**
 * The store of `source`, shared by every limiter of this process that names the same Redis URL or Upstash
 * URL and token, so that a hundred middlewares open one connection. The last lease released closes it
 * (`store.close()`), so a process that closes its limiters can exit. A `memory://` store is each limiter's.
 */
export function leaseStore(source: StoreSource): StoreLease {
  if (source.kind === 'memory') return { store: openStore(source), release: () => {} };
  const id =
    source.kind === 'redis'
      ? `redis ${source.url} ${JSON.stringify(source.tls)}`
      : `upstash ${source.url} ${source.token}`;
  let entry = shared.get(id);
  if (entry === undefined) {
    entry = { store: openStore(source), users: 0 };
    shared.set(id, entry);
    // A store that could not be opened (its package is missing) is not kept: the next limiter tries again.
    entry.store.catch(() => shared.delete(id));
  }
  entry.users += 1;
  const used = entry;
  let released = false;
  return {
    store: used.store,
    release: () => {
      if (released) return;
      released = true;
      used.users -= 1;
      if (used.users > 0 || shared.get(id) !== used) return;
      shared.delete(id);
      used.store.then((store) => store.close?.()).catch(() => undefined);
    },
  };
}
