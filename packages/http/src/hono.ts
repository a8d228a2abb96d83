import type { RatelimitResult } from '@periodkey/ratelimit';
import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { createLimit } from './_core.js';
import { limitedResponse, withHeaders } from './_response.js';
import type { RateLimitOptions } from './options.js';

/** Options of the Hono middleware. */
export type HonoRateLimitOptions = RateLimitOptions<[c: Context]> & {
  /**
   * The socket peer's address. The default reads it under `@hono/node-server`; elsewhere use your runtime's
   * `getConnInfo` (`(c) => getConnInfo(c).remote.address` from `hono/bun`, `hono/deno`, ...), or a header that
   * your platform sets and clients cannot (`(c) => c.req.header('cf-connecting-ip')` on Cloudflare).
   */
  remoteAddress?: (c: Context) => string | undefined;
  /**
   * The response to a denied request; the rate-limit headers are added to it.
   * @default a 429 with the JSON body `{"error":{"code":"RATE_LIMIT_EXCEEDED",...,"retryAfter":45}}`
   */
  onLimited?: (c: Context, result: RatelimitResult) => Response | Promise<Response>;
};

/**
 * Hono middleware. Counts per the path it is registered with (`routePath(c)`): the pattern (`/users/:id`)
 * when it is attached to a route, the group (`/api/*`) with `app.use()`. Limiter failures are thrown to
 * `app.onError`.
 *
 * @example
 * app.get('/users/:id', rateLimit({ rules: presets.read }), (c) => c.json(...));
 */
export function rateLimit(options: HonoRateLimitOptions): MiddlewareHandler {
  const limit = createLimit<[c: Context]>(options, {
    options: ['onLimited', 'remoteAddress'],
    remoteAddress: options.remoteAddress ?? nodeServerAddress,
    forwardedFor: (c) => c.req.header('x-forwarded-for'),
    scope: (c) => routePath(c),
  });
  const onLimited = options.onLimited;
  return async (c, next) => {
    const decision = await limit(c);
    if (decision === undefined) return next();
    const { result, headers } = decision;
    if (!result.success) {
      return onLimited === undefined
        ? limitedResponse(result, headers)
        : withHeaders(await onLimited(c, result), headers);
    }
    await next();
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
  };
}

/** `@hono/node-server` passes the Node request as `c.env.incoming`. */
function nodeServerAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}
