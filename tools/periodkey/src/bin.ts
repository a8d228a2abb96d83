#!/usr/bin/env node
import { run } from './run.js';

// The first SIGINT or SIGTERM asks the run to stop: it finishes the batches in flight, prints the summary
// with "status": "interrupted" and exits 130. A second one stops it at once, still with the summary.
const stop = new AbortController();
const halt = new AbortController();
const onSignal = () => (stop.signal.aborted ? halt : stop).abort();
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const code = await run(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: stop.signal,
  halt: halt.signal,
});
process.exit(code);
