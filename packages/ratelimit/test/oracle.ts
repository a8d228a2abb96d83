// The period definitions, written a second time with luxon instead of date-fns-tz, so that a misuse of
// either library shows up as a disagreement.
import { DateTime, type DateTimeUnit, IANAZone } from 'luxon';
import type { Period, PeriodSpec } from '../src/index.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const SLICE: Partial<Record<string, number>> = { second: SECOND, minute: MINUTE, hour: HOUR };

/**
 * The first instant whose local date is `date` or later. luxon reads a skipped midnight as the first
 * existing time (01:00), as the definition wants, but reads an ambiguous 00:00 (America/Goose_Bay turned
 * its clock back at 00:01) with whichever offset it guesses; the earlier reading is the one on `date` first.
 */
function dayStart(zone: string, date: DateTime): number {
  const luxonStart = DateTime.fromObject({ year: date.year, month: date.month, day: date.day }, { zone }).toMillis();
  const tz = IANAZone.create(zone);
  const wall = Date.UTC(date.year, date.month - 1, date.day);
  const earlier = wall - tz.offset(wall - 36 * HOUR) * MINUTE;
  return earlier < luxonStart && earlier + tz.offset(earlier) * MINUTE >= wall ? earlier : luxonStart;
}

function firstDate(local: DateTime, unit: DateTimeUnit, step: number): DateTime {
  const start = local.startOf(unit);
  if (unit === 'month') return start.set({ month: start.month - ((start.month - 1) % step) });
  if (unit === 'quarter') return start.set({ month: start.month - ((start.quarter - 1) % step) * 3 });
  return start;
}

function id(unit: DateTimeUnit, date: DateTime): string {
  const format = { year: 'yyyy', quarter: "yyyy'Q'q", week: "kkkk'W'WW", month: 'yyyyMM' }[unit as string];
  return date.toFormat(format ?? 'yyyyMMdd');
}

export function oraclePeriod(spec: PeriodSpec, zone: string, t: number): Period {
  const slice = SLICE[spec.unit];
  const unit: DateTimeUnit = slice === undefined ? spec.unit : 'day';
  const step = slice === undefined ? spec.step : 1;
  // Dates only: the time of day of these DateTimes does not matter.
  let first = firstDate(DateTime.fromMillis(t, { zone }).setZone('UTC', { keepLocalTime: true }), unit, step);
  let next = first.plus({ [unit]: step });
  let start = dayStart(zone, first);
  let end = dayStart(zone, next);
  while (end <= t) {
    first = next;
    next = first.plus({ [unit]: step });
    start = end;
    end = dayStart(zone, next);
  }
  if (slice === undefined) return { id: id(unit, first), start, end };
  const length = spec.step * slice;
  const elapsed = Math.floor((t - start) / length) * length;
  const pad = (n: number) => String(Math.floor(n)).padStart(2, '0');
  const clock = [pad(elapsed / HOUR), pad((elapsed % HOUR) / MINUTE), pad((elapsed % MINUTE) / SECOND)];
  const digits = { hour: 1, minute: 2, second: 3 }[spec.unit as 'hour'];
  return {
    id: id('day', first) + clock.slice(0, digits).join(''),
    start: start + elapsed,
    end: Math.min(start + elapsed + length, end),
  };
}
