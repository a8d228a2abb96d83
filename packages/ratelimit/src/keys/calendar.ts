import { InvalidTimeZoneError } from '../errors.js';
import type { Rule, TimeUnit } from './rule.js';

/** One period of a calendar rule: the half-open interval `[start, end)` in epoch ms, and its id in keys. */
export interface Period {
  /** `YYYY`, `YYYYQ1`, `YYYYWww`, `YYYYMM`, `YYYYMMDD`, `YYYYMMDDHH`, `YYYYMMDDHHmm` or `YYYYMMDDHHmmss`. */
  readonly id: string;
  readonly start: number;
  readonly end: number;
}

/** The unit and multiple of a calendar rule; a {@link Rule} is one. */
export type PeriodSpec = Pick<Rule, 'unit' | 'step'>;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const SLICE_MS: Partial<Record<TimeUnit, number>> = { second: SECOND, minute: MINUTE, hour: HOUR };

// Every UTC offset in the tz database since 1970 lies within -12 h..+14 h, so the instant at which a wall
// clock first shows a given time is within this distance of that time read as UTC.
const SEARCH_WINDOW = 15 * HOUR;

// Ids by unit. The groups are the local fields of the period's first date (and, below a day, the time
// elapsed since the day began, whose hours can pass 23 on a 25-hour day).
const DATE = String.raw`(\d{4})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])`;
const ID_PATTERNS: Readonly<Record<TimeUnit, RegExp>> = {
  year: /^(\d{4})$/,
  quarter: /^(\d{4})Q([1-4])$/,
  week: /^(\d{4})W(0[1-9]|[1-4]\d|5[0-3])$/,
  month: /^(\d{4})(0[1-9]|1[0-2])$/,
  day: new RegExp(`^${DATE}$`),
  hour: new RegExp(`^${DATE}([0-4]\\d)$`),
  minute: new RegExp(`^${DATE}([0-4]\\d)([0-5]\\d)$`),
  second: new RegExp(`^${DATE}([0-4]\\d)([0-5]\\d)([0-5]\\d)$`),
};
const UNITS = Object.keys(ID_PATTERNS) as TimeUnit[];

const validZones = new Set<string>();

// Day starts by zone and day. The end of one period is the start of the next, and parsePeriodId() runs for
// every key that the CLI reports on, so the same few days come back again and again.
const dayStarts = new Map<string, Map<number, number>>();
const DAY_START_CACHE_SIZE = 4096;

/**
 * Throws an {@link InvalidTimeZoneError} unless `timeZone` is a time zone name that the runtime's Intl
 * knows (IANA names such as `'America/New_York'`, and `'UTC'`).
 */
export function assertTimeZone(timeZone: string): void {
  if (validZones.has(timeZone)) return;
  try {
    // The runtime's Intl decides: the format that later reads the zone's offsets throws for a bad name.
    offsetFormat(timeZone);
  } catch (cause) {
    throw new InvalidTimeZoneError(
      `Time zone ${JSON.stringify(timeZone)} is not a valid IANA time zone; use a name such as 'UTC' or 'America/New_York'`,
      { cause },
    );
  }
  validZones.add(timeZone);
}

/**
 * The period of a calendar rule that contains the instant `at` (epoch ms) in `timeZone`.
 * @example periodAt({ unit: 'month', step: 1 }, 'UTC', Date.UTC(2026, 10, 15)) // { id: '202611', start, end }
 */
export function periodAt(spec: PeriodSpec, timeZone: string, at: number): Period {
  assertTimeZone(timeZone);
  const { unit, step } = spec;
  const slice = SLICE_MS[unit];
  let [first, next] = dateSpan(slice === undefined ? unit : 'day', step, localDay(timeZone, at));
  let start = firstInstantOf(timeZone, first);
  let end = firstInstantOf(timeZone, next);
  // A clock turned back across midnight shows the previous date again after the new one began; such an
  // instant belongs to the later period, so that periods stay contiguous and ordered.
  while (end <= at) {
    [first, next] = dateSpan(slice === undefined ? unit : 'day', step, next);
    start = end;
    end = firstInstantOf(timeZone, next);
  }
  if (slice === undefined) return { id: dateId(unit, first), start, end };
  // Below a day: fixed-length slices counted from the start of the local day, the last one cut at its end.
  const length = step * slice;
  const elapsed = Math.floor((at - start) / length) * length;
  return {
    id: dateId('day', first) + elapsedId(unit, elapsed),
    start: start + elapsed,
    end: Math.min(start + elapsed + length, end),
  };
}

