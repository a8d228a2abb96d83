import type { Rule } from '@periodkey/ratelimit/keys';
import { counterAmount } from '@periodkey/ratelimit/storage';
import type { Key } from './backend.js';
import { UsageError } from './usage.js';

/** Where a legacy counter's count goes: the periodkey key of the current period, and its expiry. */
export interface CarryTarget {
  readonly key: string;
  readonly expireAt: number;
}

/**
 * `migrate --carry-over`: which legacy keys carry their count over, and into which periodkey key. Legacy
 * keys that do not fit the template, are not strings, or do not hold a whole number are deleted without
 * carrying anything.
 */
export interface Carry {
  /** The periodkey key for a legacy key that fits the template, `undefined` otherwise. */
  target(key: Key): CarryTarget | undefined;
}

/**
 * Compiles a legacy key template such as `ratelimit:{identity}:{scope}` into a matcher: the text around the
 * placeholders is literal, `{identity}` (required) and `{scope}` (optional; the empty scope without it) each
 * stand for one or more characters, and where that is ambiguous `{identity}` takes as much as it can
 * (`ratelimit:user:42:/api` is identity `user:42`, scope `/api`).
 * @throws {UsageError} without `{identity}`, or with a placeholder twice.
 */
export function compileTemplate(
  template: string,
): (key: string) => { identity: string; scope: string } | undefined {
  const parts = template.split(/(\{identity\}|\{scope\})/);
  const count = (name: string) => parts.filter((part) => part === name).length;
  if (count('{identity}') !== 1 || count('{scope}') > 1) {
    throw new UsageError(
      `--template ${JSON.stringify(template)} needs {identity} once (and {scope} at most once), such as 'ratelimit:{identity}:{scope}'`,
    );
  }
  const source = parts
    .map((part) => {
      if (part === '{identity}') return '(?<identity>.+)';
      if (part === '{scope}') return '(?<scope>.+)';
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  const pattern = new RegExp(`^${source}$`, 's');
  return (key) => {
    const groups = pattern.exec(key)?.groups;
    return groups?.identity === undefined
      ? undefined
      : { identity: groups.identity, scope: groups.scope ?? '' };
  };
}

/** The count in millionths for a legacy counter's value, or `undefined` if it is not a whole number. */
export function unitsOf(value: string): number | undefined {
  return /^\d+$/.test(value) ? counterAmount(Number(value)) : undefined;
}

/**
 * The SDK's rules given as `<name>=<rule>` (such as `monthly=10/month`), by name.
 * @throws {UsageError} for one that is not a rule.
 */
export async function parseRules(texts: readonly string[]): Promise<Map<string, Rule>> {
  const { isPeriodkeyError } = await import('@periodkey/ratelimit');
  const { parseRule } = await import('@periodkey/ratelimit/keys');
  const rules = new Map<string, Rule>();
  for (const text of texts) {
    const equals = text.indexOf('=');
    if (equals <= 0) {
      throw new UsageError(
        `--rule ${JSON.stringify(text)} must be <name>=<rule>, such as 'monthly=10/month'`,
      );
    }
    try {
      rules.set(text.slice(0, equals), parseRule(text.slice(0, equals), text.slice(equals + 1)));
    } catch (error) {
      if (isPeriodkeyError(error)) throw new UsageError(error.message);
      throw error;
    }
  }
  return rules;
}

export interface CarryFlags {
  readonly template: string;
  /** `<name>=<rule>`, such as `monthly=10/month`: the calendar rule whose current period receives the counts. */
  readonly rule: string;
  readonly prefix: string;
  readonly timeZone: string;
}

/**
 * The carry-over plan for a run that starts at `now`: every count goes to the period current at the start.
 * @throws {UsageError} for a bad template, rule, prefix or time zone.
 */
export async function planCarry(flags: CarryFlags, now: number): Promise<Carry> {
  const { isPeriodkeyError } = await import('@periodkey/ratelimit');
  const periodkey = await import('@periodkey/ratelimit/keys');
  const match = compileTemplate(flags.template);
  const [rule] = (await parseRules([flags.rule])).values();
  const build = (identity: string, scope: string, periodId: string, name: string) =>
    periodkey.buildKey({
      prefix: flags.prefix,
      identity,
      scope,
      rule: name,
      period: { kind: 'calendar', periodId },
    });
  try {
    if (rule?.algorithm !== 'fixed')
      throw new UsageError(`--rule ${JSON.stringify(flags.rule)} must be a calendar rule`);
    const period = periodkey.periodAt(rule, flags.timeZone, now);
    build('identity', '', period.id, rule.name); // checks the prefix
    const expireAt = periodkey.keyExpiry(period);
    return {
      target(key) {
        const parts = typeof key === 'string' ? match(key) : undefined;
        if (!parts) return undefined;
        try {
          return { key: build(parts.identity, parts.scope, period.id, rule.name), expireAt };
        } catch {
          return undefined; // an identity that cannot be one (empty): deleted, not carried
        }
      },
    };
  } catch (error) {
    if (isPeriodkeyError(error)) throw new UsageError(error.message);
    throw error;
  }
}
