// internal: the options of a Ratelimit, checked whole at construction.
import { checkKeys, describeValue, optionsObject } from '../_options.js';
import { warn } from '../_runtime.js';
import { InvalidOptionError } from '../errors.js';
import { type Identity, Keyspace } from '../keys/keyspace.js';
import { parseRule } from '../keys/rule.js';
import type { Store } from '../store.js';
import { type StoreSource, storeSource } from './environment.js';
import type { IdentityList, LimitOptions, RatelimitEvent, RatelimitOptions } from './types.js';

/** Every option of `Ratelimit`, so that a typo (`failur`, `timezone`) is an error instead of a default. */
export const RATELIMIT_OPTION_NAMES: readonly (keyof RatelimitOptions)[] = [
  'store',
  'rules',
  'timeZone',
  'prefix',
  'now',
  'tokenSecret',
  'countDenied',
  'limits',
  'allowlist',
  'denylist',
  'blockCache',
  'failure',
  'timeout',
  'fallback',
  'probe',
  'onEvent',
  'maxIdentityLength',
  'maxScopeLength',
];

const MAX_TIMER_MS = 2_147_483_647;

/** A predicate over identities, from a list or a function, that answers only `true` or `false`. */
export type Membership = (identity: Identity) => boolean;

/** The options after their checks. */
export interface Config {
  /** The keys of the rules, in the order of `options.rules`: what the rules, zone, prefix and key bounds make. */
  readonly keyspace: Keyspace;
  readonly ruleNames: readonly string[];
  readonly prefix: string;
  /** The store given, or else where to open one. */
  readonly store: Store | undefined;
  readonly source: StoreSource | undefined;
  /** The clock, checked on every read. */
  readonly now: () => number;
  readonly countDenied: boolean;
  readonly limits: RatelimitOptions['limits'];
  readonly allowed: Membership | undefined;
  readonly denied: Membership | undefined;
  readonly blockCache: boolean;
  readonly failOpen: boolean;
  readonly timeout: number;
  readonly fallback: Store | undefined;
  readonly probe: { readonly initialDelay: number; readonly maxDelay: number };
  readonly onEvent: ((event: RatelimitEvent) => void) | undefined;
}

/**
 * Checks every option of a `Ratelimit` but the key parts, and reads the store URL (or the environment's).
 * @throws {InvalidOptionError} naming the option and what to pass.
 */
export function readConfig(
  options: RatelimitOptions,
  env: Readonly<Record<string, string | undefined>>,
): Config {
  if (options === undefined) {
    throw new InvalidOptionError(
      "Ratelimit takes options, e.g. new Ratelimit({ rules: { monthly: '10/month' } })",
    );
  }
  optionsObject(options, 'Ratelimit options', "{ rules: { monthly: '10/month' } }");
  checkKeys(options, RATELIMIT_OPTION_NAMES, 'Ratelimit option');
  const { rules } = options;
  if (
    typeof rules !== 'object' ||
    rules === null ||
    Array.isArray(rules) ||
    Object.keys(rules).length === 0
  ) {
    throw new InvalidOptionError(
      `rules must be an object naming at least one rule, e.g. { rules: { monthly: '10/month' } }, got ${describeValue(rules)}`,
    );
  }
  const { failure = 'open', fallback, onEvent, store } = options;
  if (failure !== 'open' && failure !== 'closed') {
    throw new InvalidOptionError(
      `failure must be 'open' (admit when the store fails) or 'closed' (deny), got ${describeValue(failure)}`,
    );
  }
  if (fallback !== undefined && !isStore(fallback)) {
    throw new InvalidOptionError('fallback must be a Store, e.g. { fallback: new MemoryStore() }');
  }
  const probe = optionsObject(options.probe, 'probe', '{ initialDelay: 100, maxDelay: 5000 }');
  checkKeys(probe, ['initialDelay', 'maxDelay'], 'probe option');
  const initialDelay = positiveMs(probe.initialDelay, 100, 'probe.initialDelay', '{ initialDelay: 100 }');
  const maxDelay = positiveMs(probe.maxDelay, 5000, 'probe.maxDelay', '{ maxDelay: 5000 }');
  if (maxDelay < initialDelay || !Number.isFinite(maxDelay)) {
    throw new InvalidOptionError('probe.maxDelay must be finite and at least probe.initialDelay');
  }
  const checked = {
    ...(typeof store === 'object' && store !== null
      ? { store: checkedStore(store), source: undefined }
      : { store: undefined, source: storeSource(store, env) }),
    now: checkedClock(
      fn(options.now, 'now', 'a function returning epoch milliseconds, e.g. () => Date.now()'),
    ),
    countDenied: flag(options.countDenied, false, 'countDenied'),
    limits: fn(options.limits, 'limits', 'a function (identity) => ({ ruleName: limit })'),
    allowed: membership(options.allowlist, 'allowlist'),
    denied: membership(options.denylist, 'denylist'),
    blockCache: flag(options.blockCache, true, 'blockCache'),
    failOpen: failure === 'open',
    timeout: positiveMs(options.timeout, 1000, 'timeout', '{ timeout: 1000 }'),
    fallback,
    probe: { initialDelay, maxDelay },
    onEvent: safely(fn(onEvent, 'onEvent', 'a function (event) => void')),
  };
  // The key parts last: a bad rule, zone or prefix is reported after every other option, as it always was.
  const ruleList = Object.entries(rules).map(([name, input]) => parseRule(name, input));
  const prefix = options.prefix ?? 'ratelimit';
  const keyspace = new Keyspace({
    prefix,
    timeZone: options.timeZone ?? 'UTC',
    rules: ruleList,
    ...(options.tokenSecret === undefined ? {} : { tokenSecret: options.tokenSecret }),
    ...(options.maxIdentityLength === undefined ? {} : { maxIdentityLength: options.maxIdentityLength }),
    ...(options.maxScopeLength === undefined ? {} : { maxScopeLength: options.maxScopeLength }),
  });
  return { ...checked, keyspace, ruleNames: ruleList.map((rule) => rule.name), prefix };
}

