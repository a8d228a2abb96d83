import { describeValue } from '../_options.js';
import { base64url, byteLength, hmacSha256 } from '../_runtime.js';
import { InvalidKeyPartError, InvalidOptionError } from '../errors.js';
import { assertTimeZone, type Period, PeriodClock } from './calendar.js';
import { assertPrefix, clear, encodeIdentity, escapeScope, head, ROLLING_TAGS, TOKEN_MARK } from './key.js';
import { assertRuleName, type Rule } from './rule.js';

/** Who is limited: a string stored readably, or a secret (API key, session token) stored only as a keyed hash. */
export type Identity = string | { readonly token: string };

/** Options of a {@link Keyspace}. */
export interface KeyspaceOptions {
  /** First segment(s) of every key, such as `'ratelimit'` or `'app:ratelimit'`. */
  readonly prefix: string;
  /** IANA zone of the calendar periods. */
  readonly timeZone: string;
  readonly rules: readonly Rule[];
  /** HMAC key for `{ token }` identities, at least 16 bytes. */
  readonly tokenSecret?: string | Uint8Array;
  /** The longest clear identity, in UTF-16 code units (`string.length`). @default 256 */
  readonly maxIdentityLength?: number;
  /** The longest scope, in UTF-16 code units. @default 256 */
  readonly maxScopeLength?: number;
}

/** The key of one rule for one call. */
export interface RuleKey {
  readonly rule: Rule;
  readonly key: string;
  /** The current period of a calendar (`'fixed'`) rule; `null` for a rolling rule. */
  readonly period: Period | null;
}

const MIN_SECRET_BYTES = 16;
/** Defaults of {@link KeyspaceOptions}' bounds, and the fixed bound of a token (hashed, never in a key). */
const MAX_IDENTITY_LENGTH = 256;
const MAX_SCOPE_LENGTH = 256;
const MAX_TOKEN_LENGTH = 4096;

/**
 * The keys of a limiter's rules, computed on every call: escapes the identity and scope once per call and
 * reads each calendar rule's period from a cached {@link PeriodClock}.
 */
export class Keyspace {
  readonly #prefix: string;
  readonly #tokenHash: ((token: string) => Uint8Array) | undefined;
  readonly #maxIdentityLength: number;
  readonly #maxScopeLength: number;
  readonly #rules: readonly {
    readonly rule: Rule;
    readonly clock: PeriodClock | null;
    readonly tail: string;
  }[];

  /**
   * @throws {InvalidKeyPartError} for a bad prefix, token secret, or rule name (also one used twice).
   * @throws {InvalidTimeZoneError} for a bad zone.
   */
  constructor(options: KeyspaceOptions) {
    assertPrefix(options.prefix);
    const secret = options.tokenSecret;
    if (secret !== undefined && typeof secret !== 'string' && !(secret instanceof Uint8Array)) {
      throw new InvalidOptionError(
        `tokenSecret must be a string or a Uint8Array of at least ${MIN_SECRET_BYTES} bytes, got ${describeValue(secret)}`,
      );
    }
    if (secret !== undefined && byteLength(secret) < MIN_SECRET_BYTES) {
      throw new InvalidKeyPartError(
        `tokenSecret must be at least ${MIN_SECRET_BYTES} bytes; use a long random secret`,
      );
    }
    assertTimeZone(options.timeZone);
    this.#prefix = options.prefix;
    this.#tokenHash = secret === undefined ? undefined : hmacSha256(secret);
    this.#maxIdentityLength = bound(options.maxIdentityLength, MAX_IDENTITY_LENGTH, 'maxIdentityLength');
    this.#maxScopeLength = bound(options.maxScopeLength, MAX_SCOPE_LENGTH, 'maxScopeLength');
    const names = new Set<string>();
    this.#rules = options.rules.map((rule) => {
      assertRuleName(rule.name);
      if (names.has(rule.name)) {
        throw new InvalidKeyPartError(
          `Rule name "${rule.name}" is used twice; every rule needs its own name`,
        );
      }
      names.add(rule.name);
      if (rule.algorithm === 'fixed') {
        return { rule, clock: new PeriodClock(rule, options.timeZone), tail: `:${rule.name}:` };
      }
      return { rule, clock: null, tail: `:${rule.name}:${ROLLING_TAGS[rule.algorithm]}` };
    });
  }

  /**
   * The key of every rule, in rule order, for one call at `now` (epoch ms).
   * @throws {InvalidKeyPartError} for an identity that is not a non-empty string or `{ token }` (a token
   *   needs `tokenSecret`), a scope that is not a string, or either past its length bound.
   */
  keys(identity: Identity, scope: string, now: number): RuleKey[] {
    if (typeof scope !== 'string') {
      throw new InvalidKeyPartError(
        `The scope must be a string, such as '/api/chat', got ${describeValue(scope)}`,
      );
    }
    if (scope.length > this.#maxScopeLength) {
      throw new InvalidKeyPartError(
        `The scope is ${scope.length} characters long, more than maxScopeLength (${this.#maxScopeLength}); use a route pattern, not a raw URL, or raise maxScopeLength`,
      );
    }
    const start = head(this.#prefix, this.#encode(identity), escapeScope(scope));
    const keys: RuleKey[] = [];
    for (const { rule, clock, tail } of this.#rules) {
      if (clock === null) keys.push({ rule, key: start + tail, period: null });
      else {
        const period = clock.at(now);
        keys.push({ rule, key: start + tail + period.id, period });
      }
    }
    return keys;
  }

  #encode(identity: Identity): string {
    if (typeof identity === 'string') {
      if (identity.length > this.#maxIdentityLength) {
        throw new InvalidKeyPartError(
          `The identity is ${identity.length} characters long, more than maxIdentityLength (${this.#maxIdentityLength}); pass a shorter id, { token } for a long secret, or raise maxIdentityLength`,
        );
      }
      return encodeIdentity(clear(identity));
    }
    if (typeof identity !== 'object' || identity === null || !('token' in identity)) {
      throw new InvalidKeyPartError(
        `The identity must be a non-empty string such as 'user:42', or { token } for a secret, got ${describeValue(identity)}`,
      );
    }
    if (typeof identity.token !== 'string' || identity.token === '') {
      throw new InvalidKeyPartError(
        `A { token } identity needs a non-empty token string, got ${describeValue(identity.token)}`,
      );
    }
    if (identity.token.length > MAX_TOKEN_LENGTH) {
      throw new InvalidKeyPartError(
        `The token is ${identity.token.length} characters long, more than ${MAX_TOKEN_LENGTH}`,
      );
    }
    if (this.#tokenHash === undefined) {
      throw new InvalidKeyPartError('A { token } identity needs the tokenSecret option, which keys its hash');
    }
    // Truncated to 16 bytes: a key stays short, and 128 bits leave collisions out of reach.
    return TOKEN_MARK + base64url(this.#tokenHash(identity.token).subarray(0, 16));
  }
}

// internal

function bound(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(
      `${name} must be a whole number of characters of at least 1, e.g. { ${name}: ${fallback} }, got ${describeValue(value)}`,
    );
  }
  return value;
}
