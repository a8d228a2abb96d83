import { UsageError } from './usage.js';

/** Where to connect, resolved from flags and the environment. */
export type Target =
  | { readonly kind: 'redis'; readonly url: string; readonly cluster: boolean }
  | { readonly kind: 'upstash'; readonly url: string; readonly token: string };

export interface ConnectionFlags {
  readonly url?: string;
  readonly upstashUrl?: string;
  readonly upstashToken?: string;
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
  const cluster = flags.cluster === true;
  const upstashFlags = flags.upstashUrl !== undefined || flags.upstashToken !== undefined;
  if (flags.url !== undefined && upstashFlags) {
    throw new UsageError('--url and --upstash-url/--upstash-token name two databases; pass one of them');
  }
  if (cluster && upstashFlags) throw new UsageError('--cluster is for Redis Cluster URLs, not Upstash');
  if (flags.url !== undefined) return redisTarget(flags.url, cluster);
  const [upstashUrl, upstashToken] = [
    env.UPSTASH_REDIS_REST_URL || undefined,
    env.UPSTASH_REDIS_REST_TOKEN || undefined,
  ];
  if (upstashFlags) return upstashTarget(flags.upstashUrl ?? upstashUrl, flags.upstashToken ?? upstashToken);
  if (!cluster && upstashUrl !== undefined && upstashToken !== undefined)
    return upstashTarget(upstashUrl, upstashToken);
  if (env.REDIS_URL) return redisTarget(env.REDIS_URL, cluster);
  throw new UsageError(NOWHERE);
}

function protocol(url: string): string | undefined {
  try {
    return new URL(url).protocol;
  } catch {
    return undefined;
  }
}

function redisTarget(url: string, cluster: boolean): Target {
  if (protocol(url) !== 'redis:' && protocol(url) !== 'rediss:') {
    throw new UsageError(`the Redis URL ${redactUrl(url)} must start with redis:// or rediss://`);
  }
  return { kind: 'redis', url, cluster };
}

function upstashTarget(url: string | undefined, token: string | undefined): Target {
  if (url === undefined || token === undefined) {
    throw new UsageError(
      'Upstash needs both a URL and a token: --upstash-url and --upstash-token, or the environment',
    );
  }
  if (protocol(url) !== 'https:' && protocol(url) !== 'http:') {
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
