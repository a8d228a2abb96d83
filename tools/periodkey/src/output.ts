import type { Io } from './io.js';

export type LogFormat = 'json' | 'gcp' | 'pretty';
export type Severity = 'INFO' | 'WARNING' | 'ERROR';
export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

/**
 * Where every line goes. `json`: one JSON object per stdout line, `{ event, ...fields }`. `gcp`: the same
 * with Google Cloud Logging's `severity` and `message` first. `pretty`: messages for people on stderr, the
 * result on stdout. Every line is scrubbed of the connection's secrets before it is written.
 */
export class Output {
  constructor(
    private readonly io: Io,
    readonly format: LogFormat,
    /** Never printed: scrubbed from every line (the target's password and token, once known). */
    readonly secrets: string[],
  ) {}

  private scrub(line: string): string {
    let clean = line;
    for (const secret of this.secrets) clean = clean.split(secret).join('***');
    return clean;
  }

  /**
   * One event. In `pretty`, `message` goes to stderr, or to stdout with `result` (the outcome of a command,
   * what a script would capture).
   */
  event(
    event: string,
    message: string,
    fields: Readonly<Record<string, Json>>,
    severity: Severity = 'INFO',
    result = false,
  ): void {
    if (this.format === 'pretty') {
      (result ? this.io.stdout : this.io.stderr).write(`${this.scrub(message)}\n`);
      return;
    }
    const line = this.format === 'gcp' ? { severity, message, event, ...fields } : { event, ...fields };
    this.io.stdout.write(`${this.scrub(JSON.stringify(line))}\n`);
  }

  /** A data line for machines (a status row): `json` and `gcp` only, where people get {@link text}. */
  record(event: string, message: string, fields: Readonly<Record<string, Json>>): void {
    if (this.format !== 'pretty') this.event(event, message, fields);
  }

  /** Text for people (the status table, a dry run's sample); `pretty` only. */
  text(lines: readonly string[]): void {
    if (this.format === 'pretty' && lines.length > 0)
      this.io.stdout.write(`${this.scrub(lines.join('\n'))}\n`);
  }
}
