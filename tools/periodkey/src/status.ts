import type { Algorithm, ParsedKey } from '@periodkey/ratelimit';
import type { Rule } from '@periodkey/ratelimit/keys';
import {
  algorithmOfKey,
  decodeState,
  readCommand,
  storageLayout,
  storageLayouts,
  type Usage,
  usageOf,
} from '@periodkey/ratelimit/storage';
import type { Key, Shard } from './backend.js';
import type { Context, Outcome } from './context.js';
import { displayKey, displayText, formatCount, formatDuration } from './format.js';
import type { Probe } from './preflight.js';
import { estimateMatching } from './progress.js';

const SCAN_COUNT = 1000;
/** What `status` reads: each key's value in its algorithm's layout (one probe per command), and its TTL. */
const PROBES: readonly Probe[] = [
  ...new Map(
    storageLayouts().map((layout) => {
      const [name, , ...args] = readCommand('', layout);
      return [name, [name, ...args] as const];
    }),
  ).values(),
  ['PTTL'],
];

export interface StatusFlags {
  readonly match: string;
  readonly top: number;
  /** The SDK's rules by name (`--rule monthly=10/month`): their keys show what remains. */
  readonly rules: ReadonlyMap<string, Rule>;
}

interface Row {
  readonly key: Key;
  readonly parsed: ParsedKey;
  readonly algorithm: Algorithm;
  /** `undefined`: the value is not what the algorithm stores. */
  readonly usage: Usage | undefined;
  readonly pttl: number;
}

const usedOf = (row: Row) => row.usage?.used;

/** Highest use first; keys whose use is unknown after every other. */
function before(a: Row, b: Row): boolean {
  const [x, y] = [usedOf(a), usedOf(b)];
  if (x !== undefined && y !== undefined && x !== y) return x > y;
  if ((x === undefined) !== (y === undefined)) return x !== undefined;
  return String(a.key) < String(b.key);
}

/** The `size` first rows seen so far, in order: memory stays flat whatever the number of keys. */
class Top {
  readonly rows: Row[] = [];

  constructor(private readonly size: number) {}

  add(row: Row): void {
    const at = this.rows.findIndex((other) => before(row, other));
    if (at === -1) {
      if (this.rows.length < this.size) this.rows.push(row);
      return;
    }
    this.rows.splice(at, 0, row);
    if (this.rows.length > this.size) this.rows.pop();
  }
}

function identityOf(parsed: ParsedKey): string {
  return parsed.identity.kind === 'token'
    ? `token ${parsed.identity.hash}`
    : displayText(parsed.identity.value);
}

function periodOf(parsed: ParsedKey): string {
  return parsed.period.kind === 'calendar' ? parsed.period.periodId : parsed.period.tag;
}

function resetsIn(row: Row, now: number): string {
  if (row.pttl === -1) return 'no TTL';
  if (row.pttl < 0) return 'gone';
  const reset = row.usage?.reset;
  return formatDuration(Math.max(0, (reset ?? now + row.pttl) - now));
}

const amount = (n: number | undefined) => (n === undefined ? '-' : formatCount(n));

function table(rows: readonly Row[], now: number): string[] {
  const header = ['IDENTITY', 'SCOPE', 'RULE', 'PERIOD', 'USED', 'REMAINING', 'RESETS IN'];
  const cells = rows.map((row) => [
    identityOf(row.parsed),
    displayText(row.parsed.scope) || '-',
    row.parsed.rule,
    periodOf(row.parsed),
    row.usage === undefined ? `(not ${row.algorithm})` : amount(row.usage.used),
    amount(row.usage?.remaining),
    resetsIn(row, now),
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...cells.map((line) => line[i]?.length ?? 0)),
  );
  const align = (line: readonly string[]) =>
    line
      .map((cell, i) => (i === 4 || i === 5 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [align(header), ...cells.map(align)];
}

/**
 * `status`: the top periodkey keys under the pattern by use, with identity, scope, rule and time to reset.
 * Values are decoded by `@periodkey/ratelimit`'s storage module, which owns their format.
 */
export async function statusCommand(ctx: Context, flags: StatusFlags): Promise<number> {
  const { parseKey } = await import('@periodkey/ratelimit');
  const counts = { keysScanned: 0, keysDeleted: 0, keysKept: 0 };
  let periodkeyKeys = 0;
  const top = new Top(flags.top);

  async function visit(shard: Shard): Promise<void> {
    let cursor = '0';
    do {
      const page = await shard.scan(cursor, flags.match, SCAN_COUNT);
      cursor = page.cursor;
      counts.keysScanned += page.keys.length;
      counts.keysKept += page.keys.length;
      const found: { key: Key; parsed: ParsedKey; algorithm: Algorithm }[] = [];
      for (const key of page.keys) {
        const parsed = typeof key === 'string' ? parseKey(key) : null;
        if (parsed) found.push({ key, parsed, algorithm: algorithmOfKey(parsed) });
      }
      periodkeyKeys += found.length;
      if (found.length === 0) continue;
      const readings = await shard.read(
        found.map(({ key }) => key),
        found.map(({ algorithm }) => storageLayout(algorithm)),
      );
      const now = Date.now();
      for (const [i, { key, parsed, algorithm }] of found.entries()) {
        const reading = readings[i];
        if (!reading || reading.pttl === -2) continue; // gone since the scan
        const state = reading.stored && decodeState(algorithm, reading.stored);
        const rule = flags.rules.get(parsed.rule);
        const expireAt = reading.pttl >= 0 ? now + reading.pttl : undefined;
        const usage = state && usageOf(state, { now, expireAt, ...(rule ? { rule } : {}) });
        top.add({ key, parsed, algorithm, usage, pttl: reading.pttl });
      }
    } while (cursor !== '0' && !ctx.signal.aborted);
  }

  return ctx.session('status', { match: flags.match, probes: PROBES }, async (backend): Promise<Outcome> => {
    const total = await estimateMatching(backend, flags.match);
    await ctx.track(counts, total, () => Promise.all(backend.shards.map(visit)));
    const now = Date.now();
    for (const row of top.rows) {
      const usage = row.usage;
      ctx.output.record(
        'status.key',
        `${identityOf(row.parsed)} ${row.parsed.rule} ${periodOf(row.parsed)}: ${amount(usage?.used)}`,
        {
          key: displayKey(row.key),
          identity: identityOf(row.parsed),
          scope: row.parsed.scope,
          rule: row.parsed.rule,
          period: periodOf(row.parsed),
          algorithm: row.algorithm,
          count: usage?.used ?? null,
          remaining: usage?.remaining ?? null,
          limit: usage?.limit ?? null,
          reset: usage?.reset ?? null,
          ttl_ms: row.pttl,
        },
      );
    }
    ctx.output.text(table(top.rows, now));
    const legacyKeys = counts.keysScanned - periodkeyKeys;
    return {
      counts,
      status: ctx.signal.aborted ? 'interrupted' : 'success',
      summary: `${formatCount(counts.keysScanned)} keys match: ${formatCount(periodkeyKeys)} periodkey keys, ${formatCount(legacyKeys)} legacy keys`,
      fields: { periodkey_keys: periodkeyKeys, legacy_keys: legacyKeys },
    };
  });
}
