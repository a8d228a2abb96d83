import { describeValue } from '../_options.js';
import { InvalidOptionError } from '../errors.js';
import type { Store } from '../store.js';
import { MemoryStore } from '../stores/memory-store.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Where a store URL or the environment says counts live, checked but not connected yet. */
export type StoreSource =
  | { readonly kind: 'memory'; readonly warn: boolean }
  | { readonly kind: 'redis'; readonly url: string }
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
        `\`npm install ${specifier} ${peer}\`, or pass a store explicitly`,
      { cause },
    );
  }
}

/**
 * The store a URL names, checked without connecting: `memory://`, or `redis://` / `rediss://` with a host,
 * an optional port and an optional numeric database (`redis://:password@host:6379/2`).
 * @param what how the message names the URL: `'store'` or `'REDIS_URL'`.
 * @throws {InvalidOptionError} naming what is wrong and what a valid URL looks like.
 */
function fromUrl(url: unknown, what: string): StoreSource {
  const fail = (problem: string): never => {
    throw new InvalidOptionError(
      `${what} ${problem}; use memory://, redis://host:6379 or rediss://host:6379 (optionally with /<db>)`,
    );
  };
  if (typeof url !== 'string') return fail(`must be a Store or a URL string, got ${describeValue(url)}`);
  const scheme = url.slice(0, Math.max(0, url.indexOf(':')));
  if (scheme === 'memory') {
    return /^memory:(\/\/)?$/.test(url) ? { kind: 'memory', warn: false } : fail(`URL ${url} takes no host`);
  }
  if (scheme !== 'redis' && scheme !== 'rediss') return fail(`URL scheme "${scheme}:" is not supported`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail('URL is not a valid URL (check the port: a number up to 65535)');
  }
  if (parsed.hostname === '') fail('URL names no host');
  if (!/^(\/\d{0,5})?$/.test(parsed.pathname)) {
    fail(`URL's database ${JSON.stringify(parsed.pathname.slice(1))} is not a database number`);
  }
  return { kind: 'redis', url };
}

/**
 * Where the store lives, from a URL or from the environment, in this order: `UPSTASH_REDIS_REST_URL` with
 * `UPSTASH_REDIS_REST_TOKEN` (Upstash over REST), `REDIS_URL` (ioredis; `rediss://` means TLS), else in
 * memory. Checked at once, so a bad URL fails the limiter's construction instead of its first call.
 * @throws {InvalidOptionError} for a URL that cannot name a store.
 */
export function storeSource(url: unknown, env: Env): StoreSource {
  if (url !== undefined) return fromUrl(url, 'store');
  const { UPSTASH_REDIS_REST_URL: restUrl, UPSTASH_REDIS_REST_TOKEN: token, REDIS_URL: redisUrl } = env;
  if (restUrl && token) {
    if (!URL.canParse(restUrl) || !/^https?:$/.test(new URL(restUrl).protocol)) {
      throw new InvalidOptionError(
        'UPSTASH_REDIS_REST_URL must be an http:// or https:// URL, such as https://<name>.upstash.io',
      );
    }
    return { kind: 'upstash', url: restUrl, token };
  }
  if (redisUrl) return fromUrl(redisUrl, 'REDIS_URL');
  return { kind: 'memory', warn: true };
}

let warned = false;

/** Opens the store of a {@link storeSource}; the in-memory default warns once per process. */
export async function openStore(source: StoreSource): Promise<Store> {
  switch (source.kind) {
    case 'upstash': {
      const { UpstashStore } = await load<{
        UpstashStore: { fromUrl(url: string, token: string): Store };
      }>(UPSTASH, '@upstash/redis');
      return UpstashStore.fromUrl(source.url, source.token);
    }
    case 'redis': {
      const { IORedisStore } = await load<{ IORedisStore: { fromUrl(url: string): Store } }>(
        IOREDIS,
        'ioredis',
      );
      return IORedisStore.fromUrl(source.url);
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
