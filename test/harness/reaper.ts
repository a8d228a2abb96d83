import { type ChildProcess, spawn } from 'node:child_process';

// A watchdog process that outlives us only long enough to kill the servers we started. It reads
// "+pid" / "-pid" lines on stdin; when stdin closes (we exited, crashed, were killed by SIGKILL or
// interrupted by Ctrl-C) it sends SIGCONT then SIGKILL to every pid still tracked.
const WATCHDOG = `
const pids = new Set();
let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    const pid = Number(line.slice(1));
    if (line[0] === '+') pids.add(pid); else pids.delete(pid);
  }
});
process.stdin.on('close', () => {
  for (const pid of pids) {
    try { process.kill(pid, 'SIGCONT'); process.kill(pid, 'SIGKILL'); } catch {}
  }
  process.exit(0);
});
`;

let watchdog: ChildProcess | undefined;

function send(line: string): void {
  if (!watchdog) {
    watchdog = spawn(process.execPath, ['-e', WATCHDOG], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    watchdog.unref();
    // The pipe must not keep this process alive; it closes when we exit, which is the signal.
    (watchdog.stdin as unknown as { unref?: () => void }).unref?.();
  }
  watchdog.stdin?.write(`${line}\n`);
}

/** Makes sure `pid` is killed when this process ends, however it ends. */
export function track(pid: number): void {
  send(`+${pid}`);
}

/** The process ended normally; stop tracking it so a reused pid is never killed. */
export function untrack(pid: number): void {
  send(`-${pid}`);
}
