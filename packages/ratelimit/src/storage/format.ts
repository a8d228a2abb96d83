import { MICRO } from '../amounts.js';
import type { ParsedKey, RollingTag } from '../keys/key.js';
import { keyExpiry } from '../keys/key.js';
import type { Algorithm, Rule } from '../keys/rule.js';
import type { StoreRule } from '../store.js';
import { evaluateRule, type RuleState } from './algorithms.js';

// The storage format, as `script.ts` (Lua) writes it and `algorithms.ts` (the memory store) models it: what a
// key's value is, and what it means as used / remaining / reset. Tools that read keys (the CLI's `status`)
// decode them here rather than guessing.

/** How one algorithm's state is laid out in Redis. */
export type StorageLayout =
  /** `fixed`: the count in millionths. `gcra`: the theoretical arrival time (TAT) in epoch ms. */
  | { readonly type: 'string' }
  /** `sliding-counter`: `w` window index, `c` current and `p` previous count. `token-bucket`: `t` tokens, `ts` ms. */
  | { readonly type: 'hash'; readonly fields: readonly string[] }
  /** `sliding`: one member `<call id>:<cost in millionths>` per call, scored by its time in epoch ms. */
  | { readonly type: 'zset' };

const LAYOUTS: Readonly<Record<Algorithm, StorageLayout>> = {
  fixed: { type: 'string' },
  gcra: { type: 'string' },
  'sliding-counter': { type: 'hash', fields: ['w', 'c', 'p'] },
  'token-bucket': { type: 'hash', fields: ['t', 'ts'] },
  sliding: { type: 'zset' },
};

const ALGORITHM_OF_TAG: Readonly<Record<RollingTag, Algorithm>> = {
  sw: 'sliding',
  swc: 'sliding-counter',
  tb: 'token-bucket',
  gcra: 'gcra',
};

export function storageLayout(algorithm: Algorithm): StorageLayout {
  return LAYOUTS[algorithm];
}

/** Every layout the limiter writes, one per algorithm: what a tool that reads any key must be able to read. */
export function storageLayouts(): readonly StorageLayout[] {
  return Object.values(LAYOUTS);
}

/** The algorithm whose state a periodkey key holds: calendar keys count (`fixed`); rolling keys say by their tag. */
export function algorithmOfKey(parsed: ParsedKey): Algorithm {
  return parsed.period.kind === 'calendar' ? 'fixed' : ALGORITHM_OF_TAG[parsed.period.tag];
}

/** A key's value as read from Redis, in its {@link storageLayout}. */
export type StoredValue =
  | { readonly type: 'string'; readonly value: string }
  /** The layout's fields, as HMGET answers them (`null` for a missing field). */
  | { readonly type: 'hash'; readonly fields: Readonly<Record<string, string | null>> }
  | {
      readonly type: 'zset';
      readonly entries: readonly { readonly member: string; readonly score: number }[];
    };

const NUMBER = /^-?\d+(?:\.\d+)?(?:e[-+]?\d+)?$/i;

function num(value: string | null | undefined): number | undefined {
  return value != null && NUMBER.test(value) ? Number(value) : undefined;
}

/**
 * The algorithm state that a stored value holds, or `undefined` if it is not one (another type, or fields
 * that are not numbers): what the Lua script and the memory store read back.
 */
export function decodeState(algorithm: Algorithm, stored: StoredValue): RuleState | undefined {
  switch (algorithm) {
    case 'fixed':
    case 'gcra': {
      const n = stored.type === 'string' ? num(stored.value) : undefined;
      if (n === undefined) return undefined;
      return algorithm === 'fixed' ? { algorithm, used: n } : { algorithm, tat: n };
    }
    case 'sliding-counter': {
      if (stored.type !== 'hash') return undefined;
      const [w, c, p] = [num(stored.fields.w), num(stored.fields.c), num(stored.fields.p)];
      return w === undefined || c === undefined || p === undefined ? undefined : { algorithm, w, c, p };
    }
    case 'token-bucket': {
      if (stored.type !== 'hash') return undefined;
      const [t, ts] = [num(stored.fields.t), num(stored.fields.ts)];
      return t === undefined || ts === undefined ? undefined : { algorithm, t, ts };
    }
    case 'sliding': {
      if (stored.type !== 'zset') return undefined;
      const entries = [];
      for (const { member, score } of stored.entries) {
        const cost = num(/:(-?\d+)$/.exec(member)?.[1]);
        if (cost === undefined) return undefined;
        entries.push({ score, member, cost });
      }
      return { algorithm, entries };
    }
  }
}

