import { createHmac } from 'node:crypto';
import {
  InvalidKeyPartError,
  InvalidTimeZoneError,
  isPeriodkeyKey,
  type ParsedKey,
  parseKey,
} from '@periodkey/ratelimit';
import { buildKey, type KeyParts, Keyspace, keyExpiry, parseRule } from '@periodkey/ratelimit/keys';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { RUNS } from './support.js';

const SECRET = 'a secret of at least 16 bytes';
const monthly = { kind: 'calendar', periodId: '202611' } as const;

/** Any UTF-16 string, lone surrogates included. */
const codeUnits = (minLength: number) =>
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), minLength });
/** Strings over the characters that escaping treats specially, where a flawed escaping would collide. */
const tricky = (minLength: number) =>
  fc.string({
    unit: fc.constantFrom(
      '%',
      't',
      'k',
      '.',
      ':',
      '-',
      '2',
      'D',
      '7',
      '4',
      'u',
      '{',
      '}',
      '*',
      '\\',
      '\n',
      '\u2028',
      '\ud800',
      'é',
    ),
    minLength,
  });
const text = (minLength: number) =>
  fc.oneof(
    fc.string({ unit: 'binary', minLength }),
    fc.string({ unit: 'grapheme', minLength }),
    codeUnits(minLength),
    tricky(minLength),
  );

const prefixes = fc
  .array(fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/), { minLength: 1, maxLength: 3 })
  .map((segments) => segments.join(':'));
const ruleNames = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const periods: fc.Arbitrary<KeyParts['period']> = fc.oneof(
  fc
    .constantFrom(
      '2026',
      '2026Q4',
      '2026W53',
      '202611',
      '20261130',
      '2026113024',
      '202611302359',
      '20261130235959',
    )
    .map((periodId) => ({ kind: 'calendar' as const, periodId })),
  fc.constantFrom('sw', 'swc', 'tb', 'gcra' as const).map((tag) => ({ kind: 'rolling' as const, tag })),
);
const parts: fc.Arbitrary<KeyParts & { identity: string }> = fc.record({
  prefix: prefixes,
  identity: text(1),
  scope: text(0),
  rule: ruleNames,
  period: periods,
});

function expectedParse(p: KeyParts & { identity: string }): ParsedKey {
  const { period } = p;
  const unitByLength: Record<number, string> = {
    4: 'year',
    6: 'month',
    8: 'day',
    10: 'hour',
    12: 'minute',
    14: 'second',
  };
  return {
    ...p,
    identity: { kind: 'clear', value: p.identity },
    period:
      period.kind === 'rolling'
        ? period
        : {
            ...period,
            unit: (period.periodId.includes('Q')
              ? 'quarter'
              : period.periodId.includes('W')
                ? 'week'
                : unitByLength[period.periodId.length]) as never,
          },
  };
}

// Characters that must never come through from input: glob characters, controls, line separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are what the test looks for
const FORBIDDEN = /[*?[\]\\\u0000-\u001f\u007f-\u009f\u2028\u2029]|[\ud800-\udfff]/u;

