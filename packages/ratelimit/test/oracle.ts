// The period definitions, written a second time with luxon instead of the calendar's own offset arithmetic
// over Intl, so that a mistake in either shows up as a disagreement.

import type { Period } from '@periodkey/ratelimit';
import type { PeriodSpec } from '@periodkey/ratelimit/keys';
import { DateTime, type DateTimeUnit, IANAZone } from 'luxon';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const SLICE: Partial<Record<string, number>> = { second: SECOND, minute: MINUTE, hour: HOUR };

/**
 * The first instant whose local date is that of `day` (a luxon start of day) or later. luxon's startOf('day')
 * already reads a skipped midnight as the first existing time (01:00), as the definition wants, but reads
 * an ambiguous 00:00 (America/Goose_Bay turned its clock back at 00:01) with the offset the DateTime has;
 * the reading with the earlier offset is the one that shows the date first.
 */
function firstInstant(zone: string, day: DateTime): number {
  const tz = IANAZone.create(zone);
  const wall = Date.UTC(day.year, day.month - 1, day.day);
  const earlier = wall - tz.offset(wall - 36 * HOUR) * MINUTE;
  const start = day.toMillis();
  return earlier < start && earlier + tz.offset(earlier) * MINUTE >= wall ? earlier : start;
}

/** The start of the period that contains `local`, as a luxon start of day. */
function firstDay(local: DateTime, unit: DateTimeUnit, step: number): DateTime {
  const start = local.startOf(unit);
  // Multiples of months and quarters align to January.
  if (unit === 'month') return start.minus({ months: (start.month - 1) % step }).startOf('day');
  if (unit === 'quarter') return start.minus({ quarters: (start.quarter - 1) % step }).startOf('day');
  return start;
}

function id(unit: DateTimeUnit, day: DateTime): string {
  const format = { year: 'yyyy', quarter: "yyyy'Q'q", week: "kkkk'W'WW", month: 'yyyyMM' }[unit as string];
  return day.toFormat(format ?? 'yyyyMMdd');
}

export function oraclePeriod(spec: PeriodSpec, zone: string, t: number): Period {
  const slice = SLICE[spec.unit];
  const unit: DateTimeUnit = slice === undefined ? spec.unit : 'day';
  const step = slice === undefined ? spec.step : 1;
  let first = firstDay(DateTime.fromMillis(t, { zone }), unit, step);
  let next = first.plus({ [unit]: step }).startOf('day');
  let start = firstInstant(zone, first);
  let end = firstInstant(zone, next);
  while (end <= t) {
    first = next;
    next = first.plus({ [unit]: step }).startOf('day');
    start = end;
    end = firstInstant(zone, next);
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