/** What a key's state means now. Amounts in units; `undefined` where the key alone cannot tell (see {@link usageOf}). */
export interface Usage {
  readonly used: number | undefined;
  /** Known only with the rule (its limit is not in the key). */
  readonly remaining: number | undefined;
  readonly limit: number | undefined;
  /** When the full limit is available again (epoch ms); for a calendar key, its period's end. */
  readonly reset: number | undefined;
}

export interface UsageContext {
  readonly now: number;
  /** When the key expires (epoch ms, on the caller's clock: `now + PTTL`); `undefined` without a TTL. */
  readonly expireAt: number | undefined;
  /** The rule that wrote the key, if known: then every field of {@link Usage} is exact. */
  readonly rule?: Pick<Rule, 'limit' | 'durationMs'>;
}

/** How long a calendar key outlives its period. */
const GRACE_MS = keyExpiry({ id: '', start: 0, end: 0 });

/**
 * Used, remaining and reset of a key's state at `now`, computed by the algorithms themselves (a peek of
 * cost 0). With the rule, all of it is exact. Without it, the window is inferred from the key's TTL (the
 * Lua script and the memory store expire a sliding log one window after its last entry, a sliding counter
 * at the end of the window after next): `fixed`, `sliding` and `sliding-counter` give `used` and `reset`;
 * `token-bucket` and `gcra` only `reset` (their use depends on the limit's rate).
 */
export function usageOf(state: RuleState, context: UsageContext): Usage {
  const { now, expireAt, rule } = context;
  const limit = rule === undefined ? undefined : Math.round(rule.limit * MICRO);
  const windowMs = rule?.durationMs ?? inferredWindow(state, expireAt);
  const byRate = state.algorithm === 'token-bucket' || state.algorithm === 'gcra';
  if ((byRate && limit === undefined) || (state.algorithm !== 'fixed' && windowMs === undefined)) {
    const reset = state.algorithm === 'gcra' ? Math.ceil(state.tat) : expireAt;
    return { used: undefined, remaining: undefined, limit: undefined, reset };
  }
  const storeRule: StoreRule = {
    key: '',
    algorithm: state.algorithm,
    limit: limit ?? Number.MAX_SAFE_INTEGER,
    windowMs: windowMs ?? 0,
    resetAt: expireAt === undefined ? 0 : expireAt - GRACE_MS,
    expireAt: expireAt ?? 0,
  };
  const { used, reset } = evaluateRule(storeRule, state, now, 0, '').before;
  return {
    used: used / MICRO,
    remaining: limit === undefined ? undefined : Math.max(0, limit - used) / MICRO,
    limit: limit === undefined ? undefined : limit / MICRO,
    reset: state.algorithm === 'fixed' && expireAt === undefined ? undefined : reset,
  };
}

/** The window of a rolling key from its expiry, as the algorithms set it; `undefined` if it cannot be told. */
function inferredWindow(state: RuleState, expireAt: number | undefined): number | undefined {
  if (expireAt === undefined) return undefined;
  if (state.algorithm === 'sliding-counter') return Math.round(expireAt / (state.w + 2));
  if (state.algorithm !== 'sliding' || state.entries.length === 0) return undefined;
  let last = Number.NEGATIVE_INFINITY;
  for (const entry of state.entries) last = Math.max(last, entry.score);
  return expireAt - last;
}
