import {
  type Identity,
  isPeriodkeyError,
  parseKey,
  Ratelimit,
  type RatelimitOptions,
  type RuleObject,
} from '@periodkey/ratelimit';
import { testPrefix } from '@periodkey/test';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BACKENDS, type Backend, openBackend } from './backends.js';

// Issue 11: random sequences of calls through the public API, with random rules, options, identities,
// scopes, costs and clocks (including what plain JavaScript may pass and TypeScript would refuse), on all
// four stores. Every call returns a result or throws a typed periodkey error; the four stores give the
// same transcript; no admitted call takes a rule past its limit, and a calendar rule never admits more
// units in a period than its limit; every key left in Redis parses and has a TTL.
// Replay a failure with the seed and path it prints: FC_SEED=<seed> FC_PATH=<path> pnpm vitest run test/sdk/property
// (FC_RUNS=<n> for more runs than the default 200).

const seed = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
const path = process.env.FC_PATH;
const SECRET = 'property-suite-token-secret-0123456789';
const START = Date.parse('2026-11-30T23:58:30Z');

const ruleObject: fc.Arbitrary<RuleObject> = fc.oneof(
  fc.record({
    algorithm: fc.constant('fixed' as const),
    limit: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constantFrom(0.5, 2.25, 0.001)),
    per: fc.constantFrom('second', '15 seconds', 'minute', 'hour', 'day', 'month'),
  }),
  fc.record({
    algorithm: fc.constantFrom(
      'sliding' as const,
      'sliding-counter' as const,
      'token-bucket' as const,
      'gcra' as const,
    ),
    limit: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constantFrom(0.5, 2.25)),
    // Long enough windows that no key's TTL in Redis (real time) runs out while a scenario plays on the
    // test's clock: the memory store expires on the test's clock only.
    per: fc.constantFrom('1 minute', '1 hour'),
  }),
);

const rules = fc
  .uniqueArray(fc.tuple(fc.constantFrom('a', 'b', 'constructor', '__proto__', 'x-1'), ruleObject), {
    minLength: 1,
    maxLength: 3,
    selector: ([name]) => name,
  })
  .map((entries) => Object.fromEntries(entries));

/** Identities: a few that repeat (so limits are reached), odd Unicode, too long, tokens, and non-strings. */
const identity: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('user:1', 'user:2', 'ip:2001:db8::/64', 'josé', '{}*?[]%:') },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom({ token: 'sk_live_1' }, { token: 'sk_live_2' }) },
  { weight: 1, arbitrary: fc.constantFrom('u'.repeat(257), '', 42, null, undefined, ['user:1'], { id: 1 }) },
);

const scope: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(undefined, '', '/api/chat', '-', 'a:b') },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom('s'.repeat(257), 7, ['x', 'y']) },
);

/** Costs; tiny ones only where every rule is a calendar rule, whose keys outlive a scenario (see above). */
const cost = (tiny: boolean): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(undefined, 1, 1, 2) },
    { weight: 2, arbitrary: fc.constantFrom(0.25, 0.1 + 0.2, 0, ...(tiny ? [0.0042, 4e-7, 1.4e-6] : [])) },
    { weight: 1, arbitrary: fc.constantFrom(-1, -0.5, 7, 1e13, Number.NaN, '1', null) },
  );

/** Clock steps (ms): none, fractional, seconds, minutes, across a period boundary, and back a little. */
const step = fc.oneof(
  fc.constantFrom(0, 0.4, 1, 250, 999),
  fc.integer({ min: 1000, max: 90_000 }),
  fc.integer({ min: -1500, max: -1 }),
);

const scenario = rules.chain((rules) => {
  const tiny = Object.values(rules).every((rule) => rule.algorithm === 'fixed');
  return fc.record({
    rules: fc.constant(rules),
    countDenied: fc.boolean(),
    blockCache: fc.boolean(),
    timeZone: fc.constantFrom('UTC', 'America/New_York', 'Asia/Kathmandu'),
    calls: fc.array(fc.record({ identity, scope, cost: cost(tiny), step }), { minLength: 1, maxLength: 25 }),
  });
});

type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;

describe('random calls through the public API on every store', () => {
  const backends = new Map<string, Backend>();
  beforeAll(async () => {
    for (const name of BACKENDS) backends.set(name, await openBackend(name));
  });
  afterAll(async () => {
    for (const backend of backends.values()) await backend.close();
  });

  /** Plays the scenario on one store: the transcript, and the prefix its keys are under. */
  async function play(backend: Backend, s: Scenario) {
    const prefix = testPrefix('prop');
    const clock = { t: START };
    const options: RatelimitOptions = {
      store: backend.store,
      prefix,
      rules: s.rules,
      timeZone: s.timeZone,
      countDenied: s.countDenied,
      blockCache: s.blockCache,
      tokenSecret: SECRET,
      now: () => clock.t,
      failure: 'closed',
      timeout: 5000,
    };
    const limiter = new Ratelimit(options);
    const transcript: unknown[] = [];
    /** Units asked by admitted calls, by calendar rule, identity, scope and period; `NaN` after a refund. */
    const admitted = new Map<string, number>();
    for (const c of s.calls) {
      clock.t += c.step;
      const options = {
        ...(c.scope === undefined ? {} : { scope: c.scope }),
        ...(c.cost === undefined ? {} : { cost: c.cost }),
      };
      try {
        const result = await limiter.limit(c.identity as Identity, options as never);
        transcript.push(result);
        expect(['store', 'cache', 'cost-exceeds-limit']).toContain(result.reason);
        const asked = (c.cost ?? 1) as number;
        for (const rule of result.rules) {
          if ((s.rules[rule.rule] as RuleObject).algorithm !== 'fixed') continue;
          const key = JSON.stringify([c.identity, c.scope ?? '', rule.rule, rule.reset]);
          const sum = (admitted.get(key) ?? 0) + (asked < 0 ? Number.NaN : result.success ? asked : 0);
          admitted.set(key, sum);
          // Never more units in a period than the limit (up to the floating-point noise of a sum).
          if (!Number.isNaN(sum)) expect(sum).toBeLessThanOrEqual(rule.limit + 1e-9);
        }
        if (result.success && asked > 0) {
          for (const rule of result.rules) expect(rule.used).toBeLessThanOrEqual(rule.limit);
        }
      } catch (error) {
        if (!isPeriodkeyError(error)) throw error;
        transcript.push({ error: (error as Error).name });
      }
    }
    limiter.close();
    return { transcript, prefix };
  }

  test('every store agrees, nothing untyped is thrown, no limit is exceeded, every key parses and expires', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const runs = await Promise.all(
          [...backends.entries()].map(async ([name, backend]) => ({
            name,
            backend,
            ...(await play(backend, s)),
          })),
        );
        const [reference, ...others] = runs;
        for (const run of others) expect(run.transcript, run.name).toEqual(reference?.transcript);
        for (const { name, backend, prefix } of others) {
          for (const key of await backend.keys(`${prefix}:*`)) {
            expect(parseKey(key), `${name}: ${key}`).not.toBeNull();
            // -1 is a key without a TTL; -2 one that expired since SCAN (Redis' clock is real, the test's is not).
            expect(await backend.pttl(key), `${name}: ${key}`).not.toBe(-1);
          }
        }
      }),
      {
        numRuns: Number(process.env.FC_RUNS ?? 200),
        ...(seed === undefined ? {} : { seed }),
        ...(path === undefined ? {} : { path }),
      },
    );
  }, 180_000);
});
