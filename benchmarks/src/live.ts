import { fork } from 'node:child_process';
import { once } from 'node:events';

/** One live call: when it was sent (epoch ms, sub-millisecond) and how long it took, in ms. */
export interface Sample {
  readonly at: number;
  readonly ms: number;
}

/** Open-loop traffic in progress. */
export interface LiveTraffic {
  /** Stops sending, waits for the calls in flight and returns every call. Throws if one failed. */
  stop(): Promise<Sample[]>;
}

/** Now as epoch ms with performance.now()'s resolution, comparable between processes. */
export const clock = () => performance.timeOrigin + performance.now();

/**
 * Starts a service's limit() calls against `url` at a steady `ratePerS` (`live-child.ts`), in a process of
 * its own: its timer and replies then never slow down the flush measured here, and the other way round.
 */
export async function startLiveTraffic(url: string, ratePerS: number): Promise<LiveTraffic> {
  // fork() passes on this process's execArgv, so the child runs under tsx too.
  const child = fork(new URL('./live-child.ts', import.meta.url), [url, String(ratePerS)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`the live traffic process exited (${code})`);
  });
  exited.catch(() => {}); // it exits after `stop`, once nobody waits for it
  await Promise.race([once(child, 'message'), exited]);
  return {
    stop: async () => {
      child.send('stop');
      const [reply] = (await Promise.race([once(child, 'message'), exited])) as [
        { samples: Sample[] } | { error: string },
      ];
      child.disconnect();
      if ('error' in reply) throw new Error(reply.error);
      return reply.samples;
    },
  };
}
