import { suggestion } from '../_options.js';
import { MAX_AMOUNT } from '../amounts.js';
import { InvalidKeyPartError, InvalidRuleError } from '../errors.js';

/** Units of a rule's window. Calendar rules use all of them; rolling rules stop at `'week'`. */
export type TimeUnit = 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year';

/**
 * How a rule counts. `'fixed'` is the calendar window: the count resets when the period (minute, day,
 * month, ...) of the limiter's time zone changes. The others are rolling windows of a fixed length.
 */
export type Algorithm = 'fixed' | 'sliding' | 'sliding-counter' | 'token-bucket' | 'gcra';

/** The object form of a rule. */
export interface RuleObject {
  /** Admissions (or spend) per window; may have up to 6 decimal places. */
  readonly limit: number;
  /** The window: `'month'`, `'1 minute'`, `'15 minutes'`. */
  readonly per: string;
  /** @default 'fixed' */
  readonly algorithm?: Algorithm;
}

/** A parsed, valid rule. */
export interface Rule {
  readonly name: string;
  readonly limit: number;
  readonly algorithm: Algorithm;
  readonly unit: TimeUnit;
  /** The multiple of `unit`: 15 in `'100 per 15 minutes'`. */
  readonly step: number;
  /** Nominal window length; months, quarters and years use the mean Gregorian month and year. */
  readonly durationMs: number;
}

const STRING_RULE = /^\s*([^\s/]+)\s*(?:\/|\s+per\s+)(.*)$/i;
const PER = /^\s*(?:([^\sA-Za-z]+)\s*)?([A-Za-z]+)\s*$/;
const DECIMAL = /^\d+(?:\.\d+)?$/;
const RULE_KEYS: readonly string[] = ['limit', 'per', 'algorithm'];
const ALGORITHMS: readonly Algorithm[] = ['fixed', 'sliding', 'sliding-counter', 'token-bucket', 'gcra'];

const MEAN_YEAR_MS = 365.2425 * 86_400_000;
const UNIT_MS: Readonly<Record<TimeUnit, number>> = {
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
  month: MEAN_YEAR_MS / 12,
  quarter: MEAN_YEAR_MS / 4,
  year: MEAN_YEAR_MS,
};
const UNITS = Object.keys(UNIT_MS) as TimeUnit[];
const ROLLING_UNITS: readonly TimeUnit[] = ['second', 'minute', 'hour', 'day', 'week'];

// A calendar multiple must divide its parent unit, so that periods tile it: 15 minutes divide an hour.
const PARENT: Readonly<Record<TimeUnit, { readonly size: number; readonly name: string }>> = {
  second: { size: 60, name: 'a minute' },
  minute: { size: 60, name: 'an hour' },
  hour: { size: 24, name: 'a day' },
  day: { size: 1, name: '' },
  week: { size: 1, name: '' },
  month: { size: 12, name: 'a year' },
  quarter: { size: 4, name: 'a year' },
  year: { size: 1, name: '' },
};

/**
 * Parses and validates a rule.
 * @param name the rule's name, part of every key of the rule: 1 to 64 letters, digits, `_` or `-`.
 * @param input `'10/month'`, `'5 per minute'`, `'100 per 15 minutes'`, or
 *   `{ limit: 50, per: '1 minute', algorithm: 'sliding' }`.
 * @throws {InvalidRuleError} naming the rule, the input and what would be valid.
 * @throws {InvalidKeyPartError} if the name cannot be part of a key.
 */
