import { rename, writeFile } from 'node:fs/promises';

export interface RunMetrics {
  readonly command: string;
  readonly status: string;
  readonly keysScanned: number;
  readonly keysDeleted: number;
  readonly durationMs: number;
}

/**
 * Writes the run's metrics in the Prometheus text format, for node_exporter's textfile collector or a
 * Pushgateway. Written to a temporary file and renamed, so a scrape never reads half a file.
 */
export async function writeMetrics(path: string, m: RunMetrics): Promise<void> {
  const gauges: [name: string, help: string, value: number][] = [
    ['rate_limit_flush_keys_deleted', 'Keys deleted by the last periodkey run.', m.keysDeleted],
    [
      'rate_limit_flush_keys_scanned',
      'Keys matching the pattern seen by the last periodkey run.',
      m.keysScanned,
    ],
    ['rate_limit_flush_duration_seconds', 'Duration of the last periodkey run.', m.durationMs / 1000],
    [
      'rate_limit_flush_success',
      '1 if the last periodkey run succeeded, 0 otherwise.',
      m.status === 'success' ? 1 : 0,
    ],
    [
      'rate_limit_flush_last_run_timestamp_seconds',
      'When the last periodkey run ended.',
      Math.floor(Date.now() / 1000),
    ],
  ];
  const text = gauges
    .map(
      ([name, help, value]) =>
        `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name}{command="${m.command}"} ${value}\n`,
    )
    .join('');
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}
