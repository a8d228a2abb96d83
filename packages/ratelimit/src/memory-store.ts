import { evaluateRule, type RuleState } from './algorithms.js';
import type { StoreHealth } from './health.js';
import type { RuleOutcome, Store, StoreRequest } from './store.js';

export interface MemoryStoreOptions {
  /**
   * The most keys kept. When a write would exceed it, expired keys are swept and then the oldest keys
   * are evicted (their counts are lost: those identities start afresh).
   * @default 100_000
   */
  maxKeys?: number;
}

interface Entry {
  state: RuleState;
  expiresAt: number;
}

const SWEEP_EVERY_MS = 60_000;

/**
 * The embedded store: same algorithms and results as Redis, in this process only. For development, tests
 * and single-instance services; each instance of a multi-instance service would count on its own.
 */
export class MemoryStore implements Store {
  readonly #entries = new Map<string, Entry>();
  readonly #maxKeys: number;
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(options: MemoryStoreOptions = {}) {
    this.#maxKeys = options.maxKeys ?? 100_000;
  }

  /** The number of keys held, expired ones included until they are swept. */
  get size(): number {
    return this.#entries.size;
  }

  async evaluate(request: StoreRequest): Promise<RuleOutcome[]> {
    const { now, cost, member } = request;
    if (now - this.#lastSweep >= SWEEP_EVERY_MS) this.#sweep(now);
    const evaluations = request.rules.map((rule) => {
      const entry = this.#entries.get(rule.key);
      const state = entry !== undefined && entry.expiresAt > now ? entry.state : undefined;
      return evaluateRule(rule, state, now, cost, member);
    });
    const pass = evaluations.every((e) => e.fits);
    const apply = request.mode === 'consume' && (pass || request.countDenied);
    return evaluations.map((e, i) => {
      if (apply) this.#write(request.rules[i]?.key as string, e.next, e.expireAt, now);
      const { used, reset } = apply ? e.after : e.before;
      return { allowed: e.fits, used, reset, retryAt: e.fits ? 0 : e.retryAt };
    });
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.#entries.delete(key);
  }

  /** Always healthy: it lives in this process. */
  async health(): Promise<StoreHealth> {
    return { ok: true, latencyMs: 0 };
  }

  #write(key: string, state: RuleState | undefined, expiresAt: number, now: number): void {
    this.#entries.delete(key); // re-inserting keeps Map order = least recently written first
    if (state === undefined || expiresAt <= now) return;
    if (this.#entries.size >= this.#maxKeys) this.#makeRoom(now);
    this.#entries.set(key, { state, expiresAt });
  }

  #sweep(now: number): void {
    this.#lastSweep = now;
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
  }

  #makeRoom(now: number): void {
    this.#sweep(now);
    // Still full: evict the least recently written tenth in one go, so this O(n) work stays rare.
    let excess = this.#entries.size - Math.floor(this.#maxKeys * 0.9);
    for (const key of this.#entries.keys()) {
      if (excess-- <= 0) break;
      this.#entries.delete(key);
    }
  }
}
