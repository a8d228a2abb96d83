import { MICRO } from '../amounts.js';
import type { StorageLayout, StoredValue } from './format.js';

// How a tool outside the SDK reads a key in its layout and adds to a calendar counter, as commands that
// any client sends. The limiter itself does both inside its Lua script (`script.ts`).

/** A Redis command: its name, the key, then its arguments. */
export type RedisCommand<K = string> = readonly [name: string, key: K, ...args: string[]];

/**
 * The command that reads a key in `layout`: GET, HMGET of the layout's fields, or ZRANGE WITHSCORES. Its
 * reply becomes a {@link StoredValue} by {@link storedValue}.
 */
export function readCommand<K>(key: K, layout: StorageLayout): RedisCommand<K> {
  if (layout.type === 'string') return ['GET', key];
  if (layout.type === 'hash') return ['HMGET', key, ...layout.fields];
  return ['ZRANGE', key, '0', '-1', 'WITHSCORES'];
}

/**
 * The reply of {@link readCommand} as a stored value; `undefined` for a key that is gone. HMGET's reply may
 * also be an object by field (as clients that decode replies give it).
 */
export function storedValue(layout: StorageLayout, reply: unknown): StoredValue | undefined {
  if (layout.type === 'string') return reply == null ? undefined : { type: 'string', value: String(reply) };
  if (layout.type === 'hash') {
    const values = Array.isArray(reply)
      ? reply
      : layout.fields.map((f) => (reply as Record<string, unknown> | null)?.[f]);
    if (values.every((v) => v == null)) return undefined;
    return {
      type: 'hash',
      fields: Object.fromEntries(
        layout.fields.map((f, i) => [f, values[i] == null ? null : String(values[i])]),
      ),
    };
  }
  const flat = (reply ?? []) as unknown[];
  if (flat.length === 0) return undefined;
  const entries = [];
  for (let i = 0; i < flat.length; i += 2)
    entries.push({ member: String(flat[i]), score: Number(flat[i + 1]) });
  return { type: 'zset', entries };
}

/**
 * A whole count of units as a calendar counter holds it, in millionths ({@link MICRO} per unit);
 * `undefined` for a count that is not a whole number of units from 0, or too large to hold exactly.
 */
export function counterAmount(units: number): number | undefined {
  const amount = units * MICRO;
  return Number.isInteger(units) && units >= 0 && Number.isSafeInteger(amount) ? amount : undefined;
}

/** An amount to add to a calendar counter (a `fixed` rule's key), such as a migration's carry-over. */
export interface CounterAdd {
  readonly key: string;
  /** In millionths: see {@link counterAmount}. */
  readonly amount: number;
  /** When the counter expires if this creates it (epoch ms): its period's end and grace, `keyExpiry(period)`. */
  readonly expireAt: number;
}

/**
 * The commands that add to a calendar counter as the limiter counts. Send `create` (`SET NX PXAT`: the
 * counter holding the amount, expiring at its absolute expiry); where it answers nil, the counter exists
 * (the limiter counted this period already) and `increment` (`INCRBY`, which keeps its TTL) adds to it.
 */
export function counterCommands(add: CounterAdd): {
  readonly create: RedisCommand;
  readonly increment: RedisCommand;
} {
  const amount = String(add.amount);
  return {
    create: ['SET', add.key, amount, 'PXAT', String(add.expireAt), 'NX'],
    increment: ['INCRBY', add.key, amount],
  };
}
