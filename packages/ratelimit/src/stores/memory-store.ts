import { checkKeys, describeValue, optionsObject } from '../_options.js';
import { InvalidOptionError } from '../errors.js';
import { type Evaluation, evaluateRule, type RuleState } from '../storage/algorithms.js';
import type { RuleOutcome, Store, StoreCapabilities, StoreRequest, StoreRule } from '../store.js';
import { EvictionFloors } from './eviction-floors.js';
import type { StoreHealth } from './health.js';

export interface MemoryStoreOptions {
  /**
   * The most keys kept (a positive integer). Past it, each new key evicts the entry that counts least of
   * a small random sample, and a key created after an eviction starts with up to the count of the
   * most-used entry evicted in its rule's current period, so that no flood of other identities gives an
   * exhausted identity a fresh quota. Size it above the number of identities active in one period.
   * @default 100_000
   */
  maxKeys?: number;
}

interface Entry {
  readonly key: string;
  state: RuleState;
  expiresAt: number;
  /** The rule of the last write: how to read `state` as a used fraction, and its rule signature. */
  rule: StoreRule;
  /** Position in the store's array, for O(1) swap-remove and uniform sampling. */
  index: number;
  /** The shard of the key index that holds it. */
  readonly shard: number;
}

const OPTION_KEYS = ['maxKeys'] as const;
/** Entries the sweep looks at per write: a full pass over n entries takes n / SWEEP_PER_WRITE writes. */
const SWEEP_PER_WRITE = 8;
/** Entries sampled to pick an eviction victim. */
const SAMPLE = 8;
const EXPIRY_SHIFT = 12;
const EXPIRY_MASK = (1 << EXPIRY_SHIFT) - 1;
/** Keys per shard of the key index, at most, below MAX_SHARDS shards. */
const KEYS_PER_SHARD = 8_192;
const MAX_SHARDS = 4_096;

/**
 * The embedded store: same algorithms and results as Redis, in this process only. For development, tests
 * and single-instance services; each instance of a multi-instance service would count on its own.
 */
export class MemoryStore implements Store {
  readonly capabilities: StoreCapabilities = { local: true };
  /**
   * The entries by key, in shards of at most a few thousand: a Map rehashes all its entries when it grows,
   * shrinks or fills with deleted slots, which for one Map of 1M entries stalls a call for 0.2-0.3 s.
   */
  readonly #shards: Map<string, Entry>[];
  readonly #mask: number;
  /** The same entries, in no order: sampled for eviction, walked by the sweep's cursor. */
  readonly #list: Entry[] = [];
  /**
   * `#list[i].expiresAt` at `i`, in chunks of EXPIRY_CHUNK: the sweep reads a few contiguous numbers per
   * write instead of chasing a pointer per entry, and growing never copies.
   */
  readonly #expiry: Float64Array[] = [];
  readonly #maxKeys: number;
  #cursor = 0;
  /** What evicted entries counted, so that a key created after an eviction starts no lower. */
  readonly #floors = new EvictionFloors();
  constructor(options?: MemoryStoreOptions) {
    const o = optionsObject(options, 'MemoryStore options', '{ maxKeys: 100_000 }');
    checkKeys(o, OPTION_KEYS, 'MemoryStore option');
    const maxKeys: unknown = o.maxKeys === undefined ? 100_000 : o.maxKeys;
    if (typeof maxKeys !== 'number' || !Number.isSafeInteger(maxKeys) || maxKeys < 1) {
      throw new InvalidOptionError(
        `MemoryStore maxKeys must be a positive integer, the most keys kept (e.g. { maxKeys: 100_000 }, the default); got ${describeValue(maxKeys)}`,
      );
    }
    this.#maxKeys = maxKeys;
    let shards = 1;
    while (shards < MAX_SHARDS && shards * KEYS_PER_SHARD < maxKeys) shards *= 2;
    this.#shards = Array.from({ length: shards }, () => new Map());
    this.#mask = shards - 1;
  }

  /** The number of keys held, expired ones included until they are swept. */
  get size(): number {
    return this.#list.length;
  }

  async evaluate(request: StoreRequest): Promise<RuleOutcome[]> {
    const { now, cost, member, rules } = request;
    const n = rules.length;
    const found: (Entry | undefined)[] = [];
    const evaluations: Evaluation[] = [];
    let pass = true;
    for (let i = 0; i < n; i++) {
      const rule = rules[i] as StoreRule;
      const entry = (this.#shards[this.#shardOf(rule.key)] as Map<string, Entry>).get(rule.key);
      const state =
        entry !== undefined && entry.expiresAt > now
          ? entry.state
          : this.#floors.inherited(rule, now, member);
      const e = evaluateRule(rule, state, now, cost, member);
      found.push(entry);
      evaluations.push(e);
      pass &&= e.fits;
    }
    const apply = request.mode === 'consume' && (pass || request.countDenied);
    const outcomes: RuleOutcome[] = [];
    for (let i = 0; i < n; i++) {
      const e = evaluations[i] as Evaluation;
      if (apply) this.#write(rules[i] as StoreRule, found[i], e.next, e.expireAt, now);
      const { used, reset } = apply ? e.after : e.before;
      outcomes.push({ allowed: e.fits, used, reset, retryAt: e.fits ? 0 : e.retryAt });
    }
    return outcomes;
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const entry = this.#shards[this.#shardOf(key)]?.get(key);
      if (entry !== undefined) this.#remove(entry);
    }
  }

