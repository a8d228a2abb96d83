#!/usr/bin/env node
import { run } from './run.js';

// The first SIGINT or SIGTERM asks the run to stop: it finishes the batches in flight, prints the summary
// with "status": "interrupted" and exits 130. A second one exits at once.
const controller = new AbortController();
const stop = () => {
  if (controller.signal.aborted) process.exit(130);
  controller.abort();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const code = await run(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
});
process.exit(code);
