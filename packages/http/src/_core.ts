import {
  checkOptionKeys,
  type Identity,
  InvalidOptionError,
  PeriodClock,
  parseRule,
  RATELIMIT_OPTION_NAMES,
  Ratelimit,
  type RatelimitOptions,
  type RatelimitResult,
  type RuleResult,
} from '@periodkey/ratelimit';
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
  const { limiter, now, window } = limiterOf(options, [...HTTP_OPTION_NAMES, ...adapter.options]);
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
    return { result, headers: rateLimitHeaders(result, { ...headers, now: now(), window }) };
  };
}

interface LimiterSource {
  readonly limiter: Ratelimit;
  readonly now: () => number;
  readonly window: (rule: RuleResult) => number | undefined;
}

function limiterOf(options: LimiterOptions, own: readonly string[]): LimiterSource {
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
    [...own, ...(limiter === undefined ? RATELIMIT_OPTION_NAMES : ['limiter', 'now'])],
    'rate-limit option',
  );
  if (limiter !== undefined) {
    if (typeof limiter?.limit !== 'function') throw new InvalidOptionError('limiter must be a Ratelimit');
    // A Ratelimit does not tell its rules, so the window (`w`) of the RateLimit-Policy header is left out.
    return { limiter, now: options.now ?? Date.now, window: () => undefined };
  }
  const ratelimitOptions = Object.fromEntries(
    Object.entries(options).filter(([key]) => (RATELIMIT_OPTION_NAMES as readonly string[]).includes(key)),
  ) as unknown as RatelimitOptions;
  const built = new Ratelimit(ratelimitOptions);
  const timeZone = ratelimitOptions.timeZone ?? 'UTC';
  const windows = new Map(
    Object.entries(ratelimitOptions.rules).map(([name, input]): [string, (reset: number) => number] => {
      const rule = parseRule(name, input);
      if (rule.algorithm !== 'fixed') return [name, () => Math.max(1, Math.round(rule.durationMs / 1000))];
      // The length of the period that ends at the reset: 2592000 for November, 60 for a minute.
      const clock = new PeriodClock(rule, timeZone);
      return [
        name,
        (reset) => {
          const period = clock.at(reset - 1);
          return Math.round((period.end - period.start) / 1000);
        },
      ];
    }),
  );
  return {
    limiter: built,
    now: ratelimitOptions.now ?? Date.now,
    window: (rule) => windows.get(rule.rule)?.(rule.reset),
  };
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