  /** Always healthy: it lives in this process. */
  async health(): Promise<StoreHealth> {
    return { ok: true, latencyMs: 0 };
  }

  #write(
    rule: StoreRule,
    found: Entry | undefined,
    state: RuleState | undefined,
    expiresAt: number,
    now: number,
  ): void {
    this.#sweepSlice(now);
    // The entry read by this call, unless the sweep or an eviction of an earlier rule removed it since.
    const entry = found !== undefined && this.#list[found.index] === found ? found : undefined;
    if (state === undefined || expiresAt <= now) {
      if (entry !== undefined) this.#remove(entry);
      return;
    }
    if (entry !== undefined) {
      entry.state = state;
      entry.expiresAt = expiresAt;
      // Keep the first rule object while the signature is the same: the call's own one then dies young.
      if (!sameSignature(entry.rule, rule)) entry.rule = rule;
      this.#setExpiry(entry.index, expiresAt);
      return;
    }
    if (this.#list.length >= this.#maxKeys) this.#evictOne(now);
    const shard = this.#shardOf(rule.key);
    const created: Entry = { key: rule.key, state, expiresAt, rule, index: this.#list.length, shard };
    this.#list.push(created);
    this.#setExpiry(created.index, expiresAt);
    (this.#shards[shard] as Map<string, Entry>).set(rule.key, created);
  }

  #setExpiry(at: number, expiresAt: number): void {
    let chunk = this.#expiry[at >>> EXPIRY_SHIFT];
    if (chunk === undefined) {
      chunk = new Float64Array(EXPIRY_MASK + 1);
      this.#expiry.push(chunk);
    }
    chunk[at & EXPIRY_MASK] = expiresAt;
  }

  #shardOf(key: string): number {
    return this.#mask === 0 ? 0 : shardOf(key) & this.#mask;
  }

  #remove(entry: Entry): void {
    (this.#shards[entry.shard] as Map<string, Entry>).delete(entry.key);
    const last = this.#list.pop() as Entry;
    if (last !== entry) {
      this.#list[entry.index] = last;
      last.index = entry.index;
      this.#setExpiry(entry.index, last.expiresAt);
    }
  }

  /** A few entries past the cursor: expired ones are removed, so no call ever walks the whole store. */
  #sweepSlice(now: number): void {
    for (let n = 0; n < SWEEP_PER_WRITE; n++) {
      if (this.#cursor >= this.#list.length) this.#cursor = 0;
      const at = this.#cursor;
      if (at >= this.#list.length) break;
      // A removed entry's place takes the last one, not yet looked at in this pass: stay on it.
      if (((this.#expiry[at >>> EXPIRY_SHIFT] as Float64Array)[at & EXPIRY_MASK] as number) <= now) {
        this.#remove(this.#list[at] as Entry);
      } else this.#cursor++;
    }
    this.#floors.pruneSlice(now);
  }

  /** Evicts the entry with the lowest used fraction of a random sample, keeping what it counted as a floor. */
  #evictOne(now: number): void {
    const list = this.#list;
    let victim: Entry | undefined;
    let lowest = Number.POSITIVE_INFINITY;
    let victimUsed = 0;
    for (let n = 0; n < SAMPLE; n++) {
      const entry = list[Math.floor(Math.random() * list.length)] as Entry;
      const used = usedAt(entry, now);
      const fraction = used / entry.rule.limit;
      if (fraction < lowest) [victim, lowest, victimUsed] = [entry, fraction, used];
      if (fraction <= 0) break;
    }
    if (victim === undefined) return;
    this.#remove(victim);
    if (victimUsed > 0) this.#floors.raise(victim.rule, victimUsed, victim.expiresAt, now);
  }
}

function sameSignature(a: StoreRule, b: StoreRule): boolean {
  return (
    a.limit === b.limit &&
    a.resetAt === b.resetAt &&
    a.expireAt === b.expireAt &&
    a.windowMs === b.windowMs &&
    a.algorithm === b.algorithm
  );
}

/**
 * What an entry counts at `now` (millionths), rounded up: 0 once it has expired or its calendar period
 * has ended (no later call reads that key).
 */
function usedAt(entry: Entry, now: number): number {
  const { rule, state } = entry;
  if (entry.expiresAt <= now || (rule.algorithm === 'fixed' && now >= rule.resetAt)) return 0;
  if (state.algorithm === 'gcra') {
    // The algorithm rounds its answer to the nearest unit; a floor must not round down.
    return Math.max(0, Math.ceil((state.tat - now) / (rule.windowMs / rule.limit)));
  }
  // token-bucket's used is limit - floor(tokens), sliding-counter's the estimate the algorithm decides by.
  return Math.max(0, evaluateRule(rule, state, now, 0, '').before.used);
}

/**
 * Which shard of the index holds a key: FNV-1a of its hash tag (the identity, between the first `{` and
 * the next `}`), or of its first 64 characters if it has none, and its length.
 */
function shardOf(key: string): number {
  let from = key.indexOf('{') + 1;
  let to = from === 0 ? -1 : key.indexOf('}', from);
  if (to < 0) [from, to] = [0, Math.min(key.length, 64)];
  let h = 0x811c9dc5 ^ key.length;
  for (let i = from; i < to; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 15)) >>> 0;
}
