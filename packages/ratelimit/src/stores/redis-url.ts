import { InvalidOptionError } from '../errors.js';

/** A Redis deployment as a URL names it, checked but not connected. */
export interface RedisTarget {
  /**
   * `standalone` (`redis://`): one server; `cluster` (`redis+cluster://`): a Cluster client from the
   * start; `sentinel` (`redis+sentinel://`): the master that Sentinel names `master`.
   */
  readonly mode: 'standalone' | 'cluster' | 'sentinel';
  /** `rediss://`, `rediss+cluster://`, `rediss+sentinel://`: TLS to Redis (and to the sentinels). */
  readonly tls: boolean;
  /** The server; the startup nodes of a cluster; the sentinels. */
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  /** The master's name, for `sentinel`. */
  readonly master: string | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** Always 0 on a cluster. */
  readonly db: number;
}

const SCHEMES: Readonly<Record<string, { mode: RedisTarget['mode']; tls: boolean }>> = {
  redis: { mode: 'standalone', tls: false },
  rediss: { mode: 'standalone', tls: true },
  'redis+cluster': { mode: 'cluster', tls: false },
  'rediss+cluster': { mode: 'cluster', tls: true },
  'redis+sentinel': { mode: 'sentinel', tls: false },
  'rediss+sentinel': { mode: 'sentinel', tls: true },
};

export const REDIS_URL_FORMS =
  'redis://[user:password@]host:6379[/db], rediss://… (TLS), redis+cluster://host1:7000,host2:7001, or ' +
  'redis+sentinel://sentinel1:26379,sentinel2:26379/<master>[/db] (rediss+… with TLS)';

// The credentials run to the last `@`, so that a password holding `/`, `?` or `#` is never taken for the
// host or the path, which messages quote.
const URL_PARTS = /^([a-z+]+):\/\/(?:(.*)@)?([^@/?#]*)(\/[^?#@]*)?$/i;
const CREDENTIALS = /^([a-z+]+:\/\/).*@/i;

/** A store URL with its credentials (everything up to the last `@`) hidden, for messages. */
export function redactUrl(url: string): string {
  return url.replace(CREDENTIALS, '$1***@');
}

/**
 * Parses a Redis URL: `redis://` and `rediss://` (TLS) name one server, with an optional numeric database
 * (`redis://:password@host:6379/2`); `redis+cluster://` and `rediss+cluster://` name a Cluster by one or more
 * startup nodes separated by commas (`redis+cluster://user:pw@10.0.0.1:7000,10.0.0.2:7000`);
 * `redis+sentinel://` and `rediss+sentinel://` name sentinels (default port 26379) and the master's name as
 * the path, then an optional database (`redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2:26379/mymaster/0`); the
 * credentials are the master's. Credentials are percent-decoded. The default port is 6379.
 * @param what how the message names the URL, such as `'REDIS_URL'`.
 * @throws {InvalidOptionError} naming what is wrong and the forms that work.
 */
export function parseRedisUrl(url: string, what = 'the Redis URL'): RedisTarget {
  const fail = (problem: string): never => {
    throw new InvalidOptionError(`${what} ${problem}; use ${REDIS_URL_FORMS}`);
  };
  const match = URL_PARTS.exec(url);
  if (!match) return fail('is not a valid Redis URL');
  const [, scheme = '', credentials, hosts = '', path = ''] = match;
  const kind = SCHEMES[scheme.toLowerCase()];
  if (kind === undefined) return fail(`has the scheme "${scheme}:", which is not supported`);
  const decode = (part: string | undefined) => {
    if (part === undefined || part === '') return undefined;
    try {
      return decodeURIComponent(part);
    } catch {
      return fail('has credentials or a master name that are not valid percent-encoding');
    }
  };
  const nodes = hosts.split(',').map((host) => {
    let parsed: URL;
    try {
      parsed = new URL(`redis://${host}`);
    } catch {
      return fail(`has the host "${host}", which is not valid (check the port: a number up to 65535)`);
    }
    if (parsed.hostname === '') fail('names no host');
    const port = Number(parsed.port || (kind.mode === 'sentinel' ? 26379 : 6379));
    return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port };
  });
  if (nodes.length > 1 && kind.mode === 'standalone') {
    fail(
      `names ${nodes.length} hosts; only a cluster or sentinel URL (${scheme}+cluster://, ${scheme}+sentinel://) takes several`,
    );
  }
  let master: string | undefined;
  let dbPath = path;
  if (kind.mode === 'sentinel') {
    const named = /^\/([^/]+)(\/.*)?$/.exec(path);
    if (!named?.[1]) return fail("names no master: add the master's name as the path (/mymaster)");
    master = decode(named[1]);
    dbPath = named[2] ?? '';
  }
  if (!/^(\/\d{0,5})?$/.test(dbPath))
    fail(`has the database ${JSON.stringify(dbPath.slice(1))}, not a number`);
  const db = Number(dbPath.slice(1) || 0);
  if (kind.mode === 'cluster' && db !== 0)
    fail(`selects database ${db}, but a Redis Cluster has only database 0`);
  const separator = credentials?.indexOf(':') ?? -1;
  return {
    ...kind,
    nodes,
    master,
    username: decode(separator < 0 ? credentials : credentials?.slice(0, separator)),
    password: separator < 0 ? undefined : decode(credentials?.slice(separator + 1)),
    db,
  };
}
