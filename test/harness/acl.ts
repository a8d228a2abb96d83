import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * Creates a Redis ACL user with exactly `rules` (e.g. `['+scan', '+unlink', '~ratelimit:*']`) and returns a
 * URL that logs in as it. For least-privilege tests: the user starts with no commands and no keys.
 */
export async function createAclUser(redisUrl: string, rules: readonly string[]): Promise<string> {
  const name = `u${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  const admin = new Redis(redisUrl);
  try {
    await admin.acl('SETUSER', name, 'reset', 'on', `>${password}`, ...rules);
  } finally {
    admin.disconnect();
  }
  const url = new URL(redisUrl);
  url.username = name;
  url.password = password;
  return url.toString();
}
