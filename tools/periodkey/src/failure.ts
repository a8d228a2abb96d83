import { classifyRedisError, type RedisErrorKind } from '@periodkey/ratelimit/storage';

/** Connect and command timeouts (`--connect-timeout`, `--command-timeout`), in ms. */
export interface Timeouts {
  readonly connectMs: number;
  readonly commandMs: number;
}

/** What an error message is about: where the tool was connected, and the limits it ran with. */
export interface Situation {
  /** The target, safe to print. */
  readonly label: string;
  readonly timeouts: Timeouts;
  readonly match: string;
}

/**
 * Replies that name their cause better than the connection's last error does (which explains replies such
 * as a bare `NOAUTH` after a wrong password, or a closed connection).
 */
const NAMES_CAUSE: ReadonlySet<RedisErrorKind['kind']> = new Set([
  'noauth',
  'noperm',
  'wrongtype',
  'err',
  'script',
  'unknown-command',
  'cluster-disabled',
  'db-out-of-range',
]);

const seconds = (ms: number) => `${ms / 1000} s`;

/**
 * An error as an operator reads it: its cause and what to change. `message` is the error of the command;
 * `underlying`, if any, the last error the connection reported (a wrong password shows up as `NOAUTH` on
 * the command, and as `WRONGPASS` only on the connection).
 */
export function explain(message: string, where: Situation, underlying?: string): string {
  const { label, timeouts } = where;
  // ioredis's own summary when it found no node to ask (not a Redis reply).
  if (/Failed to refresh slots cache|None of startup nodes/.test(message)) {
    return `no node of the Redis Cluster at ${label} answered (${underlying ?? message}): check the host and port, that the nodes are up, and that the user may run CLUSTER SLOTS (+cluster|slots)`;
  }
  const text = underlying && !NAMES_CAUSE.has(classifyRedisError(message).kind) ? underlying : message;
  const reply = classifyRedisError(text);
  if (reply.kind === 'wrongpass' || classifyRedisError(underlying).kind === 'wrongpass') {
    if (label.startsWith('upstash')) {
      return `${label} refused the token (WRONGPASS): check --upstash-token or UPSTASH_REDIS_REST_TOKEN`;
    }
    return `${label} refused the user name or password of the URL (WRONGPASS): check them, or the user's ACL (is it on?)`;
  }
  if (reply.kind === 'noauth') {
    return `${label} requires a password (NOAUTH): put the user and password in the URL, redis://user:password@host:port`;
  }
  if (reply.kind === 'noperm' && reply.command !== undefined) {
    return `the Redis user may not run ${reply.command.toUpperCase()} (NOPERM): add +${reply.command} to its ACL (ACL SETUSER <user> +${reply.command})`;
  }
  if (reply.kind === 'noperm') {
    return `the Redis user may not touch keys matching ${JSON.stringify(where.match)} (NOPERM): add ~${where.match} to its ACL, or narrow --match to the keys it may touch`;
  }
  if (reply.kind === 'loading') {
    return `${label} is still loading its data (LOADING): run again once it is ready`;
  }
  // The client's and the system's own errors (not Redis replies): timeouts, refused or reset connections, DNS.
  if (/Command timed out|TimeoutError|aborted due to timeout/i.test(text)) {
    return `${label} did not answer within ${seconds(timeouts.commandMs)} (--command-timeout): check that the server is up and not blocked or overloaded, or raise --command-timeout`;
  }
  if (/ECONNREFUSED/.test(text)) {
    return `${label} refused the connection (ECONNREFUSED): nothing listens there; check the host and port`;
  }
  if (/ENOTFOUND|EAI_AGAIN/.test(text)) {
    return `the host of ${label} is not known (DNS): check the host name`;
  }
  if (/ECONNRESET|EPIPE|Connection is closed/.test(text)) {
    return `${label} closed the connection (${text}): check that it is a Redis server, that TLS matches the URL (rediss:// for TLS), and the server's log`;
  }
  return text;
}

/** Rejects with `error()` unless `promise` settles within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(error()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** An error whose message already says its cause and the fix. */
export class Explained extends Error {
  override readonly name = 'Explained';
}

export function connectTimeout(where: Situation): Error {
  return new Explained(
    `could not connect to ${where.label} within ${seconds(where.timeouts.connectMs)} (--connect-timeout): check the host, the port, a firewall, and TLS (rediss:// for TLS); or raise --connect-timeout`,
  );
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