describe('key grammar', () => {
  test.each<[KeyParts, string]>([
    [
      { prefix: 'ratelimit', identity: 'user:42', scope: '/api/chat', rule: 'monthly', period: monthly },
      'ratelimit:{user:42}:/api/chat:monthly:202611',
    ],
    [
      {
        prefix: 'ratelimit',
        identity: 'ip:203.0.113.7',
        scope: 'login',
        rule: 'burst',
        period: { kind: 'rolling', tag: 'sw' },
      },
      'ratelimit:{ip:203.0.113.7}:login:burst:sw',
    ],
    [
      {
        prefix: 'app:ratelimit',
        identity: 'user:42',
        scope: '',
        rule: 'daily',
        period: { kind: 'calendar', periodId: '20261130' },
      },
      'app:ratelimit:{user:42}:-:daily:20261130',
    ],
    [{ prefix: 'r', identity: 'a', scope: '-', rule: 'x', period: monthly }, 'r:{a}:%2D:x:202611'],
    [{ prefix: 'r', identity: 'a', scope: '--', rule: 'x', period: monthly }, 'r:{a}:--:x:202611'],
    [
      { prefix: 'r', identity: '{x}', scope: 'a:b', rule: 'x', period: monthly },
      'r:{%7Bx%7D}:a%3Ab:x:202611',
    ],
    [
      { prefix: 'r', identity: 'a*b?[c]\\', scope: '100%', rule: 'x', period: monthly },
      'r:{a%2Ab%3F%5Bc%5D%5C}:100%25:x:202611',
    ],
    [
      { prefix: 'r', identity: 'line\nbreak\u2028', scope: '\u0000\u007f\u0085', rule: 'x', period: monthly },
      'r:{line%0Abreak%u2028}:%00%7F%85:x:202611',
    ],
    [
      { prefix: 'r', identity: 'lone\ud800', scope: 'pair\ud83d\ude00', rule: 'x', period: monthly },
      'r:{lone%uD800}:pair\ud83d\ude00:x:202611',
    ],
    [{ prefix: 'r', identity: 'tk.abc', scope: 'ü', rule: 'x', period: monthly }, 'r:{%74k.abc}:ü:x:202611'],
    [
      {
        prefix: 'r',
        identity: { kind: 'token', hash: 'AAAAAAAAAAAAAAAAAAAAAA' },
        scope: '',
        rule: 'x',
        period: monthly,
      },
      'r:{tk.AAAAAAAAAAAAAAAAAAAAAA}:-:x:202611',
    ],
  ])('builds and parses %o', (input, key) => {
    expect(buildKey(input)).toBe(key);
    const parsed = parseKey(key);
    expect(parsed).not.toBeNull();
    expect(buildKey(parsed as ParsedKey)).toBe(key);
    expect(parsed?.scope).toBe(input.scope);
  });

  test('parses the parts of a key', () => {
    expect(parseKey('ratelimit:{user:42}:/api/chat:monthly:202611')).toEqual({
      prefix: 'ratelimit',
      identity: { kind: 'clear', value: 'user:42' },
      scope: '/api/chat',
      rule: 'monthly',
      period: { kind: 'calendar', unit: 'month', periodId: '202611' },
    });
    expect(parseKey('ratelimit:{tk.AAAAAAAAAAAAAAAAAAAAAA}:-:burst:gcra')).toEqual({
      prefix: 'ratelimit',
      identity: { kind: 'token', hash: 'AAAAAAAAAAAAAAAAAAAAAA' },
      scope: '',
      rule: 'burst',
      period: { kind: 'rolling', tag: 'gcra' },
    });
  });

  test.each([
    'ratelimit:user:123:api',
    'ratelimit:user:202611',
    'ratelimit:{user}:x',
    'ratelimit:{user}:x:202611',
    'ratelimit:{user}:x:monthly',
    'ratelimit:{user}:x:monthly:2026111',
    'ratelimit:{user}:x:monthly:202613',
    'ratelimit:{user}:x:monthly:SW',
    'ratelimit:{user}:x:y:monthly:202611',
    'ratelimit:{}:x:monthly:202611',
    'ratelimit:{user}x:monthly:202611',
    'ratelimit{user}:x:monthly:202611',
    ':{user}:x:monthly:202611',
    'rate limit:{user}:x:monthly:202611',
    'ratelimit::{user}:x:monthly:202611',
    '@upstash/ratelimit:user:42:123456',
    '@upstash/ratelimit:{user}:x:monthly:202611',
    'rlflx:user:42',
    'rlflx:{user:42}:x:monthly:202611x',
    'ratelimit:{user:42}::monthly:202611', // an empty scope is spelled '-'
    'ratelimit:{%41}:x:monthly:202611', // 'A' needs no escape
    'ratelimit:{a%7b}:x:monthly:202611', // lower-case hex
    'ratelimit:{a%}:x:monthly:202611',
    'ratelimit:{%74}:x:monthly:202611', // a 't' escaped outside 'tk.'
    'ratelimit:{tk.short}:x:monthly:202611',
    'ratelimit:{user}:%2D%2D:monthly:202611',
    'ratelimit:{user}:a*:monthly:202611',
    `ratelimit:{user}:x:${'r'.repeat(65)}:202611`,
    `${'p'.repeat(65)}:{user}:x:monthly:202611`,
  ])('does not recognise %j', (key) => {
    expect(parseKey(key)).toBeNull();
    expect(isPeriodkeyKey(key)).toBe(false);
  });

  test('isPeriodkeyKey can require a prefix', () => {
    const key = 'app:ratelimit:{user:42}:-:monthly:202611';
    expect(isPeriodkeyKey(key)).toBe(true);
    expect(isPeriodkeyKey(key, 'app:ratelimit')).toBe(true);
    expect(isPeriodkeyKey(key, 'ratelimit')).toBe(false);
  });

  test.each<[Partial<KeyParts>, string]>([
    [{ prefix: '' }, 'Key prefix "" is not allowed'],
    [{ prefix: 'a:{b}' }, 'Key prefix "a:{b}" is not allowed'],
    [{ prefix: 'rate*' }, 'is not allowed'],
    [{ prefix: 'a::b' }, 'is not allowed'],
    [{ prefix: 'p'.repeat(65) }, 'use up to 64 letters'],
    [{ identity: '' }, 'The identity must be a non-empty string'],
    [{ identity: { kind: 'token', hash: 'x' } }, 'Token hash "x" is not one that periodkey writes'],
    [{ rule: 'a:b' }, 'Rule name "a:b" is not allowed'],
    [{ period: { kind: 'calendar', periodId: '2026-11' } }, 'Period id "2026-11" is not one of'],
    [{ period: { kind: 'rolling', tag: 'xx' as 'sw' } }, 'Rolling tag "xx" is not one of sw, swc, tb, gcra'],
  ])('rejects %o', (change, message) => {
    const base: KeyParts = {
      prefix: 'ratelimit',
      identity: 'user',
      scope: '',
      rule: 'monthly',
      period: monthly,
    };
    expect(() => buildKey({ ...base, ...change })).toThrow(InvalidKeyPartError);
    expect(() => buildKey({ ...base, ...change })).toThrow(message);
  });

  test('a calendar key expires a grace minute after its period ends', () => {
    expect(keyExpiry({ id: '202611', start: 0, end: 1_000_000 })).toBe(1_060_000);
  });
});

