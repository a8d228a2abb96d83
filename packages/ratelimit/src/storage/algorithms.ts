import type { RuleOutcome, StoreRule } from '../store.js';

// The algorithms in TypeScript, for the memory store. `script.ts` holds the same algorithms in Lua for
// Redis; both must compute the same numbers with the same floating-point operations in the same order,
// which the contract suite checks by running identical scenarios against every store.

export interface SlidingEntry {
  readonly score: number;
  readonly member: string;
  readonly cost: number;
}

export type RuleState =
  | { readonly algorithm: 'fixed'; readonly used: number }
  | { readonly algorithm: 'sliding'; readonly entries: readonly SlidingEntry[] }
  | { readonly algorithm: 'sliding-counter'; readonly w: number; readonly c: number; readonly p: number }
  | { readonly algorithm: 'token-bucket'; readonly t: number; readonly ts: number }
  | { readonly algorithm: 'gcra'; readonly tat: number };

/** One rule evaluated against its stored state: the answer without and with this call's cost applied. */
export interface Evaluation {
  readonly fits: boolean;
  readonly retryAt: number;
  readonly before: Pick<RuleOutcome, 'used' | 'reset'>;
  readonly after: Pick<RuleOutcome, 'used' | 'reset'>;
  /** The state to store if the call is applied; `undefined` means delete the key (nothing left to track). */
  readonly next: RuleState | undefined;
  readonly expireAt: number;
}

type Step<S> = (rule: StoreRule, state: S | undefined, now: number, cost: number) => Evaluation;

/**
 * The most any count holds, in millionths: counted denials (`countDenied`) saturate here instead of
 * overflowing Redis' 64-bit integers or a double's exact range.
 */
export const MAX_COUNT = Number.MAX_SAFE_INTEGER;

const fixed: Step<Extract<RuleState, { algorithm: 'fixed' }>> = (rule, state, _now, cost) => {
  const used = state?.used ?? 0;
  const next = Math.min(MAX_COUNT, Math.max(0, used + cost));
  return {
    fits: cost <= 0 || used + cost <= rule.limit,
    retryAt: rule.resetAt,
    before: { used, reset: rule.resetAt },
    after: { used: next, reset: rule.resetAt },
    next: { algorithm: 'fixed', used: next },
    expireAt: rule.expireAt,
  };
};

function slidingReset(entries: readonly SlidingEntry[], now: number, window: number): number {
  const last = entries[entries.length - 1];
  return last === undefined ? now : last.score + window;
}

function byScoreThenMember(a: SlidingEntry, b: SlidingEntry): number {
  return a.score - b.score || (a.member < b.member ? -1 : a.member > b.member ? 1 : 0);
}

/**
 * A sliding log keeps at most one entry per 1/SLIDING_BUCKETS of its window (and never less than 1 ms): a
 * call in the bucket of an entry is added to that entry, which takes the later of the two times. So a
 * call counts for its window and at most one bucket more (never less, so never more is admitted), and
 * the log, the work of every call on it, stays bounded whatever the traffic (denied calls counted by
 * `countDenied` included).
 */
export const SLIDING_BUCKETS = 100;

/**
 * A sliding log after a refund of `amount`: taken back from the newest calls, never below zero, so the log
 * holds no negative entry whose credit would outlive the calls it refunds. A call's remainder keeps its
 * time under a new member, `<member>.<its 1-based position>:<remainder>`.
 */
function refunded(live: readonly SlidingEntry[], amount: number, member: string): SlidingEntry[] {
  const entries = [...live];
  let left = amount;
  for (let k = entries.length - 1; k >= 0 && left > 0; k--) {
    const e = entries[k] as SlidingEntry;
    if (e.cost <= 0) continue;
    const take = Math.min(e.cost, left);
    left -= take;
    entries.splice(k, 1);
    const rest = e.cost - take;
    if (rest > 0) entries.push({ score: e.score, member: `${member}.${k + 1}:${rest}`, cost: rest });
  }
  return entries.sort(byScoreThenMember);
}

const sliding =
  (member: string): Step<Extract<RuleState, { algorithm: 'sliding' }>> =>
  (rule, state, now, cost) => {
    const window = rule.windowMs;
    const width = Math.max(1, Math.floor(window / SLIDING_BUCKETS));
    const bucket = Math.floor(now / width);
    const live = (state?.entries ?? []).filter((e) => e.score > now - window);
    let sum = 0;
    let same: SlidingEntry | undefined;
    for (const e of live) {
      sum += e.cost;
      if (Math.floor(e.score / width) === bucket) same = e;
    }
    const used = Math.max(0, sum);
    const fits = cost <= 0 || used + cost <= rule.limit;
    let entries: SlidingEntry[];
    if (cost < 0) entries = refunded(live, -cost, member);
    else {
      entries = live.filter((e) => e !== same);
      const merged = Math.min(MAX_COUNT, cost + (same?.cost ?? 0));
      if (merged !== 0) {
        entries.push({
          score: Math.max(now, same?.score ?? now),
          member: `${member}:${merged}`,
          cost: merged,
        });
        entries.sort(byScoreThenMember);
      }
    }
    const resetBefore = slidingReset(live, now, window);
    let retryAt = resetBefore;
    if (!fits && cost <= rule.limit) {
      let freed = 0;
      for (const e of live) {
        freed += e.cost;
        if (used - freed + cost <= rule.limit) {
          retryAt = e.score + window;
          break;
        }
      }
    }
    const reset = Math.max(resetBefore - window, now) + window;
    return {
      fits,
      retryAt,
      before: { used, reset: resetBefore },
      after: { used: Math.max(0, sum + cost), reset },
      next: { algorithm: 'sliding', entries },
      expireAt: reset,
    };
  };

