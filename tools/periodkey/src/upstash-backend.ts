import { Redis } from '@upstash/redis';
import {
  type Backend,
  type CountWrite,
  DeleteCommand,
  type Key,
  type Reading,
  type ScanPage,
  type Shard,
} from './backend.js';
import { redactUrl } from './target.js';

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
  private readonly command = new DeleteCommand();

  constructor(
    readonly name: string,
    private readonly redis: Redis,
  ) {}

  async scan(cursor: string, match: string, count: number): Promise<ScanPage> {
    const [next, keys] = await this.redis.scan(cursor, { match, count });
    return { cursor: String(next), keys: keys.map(String) };
  }

  async remove(keys: readonly Key[]): Promise<number> {
    const command = this.command.name;
    const [item] = await pipelined(this.redis, [keys.map(String)], 1, (pipeline, names) =>
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
      if (item.error?.startsWith('WRONGTYPE')) return undefined;
      const value = result(item);
      return value === null ? null : String(value);
    });
  }

  async types(keys: readonly Key[]): Promise<string[]> {
    const items = await pipelined(this.redis, keys, 1, (pipeline, key) => pipeline.type(String(key)));
    return items.map((item) => String(result(item)));
  }

  async read(keys: readonly Key[]): Promise<Reading[]> {
    // GET answers WRONGTYPE for other types, whose type is all the table shows.
    const items = await pipelined(this.redis, keys, 3, (pipeline, key) =>
      pipeline.type(String(key)).pttl(String(key)).get(String(key)),
    );
    return keys.map((_, i) => {
      const type = String(result(items[3 * i]));
      const pttl = Number(result(items[3 * i + 1]));
      const get = items[3 * i + 2];
      const value =
        type === 'string' && get?.error === undefined && get?.result != null ? String(get.result) : null;
      return { type, value, pttl };
    });
  }
}

async function addCounts(redis: Redis, writes: readonly CountWrite[]): Promise<void> {
  const created = await pipelined(redis, writes, 1, (pipeline, { key, units, expireAt }) =>
    pipeline.set(key, units, { nx: true, pxat: expireAt }),
  );
  const existing = writes.filter((_, i) => result(created[i]) === null);
  for (const item of await pipelined(redis, existing, 1, (pipeline, { key, units }) =>
    pipeline.incrby(key, units),
  )) {
    result(item);
  }
}

export async function connectUpstash(url: string, token: string): Promise<Backend> {
  const redis = new Redis({
    url,
    token,
    automaticDeserialization: false,
    enableAutoPipelining: false,
    enableTelemetry: false,
    keepAlive: true,
  });
  const label = `upstash ${redactUrl(url)}`;
  return {
    label,
    shards: [new UpstashShard(label, redis)],
    addCounts: (writes) => addCounts(redis, writes),
    dbsize: async () => {
      try {
        return await redis.dbsize();
      } catch {
        return undefined;
      }
    },
    close: async () => {},
  };
}