describe('key properties', () => {
  test('every built key parses back to its parts', () => {
    fc.assert(
      fc.property(parts, (p) => {
        const key = buildKey(p);
        expect(parseKey(key)).toEqual(expectedParse(p));
        expect(isPeriodkeyKey(key, p.prefix)).toBe(true);
      }),
      RUNS,
    );
  });

  test('distinct identity and scope pairs give distinct keys', () => {
    const pair = fc.tuple(fc.oneof(tricky(1), text(1)), fc.oneof(tricky(0), text(0)));
    fc.assert(
      fc.property(pair, pair, ([identity1, scope1], [identity2, scope2]) => {
        fc.pre(identity1 !== identity2 || scope1 !== scope2);
        const key = (identity: string, scope: string) =>
          buildKey({ prefix: 'ratelimit', identity, scope, rule: 'r', period: monthly });
        expect(key(identity1, scope1)).not.toBe(key(identity2, scope2));
      }),
      RUNS,
    );
  });

  test('no input can add a glob or control character, close the hash tag or add a segment', () => {
    fc.assert(
      fc.property(parts, (p) => {
        const key = buildKey(p);
        expect(key).not.toMatch(FORBIDDEN);
        expect(key.split('{')).toHaveLength(2);
        expect(key.split('}')).toHaveLength(2);
        const afterTag = key.slice(key.indexOf('}') + 1).split(':');
        expect(afterTag).toHaveLength(4);
        // Every '%' starts an escape.
        expect(key.replace(/%(?:u[0-9A-F]{4}|[0-9A-F]{2})/g, '')).not.toContain('%');
      }),
      RUNS,
    );
  });

  test('a key parses only if it is rebuilt exactly from its parts', () => {
    // Arbitrary strings, and valid keys with one character changed.
    const mutated = fc
      .tuple(parts, fc.nat(), fc.constantFrom('%', '{', '}', ':', '-', 't', 'A', '7', '', 'é'))
      .map(([p, at, char]) => {
        const key = buildKey(p);
        const i = at % key.length;
        return key.slice(0, i) + char + key.slice(i + 1);
      });
    fc.assert(
      fc.property(fc.oneof(mutated, text(0)), (key) => {
        const parsed = parseKey(key);
        if (parsed !== null) expect(buildKey(parsed)).toBe(key);
      }),
      RUNS,
    );
  });

  test('a token never appears in clear, and its hash is the keyed HMAC', () => {
    const keyspace = new Keyspace({
      prefix: 'ratelimit',
      timeZone: 'UTC',
      rules: [parseRule('burst', { limit: 5, per: 'minute', algorithm: 'sliding' })],
      tokenSecret: SECRET,
    });
    fc.assert(
      fc.property(fc.oneof(text(8), fc.base64String({ minLength: 8 })), fc.string(), (token, scope) => {
        const [ruleKey] = keyspace.keys({ token }, scope, 0);
        const key = ruleKey?.key ?? '';
        // The identity's part of the key (the scope is the caller's, and may hold anything, the token too).
        expect(key.slice(0, key.indexOf('}:') + 1)).not.toContain(token);
        const hash = createHmac('sha256', SECRET)
          .update(token)
          .digest()
          .subarray(0, 16)
          .toString('base64url');
        expect(parseKey(key)).toMatchObject({ identity: { kind: 'token', hash } });
      }),
      RUNS,
    );
  });
});

