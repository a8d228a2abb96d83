import { periodAt } from '@periodkey/ratelimit/keys';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { oraclePeriod } from './oracle.js';
import { RUNS, SPECS, zoneAndInstant } from './support.js';

describe.each(SPECS)('$label periods', (spec) => {
  test('agree with luxon', () => {
    fc.assert(
      fc.property(zoneAndInstant, ([zone, t]) => {
        expect(periodAt(spec, zone, t)).toEqual(oraclePeriod(spec, zone, t));
      }),
      RUNS,
    );
  });
});
