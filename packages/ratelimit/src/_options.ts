// internal: checks of option objects, shared by every constructor that takes options.
import { closest, distance } from 'fastest-levenshtein';
import { InvalidOptionError } from './errors.js';

/**
 * Throws an {@link InvalidOptionError} for the first key of `options` that is not in `known`, naming it and
 * the nearest known key: a typo such as `failur` or `timezone` must not silently keep a default.
 * @param what how the message names the object, e.g. `'Ratelimit option'`.
 */
export function checkKeys(options: object, known: readonly string[], what: string): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    throw new InvalidOptionError(`Unknown ${what} ${JSON.stringify(key)}${suggestion(key, known)}`);
  }
}

/** `; did you mean "timeZone"?` for a key near a known one, else the list of known keys. */
export function suggestion(key: string, known: readonly string[]): string {
  const lower = key.toLowerCase();
  const near =
    known.find((k) => k.toLowerCase() === lower) ??
    known.find((k) => lower.length >= 3 && k.toLowerCase().startsWith(lower)) ??
    (known.length === 0 ? undefined : closest(key, known as string[]));
  if (
    near !== undefined &&
    (near.toLowerCase().startsWith(lower) ||
      distance(lower, near.toLowerCase()) <= Math.max(2, key.length / 3))
  ) {
    return `; did you mean ${JSON.stringify(near)}?`;
  }
  return `; valid keys are ${known.map((k) => JSON.stringify(k)).join(', ')}`;
}

/** `value` if it is a plain object (or undefined), else an {@link InvalidOptionError} naming `what`. */
export function optionsObject<T extends object>(value: T | undefined, what: string, example: string): T {
  if (value === undefined) return {} as T;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(`${what} must be an object, e.g. ${example}; got ${describeValue(value)}`);
  }
  return value;
}

/** A short, safe description of a value for an error message: its type, and the value if it is short. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return value.length > 40
        ? `a string of ${value.length} characters`
        : `the string ${JSON.stringify(value)}`;
    case 'number':
    case 'bigint':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'undefined':
      return 'undefined';
    default:
      return `a ${typeof value}`;
  }
}
