import type { Backend } from './backend.js';
import type { Timeouts } from './failure.js';
import type { Target } from './target.js';

/**
 * Loads only the client that the target needs (each takes a while to load) and resolves to the function
 * that connects with it, so that a run's duration counts connecting but not loading code.
 */
export async function connector(
  target: Target,
  timeouts: Timeouts,
  match: string,
): Promise<() => Promise<Backend>> {
  if (target.kind === 'upstash') {
    const { connectUpstash } = await import('./upstash-backend.js');
    return () => connectUpstash(target.url, target.token, timeouts, match);
  }
  const { connectRedis } = await import('./redis-backend.js');
  return () => connectRedis(target, timeouts, match);
}
