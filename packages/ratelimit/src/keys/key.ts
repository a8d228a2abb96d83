import { InvalidKeyPartError } from '../errors.js';
import { type Period, unitOfPeriodId } from './calendar.js';
import { type Algorithm, assertRuleName, RULE_NAME, type TimeUnit } from './rule.js';

/** The last segment of a rolling rule's key: which algorithm's data the key holds. */
export type RollingTag = 'sw' | 'swc' | 'tb' | 'gcra';

/** An identity as stored in a key: in clear (escaped), or the keyed hash of a token. */
export type KeyIdentity =
  | { readonly kind: 'clear'; readonly value: string }
  | { readonly kind: 'token'; readonly hash: string };

/** The parts of a key, for {@link buildKey}. A clear identity may be given as a plain string. */
export interface KeyParts {
  readonly prefix: string;
  readonly identity: string | KeyIdentity;
  readonly scope: string;
  readonly rule: string;
  readonly period:
    | { readonly kind: 'calendar'; readonly periodId: string }
    | { readonly kind: 'rolling'; readonly tag: RollingTag };
}

/** The parts of a periodkey key, from {@link parseKey}. */
export interface ParsedKey {
  readonly prefix: string;
  readonly identity: KeyIdentity;
  readonly scope: string;
  readonly rule: string;
  readonly period:
    | { readonly kind: 'calendar'; readonly unit: TimeUnit; readonly periodId: string }
    | { readonly kind: 'rolling'; readonly tag: RollingTag };
}

// A calendar key lives this long past the end of its period, so a late writer still finds it expiring.
const EXPIRY_GRACE_MS = 60_000;

const PREFIX = /^[A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+)*$/;
const MAX_PREFIX_LENGTH = 64;
export const TOKEN_MARK = 'tk.';
const TOKEN_HASH = /^[A-Za-z0-9_-]{22}$/; // base64url of 16 bytes
const EMPTY_SCOPE = '-';
export const ROLLING_TAGS: Readonly<Record<Exclude<Algorithm, 'fixed'>, RollingTag>> = {
  sliding: 'sw',
  'sliding-counter': 'swc',
  'token-bucket': 'tb',
  gcra: 'gcra',
};
const TAGS: readonly string[] = Object.values(ROLLING_TAGS);

// What escaping must hide: '%' (the escape character itself), the hash-tag braces, Redis glob characters,
// and characters that are invisible or break lines: C0, DEL, C1, U+2028/U+2029, and lone surrogates
// (which /u matches only when unpaired). A scope is also a ':'-delimited segment.
const UNSAFE = String.raw`%{}*?[\]\\\u0000-\u001f\u007f-\u009f\u2028\u2029\ud800-\udfff`;
const IDENTITY_UNSAFE = new RegExp(`[${UNSAFE}]`, 'gu');
const SCOPE_UNSAFE = new RegExp(`[${UNSAFE}:]`, 'gu');
// Most identities and scopes need no escaping, which a test without /u (surrogate pairs fall through to
// the replace) confirms at half the cost of a /u replace.
const IDENTITY_PLAIN = new RegExp(`^[^${UNSAFE}]*$`);
const SCOPE_PLAIN = new RegExp(`^[^${UNSAFE}:]*$`);
const ESCAPE = /%(?:u([0-9A-F]{4})|([0-9A-F]{2}))/g;

/**
 * The key of one rule, identity and scope:
 * `<prefix>:{<identity>}:<scope>:<rule>:<period id or rolling tag>`.
 * @example buildKey({ prefix: 'ratelimit', identity: 'user:42', scope: '/api/chat', rule: 'monthly',
 *   period: { kind: 'calendar', periodId: '202611' } }) // 'ratelimit:{user:42}:/api/chat:monthly:202611'
 * @throws {InvalidKeyPartError} if a part cannot be part of a key.
 */
export function buildKey(parts: KeyParts): string {
  assertPrefix(parts.prefix);
  assertRuleName(parts.rule);
  const identity = typeof parts.identity === 'string' ? clear(parts.identity) : parts.identity;
  if (identity.kind === 'token' && !TOKEN_HASH.test(identity.hash)) {
    throw new InvalidKeyPartError(
      `Token hash ${JSON.stringify(identity.hash)} is not one that periodkey writes (22 base64url characters)`,
    );
  }
  const { period } = parts;
  if (period.kind === 'calendar' && unitOfPeriodId(period.periodId) === null) {
    throw new InvalidKeyPartError(
      `Period id ${JSON.stringify(period.periodId)} is not one of YYYY, YYYYQn, YYYYWww, YYYYMM, YYYYMMDD, YYYYMMDDHH, YYYYMMDDHHmm, YYYYMMDDHHmmss`,
    );
  }
  if (period.kind === 'rolling' && !TAGS.includes(period.tag)) {
    throw new InvalidKeyPartError(
      `Rolling tag ${JSON.stringify(period.tag)} is not one of ${TAGS.join(', ')}`,
    );
  }
  const last = period.kind === 'calendar' ? period.periodId : period.tag;
  return `${head(parts.prefix, encodeIdentity(identity), escapeScope(parts.scope))}:${parts.rule}:${last}`;
}

