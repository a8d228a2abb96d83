import {
  type CounterAdd,
  classifyRedisError,
  type StorageLayout,
  type StoredValue,
  storedValue,
} from '@periodkey/ratelimit/storage';
import { Redis } from '@upstash/redis';
import {
  type Backend,
  DeleteCommand,
  type Key,
  type Reading,
  type Sample,
  type ScanPage,
  type Shard,
} from './backend.js';
import { explain, messageOf, type Timeouts } from './failure.js';
import { redactUrl } from './target.js';

/** What the client makes of bytes that are not UTF-8 (it decodes base64 replies with a lenient TextDecoder). */
const REPLACEMENT = '\uFFFD';
const STRING: StorageLayout = { type: 'string' };
/** Keys that cannot be named over REST, kept as examples for the warning. */
const SKIPPED_EXAMPLES = 10;

/** Upstash answers at most this many commands in one `/pipeline` request. */
const MAX_PIPELINE = 1000;

type Pipeline = ReturnType<Redis['pipeline']>;
type Item = { result?: unknown; error?: string };

/** Sends `add(pipeline, item)` for each item, in `/pipeline` requests of at most 1000 commands. */
async function pipelined<T>(
  redis: Redis,
  items: readonly T[],
  commandsPerItem: number,
  add: (pipeline: Pipeline, item: T) => void,
): Promise<Item[]> {
  const replies: Item[] = [];
  const step = Math.max(1, Math.floor(MAX_PIPELINE / commandsPerItem));
  for (let start = 0; start < items.length; start += step) {
    const pipeline = redis.pipeline();
    for (const item of items.slice(start, start + step)) add(pipeline, item);
    replies.push(...((await pipeline.exec({ keepErrors: true })) as Item[]));
  }
  return replies;
}

function result(item: Item | undefined): unknown {
  if (item?.error !== undefined) throw new Error(item.error);
  return item?.result;
}

/**
 * An Upstash database over REST. SCAN goes to `POST /`; everything else in `/pipeline` requests of at most
 * 1000 commands. Keys travel as JSON strings, so a key whose name is not valid UTF-8 cannot be named over
 * REST at all: it is scanned but not deleted, and the summary's counts show that.
 */
class UpstashShard implements Shard {
  constructor(
    readonly name: string,
    private readonly redis: Redis,
    private readonly command: DeleteCommand,
    private readonly skipped: Skipped,
  ) {}

  async scan(cursor: string, match: string, count: number): Promise<ScanPage> {
    const [next, keys] = await this.redis.scan(cursor, { match, count });
    const names = keys.map(String);
    for (const name of names) if (name.includes(REPLACEMENT)) this.skipped.add(name);
    return { cursor: String(next), keys: names };
  }

  async remove(keys: readonly Key[]): Promise<number> {
    const command = this.command.name;
    // A name that was not UTF-8 arrives mangled: sent back, it would name another key (or none).
    const names = keys.map(String).filter((name) => !name.includes(REPLACEMENT));
    if (names.length === 0) return 0;
    const [item] = await pipelined(this.redis, [names], 1, (pipeline, names) =>
      command === 'UNLINK' ? pipeline.unlink(...names) : pipeline.del(...names),
    );
    if (item?.error !== undefined && (command !== this.command.name || this.command.fallBack(item.error))) {
      return this.remove(keys);
    }
    return Number(result(item) ?? 0);
  }

  async take(keys: readonly Key[]): Promise<(string | null | undefined)[]> {
    const items = await pipelined(this.redis, keys, 1, (pipeline, key) => pipeline.getdel(String(key)));
    return items.map((item) => {
      if (classifyRedisError(item.error).kind === 'wrongtype') return undefined;
      const value = result(item);
      return value === null ? null : String(value);
    });
  }

  async types(keys: readonly Key[]): Promise<string[]> {
    const items = await pipelined(this.redis, keys, 1, (pipeline, key) => pipeline.type(String(key)));
    return items.map((item) => String(result(item)));
  }

  async read(keys: readonly Key[], layouts: readonly StorageLayout[]): Promise<Reading[]> {
    const asked = keys.map((key, i) => ({ name: String(key), layout: layouts[i] ?? STRING }));
    const items = await pipelined(this.redis, asked, 2, (pipeline, { name, layout }) => {
      pipeline.pttl(name);
      if (layout.type === 'string') return pipeline.get(name);
      if (layout.type === 'hash') return pipeline.hmget(name, ...layout.fields);
      return pipeline.zrange(name, 0, -1, { withScores: true });
    });
    return keys.map((_, i) => ({
      pttl: Number(result(items[2 * i])),
      stored: stored(layouts[i] ?? STRING, items[2 * i + 1]),
    }));
  }

  async sample(count: number): Promise<Sample> {
    const size = await this.redis.dbsize();
    const items = await pipelined(this.redis, Array.from({ length: count }), 1, (pipeline) =>
      pipeline.randomkey(),
    );
    const keys = items.map((item) => result(item)).filter((key) => key != null);
    return { size, keys: keys.map(String) };
  }
}

/** A reply in `layout`; `undefined` for a key that is gone or of another type (an error reply). */
function stored(layout: StorageLayout, item: Item | undefined): StoredValue | undefined {
  if (classifyRedisError(item?.error).kind === 'wrongtype') return undefined;
  return storedValue(layout, result(item));
}

/** Keys seen that REST cannot name: a count and the first few. */
class Skipped {
  count = 0;
  readonly examples: string[] = [];

  add(name: string): void {
    this.count += 1;
    if (this.examples.length < SKIPPED_EXAMPLES) this.examples.push(name);
  }
}

/**
 * See {@link Backend.addCounts}. The client's pipeline takes no raw command: each of `counterCommands(add)`
 * goes by its typed method (`SET key amount PXAT expireAt NX`, then `INCRBY key amount` where it answered nil).
 */
async function addCounts(redis: Redis, adds: readonly CounterAdd[]): Promise<void> {
  const created = await pipelined(redis, adds, 1, (pipeline, { key, amount, expireAt }) =>
    pipeline.set(key, amount, { nx: true, pxat: expireAt }),
  );
  const existing = adds.filter((_, i) => result(created[i]) === null);
  for (const item of await pipelined(redis, existing, 1, (pipeline, { key, amount }) =>
    pipeline.incrby(key, amount),
  )) {
    result(item);
  }
}

export async function connectUpstash(
  url: string,
  token: string,
  timeouts: Timeouts,
  match: string,
): Promise<Backend> {
  const redis = new Redis({
    url,
    token,
    automaticDeserialization: false,
    enableAutoPipelining: false,
    enableTelemetry: false,
    keepAlive: true,
    // A fresh deadline per request: an endpoint that never answers fails the request (not retried).
    signal: () => AbortSignal.timeout(timeouts.commandMs),
  });
  const label = `upstash ${redactUrl(url)}`;
  const command = new DeleteCommand();
  const skipped = new Skipped();
  const where = { label, timeouts, match };
  return {
    label,
    shards: [new UpstashShard(label, redis, command, skipped)],
    addCounts: (writes) => addCounts(redis, writes),
    send: ([name = '', ...args]) => redis.exec([name, ...args]),
    deleteCommand: command,
    explain: (error) => explain(messageOf(error), where),
    skipped: () => ({ count: skipped.count, examples: skipped.examples }),
    close: async () => {},
  };
}
