import {
  type Algorithm,
  InvalidOptionError,
  MemoryStore,
  type MemoryStoreOptions,
  Ratelimit,
  type RatelimitOptions,
} from '@periodkey/ratelimit';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { RUNS } from './support.js';

// Finding 10 of issue 11 (a flood of throwaway identities must never give an exhausted identity a fresh
// quota; sweeping and eviction in bounded slices) and finding 3's MemoryStore options. Injected clocks only.

const NOW = Date.parse('2026-11-24T10:00:00Z');
const ALGORITHMS: readonly Algorithm[] = ['fixed', 'sliding', 'sliding-counter', 'token-bucket', 'gcra'];
const WINDOW_MS = 10_000;

function ruleFor(algorithm: Algorithm, limit: number): RatelimitOptions['rules'][string] {
  return algorithm === 'fixed' ? `${limit}/month` : { limit, per: '10 seconds', algorithm };
}

function setup(algorithm: Algorithm, limit: number, maxKeys: number, extra: Partial<RatelimitOptions> = {}) {
  const clock = { t: NOW };
  const store = new MemoryStore({ maxKeys });
  const rl = new Ratelimit({
    store,
    rules: { r: ruleFor(algorithm, limit) },
    now: () => clock.t,
    blockCache: false, // every answer below is the store's
    ...extra,
  });
  return { clock, store, rl };
}

describe('finding 3: MemoryStore options are checked at construction', () => {
  test.each([0, -1, Number.NaN, 1.5, '10', Number.POSITIVE_INFINITY, null, 2 ** 53])(
    'maxKeys %s throws an InvalidOptionError that says what to pass',
    (maxKeys) => {
      const make = () => new MemoryStore({ maxKeys } as unknown as MemoryStoreOptions);
      expect(make).toThrow(InvalidOptionError);
      expect(make).toThrow(/maxKeys must be a positive integer.*\{ maxKeys: 100_000 \}/);
    },
  );

  test('an unknown key throws and suggests maxKeys', () => {
    const make = () => new MemoryStore({ maxkeys: 5 } as unknown as MemoryStoreOptions);
    expect(make).toThrow(InvalidOptionError);
    expect(make).toThrow(/Unknown MemoryStore option "maxkeys"; did you mean "maxKeys"\?/);
  });

  test('options that are not an object throw', () => {
    for (const options of [42, 'maxKeys', [], null, true]) {
      const make = () => new MemoryStore(options as unknown as MemoryStoreOptions);
      expect(make).toThrow(InvalidOptionError);
      expect(make).toThrow(/MemoryStore options must be an object, e\.g\. \{ maxKeys: 100_000 \}/);
    }
  });

  test('valid options are accepted', () => {
    for (const options of [undefined, {}, { maxKeys: 1 }, { maxKeys: undefined }, { maxKeys: 10_000_000 }]) {
      expect(new MemoryStore(options as MemoryStoreOptions)).toBeInstanceOf(MemoryStore);
    }
  });
});

