import { parseKey, Ratelimit, type RatelimitOptions } from '@periodkey/ratelimit';
import { testPrefix } from '@periodkey/test';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BACKENDS, type Backend, type BackendName, openBackend } from './backends.js';

// One contract, four stores: every scenario runs on memory, standalone Redis, the Cluster and the
// Upstash-compatible server with an injected clock, asserts what users rely on, and must produce exactly
// the transcript the memory store produces.

const SECRET = 'contract-suite-token-secret-0123456789';
const TOKEN = 'sk_live_never_in_a_key_4242';

interface Context {
  /** A limiter on this backend's store, under a prefix of its own, on the scenario's clock. */
  limiter(options: Omit<RatelimitOptions, 'store' | 'now' | 'prefix'>): Ratelimit;
  clock: { t: number };
  /** Adds a result to the transcript that the stores must agree on. */
  record<T>(value: T): T;
}

type Scenario = (ctx: Context) => Promise<void>;

const at = (iso: string) => Date.parse(iso);

const scenarios: Record<string, Scenario> = {
  'a calendar month: 10 admissions, then denied until 00:00 on the 1st': async ({
    limiter,
    clock,
    record,
  }) => {
    clock.t = at('2026-11-30T23:59:00Z');
    const rl = limiter({ rules: { monthly: '10/month' } });
    for (let i = 9; i >= 0; i--) {
      const r = record(await rl.limit('user:42', { scope: '/api/chat' }));
      expect(r).toMatchObject({ success: true, remaining: i, limit: 10, rule: 'monthly' });
      expect(r.reset).toBe(at('2026-12-01T00:00:00Z'));
    }
    const denied = record(await rl.limit('user:42', { scope: '/api/chat' }));
    expect(denied).toMatchObject({ success: false, remaining: 0, retryAfter: 60, reason: 'store' });
    clock.t += 30_000;
    expect(record(await rl.limit('user:42', { scope: '/api/chat' }))).toMatchObject({
      success: false,
      retryAfter: 30,
      reason: 'cache',
    });
    clock.t = at('2026-12-01T00:00:00Z');
    expect(record(await rl.limit('user:42', { scope: '/api/chat' }))).toMatchObject({
      success: true,
      remaining: 9,
    });
    // Another scope and another identity count on their own.
    expect(record(await rl.limit('user:42', { scope: '/api/other' }))).toMatchObject({ remaining: 9 });
    expect(record(await rl.limit('user:43', { scope: '/api/chat' }))).toMatchObject({ remaining: 9 });
  },

  'a day resets at local midnight in America/New_York': async ({ limiter, clock, record }) => {
    clock.t = at('2026-11-24T04:59:58Z'); // 23:59:58 local
    const rl = limiter({ rules: { daily: '3/day' }, timeZone: 'America/New_York' });
    for (let i = 0; i < 3; i++) expect(record(await rl.limit('ip:203.0.113.7')).success).toBe(true);
    expect(record(await rl.limit('ip:203.0.113.7'))).toMatchObject({ success: false, retryAfter: 2 });
    clock.t = at('2026-11-24T05:00:00Z');
    expect(record(await rl.limit('ip:203.0.113.7'))).toMatchObject({
      success: true,
      remaining: 2,
      reset: at('2026-11-25T05:00:00Z'),
    });
  },

  'several rules: all must pass, and a denied call consumes nothing': async ({ limiter, clock, record }) => {
    clock.t = at('2026-11-24T10:00:00Z');
    const rl = limiter({ rules: { monthly: '10/month', burst: '3/minute' } });
    for (let i = 0; i < 3; i++) record(await rl.limit('user:7'));
    const denied = record(await rl.limit('user:7'));
    expect(denied).toMatchObject({ success: false, rule: 'burst', retryAfter: 60, limit: 3 });
    expect(denied.rules.map((r) => [r.rule, r.success, r.used])).toEqual([
      ['monthly', true, 3],
      ['burst', false, 3],
    ]);
    clock.t += 60_000;
    const next = record(await rl.limit('user:7'));
    expect(next).toMatchObject({ success: true, rule: 'burst', remaining: 2 });
    expect(record(await rl.usage('user:7')).map((r) => r.used)).toEqual([4, 1]);
  },

  'weighted and fractional costs add up exactly': async ({ limiter, clock, record }) => {
    clock.t = at('2026-11-24T10:00:00Z');
    const rl = limiter({ rules: { budget: '25/month' } });
    for (let i = 0; i < 100; i++) record(await rl.limit('key:a', { cost: 0.0042 }));
    expect(record(await rl.usage('key:a'))[0]).toMatchObject({ used: 0.42, remaining: 24.58 });
    expect(record(await rl.limit('key:a', { cost: 24.58 }))).toMatchObject({ success: true, remaining: 0 });
    expect(record(await rl.limit('key:a', { cost: 0.000001 }))).toMatchObject({
      success: false,
      remaining: 0,
    });
    const weighted = limiter({ rules: { hourly: '10/hour' } });
    expect(record(await weighted.limit('key:b', { cost: 7 }))).toMatchObject({ success: true, remaining: 3 });
    expect(record(await weighted.limit('key:b', { cost: 4 }))).toMatchObject({
      success: false,
      remaining: 3,
    });
    expect(record(await weighted.limit('key:b', { cost: 3 }))).toMatchObject({ success: true, remaining: 0 });
  },

  'a negative cost refunds': async ({ limiter, clock, record }) => {
    clock.t = at('2026-11-24T10:00:00Z');
    const rl = limiter({ rules: { monthly: '5/month' } });
    for (let i = 0; i < 5; i++) record(await rl.limit('user:r'));
    expect(record(await rl.limit('user:r')).success).toBe(false);
    expect(record(await rl.limit('user:r', { cost: -2 }))).toMatchObject({ success: true, remaining: 2 });
    expect(record(await rl.limit('user:r')).success).toBe(true);
    expect(record(await rl.limit('user:r')).success).toBe(true);
    expect(record(await rl.limit('user:r')).success).toBe(false);
    // A refund never takes the count below zero.
    expect(record(await rl.limit('user:r', { cost: -50 }))).toMatchObject({ success: true, remaining: 5 });
    expect(record(await rl.limit('user:r'))).toMatchObject({ success: true, remaining: 4 });
  },

  'raising a limit mid-month keeps the count': async ({ limiter, clock, record }) => {
    clock.t = at('2026-11-24T10:00:00Z');
    const plans = new Map<string, number>();
    const rl = limiter({
      rules: { monthly: '10/month' },
      limits: (id) => ({ monthly: plans.get(id as string) }),
    });
    for (let i = 0; i < 10; i++) record(await rl.limit('user:p'));
    expect(record(await rl.limit('user:p')).success).toBe(false);
    expect(record(await rl.limit('user:p')).reason).toBe('cache');
    plans.set('user:p', 20);
    expect(record(await rl.limit('user:p'))).toMatchObject({ success: true, limit: 20, remaining: 9 });
    expect(record(await rl.limit('user:p', { limits: { monthly: 100 } }))).toMatchObject({ remaining: 88 });
  },

  'usage and reset': async ({ limiter, clock, record }) => {
    clock.t = at('2026-11-24T10:00:00Z');
    const rl = limiter({ rules: { monthly: '10/month', burst: '2/minute' } });
    expect(record(await rl.usage('user:u'))).toEqual([
      {
        rule: 'monthly',
        success: true,
        limit: 10,
        used: 0,
        remaining: 10,
        reset: at('2026-12-01T00:00:00Z'),
        windowMs: 30 * 86_400_000,
        period: { id: '202611', start: at('2026-11-01T00:00:00Z'), end: at('2026-12-01T00:00:00Z') },
      },
      {
        rule: 'burst',
        success: true,
        limit: 2,
        used: 0,
        remaining: 2,
        reset: at('2026-11-24T10:01:00Z'),
        windowMs: 60_000,
        period: { id: '202611241000', start: at('2026-11-24T10:00:00Z'), end: at('2026-11-24T10:01:00Z') },
      },
    ]);
    record(await rl.limit('user:u'));
    record(await rl.limit('user:u'));
    expect(record(await rl.limit('user:u')).success).toBe(false);
    expect(record(await rl.usage('user:u')).map((r) => r.used)).toEqual([2, 2]);
    await rl.reset('user:u');
    expect(record(await rl.usage('user:u')).map((r) => r.used)).toEqual([0, 0]);
    expect(record(await rl.limit('user:u'))).toMatchObject({ success: true, reason: 'store' });
  },

  'a token identity is counted by its keyed hash': async ({ limiter, clock, record }) => {
    clock.t = at('2026-11-24T10:00:00Z');
    const rl = limiter({ rules: { daily: '2/day' }, tokenSecret: SECRET });
    expect(record(await rl.limit({ token: TOKEN })).remaining).toBe(1);
    expect(record(await rl.limit({ token: TOKEN })).remaining).toBe(0);
    expect(record(await rl.limit({ token: TOKEN })).success).toBe(false);
    expect(record(await rl.limit({ token: `${TOKEN}x` })).remaining).toBe(1);
  },

  'count denied calls when asked to': async ({ limiter, clock, record }) => {
    clock.t = at('2026-11-24T10:00:00Z');
    const rl = limiter({ rules: { minute: '3/minute' }, countDenied: true, blockCache: false });
    for (let i = 0; i < 5; i++) record(await rl.limit('user:d'));
    expect(record(await rl.usage('user:d'))[0]).toMatchObject({ used: 5, remaining: 0 });
  },

  'sliding log: a request leaves the window exactly one window after it came': async ({
    limiter,
    clock,
    record,
  }) => {
    const t0 = at('2026-11-24T10:00:00Z');
    clock.t = t0;
    const rl = limiter({ rules: { burst: { limit: 3, per: '1 minute', algorithm: 'sliding' } } });
    for (const offset of [0, 10_000, 20_000]) {
      clock.t = t0 + offset;
      expect(record(await rl.limit('user:s')).success).toBe(true);
    }
    clock.t = t0 + 30_000;
    expect(record(await rl.limit('user:s'))).toMatchObject({ success: false, retryAfter: 30 });
    clock.t = t0 + 60_000;
    expect(record(await rl.limit('user:s'))).toMatchObject({
      success: true,
      remaining: 0,
      reset: t0 + 120_000,
    });
    clock.t = t0 + 65_000;
    expect(record(await rl.limit('user:s'))).toMatchObject({ success: false, retryAfter: 5 });
  },

  'sliding counter: the previous window counts by its remaining weight': async ({
    limiter,
    clock,
    record,
  }) => {
    const w0 = at('2026-11-24T10:00:00Z');
    clock.t = w0 + 30_000;
    const rl = limiter({ rules: { burst: { limit: 10, per: '1 minute', algorithm: 'sliding-counter' } } });
    for (let i = 0; i < 10; i++) record(await rl.limit('user:c'));
    expect(record(await rl.limit('user:c')).success).toBe(false);
    clock.t = w0 + 75_000; // 25% into the next window: the previous 10 weigh 7.5
    expect(record(await rl.limit('user:c'))).toMatchObject({ success: true, remaining: 1.5 });
    expect(record(await rl.limit('user:c'))).toMatchObject({ success: true, remaining: 0.5 });
    const denied = record(await rl.limit('user:c'));
    expect(denied.success).toBe(false);
    expect(denied.retryAfter).toBeGreaterThan(0);
  },

  'token bucket: refills at limit per window, up to the limit': async ({ limiter, clock, record }) => {
    const t0 = at('2026-11-24T10:00:00Z');
    clock.t = t0;
    const rl = limiter({ rules: { bucket: { limit: 5, per: '10 seconds', algorithm: 'token-bucket' } } });
    for (let i = 4; i >= 0; i--) expect(record(await rl.limit('user:t')).remaining).toBe(i);
    expect(record(await rl.limit('user:t'))).toMatchObject({ success: false, retryAfter: 2 });
    clock.t = t0 + 2_000;
    expect(record(await rl.limit('user:t'))).toMatchObject({ success: true, remaining: 0 });
    clock.t = t0 + 60_000;
    expect(record(await rl.limit('user:t'))).toMatchObject({ success: true, remaining: 4 });
  },

  'GCRA: spaces admissions by window / limit after the burst': async ({ limiter, clock, record }) => {
    const t0 = at('2026-11-24T10:00:00Z');
    clock.t = t0;
    const rl = limiter({ rules: { gcra: { limit: 5, per: '10 seconds', algorithm: 'gcra' } } });
    for (let i = 4; i >= 0; i--) expect(record(await rl.limit('user:g')).remaining).toBe(i);
    expect(record(await rl.limit('user:g'))).toMatchObject({ success: false, retryAfter: 2 });
    clock.t = t0 + 2_000;
    expect(record(await rl.limit('user:g'))).toMatchObject({ success: true, remaining: 0 });
    clock.t = t0 + 60_000;
    expect(record(await rl.limit('user:g'))).toMatchObject({
      success: true,
      remaining: 4,
      reset: t0 + 62_000,
    });
  },
};