export function parseRule(name: string, input: string | RuleObject): Rule {
  assertRuleName(name);
  const fail = (problem: string): never => {
    throw new InvalidRuleError(`Invalid rule "${name}" (${describe(input)}): ${problem}`);
  };

  let limit: number;
  let per: string;
  let algorithm: Algorithm = 'fixed';
  if (typeof input === 'string') {
    const match = STRING_RULE.exec(input);
    if (match === null) {
      return fail(
        "use '<limit>/<unit>' or '<limit> per <n> <units>', such as '10/month' or '100 per 15 minutes'",
      );
    }
    const [, limitText = '', perText = ''] = match;
    if (!DECIMAL.test(limitText)) fail(`the limit ${limitText} is not a positive number`);
    limit = Number(limitText);
    per = perText;
  } else if (typeof input === 'object' && input !== null) {
    const unknown = Object.keys(input).find((key) => !RULE_KEYS.includes(key));
    if (unknown !== undefined)
      fail(`unknown key ${JSON.stringify(unknown)}${suggestion(unknown, RULE_KEYS)}`);
    if (typeof input.limit !== 'number') return fail('limit must be a number');
    if (typeof input.per !== 'string') return fail("per must be a string such as '1 minute' or 'month'");
    if (input.algorithm !== undefined && !ALGORITHMS.includes(input.algorithm)) {
      fail(`unknown algorithm; use one of ${ALGORITHMS.map((a) => `'${a}'`).join(', ')}`);
    }
    limit = input.limit;
    per = input.per;
    algorithm = input.algorithm ?? 'fixed';
  } else {
    return fail("use a string such as '10/month' or an object such as { limit: 10, per: '1 minute' }");
  }

  if (!(limit > 0) || limit > MAX_AMOUNT) fail(`the limit must be a positive number up to ${MAX_AMOUNT}`);
  // String(n) shows the shortest decimal that reads back as n, so this counts the decimals the user wrote.
  if (!DECIMAL.test(String(limit)) || (String(limit).split('.')[1]?.length ?? 0) > 6) {
    fail('the limit may have at most 6 decimal places');
  }

  const perMatch = PER.exec(per);
  const [, countText = '1', unitWord = ''] = perMatch ?? [];
  const unit = UNITS.find((u) => unitWord.toLowerCase() === u || unitWord.toLowerCase() === `${u}s`);
  if (perMatch === null || unit === undefined) {
    return fail(
      `unknown unit ${JSON.stringify(per.trim())}; use second, minute, hour, day, week, month, quarter or year (singular or plural), optionally after a count`,
    );
  }
  if (!/^\d+$/.test(countText) || Number(countText) === 0) {
    fail(`the unit count ${countText} must be a whole number of at least 1`);
  }
  const step = Number(countText);

  if (algorithm === 'fixed') {
    const parent = PARENT[unit];
    if (parent.size === 1 && step !== 1) {
      fail(
        `a calendar ${unit} cannot be split or multiplied; use 1 ${unit}${ROLLING_UNITS.includes(unit) ? `, or a rolling algorithm such as { limit: ${limit}, per: '${step} ${unit}s', algorithm: 'sliding' }` : ''}`,
      );
    }
    if (parent.size % step !== 0) {
      const divisors = Array.from({ length: parent.size }, (_, i) => i + 1).filter(
        (n) => parent.size % n === 0,
      );
      fail(
        `${step} does not divide ${parent.name}; use one of ${divisors.join(', ')} ${unit}s${ROLLING_UNITS.includes(unit) ? ', or a rolling algorithm' : ''}`,
      );
    }
  } else if (!ROLLING_UNITS.includes(unit)) {
    fail(
      `a rolling window needs a fixed length, which a ${unit} does not have; use algorithm 'fixed' for calendar ${unit}s, or a length in seconds to weeks`,
    );
  }

  return { name, limit, algorithm, unit, step, durationMs: step * UNIT_MS[unit] };
}

function describe(input: unknown): string {
  if (typeof input === 'string') return `'${input}'`;
  if (typeof input !== 'object' || input === null) return String(input);
  const fields = Object.entries(input).map(
    ([k, v]) => `${k}: ${typeof v === 'string' ? `'${v}'` : String(v)}`,
  );
  return `{ ${fields.join(', ')} }`;
}

export const RULE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Checks a rule name, a segment of every key of the rule. */
export function assertRuleName(name: string): void {
  if (typeof name !== 'string' || !RULE_NAME.test(name)) {
    throw new InvalidKeyPartError(
      `Rule name ${JSON.stringify(name)} is not allowed; use 1 to 64 letters, digits, '_' or '-'`,
    );
  }
}