const slidingCounter: Step<Extract<RuleState, { algorithm: 'sliding-counter' }>> = (
  rule,
  state,
  now,
  cost,
) => {
  const window = rule.windowMs;
  const idx = Math.floor(now / window);
  let cur = 0;
  let prev = 0;
  if (state?.w === idx) [cur, prev] = [state.c, state.p];
  else if (state?.w === idx - 1) prev = state.c;
  const elapsed = now - idx * window;
  const est = Math.floor((prev * (window - elapsed)) / window);
  const used = est + cur;
  const fits = cost <= 0 || used + cost <= rule.limit;
  const nextCur = Math.min(MAX_COUNT, Math.max(0, cur + cost));
  const reset = (c: number) => (c > 0 ? (idx + 2) * window : est > 0 ? (idx + 1) * window : now);
  let retryAt = reset(cur);
  if (!fits && cost <= rule.limit) {
    retryAt =
      cur + cost <= rule.limit
        ? idx * window + Math.ceil(window - (window * (rule.limit - cur - cost)) / prev)
        : (idx + 1) * window + Math.ceil(window - (window * (rule.limit - cost)) / cur);
  }
  return {
    fits,
    retryAt,
    before: { used, reset: reset(cur) },
    after: { used: est + nextCur, reset: reset(nextCur) },
    next: { algorithm: 'sliding-counter', w: idx, c: nextCur, p: prev },
    expireAt: (idx + 2) * window,
  };
};

const tokenBucket: Step<Extract<RuleState, { algorithm: 'token-bucket' }>> = (rule, state, now, cost) => {
  const { limit } = rule;
  const rate = limit / rule.windowMs;
  const tokens = state === undefined ? limit : Math.min(limit, state.t + Math.max(0, now - state.ts) * rate);
  const fits = cost <= 0 || cost <= tokens;
  const next = Math.max(-MAX_COUNT, Math.min(limit, tokens - cost));
  const reset = (t: number) => (t >= limit ? now : now + Math.ceil((limit - t) / rate));
  return {
    fits,
    retryAt: cost > limit ? reset(tokens) : now + Math.ceil((cost - tokens) / rate),
    before: { used: limit - Math.floor(tokens), reset: reset(tokens) },
    after: { used: limit - Math.floor(next), reset: reset(next) },
    next: next >= limit ? undefined : { algorithm: 'token-bucket', t: next, ts: now },
    expireAt: reset(next),
  };
};

const gcra: Step<Extract<RuleState, { algorithm: 'gcra' }>> = (rule, state, now, cost) => {
  const interval = rule.windowMs / rule.limit;
  const tat = Math.max(state?.tat ?? now, now);
  const newTat = Math.max(now, tat + cost * interval);
  const used = (t: number) => Math.floor((t - now) / interval + 0.5);
  return {
    fits: cost <= 0 || newTat - now <= rule.windowMs,
    retryAt: cost > rule.limit ? Math.ceil(tat) : Math.ceil(newTat - rule.windowMs),
    before: { used: used(tat), reset: Math.ceil(tat) },
    after: { used: used(newTat), reset: Math.ceil(newTat) },
    next: newTat <= now ? undefined : { algorithm: 'gcra', tat: newTat },
    expireAt: Math.ceil(newTat),
  };
};

/** Evaluates one rule against its state (`undefined` when the key does not exist or has expired). */
export function evaluateRule(
  rule: StoreRule,
  state: RuleState | undefined,
  now: number,
  cost: number,
  member: string,
): Evaluation {
  // A state of another algorithm cannot occur (the key names the algorithm); treat it as absent.
  const own = state?.algorithm === rule.algorithm ? state : undefined;
  switch (rule.algorithm) {
    case 'fixed':
      return fixed(rule, own as Parameters<typeof fixed>[1], now, cost);
    case 'sliding':
      return sliding(member)(rule, own as Parameters<ReturnType<typeof sliding>>[1], now, cost);
    case 'sliding-counter':
      return slidingCounter(rule, own as Parameters<typeof slidingCounter>[1], now, cost);
    case 'token-bucket':
      return tokenBucket(rule, own as Parameters<typeof tokenBucket>[1], now, cost);
    case 'gcra':
      return gcra(rule, own as Parameters<typeof gcra>[1], now, cost);
  }
}
