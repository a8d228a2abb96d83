import type { Redis } from 'ioredis';

/** One command's line of INFO commandstats since the last CONFIG RESETSTAT. */
export interface CommandStat {
  readonly calls: number;
  readonly usec: number;
  readonly usec_per_call: number;
}

/** INFO commandstats of the given commands (lower case) that were called. */
export async function commandStats(
  redis: Redis,
  commands: readonly string[],
): Promise<Record<string, CommandStat>> {
  const info = await redis.info('commandstats');
  const stats: Record<string, CommandStat> = {};
  for (const [, name = '', calls, usec, perCall] of info.matchAll(
    /^cmdstat_(\w+):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/gm,
  )) {
    if (commands.includes(name))
      stats[name] = { calls: Number(calls), usec: Number(usec), usec_per_call: Number(perCall) };
  }
  return stats;
}

/** The commands in SLOWLOG: how many entries each, and the slowest. */
export interface SlowCommand {
  readonly command: string;
  readonly count: number;
  readonly max_ms: number;
}

/** SLOWLOG GET (all of it, up to slowlog-max-len), by command, but for SLOWLOG itself. */
export async function slowCommands(redis: Redis): Promise<SlowCommand[]> {
  const entries = (await redis.slowlog('GET', -1)) as [number, number, number, string[]][];
  const byCommand = new Map<string, { count: number; maxUs: number }>();
  for (const [, , micros, args] of entries) {
    const command = (args[0] ?? '?').toUpperCase();
    if (command === 'SLOWLOG') continue; // reading it, at the end
    const seen = byCommand.get(command) ?? { count: 0, maxUs: 0 };
    byCommand.set(command, { count: seen.count + 1, maxUs: Math.max(seen.maxUs, micros) });
  }
  return [...byCommand].map(([command, { count, maxUs }]) => ({ command, count, max_ms: maxUs / 1000 }));
}
