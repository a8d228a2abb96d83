// A registered symbol is the same in every copy of the package (two versions in one node_modules tree,
// or ESM and CJS builds side by side), where `instanceof` is not.
const brand = Symbol.for('periodkey.error');

/**
 * Base class of every error that periodkey throws: on misuse, and when a store fails where no answer can be
 * made up (`usage()`, `reset()`). Test for it with {@link isPeriodkeyError}.
 */
export class PeriodkeyError extends Error {
  override readonly name: string = 'PeriodkeyError';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    Object.defineProperty(this, brand, { value: true });
  }
}

/** A rule (`'10/month'`, `{ limit, per, algorithm }`) cannot be parsed or is not allowed. */
export class InvalidRuleError extends PeriodkeyError {
  override readonly name = 'InvalidRuleError';
}

/** A time zone is not a valid IANA zone name. */
export class InvalidTimeZoneError extends PeriodkeyError {
  override readonly name = 'InvalidTimeZoneError';
}

/** A key prefix, identity, scope, rule name or period id cannot be part of a periodkey key. */
export class InvalidKeyPartError extends PeriodkeyError {
  override readonly name = 'InvalidKeyPartError';
}

/** An option of `Ratelimit` or of a call (cost, limit override, store) is not valid. */
export class InvalidOptionError extends PeriodkeyError {
  override readonly name = 'InvalidOptionError';
}

/**
 * The store failed or did not answer within the limiter's `timeout`, in a call that cannot be answered by the
 * failure policy (`usage()`, `reset()`). `cause` is the store's error; `timedOut` says it did not answer.
 */
export class StoreUnavailableError extends PeriodkeyError {
  override readonly name = 'StoreUnavailableError';
  /** True when the store did not answer in time (no `cause` then), false when it failed. */
  readonly timedOut: boolean;

  constructor(message: string, options: { readonly timedOut: boolean; readonly cause?: unknown }) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.timedOut = options.timedOut;
  }
}

/**
 * The store answered but refused the command, for a reason no retry fixes: a permission (`NOPERM`),
 * credentials (`WRONGPASS`, `NOAUTH`), a key holding what periodkey does not write (`WRONGTYPE`), a Cluster
 * node behind a client that is not a Cluster client (`MOVED`, `CROSSSLOT`), a script error. The message is
 * the store's; `cause` is the client's error. `limit()` rejects with it instead of failing open.
 */
export class StoreRefusedError extends PeriodkeyError {
  override readonly name = 'StoreRefusedError';
}

/** True for any error thrown by periodkey, also one created by another copy of the package. */
export function isPeriodkeyError(error: unknown): error is PeriodkeyError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[brand] === true;
}

function guard<E extends PeriodkeyError>(name: E['name']): (error: unknown) => error is E {
  return (error: unknown): error is E => isPeriodkeyError(error) && error.name === name;
}

/** True for an {@link InvalidRuleError}, also one created by another copy of the package. */
export const isInvalidRuleError = guard<InvalidRuleError>('InvalidRuleError');
/** True for an {@link InvalidTimeZoneError}, also one created by another copy of the package. */
export const isInvalidTimeZoneError = guard<InvalidTimeZoneError>('InvalidTimeZoneError');
/** True for an {@link InvalidKeyPartError}, also one created by another copy of the package. */
export const isInvalidKeyPartError = guard<InvalidKeyPartError>('InvalidKeyPartError');
/** True for an {@link InvalidOptionError}, also one created by another copy of the package. */
export const isInvalidOptionError = guard<InvalidOptionError>('InvalidOptionError');
/** True for a {@link StoreRefusedError}, also one created by another copy of the package. */
export const isStoreRefusedError = guard<StoreRefusedError>('StoreRefusedError');
/** True for a {@link StoreUnavailableError}, also one created by another copy of the package. */
export const isStoreUnavailableError = guard<StoreUnavailableError>('StoreUnavailableError');
