import type { Identity, Ratelimit, RatelimitOptions } from '@periodkey/ratelimit';
import type { HeaderFamilies } from './headers.js';
import type { TrustProxy } from './identity.js';

/**
 * The limiter: an existing {@link Ratelimit} (`limiter`), or the options to build one (`rules` with any other
 * `Ratelimit` option: `store`, `timeZone`, `prefix`, `now`, ...), not both.
 */
export type LimiterOptions =
  | ({
      /** A limiter to share between routes or with the rest of the application. */
      limiter: Ratelimit;
    } & { readonly [K in keyof RatelimitOptions]?: never })
  | (RatelimitOptions & { limiter?: never });

/**
 * What every integration accepts besides the limiter. `In` is what the framework hands to a middleware: the
 * request (Express, Fastify), the context (Hono), or the handler's arguments (fetch).
 */
export interface HttpOptions<In extends readonly unknown[]> {
  /**
   * Who is limited: a user id, or `{ token }` for an API key (stored only as a keyed hash; needs
   * `tokenSecret`). When it is omitted or returns `undefined`, the client's IP address is (see `trustProxy`):
   * `ip:203.0.113.9`, or `ip:2001:db8:1:2::/64` for the /64 network of an IPv6 client.
   */
  identify?: (...input: In) => Identity | undefined | Promise<Identity | undefined>;
  /**
   * Which proxies may tell the client's address in `X-Forwarded-For`: a number of hops, or a list of proxy
   * addresses and CIDR ranges. The framework's own proxy setting (Express `trust proxy`, Fastify
   * `trustProxy`) is not used. @default 0 (nobody: the socket's peer is the client)
   */
  trustProxy?: TrustProxy;
  /**
   * What is counted separately for one identity. The default is the route pattern (`/users/:id`), so that
   * `/users/1` and `/users/2` share a count; a raw URL would create keys without bound.
   */
  scope?: string | ((...input: In) => string);
  /** Requests for which this returns true pass without being counted and get no rate-limit headers. */
  skip?: (...input: In) => boolean | Promise<boolean>;
  /** Units a request consumes (fractional for spend budgets, negative to refund). @default 1 */
  cost?: number | ((...input: In) => number | Promise<number>);
  /**
   * `false` turns limiting off: every request passes, uncounted and without headers; the options are still
   * checked. For test suites: `enabled: process.env.NODE_ENV !== 'test'`. @default true
   */
  enabled?: boolean;
  /** Header families to send: `{ legacy: false }` drops `X-RateLimit-*`, `{ ietf: false }` `RateLimit*`. */
  headers?: HeaderFamilies;
}

/** The options of a framework integration, before its own (`onLimited`, ...). */
export type RateLimitOptions<In extends readonly unknown[]> = LimiterOptions & HttpOptions<In>;