/** The period that follows `period`: it starts where `period` ends. */
export function nextPeriod(spec: PeriodSpec, timeZone: string, period: Period): Period {
  return periodAt(spec, timeZone, period.end);
}

/** The period named `id`, or `null` if no period of this rule in `timeZone` has that id. */
export function parsePeriodId(spec: PeriodSpec, timeZone: string, id: string): Period | null {
  const fields = ID_PATTERNS[spec.unit].exec(id)?.slice(1).map(Number);
  if (fields === undefined) return null;
  // `index` is the quarter, the week or the month.
  const [year = 0, index = 1, date = 1, hours = 0, minutes = 0, seconds = 0] = fields;
  let day: number;
  if (spec.unit === 'quarter') day = civilDay(year, (index - 1) * 3, 1);
  else if (spec.unit === 'week') day = isoWeekMonday(year, index);
  else day = civilDay(year, index - 1, date);
  const candidate = firstInstantOf(timeZone, day) + hours * HOUR + minutes * MINUTE + seconds * SECOND;
  // Anything that names no period (a day the zone skipped, a month not aligned to the rule's multiple, an
  // hour past the day's end) comes back under another id.
  const period = periodAt(spec, timeZone, candidate);
  return period.id === id ? period : null;
}

// The unit whose id format `id` has, or `null` if it is no period id (for the key grammar).
export function unitOfPeriodId(id: string): TimeUnit | null {
  return UNITS.find((unit) => ID_PATTERNS[unit].test(id)) ?? null;
}

/**
 * The current period of one calendar rule, cached: calendar math runs only when `now` leaves the cached
 * period, so once per period in the steady state.
 */
export class PeriodClock {
  readonly #spec: PeriodSpec;
  readonly #timeZone: string;
  #period: Period | undefined;

  /** @throws {InvalidTimeZoneError} if `timeZone` is not a valid zone. */
  constructor(spec: PeriodSpec, timeZone: string) {
    assertTimeZone(timeZone);
    this.#spec = spec;
    this.#timeZone = timeZone;
  }

  /** The period that contains `now` (epoch ms); also correct for a clock that goes back. */
  at(now: number): Period {
    const period = this.#period;
    if (period !== undefined && now < period.end && now >= period.start) return period;
    this.#period = periodAt(this.#spec, this.#timeZone, now);
    return this.#period;
  }
}

// internal

// The offset of an instant in a zone, from the runtime's Intl ('GMT+05:45', or 'GMT' for zero), which does
// not depend on the process's own zone. Minute precision: sub-minute offsets ended in 1972 (Africa/Monrovia).
const offsetFormats = new Map<string, Intl.DateTimeFormat>();

function offsetFormat(timeZone: string): Intl.DateTimeFormat {
  let format = offsetFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    offsetFormats.set(timeZone, format);
  }
  return format;
}

function offsetAt(timeZone: string, at: number): number {
  const name = offsetFormat(timeZone)
    .formatToParts(at)
    .find((part) => part.type === 'timeZoneName')?.value;
  const match = name === undefined ? null : /^GMT(?:([+-])(\d\d):(\d\d))?/.exec(name);
  if (match === null) throw new Error(`Intl named the offset of ${timeZone} ${JSON.stringify(name)}`);
  const [, sign, hours = '0', minutes = '0'] = match;
  const offset = (Number(hours) * 60 + Number(minutes)) * MINUTE;
  return sign === '-' ? -offset : offset;
}

// The local date of an instant, as days since 1970-01-01.
function localDay(timeZone: string, at: number): number {
  return Math.floor((at + offsetAt(timeZone, at)) / DAY);
}

