import { describeValue } from './_options.js';
import { InvalidOptionError } from './errors.js';

/**
 * Stores count amounts (limits, costs, use) in integer millionths of a unit, so fractions add up exactly:
 * 3 requests are `3000000`, 0.25 is `250000`.
 */
export const MICRO = 1_000_000;

// The relative error of a decimal amount computed in floating point (0.1 + 0.2 is 0.30000000000000004),
// a few units in the last place: within it, an amount counts as the whole number of millionths it is
// meant to be. 1000.0000004 is not noise, and is charged 1000.000001.
const NOISE = 8 * Number.EPSILON;

function scale(amount: number): { readonly micro: number; readonly whole: boolean } {
  const scaled = amount * MICRO;
  const micro = Math.round(scaled);
  return { micro, whole: Math.abs(scaled - micro) <= NOISE * Math.max(1, Math.abs(scaled)) };
}

/**
 * A call's cost in millionths. An amount that is not a whole number of millionths is rounded up, a refund
 * (negative) towards zero, so a call never consumes less than it asks nor refunds more; a positive cost is
 * never zero. The floating-point noise of a decimal amount is not rounded up: 0.1 + 0.2 costs 0.3.
 * @throws {InvalidOptionError} for a cost that is not a finite number, or too large to count exactly.
 */
export function costInMicro(cost: unknown): number {
  if (typeof cost !== 'number' || !Number.isFinite(cost)) {
    throw new InvalidOptionError(
      `cost must be a finite number of units, e.g. { cost: 1 } or { cost: 0.25 }, got ${describeValue(cost)}`,
    );
  }
  let { micro, whole } = scale(cost);
  if (!whole) micro = Math.ceil(cost * MICRO);
  if (cost > 0 && micro < 1) micro = 1;
  if (!Number.isSafeInteger(micro)) {
    throw new InvalidOptionError(`cost ${cost} is too large to count exactly; costs go up to ${MAX_AMOUNT}`);
  }
  return micro === 0 ? 0 : micro; // never -0
}

/** The largest amount (limit or cost) that millionths count exactly in a double. */
export const MAX_AMOUNT = Math.floor(Number.MAX_SAFE_INTEGER / MICRO);

/**
 * A limit in millionths: a positive amount of at most 6 decimal places, as in a rule, so that what the
 * store enforces is exactly the limit asked for.
 * @throws {InvalidOptionError} naming `what` for any other value.
 */
export function limitInMicro(limit: unknown, what: string): number {
  const valid = typeof limit === 'number' && limit > 0 && limit <= MAX_AMOUNT;
  const { micro, whole } = valid ? scale(limit) : { micro: 0, whole: false };
  if (!whole || micro < 1) {
    throw new InvalidOptionError(
      `${what} must be a positive number up to ${MAX_AMOUNT} with at most 6 decimal places, got ${describeValue(limit)}`,
    );
  }
  return micro;
}
