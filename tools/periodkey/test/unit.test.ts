import { describe, expect, test } from 'vitest';
import { AdaptiveSize, Latency, TARGET_COMMAND_MS } from '../src/adaptive.js';
import { compileTemplate, unitsOf } from '../src/carry.js';
import { displayKey, formatCount, formatDuration } from '../src/format.js';
import { matchesEverything } from '../src/pattern.js';
import { redactUrl, resolveTarget, secretsOf } from '../src/target.js';

describe('matchesEverything', () => {
  test.each(['*', '**', '*?', '?*', '*?*', '***'])('%j matches every key', (pattern) => {
    expect(matchesEverything(pattern)).toBe(true);
  });
  test.each(['ratelimit:*', '\\*', '???', '?', '[a-z]*', '*:*', '*a', ''])('%j does not', (pattern) => {
    expect(matchesEverything(pattern)).toBe(false);
  });
});

describe('AdaptiveSize', () => {
  // 1000 items in 8 ms: 8 µs each, so the target fits TARGET_COMMAND_MS / 0.008 items.
  const fits = Math.floor(TARGET_COMMAND_MS / 0.008);

  test('shrinks to what fits the target when Redis is slow, and grows back by 25% a step', () => {
    const size = new AdaptiveSize(1000);
    size.record(1000, 8, 1000);
    expect(size.value).toBe(fits);
    size.record(fits, 0.01, 1000);
    expect(size.value).toBe(Math.floor(fits * 1.25));
  });

  test('slow samples among fast ones (stalls of the host) do not shrink it; five slow ones in a row do', () => {
    const size = new AdaptiveSize(1000);
    for (const ms of [0.5, 8, 8, 8, 8]) size.record(1000, ms, 1000);
    expect(size.value).toBe(1000);
    size.record(1000, 8, 1000);
    expect(size.value).toBe(fits);
  });

  test('stays within [min, max], and max may change from call to call', () => {
    const size = new AdaptiveSize(100, 10);
    size.record(100, 10_000, 100);
    expect(size.value).toBe(10);
    for (let i = 0; i < 50; i++) size.record(size.value, 0, 400);
    expect(size.value).toBe(400);
    size.record(400, 0, 300);
    expect(size.value).toBe(300);
  });
});

describe('Latency', () => {
  test('the smallest latency seen is the round trip, not server time', () => {
    const latency = new Latency();
    expect(latency.serverTime(0, 20)).toBe(0);
    expect(latency.serverTime(100, 123)).toBe(3);
    // Trusted as the network's round trip after 20 commands.
    expect(latency.roundTrip).toBe(0);
    for (let i = 0; i < 18; i++) latency.serverTime(200, 225);
    expect(latency.roundTrip).toBe(20);
  });

  test('a command queued behind others on its connection is charged its share', () => {
    const latency = new Latency();
    latency.serverTime(0, 1);
    // Sent behind three batches still in flight: 4 ms after the round trip, for four batches.
    expect(latency.serverTime(10, 15, 3)).toBe(1);
  });
});

describe('connection targets', () => {
  test('flags win; then Upstash from the environment, then REDIS_URL, as the SDK chooses', () => {
    const env = {
      REDIS_URL: 'redis://env:6379',
      UPSTASH_REDIS_REST_URL: 'https://db.upstash.io',
      UPSTASH_REDIS_REST_TOKEN: 'tok-123',
    };
    expect(resolveTarget({ url: 'redis://flag:1' }, env)).toEqual({
      kind: 'redis',
      url: 'redis://flag:1',
      cluster: undefined,
      db: 0,
    });
    expect(resolveTarget({}, env)).toEqual({
      kind: 'upstash',
      url: 'https://db.upstash.io',
      token: 'tok-123',
    });
    expect(resolveTarget({ cluster: true }, env)).toEqual({
      kind: 'redis',
      url: 'redis://env:6379',
      cluster: true,
      db: 0,
    });
    expect(resolveTarget({}, { REDIS_URL: 'rediss://x:6380' })).toMatchObject({ kind: 'redis' });
    expect(() => resolveTarget({ url: 'redis://a', upstashUrl: 'https://b' }, {})).toThrow(/two databases/);
    expect(() => resolveTarget({ upstashUrl: 'https://b' }, {})).toThrow(/both a URL and a token/);
    expect(() => resolveTarget({}, {})).toThrow(/no database to connect to/);
  });

  test('URLs are printed without credentials, and every secret is known for scrubbing', () => {
    expect(redactUrl('rediss://user:pa%40ss@host:6380/2?password=x')).toBe('rediss://***@host:6380/2');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(
      secretsOf({ kind: 'redis', url: 'redis://u:pa%40ssword@h:1?password=qwerty', cluster: false, db: 0 }),
    ).toEqual(['pa%40ssword', 'pa@ssword', 'qwerty']);
    expect(secretsOf({ kind: 'upstash', url: 'https://db.upstash.io', token: 'AXyzToken' })).toEqual([
      'AXyzToken',
    ]);
  });
});

describe('carry-over templates', () => {
  test('{identity} takes as much as it can; the text around the placeholders is literal', () => {
    const match = compileTemplate('rl.v1:{identity}:{scope}');
    expect(match('rl.v1:user:42:/api/chat')).toEqual({ identity: 'user:42', scope: '/api/chat' });
    expect(match('rl.v1:ip:2001:db8::1:login\nx')).toEqual({ identity: 'ip:2001:db8::1', scope: 'login\nx' });
    expect(match('rlXv1:user:42:/api')).toBeUndefined();
    expect(match('rl.v1:user')).toBeUndefined();
    expect(compileTemplate('quota-{identity}')('quota-user:1')).toEqual({ identity: 'user:1', scope: '' });
  });

  test('a template needs {identity} once', () => {
    expect(() => compileTemplate('rl:{scope}')).toThrow(/needs \{identity\} once/);
    expect(() => compileTemplate('rl:{identity}:{identity}')).toThrow(/needs \{identity\} once/);
  });

  test('legacy values are whole counts, stored in millionths', () => {
    expect(['0', '3', '9000000000', '1.5', '-1', 'abc', '', '99999999999'].map(unitsOf)).toEqual([
      0,
      3_000_000,
      9_000_000_000_000_000,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('display', () => {
  test('keys show on one line, bytes that are not UTF-8 as \\xNN', () => {
    expect(displayKey('a b\nc\\d ключ')).toBe('a b\\x0ac\\\\d ключ');
    expect(displayKey(Buffer.from([0x61, 0xff, 0x0a, 0x5c]))).toBe('a\\xff\\x0a\\\\');
  });

  test('counts', () => {
    expect([0, 999, 1000, 1234567, 10_000_000].map(formatCount)).toEqual([
      '0',
      '999',
      '1,000',
      '1,234,567',
      '10,000,000',
    ]);
  });

  test('durations', () => {
    expect([999, 12_340, 245_000, 7_380_000, 273_600_000].map(formatDuration)).toEqual([
      '999 ms',
      '12.3 s',
      '4m 05s',
      '2h 03m',
      '3d 04h',
    ]);
  });
});