// The first instant whose local date is `day` or later. That is local midnight, or, where midnight does not
// exist (DST starting at 00:00), the first existing time, such as 01:00. For a date the zone skipped
// (Pacific/Apia 2011-12-30) it is the start of the next date.
function firstInstantOf(timeZone: string, day: number): number {
  let cache = dayStarts.get(timeZone);
  if (cache === undefined) {
    cache = new Map();
    dayStarts.set(timeZone, cache);
  }
  let start = cache.get(day);
  if (start === undefined) {
    if (cache.size >= DAY_START_CACHE_SIZE) cache.clear();
    start = searchFirstInstant(timeZone, day * DAY);
    cache.set(day, start);
  }
  return start;
}

function searchFirstInstant(timeZone: string, wall: number): number {
  // At most one offset change in the window (checked for every zone 1970-2100).
  const before = offsetAt(timeZone, wall - SEARCH_WINDOW);
  const after = offsetAt(timeZone, wall + SEARCH_WINDOW);
  const onBefore = wall - before;
  if (before === after || offsetAt(timeZone, onBefore) === before) return onBefore;
  const onAfter = wall - after;
  if (offsetAt(timeZone, onAfter) === after) return onAfter;
  // The wall time falls into a gap: the first instant past it is the offset change itself.
  let low = wall - SEARCH_WINDOW;
  let high = wall + SEARCH_WINDOW;
  while (high - low > SECOND) {
    const middle = low + Math.floor((high - low) / 2 / SECOND) * SECOND;
    if (offsetAt(timeZone, middle) === before) low = middle;
    else high = middle;
  }
  return high;
}

// The first date of the period that contains `day`, and the first date of the next one.
function dateSpan(unit: TimeUnit, step: number, day: number): [number, number] {
  if (unit === 'day') return [day, day + 1];
  if (unit === 'week') {
    const monday = day - mod(day + 3, 7); // 1970-01-01 was a Thursday
    return [monday, monday + 7];
  }
  const date = new Date(day * DAY);
  const year = date.getUTCFullYear();
  if (unit === 'year') return [civilDay(year, 0, 1), civilDay(year + 1, 0, 1)];
  // Multiples of months and quarters align to January.
  const months = unit === 'quarter' ? 3 * step : step;
  const month = date.getUTCMonth() - (date.getUTCMonth() % months);
  return [civilDay(year, month, 1), civilDay(year, month + months, 1)];
}

function dateId(unit: TimeUnit, first: number): string {
  const date = new Date(first * DAY);
  const year = pad(date.getUTCFullYear(), 4);
  const month = date.getUTCMonth();
  switch (unit) {
    case 'year':
      return year;
    case 'quarter':
      return `${year}Q${month / 3 + 1}`;
    case 'month':
      return year + pad(month + 1, 2);
    case 'week': {
      // The ISO week-year is the year of the week's Thursday.
      const thursday = first + 3;
      const weekYear = new Date(thursday * DAY).getUTCFullYear();
      const week = Math.floor((thursday - civilDay(weekYear, 0, 1)) / 7) + 1;
      return `${pad(weekYear, 4)}W${pad(week, 2)}`;
    }
    default:
      return year + pad(month + 1, 2) + pad(date.getUTCDate(), 2);
  }
}

function elapsedId(unit: TimeUnit, elapsed: number): string {
  const hours = pad(Math.floor(elapsed / HOUR), 2);
  if (unit === 'hour') return hours;
  const minutes = pad(Math.floor((elapsed % HOUR) / MINUTE), 2);
  if (unit === 'minute') return hours + minutes;
  return hours + minutes + pad(Math.floor((elapsed % MINUTE) / SECOND), 2);
}

function isoWeekMonday(weekYear: number, week: number): number {
  const january4 = civilDay(weekYear, 0, 4); // always in week 1
  return january4 - mod(january4 + 3, 7) + (week - 1) * 7;
}

function civilDay(year: number, monthIndex: number, date: number): number {
  return Date.UTC(year, monthIndex, date) / DAY;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

function pad(value: number, length: number): string {
  return String(value).padStart(length, '0');
}
