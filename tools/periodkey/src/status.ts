import type { ParsedKey } from '@periodkey/ratelimit';
import type { Key, Shard } from './backend.js';
import type { Context, Outcome } from './context.js';
import { displayKey, displayText, formatCount, formatDuration } from './format.js';

const SCAN_COUNT = 1000;
/** periodkey stores amounts as integer millionths of a unit: 3 requests are `"3000000"`. */
const UNIT = 1_000_000;

export interface StatusFlags {
  readonly match: string;
  readonly top: number;
}

interface Row {
  readonly key: Key;
  readonly parsed: ParsedKey;
  readonly type: string;
  /** The count in units, for a string counter; `null` for any other value. */
  readonly count: number | null;
  readonly pttl: number;
}

/** Highest count first; keys without a count (other types) after every counter. */
function before(a: Row, b: Row): boolean {
  if (a.count !== null && b.count !== null && a.count !== b.count) return a.count > b.count;
  if ((a.count === null) !== (b.count === null)) return a.count !== null;
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

function countOf(type: string, value: string | null): number | null {
  return type === 'string' && value !== null && /^-?\d+$/.test(value) ? Number(value) / UNIT : null;
}

function resetsIn(pttl: number): string {
  if (pttl === -1) return 'no TTL';
  if (pttl < 0) return 'gone';
  return formatDuration(pttl);
}

function table(rows: readonly Row[]): string[] {
  const header = ['IDENTITY', 'SCOPE', 'RULE', 'PERIOD', 'COUNT', 'RESETS IN'];
  const cells = rows.map((row) => [
    identityOf(row.parsed),
    displayText(row.parsed.scope) || '-',
    row.parsed.rule,
    periodOf(row.parsed),
    row.count === null ? `(${row.type})` : formatCount(row.count),
    resetsIn(row.pttl),
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...cells.map((line) => line[i]?.length ?? 0)),
  );
  const align = (line: readonly string[]) =>
    line
      .map((cell, i) => (i === 4 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [align(header), ...cells.map(align)];
}

/** `status`: the top periodkey keys under the pattern by count, with identity, scope, rule and time to reset. */
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
      const found: { key: Key; parsed: ParsedKey }[] = [];
      for (const key of page.keys) {
        const parsed = typeof key === 'string' ? parseKey(key) : null;
        if (parsed) found.push({ key, parsed });
      }
      periodkeyKeys += found.length;
      if (found.length === 0) continue;
      const readings = await shard.read(found.map(({ key }) => key));
      for (const [i, { key, parsed }] of found.entries()) {
        const reading = readings[i];
        if (!reading || reading.type === 'none') continue;
        top.add({
          key,
          parsed,
          type: reading.type,
          count: countOf(reading.type, reading.value),
          pttl: reading.pttl,
        });
      }
    } while (cursor !== '0' && !ctx.signal.aborted);
  }

  return ctx.session('status', async (backend): Promise<Outcome> => {
    await ctx.track(counts, await backend.dbsize(), () => Promise.all(backend.shards.map(visit)));
    for (const row of top.rows) {
      const count = row.count === null ? row.type : formatCount(row.count);
      ctx.output.record(
        'status.key',
        `${identityOf(row.parsed)} ${row.parsed.rule} ${periodOf(row.parsed)}: ${count}`,
        {
          key: displayKey(row.key),
          identity: identityOf(row.parsed),
          scope: row.parsed.scope,
          rule: row.parsed.rule,
          period: periodOf(row.parsed),
          type: row.type,
          count: row.count,
          ttl_ms: row.pttl,
        },
      );
    }
    ctx.output.text(table(top.rows));
    const legacyKeys = counts.keysScanned - periodkeyKeys;
    return {
      counts,
      status: ctx.signal.aborted ? 'interrupted' : 'success',
      summary: `${formatCount(counts.keysScanned)} keys match: ${formatCount(periodkeyKeys)} periodkey keys, ${formatCount(legacyKeys)} legacy keys`,
      fields: { periodkey_keys: periodkeyKeys, legacy_keys: legacyKeys },
    };
  });
}
