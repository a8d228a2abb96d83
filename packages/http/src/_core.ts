import {
  type Identity,
  InvalidOptionError,
  Ratelimit,
  type RatelimitOptions,
  type RatelimitResult,
} from '@periodkey/ratelimit';
import { checkOptionKeys, RATELIMIT_OPTION_NAMES } from '@periodkey/ratelimit/integration';
import { rateLimitHeaders } from './headers.js';
import { compileTrust, ipIdentity, pickClient } from './identity.js';
import type { HttpOptions, LimiterOptions } from './options.js';

/** How an integration reads a request. */
export interface Adapter<In extends readonly unknown[]> {
  /** The socket peer's address, if the runtime tells it. */
  remoteAddress(...input: In): string | undefined;
  forwardedFor(...input: In): string | undefined;
  /** The scope when the options give none; integrations without a route pattern have none. */
  scope?: (...input: In) => string;
  /** The integration's own option names (`onLimited`, ...), besides the limiter's and {@link HTTP_OPTION_NAMES}. */
  readonly options: readonly string[];
}

/** The option names of {@link HttpOptions}. */
const HTTP_OPTION_NAMES: readonly (keyof HttpOptions<[]>)[] = [
  'identify',
  'trustProxy',
  'scope',
  'skip',
  'cost',
  'enabled',
  'headers',
];

/** The outcome of a request that was counted: the decision and the headers to send with it. */
export interface Decision {
  readonly result: RatelimitResult;
  readonly headers: Record<string, string>;
}

/**
 * The framework-independent part of every integration. The returned function resolves `undefined` for a
 * request that is not limited (`enabled: false`, `skip`), and rejects when the limiter or a callback throws.
 * @throws {InvalidOptionError} for options that cannot work, at construction.
 */
export function createLimit<In extends readonly unknown[]>(
  options: LimiterOptions & HttpOptions<In>,
  adapter: Adapter<In>,
): (...input: In) => Promise<Decision | undefined> {
  const limiter = limiterOf(options, [...HTTP_OPTION_NAMES, ...adapter.options]);
  const { identify, skip, cost = 1, enabled = true, headers = {} } = options;
  const trust = compileTrust(options.trustProxy ?? 0);
  const scope = options.scope ?? adapter.scope;
  if (scope === undefined) {
    throw new InvalidOptionError(
      "scope is required here, e.g. scope: '/api/chat' (the route this handler serves)",
    );
  }
  check(
    identify === undefined || typeof identify === 'function',
    'identify must be a function of the request',
  );
  check(skip === undefined || typeof skip === 'function', 'skip must be a function of the request');
  check(
    typeof cost === 'function' || (typeof cost === 'number' && Number.isFinite(cost) && cost > 0),
    `cost must be a positive finite number or a function of the request, got ${String(cost)}`,
  );
  check(
    typeof headers === 'object' && headers !== null,
    'headers must be an object such as { legacy: false }',
  );
  checkOptionKeys(headers, ['legacy', 'ietf'], 'headers option');
  for (const family of ['legacy', 'ietf'] as const) {
    const value = headers[family];
    check(value === undefined || typeof value === 'boolean', `headers.${family} must be true or false`);
  }
  check(['string', 'function'].includes(typeof scope), 'scope must be a string or a function of the request');
  check(typeof enabled === 'boolean', 'enabled must be true or false');
  if (!enabled) return async () => undefined;

  const clientIdentity = (input: In): Identity => {
    const address = pickClient(adapter.remoteAddress(...input), adapter.forwardedFor(...input), trust);
    if (address === undefined) {
      throw new InvalidOptionError(
        'the client address of this request is unknown: pass identify, or remoteAddress to read it from your runtime',
      );
    }
    return ipIdentity(address);
  };
  return async (...input) => {
    if (skip !== undefined && answer(await skip(...input), 'skip')) return undefined;
    const identity = (await identify?.(...input)) ?? clientIdentity(input);
    const requestCost = typeof cost === 'number' ? cost : await cost(...input);
    // A refund taken from a request would let its sender buy back quota: the middleware only consumes.
    if (typeof requestCost === 'number' && requestCost < 0) {
      throw new InvalidOptionError(
        `cost must not be negative in the middleware (got ${requestCost}); refund with limiter.limit(id, { cost: -n }) where you decide it`,
      );
    }
    const result = await limiter.limit(identity, {
      scope: typeof scope === 'string' ? scope : scope(...input),
      cost: requestCost,
    });
    return { result, headers: rateLimitHeaders(result, headers) };
  };
}

/** The limiter passed in, or one built from the options. */
function limiterOf(options: LimiterOptions, own: readonly string[]): Ratelimit {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError("options must be an object such as { rules: { minute: '100/minute' } }");
  }
  const { limiter, rules } = options;
  if ((limiter === undefined) === (rules === undefined)) {
    throw new InvalidOptionError(
      "pass either limiter (a Ratelimit) or rules (with other Ratelimit options), e.g. { rules: { minute: '100/minute' } }",
    );
  }
  checkOptionKeys(
    options,
    [...own, ...(limiter === undefined ? RATELIMIT_OPTION_NAMES : ['limiter'])],
    'rate-limit option',
  );
  if (limiter !== undefined) {
    if (typeof limiter?.limit !== 'function') throw new InvalidOptionError('limiter must be a Ratelimit');
    return limiter;
  }
  const ratelimitOptions = Object.fromEntries(
    Object.entries(options).filter(([key]) => (RATELIMIT_OPTION_NAMES as readonly string[]).includes(key)),
  ) as unknown as RatelimitOptions;
  return new Ratelimit(ratelimitOptions);
}

/** A callback's answer that must be `true` or `false`: a truthy header value never skips limiting. */
function answer(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') {
    throw new InvalidOptionError(`${name} must answer true or false, got ${typeof value} ${String(value)}`);
  }
  return value;
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new InvalidOptionError(message);
}
