export type { Io, OutStream } from './io.js';
export { run } from './run.js';
