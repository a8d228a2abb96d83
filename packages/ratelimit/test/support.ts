import type { PeriodSpec } from '@periodkey/ratelimit/keys';
import fc from 'fast-check';
import { IANAZone } from 'luxon';

// Reproduce a failure with the seed (and path) that fast-check prints: FC_SEED=123 FC_PATH=4:2 pnpm vitest run ...
// FC_RUNS sets the runs per property: 10,000 in `pnpm test` (CI), fewer in `pnpm test:unit`'s quick loop.
const seed = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
const path = process.env.FC_PATH;
export const RUNS: fc.Parameters<unknown> = {
  numRuns: Number(process.env.FC_RUNS ?? 10_000),
  ...(seed === undefined ? {} : { seed }),
  ...(path === undefined ? {} : { path }),
};

export const MIN_INSTANT = Date.UTC(1970, 0, 1);
export const MAX_INSTANT = Date.UTC(2100, 0, 1);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Zones with odd offsets, DST at midnight, 30-minute DST, skipped days and clocks turned back across midnight. */
export const ZONES = [
  'UTC',
  'America/New_York',
  'America/Chicago',
  'America/Los_Angeles',
  'America/Anchorage',
  'America/St_Johns', // -3:30, DST
  'America/Goose_Bay', // DST ended at 00:01, turning the clock back across midnight (1987-2010)
  'America/Halifax',
  'America/Sao_Paulo', // DST at midnight
  'America/Santiago', // DST at midnight
  'America/Havana', // DST at midnight
  'America/Asuncion', // DST at midnight
  'America/Caracas', // -4:30 from 2007 to 2016
  'America/Mexico_City',
  'America/Nuuk', // DST at 22:00 local
  'Europe/London',
  'Europe/Dublin', // negative DST in the tz database
  'Europe/Berlin',
  'Europe/Moscow',
  'Africa/Casablanca', // DST suspended during Ramadan
  'Africa/Cairo',
  'Asia/Beirut', // DST at midnight
  'Asia/Gaza',
  'Asia/Tehran', // +3:30
  'Asia/Kolkata', // +5:30
  'Asia/Kathmandu', // +5:45
  'Asia/Shanghai',
  'Asia/Tokyo',
  'Australia/Lord_Howe', // 30-minute DST
  'Australia/Adelaide', // +9:30, DST
  'Australia/Eucla', // +8:45
  'Pacific/Chatham', // +12:45, DST
  'Pacific/Auckland',
  'Pacific/Apia', // skipped 2011-12-30
  'Pacific/Kiritimati', // +14, skipped 1994-12-31
  'Pacific/Marquesas', // -9:30
  'Antarctica/Troll', // two-hour DST: 22- and 26-hour days
] as const;

export const SPECS: readonly (PeriodSpec & { readonly label: string })[] = [
  { label: 'second', unit: 'second', step: 1 },
  { label: '15 seconds', unit: 'second', step: 15 },
  { label: 'minute', unit: 'minute', step: 1 },
  { label: '15 minutes', unit: 'minute', step: 15 },
  { label: 'hour', unit: 'hour', step: 1 },
  { label: '6 hours', unit: 'hour', step: 6 },
  { label: 'day', unit: 'day', step: 1 },
  { label: 'week', unit: 'week', step: 1 },
  { label: 'month', unit: 'month', step: 1 },
  { label: '2 months', unit: 'month', step: 2 },
  { label: '6 months', unit: 'month', step: 6 },
  { label: 'quarter', unit: 'quarter', step: 1 },
  { label: '2 quarters', unit: 'quarter', step: 2 },
  { label: 'year', unit: 'year', step: 1 },
];

/** Offset changes of a zone between 1970 and 2100, found by a weekly scan and bisection. */
function transitions(zone: string): number[] {
  const tz = IANAZone.create(zone);
  const found: number[] = [];
  let previous = tz.offset(MIN_INSTANT);
  for (let t = MIN_INSTANT + 7 * DAY; t < MAX_INSTANT; t += 7 * DAY) {
    const offset = tz.offset(t);
    if (offset === previous) continue;
    let low = t - 7 * DAY;
    let high = t;
    while (high - low > 1000) {
      const middle = low + Math.floor((high - low) / 2000) * 1000;
      if (tz.offset(middle) === previous) low = middle;
      else high = middle;
    }
    found.push(high);
    previous = offset;
  }
  return found;
}

const anyInstant = fc.integer({ min: MIN_INSTANT, max: MAX_INSTANT - 1 });
const instants = new Map<string, fc.Arbitrary<number>>();

/**
 * Instants in 1970..2100 for one zone: uniform, or within two days of one of the zone's offset changes
 * (where DST days and cut hours are), or within seconds of one.
 */
function instantIn(zone: string): fc.Arbitrary<number> {
  let arbitrary = instants.get(zone);
  if (arbitrary === undefined) {
    const changes = transitions(zone);
    const near = (span: number) =>
      fc
        .tuple(fc.constantFrom(...changes), fc.integer({ min: -span, max: span }))
        .map(([t, delta]) => Math.min(MAX_INSTANT - 1, Math.max(MIN_INSTANT, t + delta)));
    arbitrary = changes.length === 0 ? anyInstant : fc.oneof(anyInstant, near(2 * DAY), near(2000));
    instants.set(zone, arbitrary);
  }
  return arbitrary;
}

/** A zone and an instant in it. */
export const zoneAndInstant: fc.Arbitrary<[string, number]> = fc
  .constantFrom(...ZONES)
  .chain((zone) => instantIn(zone).map((t): [string, number] => [zone, t]));

/** A zone and two instants in it, `t1 < t2`, often close together. */
export const zoneAndTwoInstants: fc.Arbitrary<[string, number, number]> = fc
  .tuple(
    zoneAndInstant,
    fc.oneof(fc.integer({ min: 1, max: 2 * DAY }), fc.integer({ min: 1, max: 400 * DAY })),
  )
  .filter(([[, t], delta]) => t + delta < MAX_INSTANT)
  .map(([[zone, t], delta]): [string, number, number] => [zone, t, t + delta]);
