import { readFile } from 'node:fs/promises';

// What Linux tells about a process in /proc, for a child (the CLI) or redis-server.

/** Time a process has spent on a CPU, and waiting for one while runnable (the host's contention), in ms. */
export interface SchedTimes {
  readonly cpuMs: number;
  readonly waitMs: number;
}

export async function schedTimes(pid: number): Promise<SchedTimes> {
  const [cpuNs = 0, waitNs = 0] = (await readFile(`/proc/${pid}/schedstat`, 'utf8')).split(' ').map(Number);
  return { cpuMs: cpuNs / 1e6, waitMs: waitNs / 1e6 };
}

/** The process's peak resident set size so far (VmHWM), in MB. */
export async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(kb) / 1024;
}
