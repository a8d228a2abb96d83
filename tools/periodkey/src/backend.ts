import {
  type CounterAdd,
  classifyRedisError,
  type StorageLayout,
  type StoredValue,
} from '@periodkey/ratelimit/storage';

/**
 * A key as SCAN returned it: a string when its bytes are valid UTF-8 (nearly always, and much cheaper to
 * send back), its bytes otherwise, so that such keys too are deleted or kept exactly.
 */
export type Key = string | Buffer;

/**
 * What the commands need from a Redis deployment: one {@link Shard} per keyspace to scan (the database of a
 * standalone server, each master of a Cluster, an Upstash database), and the size of the keyspace.
 */
export interface Backend {
  /** Where this points, with every credential removed: safe to print. */
  readonly label: string;
  readonly shards: readonly Shard[];
  /** `--carry-over`: adds each amount to its periodkey counter, by the storage module's `counterCommands`. */
  addCounts(adds: readonly CounterAdd[]): Promise<void>;
  /**
   * One command (`[name, key, ...args]`), routed by its key as the deployment requires: the pre-flight's
   * probes. Rejects with the server's error.
   */
  send(args: readonly string[]): Promise<unknown>;
  /** UNLINK, or DEL once UNLINK turned out unavailable; shared by every shard. */
  readonly deleteCommand: DeleteCommand;
  /** An error of this backend as a message that says its cause and the fix. */
  explain(error: unknown): string;
  /** Upstash: keys seen that cannot be named over REST (not UTF-8), so were neither deleted nor kept. */
  skipped?(): { readonly count: number; readonly examples: readonly string[] };
  close(): Promise<void>;
}

/** DBSIZE of a shard and a sample of its keys (RANDOMKEY), for the progress bar's estimate. */
export interface Sample {
  readonly size: number;
  readonly keys: readonly Key[];
}

export interface ScanPage {
  readonly cursor: string;
  readonly keys: readonly Key[];
}

/** A key as the status table reads it: its value in the layout asked for, and its PTTL. */
export interface Reading {
  /** `undefined` when the key is gone or holds another type. */
  readonly stored: StoredValue | undefined;
  readonly pttl: number;
}

export interface Shard {
  readonly name: string;
  /** SCAN, on a connection of its own, so that its latency is its own and not that of queued deletes. */
  scan(cursor: string, match: string, count: number): Promise<ScanPage>;
  /**
   * UNLINK (or DEL where UNLINK is unknown or not allowed), split as the deployment requires; resolves to
   * the number of keys that existed and are gone.
   */
  remove(keys: readonly Key[]): Promise<number>;
  /**
   * GETDEL of each key: its value, `null` if it is gone, `undefined` if it is not a string (and still
   * there).
   */
  take(keys: readonly Key[]): Promise<(string | null | undefined)[]>;
  /** TYPE of each key, `none` for keys that are gone. */
  types(keys: readonly Key[]): Promise<string[]>;
  /** Each key's value in its layout (GET, HMGET or ZRANGE WITHSCORES) and its PTTL. */
  read(keys: readonly Key[], layouts: readonly StorageLayout[]): Promise<Reading[]>;
  /** DBSIZE and `count` RANDOMKEY replies; rejects if the user may not run them. */
  sample(count: number): Promise<Sample>;
}

/** Which delete command a deployment takes; shared by its shards, switched to DEL once for good. */
export class DeleteCommand {
  name: 'UNLINK' | 'DEL' = 'UNLINK';

  /** True if `message` (an error reply) means UNLINK is unavailable: the caller retries with DEL. */
  fallBack(message: string): boolean {
    if (this.name === 'DEL' || !unlinkUnavailable(message)) return false;
    this.name = 'DEL';
    return true;
  }
}

/** An old server (`unknown command`) or an ACL without `+unlink` (`NOPERM ... 'unlink' command`). */
function unlinkUnavailable(message: string): boolean {
  const reply = classifyRedisError(message);
  return reply.kind === 'unknown-command' || (reply.kind === 'noperm' && reply.command === 'unlink');
}
