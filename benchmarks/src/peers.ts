import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

/**
 * The slice of `@upstash/redis` that `@upstash/ratelimit` calls, over ioredis, so that it runs on the same
 * local Redis and client as everyone else. Its scripts start with `#!lua flags=allow-key-locking`, which
 * vanilla Redis 7.0 rejects ("Unexpected flag in script shebang"): the shebang line is stripped before the
 * script is sent, and its EVALSHA hash is mapped to the stripped script's SHA, so that after the first call
 * it runs with EVALSHA like it does on Upstash.
 */
export function upstashRatelimitClient(redis: Redis) {
  const stripped = new Map<string, string>();
  return {
    async evalsha(hash: string, keys: string[], args: unknown[]) {
      const sha = stripped.get(hash);
      if (sha === undefined) throw new Error('NOSCRIPT No matching script');
      return redis.evalsha(sha, keys.length, ...keys, ...args.map(String));
    },
    async eval(script: string, keys: string[], args: unknown[]) {
      const body = script.replace(/^#!lua[^\n]*\n/, '');
      stripped.set(sha1(script), sha1(body));
      return redis.eval(body, keys.length, ...keys, ...args.map(String));
    },
  };
}
