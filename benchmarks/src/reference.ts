import type { Redis } from 'ioredis';

/**
 * Seed 000's reference design, as written there: SCAN MATCH COUNT 1000, then UNLINK what it returned, one
 * after the other until the cursor is back at 0. Returns how many keys it deleted.
 */
export async function referenceFlush(redis: Redis, match: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    if (keys.length > 0) deleted += await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}
