import { InvalidOptionError } from '../errors.js';

/** A Redis deployment as a URL names it, checked but not connected. */
export interface RedisTarget {
  /** `redis+cluster://` or `rediss+cluster://`: a Cluster client from the start. */
  readonly cluster: boolean;
  /** `rediss://` or `rediss+cluster://`. */
  readonly tls: boolean;
  /** One node for a standalone URL; the startup nodes of a cluster. */
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** Always 0 on a cluster. */
  readonly db: number;
}

const SCHEMES: Readonly<Record<string, { cluster: boolean; tls: boolean }>> = {
  redis: { cluster: false, tls: false },
  rediss: { cluster: false, tls: true },
  'redis+cluster': { cluster: true, tls: false },
  'rediss+cluster': { cluster: true, tls: true },
};

export const REDIS_URL_FORMS =
  'redis://[user:password@]host:6379[/db], rediss://… (TLS), or redis+cluster://host1:7000,host2:7001 ' +
  '(rediss+cluster:// with TLS)';

/**
 * Parses a Redis URL: `redis://` and `rediss://` (TLS) name one server, with an optional numeric database
 * (`redis://:password@host:6379/2`); `redis+cluster://` and `rediss+cluster://` name a Cluster by one or more
 * startup nodes separated by commas (`redis+cluster://user:pw@10.0.0.1:7000,10.0.0.2:7000`). Credentials are
 * percent-decoded. The default port is 6379.
 * @param what how the message names the URL, such as `'REDIS_URL'`.
 * @throws {InvalidOptionError} naming what is wrong and the forms that work.
 */
export function parseRedisUrl(url: string, what = 'the Redis URL'): RedisTarget {
  const fail = (problem: string): never => {
    throw new InvalidOptionError(`${what} ${problem}; use ${REDIS_URL_FORMS}`);
  };
  const match = /^([a-z+]+):\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?$/i.exec(url);
  if (!match) return fail('is not a valid Redis URL');
  const [, scheme = '', credentials, hosts = '', path = ''] = match;
  const kind = SCHEMES[scheme.toLowerCase()];
  if (kind === undefined) return fail(`has the scheme "${scheme}:", which is not supported`);
  const nodes = hosts.split(',').map((host) => {
    let parsed: URL;
    try {
      parsed = new URL(`redis://${host}`);
    } catch {
      return fail(`has the host "${host}", which is not valid (check the port: a number up to 65535)`);
    }
    if (parsed.hostname === '') fail('names no host');
    return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(parsed.port || 6379) };
  });
  if (nodes.length > 1 && !kind.cluster) {
    fail(`names ${nodes.length} hosts; only a cluster URL (${scheme}+cluster://) takes several`);
  }
  if (!/^(\/\d{0,5})?$/.test(path)) fail(`has the database ${JSON.stringify(path.slice(1))}, not a number`);
  const db = Number(path.slice(1) || 0);
  if (kind.cluster && db !== 0) fail(`selects database ${db}, but a Redis Cluster has only database 0`);
  const separator = credentials?.indexOf(':') ?? -1;
  const decode = (part: string | undefined) => {
    if (part === undefined || part === '') return undefined;
    try {
      return decodeURIComponent(part);
    } catch {
      return fail('has credentials that are not valid percent-encoding');
    }
  };
  return {
    ...kind,
    nodes,
    username: decode(separator < 0 ? credentials : credentials?.slice(0, separator)),
    password: separator < 0 ? undefined : decode(credentials?.slice(separator + 1)),
    db,
  };
}
