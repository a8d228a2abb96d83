import { createInterface } from 'node:readline';
import type { Io } from './io.js';

/** Asks a yes/no question on the terminal; anything but `y`/`yes`, end of input or an abort is no. */
export async function confirm(io: Io, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, terminal: false });
  const abort = () => rl.close();
  io.signal?.addEventListener('abort', abort, { once: true });
  try {
    return await new Promise<boolean>((resolve) => {
      rl.once('close', () => resolve(false));
      rl.once('line', (answer) => resolve(/^y(es)?$/i.test(answer.trim())));
      io.stderr.write(question);
    });
  } finally {
    io.signal?.removeEventListener('abort', abort);
    rl.close();
  }
}
