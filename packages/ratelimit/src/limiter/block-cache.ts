// internal: denials answered locally until the instant they could pass, so a flood never reaches the store.
import type { Identity } from '../keys/keyspace.js';
import type { Plan } from './plan.js';
import type { Summary } from './results.js';
import type { RatelimitResult } from './types.js';

/** The most identities blocked at once; past it, expired entries go, then all of them. */
const MAX_ENTRIES = 10_000;

interface Blocked {
  readonly since: number;
  readonly until: number;
  readonly cost: number;
  readonly limits: readonly number[];
  readonly result: RatelimitResult;
}

/**
 * The primary store's denials, by identity and scope, until they could pass (`retryAt`). A call that the
 * cached denial does not decide (a smaller cost, a changed limit) goes to the store.
 */
export class BlockCache {
  readonly #entries = new Map<string, Blocked>();

  /** The cache's key: injective, like the Redis key (the length says where the identity ends). */
  static key(identity: Identity, scope: string): string {
    return typeof identity === 'string'
      ? `c${identity.length}:${identity}${scope}`
      : `t${identity.token.length}:${identity.token}${scope}`;
  }

  /** The cached denial of this call (`reason: 'cache'`), or `undefined` if the store must decide. */
  get(key: string, plan: Plan, cost: number, now: number): RatelimitResult | undefined {
    const blocked = this.#entries.get(key);
    if (blocked === undefined) return undefined;
    if (now >= blocked.until || now < blocked.since) {
      this.#entries.delete(key);
      return undefined;
    }
    // A larger cost would be denied too; a smaller one, or a raised limit, might pass: ask the store.
    if (cost < blocked.cost || plan.some((rule, i) => rule.store.limit !== blocked.limits[i]))
      return undefined;
    const retryAfter = Math.ceil((blocked.until - now) / 1000);
    return { ...blocked.result, retryAfter, reason: 'cache', at: now };
  }

  /** Remembers the primary's answer: a denial until it could pass; a refund unblocks. */
  record(key: string, plan: Plan, cost: number, now: number, { result, retryAt }: Summary): void {
    if (result.success) {
      if (cost < 0) this.#entries.delete(key);
      return;
    }
    const entries = this.#entries;
    if (entries.size >= MAX_ENTRIES) {
      for (const [k, entry] of entries) if (entry.until <= now) entries.delete(k);
      if (entries.size >= MAX_ENTRIES) entries.clear();
    }
    const limits = plan.map((rule) => rule.store.limit);
    entries.set(key, { since: now, until: retryAt, cost, limits, result });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }
}
