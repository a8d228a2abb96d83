import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';
import { track, untrack } from './reaper.js';

const run = promisify(execFile);

export interface RedisServerOptions {
  /** Extra `redis-server` arguments, e.g. `['--cluster-enabled', 'yes']`. */
  args?: readonly string[];
  /** Reserve port + 10000 too (cluster bus). */
  bus?: boolean;
}

/** One real `redis-server` process on 127.0.0.1, no persistence, in its own temporary directory. */
export interface RedisServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** Sends a signal: SIGKILL to crash it, SIGSTOP/SIGCONT to freeze and resume it. */
  signal(signal: NodeJS.Signals): void;
  /** Starts a fresh process on the same port (after a crash or a stop); data is gone. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function launch(port: number, dir: string, args: readonly string[]): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--logfile',
      '',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return whenLogged(child, 'Ready to accept connections', `redis-server on port ${port}`);
}

/**
 * Tracks a redis-server process (for the reaper) and resolves with it once its log shows `marker`; rejects
 * with the end of the log when it exits first.
 */
export async function whenLogged(child: ChildProcess, marker: string, what: string): Promise<ChildProcess> {
  if (child.pid !== undefined) track(child.pid);
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
      if (log.includes(marker)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`${what} exited (${code ?? signal}) before it was ready:\n${log}`)),
    );
  });
  // Keep draining the log so redis-server never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const args = options.args ?? [];
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(options.bus);
    const dir = await mkdtemp(join(tmpdir(), 'periodkey-redis-'));
    let child: ChildProcess;
    try {
      child = await launch(port, dir, args);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      // Another process may have taken the port between the check and the bind.
      if (attempt < 5 && String(error).includes('Address already in use')) continue;
      throw error;
    }
    const stopChild = async () => {
      const current = child;
      if (current.exitCode === null && current.signalCode === null) {
        current.kill('SIGCONT');
        current.kill('SIGKILL');
      }
      await exited(current);
      if (current.pid !== undefined) untrack(current.pid);
    };
    return {
      host: '127.0.0.1',
      port,
      url: `redis://127.0.0.1:${port}`,
      get pid() {
        return child.pid ?? -1;
      },
      signal: (signal) => {
        child.kill(signal);
      },
      restart: async () => {
        await stopChild();
        child = await launch(port, dir, args);
      },
      stop: async () => {
        await stopChild();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}

/**
 * Makes sure `redis-server` is on the PATH. Installs it with apt-get when running as root on Debian or
 * Ubuntu (saying so); otherwise throws with the command to run. Tests never skip for a missing server.
 */
export async function ensureRedisServer(): Promise<string> {
  const version = () => run('redis-server', ['--version']).then((r) => r.stdout.trim());
  try {
    return await version();
  } catch {
    const root = process.getuid?.() === 0;
    const apt = await run('sh', ['-c', 'command -v apt-get']).then(
      () => true,
      () => false,
    );
    if (!root || !apt) {
      throw new Error(
        'redis-server is not installed. Install it (Debian/Ubuntu: `sudo apt-get install -y redis-server`; ' +
          'macOS: `brew install redis`) and run the tests again.',
      );
    }
    console.log('redis-server is not installed; installing it: apt-get install -y redis-server');
    await run(
      'sh',
      ['-c', 'apt-get install -y redis-server || (apt-get update && apt-get install -y redis-server)'],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    return await version();
  }
}