/**
 * The parts of a periodkey key, or `null` for any other key (legacy keys, other libraries' keys). Strict:
 * a key parses only if {@link buildKey} gives it back from the parts.
 */
export function parseKey(key: string): ParsedKey | null {
  const open = key.indexOf('{');
  const close = key.indexOf('}', open);
  if (open < 2 || close < 0 || key[open - 1] !== ':' || key[close + 1] !== ':') return null;
  const prefix = key.slice(0, open - 1);
  const identityText = key.slice(open + 1, close);
  const segments = key.slice(close + 2).split(':');
  if (segments.length !== 3 || prefix.length > MAX_PREFIX_LENGTH || !PREFIX.test(prefix)) return null;
  const [scopeText = '', rule = '', last = ''] = segments;
  if (!RULE_NAME.test(rule)) return null;

  let identity: KeyIdentity;
  if (identityText.startsWith(TOKEN_MARK)) {
    identity = { kind: 'token', hash: identityText.slice(TOKEN_MARK.length) };
    if (!TOKEN_HASH.test(identity.hash)) return null;
  } else {
    identity = { kind: 'clear', value: unescapePart(identityText) };
    // Non-canonical spellings ('%41' for 'A', a stray '%') do not come back the same.
    if (identityText === '' || encodeIdentity(identity) !== identityText) return null;
  }
  const scope = scopeText === EMPTY_SCOPE ? '' : unescapePart(scopeText);
  if (escapeScope(scope) !== scopeText) return null;

  if (TAGS.includes(last))
    return { prefix, identity, scope, rule, period: { kind: 'rolling', tag: last as RollingTag } };
  const unit = unitOfPeriodId(last);
  if (unit === null) return null;
  return { prefix, identity, scope, rule, period: { kind: 'calendar', unit, periodId: last } };
}

/**
 * True if `key` is a periodkey key (and, if given, has this prefix). `periodkey migrate` deletes the keys
 * that match its pattern and are not.
 */
export function isPeriodkeyKey(key: string, prefix?: string): boolean {
  const parsed = parseKey(key);
  return parsed !== null && (prefix === undefined || parsed.prefix === prefix);
}

/** The absolute expiry (epoch ms, for PEXPIREAT) of a calendar key: its period's end plus a grace minute. */
export function keyExpiry(period: Period): number {
  return period.end + EXPIRY_GRACE_MS;
}

// internal

export function assertPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || prefix.length > MAX_PREFIX_LENGTH || !PREFIX.test(prefix)) {
    throw new InvalidKeyPartError(
      `Key prefix ${JSON.stringify(prefix)} is not allowed; use up to ${MAX_PREFIX_LENGTH} letters, digits, '_', '.' or '-', in segments joined by ':' (such as 'ratelimit' or 'app:ratelimit')`,
    );
  }
}

export function head(prefix: string, identity: string, scope: string): string {
  return `${prefix}:{${identity}}:${scope}`;
}

export function clear(value: string): KeyIdentity {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidKeyPartError(
      'The identity must be a non-empty string: an empty hash tag {} would not keep the keys of one identity in one Redis Cluster slot',
    );
  }
  return { kind: 'clear', value };
}

export function encodeIdentity(identity: KeyIdentity): string {
  if (identity.kind === 'token') return TOKEN_MARK + identity.hash;
  const { value } = identity;
  const escaped = IDENTITY_PLAIN.test(value) ? value : value.replace(IDENTITY_UNSAFE, escapeChar);
  // A clear identity never reads as a token: its leading 't' is escaped.
  return escaped.startsWith(TOKEN_MARK) ? `%74${escaped.slice(1)}` : escaped;
}

export function escapeScope(scope: string): string {
  if (scope === '') return EMPTY_SCOPE;
  if (scope === EMPTY_SCOPE) return '%2D';
  return SCOPE_PLAIN.test(scope) ? scope : scope.replace(SCOPE_UNSAFE, escapeChar);
}

function escapeChar(char: string): string {
  const code = char.charCodeAt(0);
  return code < 0x100 ? `%${hex(code, 2)}` : `%u${hex(code, 4)}`;
}

function unescapePart(text: string): string {
  return text.replace(ESCAPE, (_, unit: string | undefined, byte: string | undefined) =>
    String.fromCharCode(Number.parseInt(unit ?? byte ?? '', 16)),
  );
}

function hex(code: number, length: number): string {
  return code.toString(16).toUpperCase().padStart(length, '0');
}