describe.each(BACKENDS)('contract on %s', (name: BackendName) => {
  let backend: Backend;
  let reference: Backend;
  const base = testPrefix('contract');
  let counter = 0;

  beforeAll(async () => {
    backend = await openBackend(name);
    reference = await openBackend('memory');
  });
  afterAll(async () => {
    await backend.close();
    await reference.close();
  });

  async function play(on: Backend, scenario: Scenario): Promise<unknown[]> {
    const transcript: unknown[] = [];
    const clock = { t: 0 };
    const prefix = `${base}:${counter++}`;
    await scenario({
      clock,
      limiter: (options) => new Ratelimit({ ...options, store: on.store, prefix, now: () => clock.t }),
      record: (value) => {
        transcript.push(value);
        return value;
      },
    });
    return transcript;
  }

  test.each(Object.keys(scenarios))('%s', async (title) => {
    const scenario = scenarios[title] as Scenario;
    const transcript = await play(backend, scenario);
    expect(transcript).toEqual(await play(reference, scenario));
  });

  // The memory store has no keys to look at; the Redis-backed stores must leave clean ones.
  if (name === 'memory') return;
  test('every key written has a TTL, parses, and holds no token in clear', async () => {
    const keys = await backend.keys(`${base}:*`);
    const scenariosWithKeys = new Set(keys.map((key) => key.split(':')[1]));
    expect(scenariosWithKeys.size).toBe(Object.keys(scenarios).length);
    for (const key of keys) {
      expect(parseKey(key), key).not.toBeNull();
      expect(key).not.toContain(TOKEN);
      expect(await backend.pttl(key), key).toBeGreaterThan(0);
    }
    const monthly = keys.filter((key) => key.endsWith(':monthly:202612'));
    expect(monthly.length).toBeGreaterThan(0);
    expect(monthly).toContain(`${base}:0:{user:42}:/api/chat:monthly:202612`);
  });
});
