import { InvalidOptionError, type RatelimitResult } from '@periodkey/ratelimit';
import { createLimit } from './_core.js';
import { limitedResponse, withHeaders } from './_response.js';
import type { HttpOptions, LimiterOptions } from './options.js';

/** A `(Request) => Response` handler: a Next.js route handler, a Deno, Bun or Workers `fetch`. */
export type FetchHandler<A extends unknown[]> = (
  request: Request,
  ...args: A
) => Response | Promise<Response>;

/** Options of {@link withRateLimit}; `A` are the handler's arguments after the request. */
export type FetchRateLimitOptions<A extends unknown[]> = LimiterOptions &
  Omit<HttpOptions<[request: Request, ...args: A]>, 'scope'> & {
    /**
     * What is counted separately for one identity: the route, such as `'/users/[id]'`. A function of the
     * request may return `new URL(request.url).pathname`, but raw paths with ids in them make one key per id
     * and per client: keys without bound.
     */
    scope: string | ((request: Request, ...args: A) => string);
    /**
     * The socket peer's address, which a `Request` does not carry: `(req, env) => env.incoming.socket.remoteAddress`
     * under `@hono/node-server`, `(req, info) => info.remoteAddr.hostname` under `Deno.serve`, or a header that
     * your platform sets and clients cannot (`x-real-ip` on Vercel, `cf-connecting-ip` on Cloudflare). Needed
     * unless `identify` always returns an identity.
     */
    remoteAddress?: (request: Request, ...args: A) => string | undefined;
    /**
     * The response to a denied request; the rate-limit headers are added to it.
     * @default a 429 with the JSON body `{"error":{"code":"RATE_LIMIT_EXCEEDED",...,"retryAfter":45}}`
     */
    onLimited?: (request: Request, result: RatelimitResult) => Response | Promise<Response>;
  };

/**
 * Wraps a fetch handler: a denied request gets the 429 without reaching it, and every counted response gets
 * the rate-limit headers. Limiter failures reject, as if the handler had thrown.
 *
 * @example
 * // app/api/chat/route.ts
 * export const POST = withRateLimit(handler, { scope: '/api/chat', rules: presets.write, identify });
 */
export function withRateLimit<A extends unknown[]>(
  handler: FetchHandler<A>,
  options: FetchRateLimitOptions<A>,
): (request: Request, ...args: A) => Promise<Response> {
  const { remoteAddress, onLimited } = options;
  if (remoteAddress === undefined && options.identify === undefined) {
    throw new InvalidOptionError(
      'a Request carries no client address: pass remoteAddress (e.g. (req, env) => env.incoming.socket.remoteAddress) or identify',
    );
  }
  const limit = createLimit<[request: Request, ...args: A]>(options, {
    options: ['onLimited', 'remoteAddress'],
    remoteAddress: (request, ...args) => remoteAddress?.(request, ...args),
    forwardedFor: (...[request]) => request.headers.get('x-forwarded-for') ?? undefined,
  });
  return async (request, ...args) => {
    const decision = await limit(request, ...args);
    if (decision === undefined) return handler(request, ...args);
    const { result, headers } = decision;
    if (!result.success) {
      return onLimited === undefined
        ? limitedResponse(result, headers)
        : withHeaders(await onLimited(request, result), headers);
    }
    return withHeaders(await handler(request, ...args), headers);
  };
}
