import { UsageError } from './usage.js';

/** Where to connect, resolved from flags and the environment. */
export type Target =
  | {
      readonly kind: 'redis';
      readonly url: string;
      /** `true` (`--cluster`), `false` (`--no-cluster`), or `undefined`: detected when connecting. */
      readonly cluster: boolean | undefined;
      /** The database number of the URL's path (`/2`); 0 without one. */
      readonly db: number;
    }
  | { readonly kind: 'upstash'; readonly url: string; readonly token: string };

export type RedisTarget = Extract<Target, { kind: 'redis' }>;

export interface ConnectionFlags {
  readonly url?: string;
  readonly upstashUrl?: string;
  readonly upstashToken?: string;
  /** `--cluster` (true), `--no-cluster` (false), or detected (undefined). */
  readonly cluster?: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

const NOWHERE =
  'no database to connect to: pass --url redis://... (or set REDIS_URL), or --upstash-url and --upstash-token ' +
  '(or set UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN)';

/**
 * Flags first (`--url`, or `--upstash-url`/`--upstash-token`), then the environment in the SDK's order
 * (Upstash, then `REDIS_URL`), so the tool cleans the database that the service uses.
 * @throws {UsageError} when nothing or two things are named, or a URL is not of the right kind.
 */
export function resolveTarget(flags: ConnectionFlags, env: Env): Target {
  const { cluster } = flags;
  const upstashFlags = flags.upstashUrl !== undefined || flags.upstashToken !== undefined;
  if (flags.url !== undefined && upstashFlags) {
    throw new UsageError('--url and --upstash-url/--upstash-token name two databases; pass one of them');
  }
  if (cluster !== undefined && upstashFlags) {
    throw new UsageError('--cluster and --no-cluster are for Redis URLs, not Upstash');
  }
  if (flags.url !== undefined) return redisTarget(flags.url, cluster);
  const [upstashUrl, upstashToken] = [
    env.UPSTASH_REDIS_REST_URL || undefined,
    env.UPSTASH_REDIS_REST_TOKEN || undefined,
  ];
  if (upstashFlags) return upstashTarget(flags.upstashUrl ?? upstashUrl, flags.upstashToken ?? upstashToken);
  if (cluster === undefined && upstashUrl !== undefined && upstashToken !== undefined)
    return upstashTarget(upstashUrl, upstashToken);
  if (env.REDIS_URL) return redisTarget(env.REDIS_URL, cluster);
  throw new UsageError(NOWHERE);
}

function parse(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

const REDIS_FORM = 'redis://[user:password@]host[:port][/db]';

/** @throws {UsageError} for anything but `redis[s]://[user:password@]host[:port][/db]`. */
function redisTarget(url: string, cluster: boolean | undefined): Target {
  const parsed = parse(url);
  const shown = redactUrl(url);
  if (parsed?.protocol !== 'redis:' && parsed?.protocol !== 'rediss:') {
    throw new UsageError(`the Redis URL ${shown} must look like ${REDIS_FORM} (or rediss:// for TLS)`);
  }
  if (parsed.hostname === '') {
    throw new UsageError(`the Redis URL ${shown} has no host: write it as ${REDIS_FORM}`);
  }
  const path = parsed.pathname.replace(/^\//, '');
  if (!/^\d{0,5}$/.test(path)) {
    throw new UsageError(
      `the Redis URL ${shown} names database ${JSON.stringify(decodeURIComponent(path))}: a database is a number, such as ${parsed.protocol}//${parsed.host}/0`,
    );
  }
  const db = Number(path);
  if (db !== 0 && cluster === true) {
    throw new UsageError(`a Redis Cluster has only database 0: remove /${db} from the URL ${shown}`);
  }
  return { kind: 'redis', url, cluster, db };
}

function upstashTarget(url: string | undefined, token: string | undefined): Target {
  if (url === undefined || token === undefined) {
    throw new UsageError(
      'Upstash needs both a URL and a token: --upstash-url and --upstash-token, or the environment',
    );
  }
  const scheme = parse(url)?.protocol;
  if (scheme !== 'https:' && scheme !== 'http:') {
    throw new UsageError(`the Upstash URL ${redactUrl(url)} must start with https://`);
  }
  return { kind: 'upstash', url, token };
}

/** The URL without user name, password, and query (which may carry `password=`): safe to print. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const auth = parsed.username || parsed.password ? '***@' : '';
    return `${parsed.protocol}//${auth}${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return '<a URL that does not parse>';
  }
}

/** Every string that must never be printed: the password, the token, and query values of the target URL. */
export function secretsOf(target: Target): string[] {
  const secrets: string[] = [];
  if (target.kind === 'upstash') secrets.push(target.token);
  const parsed = new URL(target.url);
  if (parsed.password) secrets.push(parsed.password, decodeURIComponent(parsed.password));
  for (const value of parsed.searchParams.values()) secrets.push(value);
  // Short strings would scrub ordinary words; a password that short is its own problem.
  return secrets.filter((secret) => secret.length >= 4);
}
