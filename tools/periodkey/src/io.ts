/** A stream the CLI writes to; `isTTY` as on `process.stdout` (a terminal gets the progress bar). */
export interface OutStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
}

/** Everything `run` touches outside itself, so that tests can run it in-process. */
export interface Io {
  readonly stdout: OutStream & NodeJS.WritableStream;
  readonly stderr: OutStream & NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted on SIGINT or SIGTERM: the run stops scanning, finishes what is in flight, and exits 130. */
  readonly signal?: AbortSignal;
  /** Aborted on a second signal: the run stops at once, writes its summary, and resolves to 130. */
  readonly halt?: AbortSignal;
}
