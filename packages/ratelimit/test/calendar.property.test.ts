import { keyExpiry, nextPeriod, parsePeriodId, periodAt } from '@periodkey/ratelimit/keys';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { unitOfPeriodId } from '../src/keys/calendar.js';
import { RUNS, SPECS, zoneAndInstant, zoneAndTwoInstants } from './support.js';

describe.each(SPECS)('$label periods', (spec) => {
  test('contain the instant, follow each other, are named by their start, and parse back', () => {
    fc.assert(
      fc.property(zoneAndInstant, ([zone, t]) => {
        const period = periodAt(spec, zone, t);
        expect(period.start).toBeLessThanOrEqual(t);
        expect(period.end).toBeGreaterThan(t);
        expect(periodAt(spec, zone, period.start)).toEqual(period);
        expect(periodAt(spec, zone, period.end - 1)).toEqual(period);
        const next = nextPeriod(spec, zone, period);
        expect(next.start).toBe(period.end);
        expect(next.id > period.id).toBe(true);
        expect(parsePeriodId(spec, zone, period.id)).toEqual(period);
        expect(unitOfPeriodId(period.id)).toBe(spec.unit); // what parseKey reads a key's unit from
        expect(keyExpiry(period)).toBeGreaterThan(t);
      }),
      RUNS,
    );
  });

  test('ids sort in time order', () => {
    fc.assert(
      fc.property(zoneAndTwoInstants, ([zone, t1, t2]) => {
        const first = periodAt(spec, zone, t1);
        const second = periodAt(spec, zone, t2);
        if (first.id === second.id) expect(second).toEqual(first);
        else {
          expect(first.id < second.id).toBe(true);
          expect(first.end).toBeLessThanOrEqual(second.start);
        }
      }),
      RUNS,
    );
  });
});