describe('Keyspace', () => {
  const monthlyRule = parseRule('monthly', '10/month');
  const rules = [monthlyRule, parseRule('burst', '5/minute')];

  test('computes the key and period of every rule of a call', () => {
    const keyspace = new Keyspace({ prefix: 'ratelimit', timeZone: 'UTC', rules });
    const now = Date.parse('2026-11-15T10:50:30Z');
    expect(keyspace.keys('user:42', '/api/chat', now)).toEqual([
      {
        rule: monthlyRule,
        key: 'ratelimit:{user:42}:/api/chat:monthly:202611',
        period: {
          id: '202611',
          start: Date.parse('2026-11-01T00:00:00Z'),
          end: Date.parse('2026-12-01T00:00:00Z'),
        },
      },
      {
        rule: rules[1],
        key: 'ratelimit:{user:42}:/api/chat:burst:202611151050',
        period: {
          id: '202611151050',
          start: Date.parse('2026-11-15T10:50:00Z'),
          end: Date.parse('2026-11-15T10:51:00Z'),
        },
      },
    ]);
  });

  test('uses the zone for calendar periods and a tag for rolling rules', () => {
    const keyspace = new Keyspace({
      prefix: 'app',
      timeZone: 'America/New_York',
      rules: [monthlyRule, parseRule('smooth', { limit: 50, per: '1 minute', algorithm: 'token-bucket' })],
    });
    const keys = keyspace.keys('ip:203.0.113.7', '', Date.parse('2026-11-01T03:59:59Z'));
    expect(keys.map((k) => k.key)).toEqual([
      'app:{ip:203.0.113.7}:-:monthly:202610',
      'app:{ip:203.0.113.7}:-:smooth:tb',
    ]);
    expect(keys[1]?.period).toBeNull();
  });

  test('gives the same keys as buildKey', () => {
    const keyspace = new Keyspace({ prefix: 'ratelimit', timeZone: 'Asia/Kathmandu', rules });
    fc.assert(
      fc.property(
        text(1),
        text(0),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (identity, scope, now) => {
          for (const { rule, key, period } of keyspace.keys(identity, scope, now)) {
            const periodId = period?.id ?? '';
            expect(key).toBe(
              buildKey({
                prefix: 'ratelimit',
                identity,
                scope,
                rule: rule.name,
                period: { kind: 'calendar', periodId },
              }),
            );
          }
        },
      ),
      RUNS,
    );
  });

  test('rejects bad options at construction', () => {
    expect(() => new Keyspace({ prefix: 'rate limit', timeZone: 'UTC', rules })).toThrow(InvalidKeyPartError);
    expect(() => new Keyspace({ prefix: 'ratelimit', timeZone: 'Mars/Base', rules })).toThrow(
      InvalidTimeZoneError,
    );
    expect(() => new Keyspace({ prefix: 'ratelimit', timeZone: 'Mars/Base', rules: [] })).toThrow(
      InvalidTimeZoneError,
    );
    expect(
      () => new Keyspace({ prefix: 'ratelimit', timeZone: 'UTC', rules: [...rules, monthlyRule] }),
    ).toThrow('Rule name "monthly" is used twice');
    expect(() => new Keyspace({ prefix: 'ratelimit', timeZone: 'UTC', rules, tokenSecret: 'short' })).toThrow(
      'tokenSecret must be at least 16 bytes',
    );
  });

  test('rejects an empty identity, and a token without a secret', () => {
    const keyspace = new Keyspace({ prefix: 'ratelimit', timeZone: 'UTC', rules });
    expect(() => keyspace.keys('', 'x', 0)).toThrow('The identity must be a non-empty string');
    expect(() => keyspace.keys({ token: 'sk_live_123' }, 'x', 0)).toThrow('needs the tokenSecret option');
    const withSecret = new Keyspace({ prefix: 'ratelimit', timeZone: 'UTC', rules, tokenSecret: SECRET });
    expect(() => withSecret.keys({ token: '' }, 'x', 0)).toThrow('needs a non-empty token string');
  });

  test('keeps a clear identity that looks like a token apart from the token', () => {
    const keyspace = new Keyspace({ prefix: 'ratelimit', timeZone: 'UTC', rules, tokenSecret: SECRET });
    const [tokenKey] = keyspace.keys({ token: 'sk_live_123' }, '', 0);
    const tokenHash = tokenKey?.key.slice('ratelimit:{'.length, tokenKey.key.indexOf('}')) ?? '';
    expect(tokenHash).toMatch(/^tk\.[A-Za-z0-9_-]{22}$/);
    const [clearKey] = keyspace.keys(tokenHash, '', 0);
    expect(clearKey?.key).not.toBe(tokenKey?.key);
    expect(parseKey(clearKey?.key ?? '')?.identity).toEqual({ kind: 'clear', value: tokenHash });
  });
});
