import {
  InvalidKeyPartError,
  InvalidRuleError,
  InvalidTimeZoneError,
  isInvalidKeyPartError,
  isInvalidRuleError,
  isInvalidTimeZoneError,
  isPeriodkeyError,
  PeriodkeyError,
} from '@periodkey/ratelimit';
import { PeriodClock } from '@periodkey/ratelimit/keys';
import { describe, expect, test } from 'vitest';

describe('errors', () => {
  test('have a literal name, the base class, and pass on their cause', () => {
    const cause = new RangeError('bad');
    const error = new InvalidRuleError('use 10/month', { cause });
    expect(error).toBeInstanceOf(PeriodkeyError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('InvalidRuleError');
    expect(error.message).toBe('use 10/month');
    expect(error.cause).toBe(cause);
    expect(String(error)).toBe('InvalidRuleError: use 10/month');
  });

  test('each guard recognises its own class only', () => {
    const errors = [new InvalidRuleError('x'), new InvalidTimeZoneError('x'), new InvalidKeyPartError('x')];
    const guards = [isInvalidRuleError, isInvalidTimeZoneError, isInvalidKeyPartError];
    guards.forEach((guard, i) => {
      expect(errors.map(guard)).toEqual(errors.map((_, j) => i === j));
    });
    expect(errors.every(isPeriodkeyError)).toBe(true);
  });

  test('guards reject look-alikes without the brand', () => {
    const lookAlike = Object.assign(new Error('x'), { name: 'InvalidRuleError' });
    expect(isPeriodkeyError(lookAlike)).toBe(false);
    expect(isInvalidRuleError(lookAlike)).toBe(false);
    expect(isPeriodkeyError(null)).toBe(false);
    expect(isPeriodkeyError('InvalidRuleError')).toBe(false);
  });

  test('guards recognise errors from another copy of the package', async () => {
    // A query string makes Vite load the module a second time: a second copy with its own classes.
    // @ts-expect-error: TypeScript does not resolve Vite's query suffix
    const copy: typeof import('../src/errors.js') = await import('../src/errors.js?copy');
    expect(copy.InvalidRuleError).not.toBe(InvalidRuleError);
    const foreign = new copy.InvalidTimeZoneError('x');
    expect(foreign).not.toBeInstanceOf(PeriodkeyError);
    expect(isPeriodkeyError(foreign)).toBe(true);
    expect(isInvalidTimeZoneError(foreign)).toBe(true);
    expect(isInvalidRuleError(foreign)).toBe(false);
    expect(copy.isInvalidTimeZoneError(new InvalidTimeZoneError('x'))).toBe(true);
  });

  test('are thrown where the library detects misuse', () => {
    expect(() => new PeriodClock({ unit: 'day', step: 1 }, 'Mars/Olympus_Mons')).toThrow(
      expect.objectContaining({ name: 'InvalidTimeZoneError', cause: expect.any(RangeError) }),
    );
  });
});
