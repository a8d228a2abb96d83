import { InvalidTimeZoneError, type TimeUnit } from '@periodkey/ratelimit';
import {
  assertTimeZone,
  nextPeriod,
  PeriodClock,
  type PeriodSpec,
  parsePeriodId,
  periodAt,
} from '@periodkey/ratelimit/keys';
import { describe, expect, test } from 'vitest';

const spec = (unit: TimeUnit, step = 1): PeriodSpec => ({ unit, step });
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The period as [id, start, end] with ISO instants, for readable tables. */
function period(unit: TimeUnit, zone: string, at: string, step = 1): [string, string, string] {
  const p = periodAt(spec(unit, step), zone, Date.parse(at));
  return [p.id, iso(p.start), iso(p.end)];
}

describe('calendar periods', () => {
  test.each<[TimeUnit, number, string, string, [string, string, string]]>([
    // 29 February, and 2100, which is not a leap year
    ['day', 1, 'UTC', '2024-02-29T23:59:59Z', ['20240229', '2024-02-29T00:00:00Z', '2024-03-01T00:00:00Z']],
    ['month', 1, 'UTC', '2024-02-10T00:00:00Z', ['202402', '2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z']],
    ['month', 1, 'UTC', '2100-02-28T12:00:00Z', ['210002', '2100-02-01T00:00:00Z', '2100-03-01T00:00:00Z']],
    ['day', 1, 'UTC', '2100-02-28T12:00:00Z', ['21000228', '2100-02-28T00:00:00Z', '2100-03-01T00:00:00Z']],
    // 31-day months into 30-day months
    ['month', 1, 'UTC', '2026-08-31T23:59:59Z', ['202608', '2026-08-01T00:00:00Z', '2026-09-01T00:00:00Z']],
    ['day', 1, 'UTC', '2026-08-31T23:59:59Z', ['20260831', '2026-08-31T00:00:00Z', '2026-09-01T00:00:00Z']],
    ['month', 1, 'UTC', '2026-09-30T12:00:00Z', ['202609', '2026-09-01T00:00:00Z', '2026-10-01T00:00:00Z']],
    // ISO weeks: 2026 has a week 53, which 2027-01-01 belongs to; 2024-12-30 is in 2025's week 1
    ['week', 1, 'UTC', '2026-12-31T12:00:00Z', ['2026W53', '2026-12-28T00:00:00Z', '2027-01-04T00:00:00Z']],
    ['week', 1, 'UTC', '2027-01-01T12:00:00Z', ['2026W53', '2026-12-28T00:00:00Z', '2027-01-04T00:00:00Z']],
    ['week', 1, 'UTC', '2027-01-04T00:00:00Z', ['2027W01', '2027-01-04T00:00:00Z', '2027-01-11T00:00:00Z']],
    ['week', 1, 'UTC', '2024-12-30T00:00:00Z', ['2025W01', '2024-12-30T00:00:00Z', '2025-01-06T00:00:00Z']],
    ['week', 1, 'UTC', '2024-12-29T23:59:59Z', ['2024W52', '2024-12-23T00:00:00Z', '2024-12-30T00:00:00Z']],
    // multiples use the id of their first unit and align to the hour or the year
    [
      'minute',
      15,
      'UTC',
      '2026-11-15T10:50:00Z',
      ['202611151045', '2026-11-15T10:45:00Z', '2026-11-15T11:00:00Z'],
    ],
    [
      'second',
      20,
      'UTC',
      '2026-11-15T10:50:59Z',
      ['20261115105040', '2026-11-15T10:50:40Z', '2026-11-15T10:51:00Z'],
    ],
    [
      'hour',
      6,
      'UTC',
      '2026-11-15T23:00:00Z',
      ['2026111518', '2026-11-15T18:00:00Z', '2026-11-16T00:00:00Z'],
    ],
    ['month', 3, 'UTC', '2026-11-15T00:00:00Z', ['202610', '2026-10-01T00:00:00Z', '2027-01-01T00:00:00Z']],
    ['quarter', 1, 'UTC', '2026-11-15T00:00:00Z', ['2026Q4', '2026-10-01T00:00:00Z', '2027-01-01T00:00:00Z']],
    ['quarter', 2, 'UTC', '2026-11-15T00:00:00Z', ['2026Q3', '2026-07-01T00:00:00Z', '2027-01-01T00:00:00Z']],
    ['year', 1, 'UTC', '2026-11-15T00:00:00Z', ['2026', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z']],
    // a month of a zone resets at local midnight on the 1st
    [
      'month',
      1,
      'America/New_York',
      '2026-11-01T03:59:59Z',
      ['202610', '2026-10-01T04:00:00Z', '2026-11-01T04:00:00Z'],
    ],
    [
      'month',
      1,
      'Asia/Tokyo',
      '2026-10-31T15:00:00Z',
      ['202611', '2026-10-31T15:00:00Z', '2026-11-30T15:00:00Z'],
    ],
    // New York: DST starts (a 23-hour day) and ends (a 25-hour day, whose last hour is hour 24)
    [
      'day',
      1,
      'America/New_York',
      '2024-03-10T12:00:00Z',
      ['20240310', '2024-03-10T05:00:00Z', '2024-03-11T04:00:00Z'],
    ],
    [
      'hour',
      1,
      'America/New_York',
      '2024-03-10T07:30:00Z',
      ['2024031002', '2024-03-10T07:00:00Z', '2024-03-10T08:00:00Z'],
    ],
    [
      'day',
      1,
      'America/New_York',
      '2024-11-03T12:00:00Z',
      ['20241103', '2024-11-03T04:00:00Z', '2024-11-04T05:00:00Z'],
    ],
    [
      'hour',
      1,
      'America/New_York',
      '2024-11-03T05:30:00Z',
      ['2024110301', '2024-11-03T05:00:00Z', '2024-11-03T06:00:00Z'],
    ],
    [
      'hour',
      1,
      'America/New_York',
      '2024-11-03T06:30:00Z',
      ['2024110302', '2024-11-03T06:00:00Z', '2024-11-03T07:00:00Z'],
    ],
    [
      'hour',
      1,
      'America/New_York',
      '2024-11-04T04:30:00Z',
      ['2024110324', '2024-11-04T04:00:00Z', '2024-11-04T05:00:00Z'],
    ],
    // Lord Howe: 30-minute DST, so a 23.5-hour and a 24.5-hour day; the last hour slice is cut at the day's end
    [
      'day',
      1,
      'Australia/Lord_Howe',
      '2024-10-06T00:00:00Z',
      ['20241006', '2024-10-05T13:30:00Z', '2024-10-06T13:00:00Z'],
    ],
    [
      'hour',
      1,
      'Australia/Lord_Howe',
      '2024-10-06T12:45:00Z',
      ['2024100623', '2024-10-06T12:30:00Z', '2024-10-06T13:00:00Z'],
    ],
    [
      'day',
      1,
      'Australia/Lord_Howe',
      '2024-04-07T00:00:00Z',
      ['20240407', '2024-04-06T13:00:00Z', '2024-04-07T13:30:00Z'],
    ],
    [
      'hour',
      1,
      'Australia/Lord_Howe',
      '2024-04-07T13:10:00Z',
      ['2024040724', '2024-04-07T13:00:00Z', '2024-04-07T13:30:00Z'],
    ],
    // DST starting at midnight: the day begins at 01:00, its first existing time
    [
      'day',
      1,
      'America/Havana',
      '2024-03-10T12:00:00Z',
      ['20240310', '2024-03-10T05:00:00Z', '2024-03-11T04:00:00Z'],
    ],
    [
      'hour',
      1,
      'America/Havana',
      '2024-03-10T05:00:00Z',
      ['2024031000', '2024-03-10T05:00:00Z', '2024-03-10T06:00:00Z'],
    ],
    [
      'day',
      1,
      'America/Santiago',
      '2024-09-08T12:00:00Z',
      ['20240908', '2024-09-08T04:00:00Z', '2024-09-09T03:00:00Z'],
    ],
    [
      'day',
      1,
      'Asia/Beirut',
      '2024-03-31T12:00:00Z',
      ['20240331', '2024-03-30T22:00:00Z', '2024-03-31T21:00:00Z'],
    ],
    [
      'month',
      1,
      'America/Sao_Paulo',
      '2018-11-10T12:00:00Z',
      ['201811', '2018-11-01T03:00:00Z', '2018-12-01T02:00:00Z'],
    ],
    // Goose Bay turned its clock back at 00:01, from 00:01 to 22:01 of the day before (1988): the hours
    // that read 22:01-24:00 of the 29th again belong to the 30th, which had begun, so the 30th lasts 26 hours
    [
      'day',
      1,
      'America/Goose_Bay',
      '1988-10-30T01:59:59Z',
      ['19881029', '1988-10-29T02:00:00Z', '1988-10-30T02:00:00Z'],
    ],
    [
      'day',
      1,
      'America/Goose_Bay',
      '1988-10-30T03:00:00Z',
      ['19881030', '1988-10-30T02:00:00Z', '1988-10-31T04:00:00Z'],
    ],
    [
      'hour',
      1,
      'America/Goose_Bay',
      '1988-10-31T03:30:00Z',
      ['1988103025', '1988-10-31T03:00:00Z', '1988-10-31T04:00:00Z'],
    ],
    // Apia skipped 2011-12-30: the 29th is followed by the 31st
    [
      'day',
      1,
      'Pacific/Apia',
      '2011-12-30T09:59:59Z',
      ['20111229', '2011-12-29T10:00:00Z', '2011-12-30T10:00:00Z'],
    ],
    [
      'day',
      1,
      'Pacific/Apia',
      '2011-12-30T10:00:00Z',
      ['20111231', '2011-12-30T10:00:00Z', '2011-12-31T10:00:00Z'],
    ],
    // Hours reset at local HH:00 in zones with 30- and 45-minute offsets
    [
      'hour',
      1,
      'Asia/Kolkata',
      '2024-06-01T10:20:00Z',
      ['2024060115', '2024-06-01T09:30:00Z', '2024-06-01T10:30:00Z'],
    ],
    [
      'hour',
      1,
      'Asia/Kathmandu',
      '2024-06-01T10:20:00Z',
      ['2024060116', '2024-06-01T10:15:00Z', '2024-06-01T11:15:00Z'],
    ],
    [
      'day',
      1,
      'Asia/Kathmandu',
      '2024-06-01T10:20:00Z',
      ['20240601', '2024-05-31T18:15:00Z', '2024-06-01T18:15:00Z'],
    ],
    [
      'hour',
      1,
      'Pacific/Chatham',
      '2024-06-01T10:20:00Z',
      ['2024060123', '2024-06-01T10:15:00Z', '2024-06-01T11:15:00Z'],
    ],
  ])('%s x%i in %s at %s', (unit, step, zone, at, expected) => {
    expect(period(unit, zone, at, step)).toEqual(expected);
  });

  test('next period starts where the current one ends, across a skipped day', () => {
    const day = spec('day');
    const first = periodAt(day, 'Pacific/Apia', Date.parse('2011-12-29T12:00:00Z'));
    expect(nextPeriod(day, 'Pacific/Apia', first)).toEqual(periodAt(day, 'Pacific/Apia', first.end));
    expect(nextPeriod(day, 'Pacific/Apia', first).id).toBe('20111231');
  });

  test.each<[TimeUnit, number, string, string, string | null]>([
    ['day', 1, 'UTC', '20240229', '2024-02-29T00:00:00Z'],
    ['day', 1, 'UTC', '21000229', null], // not a leap year
    ['day', 1, 'UTC', '20260431', null], // April has 30 days
    ['day', 1, 'Pacific/Apia', '20111230', null], // skipped
    ['week', 1, 'UTC', '2026W53', '2026-12-28T00:00:00Z'],
    ['week', 1, 'UTC', '2025W53', null], // 2025 has 52 weeks
    ['month', 1, 'UTC', '202613', null],
    ['month', 3, 'UTC', '202604', '2026-04-01T00:00:00Z'],
    ['month', 3, 'UTC', '202605', null], // not aligned to January
    ['quarter', 2, 'UTC', '2026Q3', '2026-07-01T00:00:00Z'],
    ['quarter', 2, 'UTC', '2026Q2', null],
    ['hour', 1, 'America/New_York', '2024110324', '2024-11-04T04:00:00Z'], // the 25th hour of a 25-hour day
    ['hour', 1, 'America/New_York', '2024110424', null], // a 24-hour day has no hour 24
    ['hour', 1, 'America/New_York', '2024031023', null], // nor a 23-hour day an hour 23
    ['minute', 15, 'UTC', '202611151045', '2026-11-15T10:45:00Z'],
    ['minute', 15, 'UTC', '202611151050', null], // not aligned to 15 minutes
    ['minute', 1, 'UTC', '2026111510', null], // an hour id
    ['year', 1, 'UTC', '26', null],
    ['year', 1, 'UTC', '0099', null],
  ])('parses %s x%i id in %s: %s', (unit, step, zone, id, start) => {
    const parsed = parsePeriodId(spec(unit, step), zone, id);
    expect(parsed && iso(parsed.start)).toBe(start);
    if (parsed !== null) expect(parsed.id).toBe(id);
  });

  test.each(['Mars/Olympus_Mons', '', '+05:30', 'Z', 'America/New York', 'UTC '])(
    'rejects the zone %j',
    (zone) => {
      expect(() => assertTimeZone(zone)).toThrow(InvalidTimeZoneError);
      expect(() => assertTimeZone(zone)).toThrow(
        `Time zone ${JSON.stringify(zone)} is not a valid IANA time zone`,
      );
      expect(() => periodAt(spec('day'), zone, 0)).toThrow(InvalidTimeZoneError);
      expect(() => new PeriodClock(spec('day'), zone)).toThrow(InvalidTimeZoneError);
    },
  );

  test.each(['UTC', 'America/New_York', 'Asia/Kathmandu', 'Etc/GMT+5'])('accepts the zone %s', (zone) => {
    expect(() => assertTimeZone(zone)).not.toThrow();
  });
});

describe('PeriodClock', () => {
  /** A spec that counts how often calendar math reads it. */
  function countingSpec(unit: TimeUnit, step = 1) {
    let reads = 0;
    const counted = {
      get unit() {
        reads++;
        return unit;
      },
      step,
    };
    return { spec: counted, reads: () => reads };
  }

  test('computes a period once and recomputes only when now leaves it', () => {
    const { spec: minute, reads } = countingSpec('minute');
    const clock = new PeriodClock(minute, 'Europe/London');
    const start = Date.parse('2026-03-29T00:59:00Z'); // the minute before London's clocks go forward
    const first = clock.at(start);
    const computed = reads();
    for (let t = start; t < start + 60_000; t += 7) expect(clock.at(t)).toBe(first);
    expect(reads()).toBe(computed);
    const second = clock.at(start + 60_000);
    expect(reads()).toBe(2 * computed);
    expect(second).toEqual({ id: '202603290100', start: start + 60_000, end: start + 120_000 });
    expect(clock.at(start + 60_001)).toBe(second);
    expect(reads()).toBe(2 * computed);
  });

  test('follows a clock that goes back', () => {
    const clock = new PeriodClock(spec('month'), 'UTC');
    expect(clock.at(Date.parse('2026-11-01T00:00:00Z')).id).toBe('202611');
    expect(clock.at(Date.parse('2026-10-31T23:59:59.999Z')).id).toBe('202610');
    expect(clock.at(Date.parse('2026-11-30T23:59:59.999Z')).id).toBe('202611');
    expect(clock.at(Date.parse('2026-12-01T00:00:00Z')).id).toBe('202612');
  });
});
