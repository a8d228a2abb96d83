import { describe, expect, test } from 'vitest';

// The tiers of the public surface: the root has what users write; the store SPI, the key and calendar
// grammar, the storage format and the integration helpers each have their subpath. A name added to or
// moved between tiers is a decision, made here.

const TIERS: Record<string, readonly string[]> = {
  '@periodkey/ratelimit': [
    'InvalidKeyPartError',
    'InvalidOptionError',
    'InvalidRuleError',
    'InvalidTimeZoneError',
    'MemoryStore',
    'PeriodkeyError',
    'Ratelimit',
    'StoreRefusedError',
    'StoreUnavailableError',
    'isInvalidKeyPartError',
    'isInvalidOptionError',
    'isInvalidRuleError',
    'isInvalidTimeZoneError',
    'isPeriodkeyError',
    'isPeriodkeyKey',
    'isStoreRefusedError',
    'isStoreUnavailableError',
    'parseKey',
  ],
  '@periodkey/ratelimit/store': ['ScriptStore', 'checkHealth', 'defaultHealthKey', 'parseRedisUrl'],
  '@periodkey/ratelimit/keys': [
    'Keyspace',
    'PeriodClock',
    'assertTimeZone',
    'buildKey',
    'isPeriodkeyKey',
    'keyExpiry',
    'nextPeriod',
    'parseKey',
    'parsePeriodId',
    'parseRule',
    'periodAt',
  ],
  '@periodkey/ratelimit/integration': ['RATELIMIT_OPTION_NAMES', 'checkOptionKeys'],
  '@periodkey/ratelimit/prometheus': ['prometheusMetrics'],
};

describe('the exports of @periodkey/ratelimit, by tier', () => {
  test.each(Object.entries(TIERS))('%s', async (specifier, names) => {
    const module: Record<string, unknown> = await import(specifier);
    expect(Object.keys(module).sort()).toEqual([...names].sort());
  });

  test('@periodkey/ratelimit/storage owns the scale, the layouts, the decoding and the script', async () => {
    const storage = await import('@periodkey/ratelimit/storage');
    expect(storage).toMatchObject({ MICRO: 1_000_000, SLIDING_BUCKETS: 100 });
    for (const name of ['algorithmOfKey', 'decodeState', 'storageLayout', 'usageOf'] as const) {
      expect(storage[name]).toBeTypeOf('function');
    }
    expect(storage.LIMIT_SCRIPT.sha).toMatch(/^[0-9a-f]{40}$/);
  });
});