describe('finding 10: MemoryStore can be gamed', () => {
  test('finding 10: an exhausted identity stays denied after 1,000,000 throwaway identities, size <= maxKeys throughout', async () => {
    const maxKeys = 10_000;
    const { clock, store, rl } = setup('fixed', 10, maxKeys);
    for (let i = 0; i < 10; i++) expect((await rl.limit('victim')).success).toBe(true);
    expect(await rl.limit('victim')).toMatchObject({ success: false, reason: 'store' });
    let largest = 0;
    for (let i = 0; i < 1_000_000; i++) {
      await rl.limit(`throwaway:${i}`);
      if (store.size > largest) largest = store.size;
      if (i % 1000 === 0) clock.t += 1000;
    }
    expect(largest).toBe(maxKeys);
    expect(await rl.limit('victim')).toMatchObject({ success: false, reason: 'store', remaining: 0 });
  }, 300_000);

  test.each(ALGORITHMS)(
    'finding 10: %s: an exhausted identity stays denied after 50,000 exhausted throwaway identities',
    async (algorithm) => {
      const { clock, rl } = setup(algorithm, 10, 1_000);
      for (let i = 0; i < 10; i++) expect((await rl.limit('victim')).success).toBe(true);
      expect((await rl.limit('victim')).success).toBe(false);
      // Each throwaway identity exhausts its own quota, so every entry counts as much as the victim's and
      // the victim's is evicted sooner or later (with a sample of 8 of 1,000, after ~1,000 evictions).
      for (let i = 0; i < 50_000; i++) await rl.limit(`throwaway:${i}`, { cost: 10 });
      expect(await rl.limit('victim')).toMatchObject({ success: false, reason: 'store', remaining: 0 });
      // The inherited count is the evicted one, no more durable: once the period or window has passed,
      // the victim and new identities get their whole limit again.
      clock.t = algorithm === 'fixed' ? Date.parse('2026-12-01T00:00:00Z') : clock.t + 2 * WINDOW_MS;
      expect(await rl.limit('victim')).toMatchObject({ success: true, remaining: 9 });
      expect(await rl.limit('newcomer')).toMatchObject({ success: true, remaining: 9 });
    },
    60_000,
  );

  test('finding 10: a flood on a minute rule does not raise the counts of a monthly rule', async () => {
    const clock = { t: NOW };
    const store = new MemoryStore({ maxKeys: 500 });
    const options = { store, now: () => clock.t, blockCache: false } as const;
    const minute = new Ratelimit({ ...options, prefix: 'm', rules: { r: '5/minute' } });
    const monthly = new Ratelimit({ ...options, prefix: 'M', rules: { r: '1000/month' } });
    for (let i = 0; i < 5; i++) await minute.limit('victim');
    for (let i = 0; i < 20_000; i++) await minute.limit(`throwaway:${i}`, { cost: 5 });
    expect(await minute.limit('victim')).toMatchObject({ success: false, reason: 'store' });
    expect(await monthly.limit('newcomer')).toMatchObject({ success: true, remaining: 999 });
  });

  test('finding 10: at the bound each new key evicts one entry, not a tenth of the store', async () => {
    const maxKeys = 1_000;
    const { store, rl } = setup('fixed', 10, maxKeys);
    for (let i = 0; i < maxKeys; i++) await rl.limit(`first:${i}`);
    expect(store.size).toBe(maxKeys);
    for (let i = 0; i < 5 * maxKeys; i++) {
      await rl.limit(`next:${i}`);
      expect(store.size).toBe(maxKeys);
    }
  });

  test('finding 10: expired entries are swept a few per write, without a full pass in any one call', async () => {
    const { clock, store, rl } = setup('sliding', 10, 100_000);
    for (let i = 0; i < 10_000; i++) await rl.limit(`early:${i}`);
    expect(store.size).toBe(10_000);
    clock.t += 2 * WINDOW_MS + 60_000; // every entry has expired, and the old one-minute sweep is due
    await rl.limit('late:0');
    expect(store.size).toBeGreaterThan(10_000 - 16);
    // A few per write: after a few thousand writes of one identity, every expired entry is gone.
    const steady = new Ratelimit({ store, rules: { r: '1000000/month' }, now: () => clock.t, prefix: 's' });
    for (let i = 0; i < 5_000; i++) await steady.limit('steady');
    expect(store.size).toBe(2);
  });

  test('finding 10: random calls on random identities with a small maxKeys never admit more than the limit', async () => {
    const call = fc.record({
      id: fc.integer({ min: 0, max: 9 }),
      dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 15_000 })),
      cost: fc.integer({ min: 1, max: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ALGORITHMS),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        fc.array(call, { minLength: 1, maxLength: 200 }),
        async (algorithm, maxKeys, limit, countDenied, calls) => {
          const rule = algorithm === 'fixed' ? `${limit}/minute` : ruleFor(algorithm, limit);
          const { clock, store, rl } = setup(algorithm, limit, maxKeys, { rules: { r: rule }, countDenied });
          const admitted = new Map<number, Admitted[]>();
          for (const { id, dt, cost } of calls) {
            clock.t += dt;
            const r = await rl.limit(`id:${id}`, { cost });
            expect(store.size).toBeLessThanOrEqual(maxKeys);
            if (!r.success) continue;
            const list = admitted.get(id) ?? [];
            list.push({ t: clock.t, cost, reset: r.reset });
            admitted.set(id, list);
          }
          for (const list of admitted.values()) expect(excess(algorithm, limit, list)).toBeUndefined();
        },
      ),
      { ...RUNS, numRuns: 300 },
    );
  }, 120_000);
});

interface Admitted {
  readonly t: number;
  readonly cost: number;
  /** The result's `reset`: for `fixed`, the end of the call's period. */
  readonly reset: number;
}

/**
 * The first way one identity's admitted calls exceed what the algorithm allows, or undefined: `fixed` at
 * most the limit per period, `sliding` per window ending at any call, `sliding-counter` per aligned window
 * (its estimate adds the previous window's share), `token-bucket` and `gcra` at most the limit plus what
 * refilled from any admitted call to any later one.
 */
function excess(algorithm: Algorithm, limit: number, list: readonly Admitted[]): string | undefined {
  for (const [j, b] of list.entries()) {
    const upTo = list.slice(0, j + 1);
    if (algorithm === 'token-bucket' || algorithm === 'gcra') {
      for (const [i, a] of upTo.entries()) {
        const sum = upTo.slice(i).reduce((s, x) => s + x.cost, 0);
        if (sum > limit + ((b.t - a.t) * limit) / WINDOW_MS + 1e-9) return `${sum} from ${a.t} to ${b.t}`;
      }
      continue;
    }
    const same = (a: Admitted) =>
      algorithm === 'fixed'
        ? a.reset === b.reset
        : algorithm === 'sliding'
          ? a.t > b.t - WINDOW_MS
          : Math.floor(a.t / WINDOW_MS) === Math.floor(b.t / WINDOW_MS);
    const sum = upTo.filter(same).reduce((s, x) => s + x.cost, 0);
    if (sum > limit) return `${sum} in the window of the call at ${b.t}`;
  }
  return undefined;
}
