import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { clock } from './live.js';
import { peakRssMb, type SchedTimes, schedTimes } from './proc.js';

const BIN = fileURLToPath(new URL('../../tools/periodkey/dist/bin.js', import.meta.url));
const POLL_MS = 20;

/** The summary, the last line of `--json` output. */
export interface CliSummary {
  readonly event: string;
  readonly keys_scanned: number;
  readonly keys_deleted: number;
  readonly keys_kept: number;
  readonly duration_ms: number;
  readonly status: string;
}

export interface CliRun {
  readonly summary: CliSummary;
  /** When (epoch ms) the CLI printed its first line (connected, about to scan), and when it exited. */
  readonly startedAt: number;
  readonly endedAt: number;
  /** From spawning to exit, including Node's start-up. */
  readonly wallMs: number;
  /** Peak RSS (VmHWM), CPU and run-queue time, as last read from /proc before the process exited. */
  readonly peakRssMb: number;
  readonly sched: SchedTimes;
}

/**
 * Runs the built `periodkey` CLI with `args` (plus `--json`) as a child process, reading its peak RSS and
 * CPU time from /proc until it exits. Throws if it fails.
 */
export async function runCli(args: readonly string[]): Promise<CliRun> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm build\` first`);
  const spawnedAt = clock();
  const child = spawn(process.execPath, [BIN, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the CLI');
  let stdout = '';
  let stderr = '';
  let startedAt = Number.NaN;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    if (Number.isNaN(startedAt)) startedAt = clock();
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let rss = 0;
  let sched: SchedTimes = { cpuMs: 0, waitMs: 0 };
  let polling = Promise.resolve();
  const poll = setInterval(() => {
    polling = Promise.all([peakRssMb(pid), schedTimes(pid)]).then(
      ([r, s]) => {
        rss = r;
        sched = s;
      },
      () => {}, // gone between two polls
    );
  }, POLL_MS);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const endedAt = clock();
  clearInterval(poll);
  await polling;
  const last = stdout.trim().split('\n').at(-1) ?? '';
  if (code !== 0) throw new Error(`periodkey ${args.join(' ')} exited with ${code}:\n${last}\n${stderr}`);
  return {
    summary: JSON.parse(last) as CliSummary,
    startedAt,
    endedAt,
    wallMs: endedAt - spawnedAt,
    peakRssMb: rss,
    sched,
  };
}