function isStore(value: unknown): value is Store {
  return typeof (value as Store | undefined)?.evaluate === 'function';
}

function checkedStore(store: object): Store {
  if (!isStore(store)) {
    throw new InvalidOptionError('store must be a Store (MemoryStore, IORedisStore, UpstashStore) or a URL');
  }
  return store;
}

function fn<F>(value: F | undefined, name: string, expected: string): F | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new InvalidOptionError(`${name} must be ${expected}, got ${describeValue(value)}`);
  }
  return value;
}

function flag(value: boolean | undefined, fallback: boolean, name: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new InvalidOptionError(`${name} must be true or false, got ${describeValue(value)}`);
  }
  return value;
}

function positiveMs(value: number | undefined, fallback: number, what: string, example: string): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !(value > 0) ||
    (value > MAX_TIMER_MS && value !== Number.POSITIVE_INFINITY)
  ) {
    throw new InvalidOptionError(`${what} must be a positive number of milliseconds, e.g. ${example}`);
  }
  return value;
}

/**
 * A list's membership test. An iterable is read once, here: its strings match clear identities and its
 * `{ token }` entries token identities (a token never matches a string of the same text). A predicate is
 * called with the identity as `limit()` got it and must answer `true` or `false`: an async predicate
 * would answer a promise, which must not count as `true`.
 */
function membership(list: IdentityList | undefined, name: string): Membership | undefined {
  if (list === undefined) return undefined;
  if (typeof list === 'function') {
    return (identity) => {
      const answer: unknown = list(identity);
      if (typeof answer !== 'boolean') {
        throw new InvalidOptionError(
          `${name} must answer true or false, synchronously, got ${describeValue(answer)}; load an async list into a Set first`,
        );
      }
      return answer;
    };
  }
  if (typeof list === 'string') {
    throw new InvalidOptionError(
      `${name} must be a list of identities, not one string: use { ${name}: [${JSON.stringify(list)}] }`,
    );
  }
  if (typeof (list as Partial<Iterable<unknown>> | null)?.[Symbol.iterator] !== 'function') {
    throw new InvalidOptionError(
      `${name} must be an array or Set of identities, or a function (identity) => boolean, got ${describeValue(list)}`,
    );
  }
  const clear = new Set<string>();
  const tokens = new Set<string>();
  for (const entry of list as Iterable<unknown>) {
    if (typeof entry === 'string') clear.add(entry);
    else if (typeof (entry as { token?: unknown } | null)?.token === 'string') {
      tokens.add((entry as { token: string }).token);
    } else {
      throw new InvalidOptionError(
        `${name} entries must be identities (strings, or { token } objects), got ${describeValue(entry)}`,
      );
    }
  }
  return (identity) => (typeof identity === 'string' ? clear.has(identity) : tokens.has(identity.token));
}

/** The latest instant a clock may read: the end of year 9999, the last a period id can name. */
const MAX_INSTANT = 253_402_300_799_999;

/** The clock in whole milliseconds, which every store counts in alike, checked on every read. */
function checkedClock(now: (() => number) | undefined): () => number {
  if (now === undefined) return Date.now;
  return () => {
    const at = now();
    if (typeof at !== 'number' || !(at >= 0 && at <= MAX_INSTANT)) {
      throw new InvalidOptionError(
        `now() must return epoch milliseconds between 1970 and 9999, got ${describeValue(at)}`,
      );
    }
    return Math.floor(at);
  };
}

/** Calls a listener so that its exceptions never reach the limiter; the first one is reported as a warning. */
function safely(
  listener: ((event: RatelimitEvent) => void) | undefined,
): ((event: RatelimitEvent) => void) | undefined {
  if (listener === undefined) return undefined;
  let warned = false;
  return (event) => {
    try {
      listener(event);
    } catch (error) {
      if (warned) return;
      warned = true;
      warn(`periodkey: an onEvent listener threw (${String(error)}); further throws are ignored`);
    }
  };
}

/** The options each method takes. */
const CALL_OPTION_NAMES = {
  limit: ['scope', 'cost', 'limits'],
  usage: ['scope', 'limits'],
  reset: ['scope'],
} as const satisfies Record<string, readonly string[]>;

/** The options of a call, checked: an object of known keys (`limit(id, '/api')` and typos are errors). */
export function callOptions<T extends LimitOptions>(options: T, method: keyof typeof CALL_OPTION_NAMES): T {
  const example =
    typeof options === 'string' ? `${method}(id, { scope: '${options}' })` : "{ scope: '/api/chat' }";
  optionsObject(options, `${method}() options`, example);
  const known: readonly string[] = CALL_OPTION_NAMES[method];
  for (const key in options) if (!known.includes(key)) checkKeys(options, known, `${method}() option`);
  return options;
}

/**
 * A token identity read once: a `token` getter answers the same to the key, the lists, the limits and the
 * block cache.
 */
export function callIdentity(identity: Identity): Identity {
  if (typeof identity !== 'object' || identity === null || !('token' in identity)) return identity;
  return { token: identity.token };
}
