import { InvalidKeyPartError, InvalidRuleError, type RuleObject } from '@periodkey/ratelimit';
import { parseRule } from '@periodkey/ratelimit/keys';
import { describe, expect, test } from 'vitest';

describe('parseRule', () => {
  test.each([
    ['10/month', { limit: 10, unit: 'month', step: 1, durationMs: 2_629_746_000 }],
    ['5/minute', { limit: 5, unit: 'minute', step: 1, durationMs: 60_000 }],
    ['5 per minute', { limit: 5, unit: 'minute', step: 1, durationMs: 60_000 }],
    ['100 per 15 minutes', { limit: 100, unit: 'minute', step: 15, durationMs: 900_000 }],
    ['1000 per day', { limit: 1000, unit: 'day', step: 1, durationMs: 86_400_000 }],
    ['1 per 30 seconds', { limit: 1, unit: 'second', step: 30, durationMs: 30_000 }],
    ['60/60 minutes', { limit: 60, unit: 'minute', step: 60, durationMs: 3_600_000 }],
    ['24 per 6 hours', { limit: 24, unit: 'hour', step: 6, durationMs: 21_600_000 }],
    ['7/week', { limit: 7, unit: 'week', step: 1, durationMs: 604_800_000 }],
    ['3 per 3 months', { limit: 3, unit: 'month', step: 3, durationMs: 7_889_238_000 }],
    ['2 per 2 quarters', { limit: 2, unit: 'quarter', step: 2, durationMs: 15_778_476_000 }],
    ['1/quarter', { limit: 1, unit: 'quarter', step: 1, durationMs: 7_889_238_000 }],
    ['365 per year', { limit: 365, unit: 'year', step: 1, durationMs: 31_556_952_000 }],
    ['25.5/month', { limit: 25.5, unit: 'month', step: 1, durationMs: 2_629_746_000 }],
    ['0.000001 per second', { limit: 0.000001, unit: 'second', step: 1, durationMs: 1000 }],
    ['  10 / Month ', { limit: 10, unit: 'month', step: 1, durationMs: 2_629_746_000 }],
  ])('%s', (input, expected) => {
    expect(parseRule('r', input)).toEqual({ name: 'r', algorithm: 'fixed', ...expected });
  });

  test.each<[RuleObject, object]>([
    [
      { limit: 50, per: '1 minute', algorithm: 'sliding' },
      { algorithm: 'sliding', unit: 'minute', step: 1 },
    ],
    [
      { limit: 50, per: 'minute' },
      { algorithm: 'fixed', unit: 'minute', step: 1 },
    ],
    [
      { limit: 10, per: 'month' },
      { algorithm: 'fixed', unit: 'month', step: 1 },
    ],
    [
      { limit: 9, per: '7 minutes', algorithm: 'gcra' },
      { algorithm: 'gcra', unit: 'minute', step: 7 },
    ],
    [
      { limit: 5, per: '2 days', algorithm: 'token-bucket' },
      { algorithm: 'token-bucket', unit: 'day', step: 2 },
    ],
    [
      { limit: 5, per: '90 seconds', algorithm: 'sliding-counter' },
      { algorithm: 'sliding-counter', step: 90 },
    ],
    [
      { limit: 5, per: '2 weeks', algorithm: 'sliding' },
      { algorithm: 'sliding', unit: 'week', durationMs: 1_209_600_000 },
    ],
  ])('%o', (input, expected) => {
    expect(parseRule('r', input)).toMatchObject({ name: 'r', limit: input.limit, ...expected });
  });

  test.each([
    ['0/month', 'the limit must be a positive number'],
    ['-1/day', 'the limit -1 is not a positive number'],
    ['NaN/day', 'the limit NaN is not a positive number'],
    ['Infinity/day', 'the limit Infinity is not a positive number'],
    ['1e3/day', 'the limit 1e3 is not a positive number'],
    ['1.0000001/day', 'the limit may have at most 6 decimal places'],
    ['10/fortnight', 'unknown unit "fortnight"; use second, minute, hour, day, week, month, quarter or year'],
    [
      '7 per 7 minutes',
      '7 does not divide an hour; use one of 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60 minutes, or a rolling algorithm',
    ],
    ['1 per 7 seconds', '7 does not divide a minute'],
    ['1 per 5 hours', '5 does not divide a day; use one of 1, 2, 3, 4, 6, 8, 12, 24 hours'],
    ['1 per 5 months', '5 does not divide a year; use one of 1, 2, 3, 4, 6, 12 months'],
    ['1 per 3 quarters', '3 does not divide a year; use one of 1, 2, 4 quarters'],
    ['1.5 per 2.5 minutes', 'the unit count 2.5 must be a whole number'],
    ['1 per 0 minutes', 'the unit count 0 must be a whole number of at least 1'],
    ['2 days', "use '<limit>/<unit>' or '<limit> per <n> <units>'"],
    [
      '10 per 2 days',
      "a calendar day cannot be split or multiplied; use 1 day, or a rolling algorithm such as { limit: 10, per: '2 days', algorithm: 'sliding' }",
    ],
    ['10 per 2 weeks', 'a calendar week cannot be split or multiplied; use 1 week, or a rolling algorithm'],
    ['10 per 2 years', 'a calendar year cannot be split or multiplied; use 1 year'],
    ['10000000000/day', 'the limit must be a positive number up to 9007199254'],
    ['', "use '<limit>/<unit>'"],
  ])('rejects %j', (input, problem) => {
    expect(() => parseRule('burst', input)).toThrow(InvalidRuleError);
    expect(() => parseRule('burst', input)).toThrow(`Invalid rule "burst" ('${input}'): ${problem}`);
  });

  test.each<[unknown, string]>([
    [
      { limit: Number.NaN, per: 'minute' },
      "({ limit: NaN, per: 'minute' }): the limit must be a positive number",
    ],
    [{ limit: Number.POSITIVE_INFINITY, per: 'minute' }, '({ limit: Infinity, per: '],
    [{ limit: 0.1 + 0.2, per: 'minute' }, 'at most 6 decimal places'],
    [{ limit: '10', per: 'minute' }, 'limit must be a number'],
    [{ limit: 10 }, 'per must be a string'],
    [
      { limit: 10, per: 'minute', algorithm: 'leaky' },
      "unknown algorithm; use one of 'fixed', 'sliding', 'sliding-counter', 'token-bucket', 'gcra'",
    ],
    [
      { limit: 10, per: 'month', algorithm: 'sliding' },
      "a rolling window needs a fixed length, which a month does not have; use algorithm 'fixed'",
    ],
    [{ limit: 10, per: '1 year', algorithm: 'gcra' }, 'which a year does not have'],
    [{ limit: 10, per: '1.5 minutes', algorithm: 'sliding' }, 'the unit count 1.5 must be a whole number'],
    [42, '(42): use a string such as'],
    [null, '(null): use a string such as'],
  ])('rejects %o', (input, problem) => {
    expect(() => parseRule('burst', input as RuleObject)).toThrow(InvalidRuleError);
    expect(() => parseRule('burst', input as RuleObject)).toThrow(problem);
  });

  test.each(['', 'a b', 'a:b', 'x'.repeat(65), 'ünï', '{x}'])('rejects the rule name %j', (name) => {
    expect(() => parseRule(name, '10/month')).toThrow(InvalidKeyPartError);
  });

  test('accepts a 64-character rule name of letters, digits, _ and -', () => {
    const name = `${'a'.repeat(60)}_-Z9`;
    expect(parseRule(name, '1/day').name).toBe(name);
  });
});
