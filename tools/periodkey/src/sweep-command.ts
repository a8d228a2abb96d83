import type { Key } from './backend.js';
import { type CarryFlags, planCarry } from './carry.js';
import type { Context, Outcome } from './context.js';
import { displayKey, formatCount } from './format.js';
import { DELETE, type Probe, TYPE } from './preflight.js';
import { estimateMatching } from './progress.js';
import { confirm } from './prompt.js';
import { RateCap } from './rate.js';
import { Sweep, type SweepOptions } from './sweep.js';

/** `migrate` keeps periodkey keys; `flush` keeps nothing. */
export type SweepKind = 'migrate' | 'flush';

export interface SweepFlags {
  readonly match: string;
  readonly dryRun: boolean;
  /** Confirmed on the command line; otherwise the caller made sure there is a terminal to ask on. */
  readonly yes: boolean;
  readonly batchSize: number;
  readonly rate: number | undefined;
  readonly maxDelete: number | undefined;
  /** `migrate --carry-over`. */
  readonly carry: CarryFlags | undefined;
}

async function keeper(kind: SweepKind): Promise<(key: Key) => boolean> {
  if (kind === 'flush') return () => false;
  const { isPeriodkeyKey } = await import('@periodkey/ratelimit');
  // Bytes that are not UTF-8 were never written by periodkey.
  return (key) => typeof key === 'string' && isPeriodkeyKey(key);
}

function typeList(types: ReadonlyMap<string, number>): string {
  return [...types].map(([type, count]) => `${type} ${formatCount(count)}`).join(', ') || 'none';
}

/** `migrate` and `flush`: scan, delete what matches and is not kept, report. Resolves to the exit code. */
export async function sweepCommand(ctx: Context, kind: SweepKind, flags: SweepFlags): Promise<number> {
  const { match, dryRun } = flags;
  const options: SweepOptions = {
    match,
    keep: await keeper(kind),
    action: dryRun ? 'inspect' : 'delete',
    batchSize: flags.batchSize,
    maxDelete: flags.maxDelete,
    rate: flags.rate === undefined ? undefined : new RateCap(flags.rate),
    carry: flags.carry && (await planCarry(flags.carry, Date.now())),
    signal: ctx.signal,
  };
  const carrying = options.carry !== undefined;
  const fields = (sweep: Sweep) => ({
    dry_run: dryRun,
    ...(carrying ? { keys_carried: dryRun ? 0 : sweep.keysCarried } : {}),
  });
  // What the run will send on matching keys: checked before anything is deleted.
  const probes: Probe[] = dryRun ? [TYPE] : carrying ? [DELETE, ['GETDEL'], ['SET', '0', 'XX']] : [DELETE];
  return ctx.session(kind, { match, probes }, async (backend): Promise<Outcome> => {
    const total = await estimateMatching(backend, match);
    ctx.output.event(
      `${kind}.started`,
      `${kind}${dryRun ? ' --dry-run' : ''}: keys matching ${JSON.stringify(match)} on ${backend.label}`,
      {
        target: backend.label,
        match,
        dry_run: dryRun,
        batch_size: flags.batchSize,
        rate: flags.rate ?? null,
        max_delete: flags.maxDelete ?? null,
        keys_estimated: total ?? null,
        ...(flags.carry ? { carry_over: { ...flags.carry } } : {}),
      },
    );

    if (!dryRun && !flags.yes) {
      const count = new Sweep({ ...options, action: 'count' });
      if ((await ctx.track(count, total, () => count.run(backend))) === 'interrupted') {
        return { counts: count, status: 'interrupted', fields: fields(count) };
      }
      const question = `Delete ${formatCount(count.keysToDelete)} keys matching ${JSON.stringify(match)} on ${backend.label}? [y/N] `;
      if (count.keysToDelete > 0 && !(await confirm(ctx.io, question))) {
        const status = ctx.signal.aborted ? 'interrupted' : 'failure';
        return { counts: count, status, error: 'not confirmed; nothing was deleted', fields: fields(count) };
      }
    }

    const sweep = new Sweep(options);
    const end = await ctx.track(sweep, total, () => sweep.run(backend));
    if (dryRun) {
      const sample = sweep.sample.map(displayKey);
      ctx.output.event(
        `${kind}.plan`,
        `would delete ${formatCount(sweep.keysToDelete)} keys (${typeList(sweep.types)}) and keep ${formatCount(sweep.keysKept)}; for example:`,
        {
          keys_to_delete: sweep.keysToDelete,
          types: Object.fromEntries(sweep.types),
          sample,
          ...(carrying ? { keys_to_carry: sweep.keysCarried } : {}),
        },
        'INFO',
        true,
      );
      ctx.output.text(sample.map((key) => `  ${key}`));
    }
    const skipped = backend.skipped?.();
    if (skipped && skipped.count > 0) {
      ctx.output.event(
        `${kind}.warning`,
        `left ${formatCount(skipped.count)} keys whose names are not valid UTF-8, which Upstash REST cannot name; delete them with redis-cli, e.g. ${skipped.examples.map(displayKey).join(', ')}`,
        { keys_skipped: skipped.count, sample: skipped.examples.map(displayKey) },
        'WARNING',
      );
    }
    if (end === 'max-delete') {
      const error = `stopped at --max-delete ${flags.maxDelete}: more matching keys remain; look at them with --dry-run, then raise --max-delete`;
      return { counts: sweep, status: 'failure', error, fields: fields(sweep) };
    }
    const status = end === 'interrupted' ? 'interrupted' : 'success';
    if (!dryRun && carrying) {
      const summary = `deleted ${formatCount(sweep.keysDeleted)} (carried ${formatCount(sweep.keysCarried)} counts over), kept ${formatCount(sweep.keysKept)}, scanned ${formatCount(sweep.keysScanned)}`;
      return { counts: sweep, status, summary, fields: fields(sweep) };
    }
    if (!dryRun) return { counts: sweep, status, fields: fields(sweep) };
    const summary = `nothing deleted (dry run): would delete ${formatCount(sweep.keysToDelete)}, keep ${formatCount(sweep.keysKept)}, scanned ${formatCount(sweep.keysScanned)}`;
    return { counts: sweep, status, summary, fields: fields(sweep) };
  });
}
