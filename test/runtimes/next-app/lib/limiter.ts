import { Ratelimit } from '@periodkey/ratelimit';
import { UpstashStore } from '@periodkey/upstash';

// One limiter for the route handler and the proxy (each scope counts on its own), on Upstash over REST.
// The store is passed explicitly: chosen from the environment, it is loaded with an import() of a variable,
// which Turbopack replaces with "Cannot find module as expression is too dynamic".
export const limiter = new Ratelimit({
  store: UpstashStore.fromUrl(
    process.env.UPSTASH_REDIS_REST_URL ?? '',
    process.env.UPSTASH_REDIS_REST_TOKEN ?? '',
  ),
  rules: { monthly: '3/month' },
  prefix: process.env.PERIODKEY_PREFIX ?? 'ratelimit',
});
