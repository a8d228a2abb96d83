import { fork } from 'node:child_process';
import { once } from 'node:events';

/** A running delay proxy: connect to `port` to reach the target with the added delay. */
export interface DelayProxy {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Starts a TCP proxy on 127.0.0.1 in front of `127.0.0.1:targetPort` that delays every chunk `delayMs` each
 * way (`proxy-child.ts`). It runs in a child process of its own, so that forwarding data never delays the
 * benchmark's own timers and replies.
 */
export async function startDelayProxy(targetPort: number, delayMs: number): Promise<DelayProxy> {
  // fork() passes on this process's execArgv, so the child runs under tsx too.
  const child = fork(new URL('./proxy-child.ts', import.meta.url), [String(targetPort), String(delayMs)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const [message] = (await Promise.race([
    once(child, 'message'),
    exited.then(([code]) => Promise.reject(new Error(`the delay proxy exited (${code}) before it listened`))),
  ])) as [{ port: number }];
  return {
    port: message.port,
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
