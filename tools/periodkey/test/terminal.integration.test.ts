import { PassThrough } from 'node:stream';
import { servers, testPrefix } from '@periodkey/test';
import { Redis } from 'ioredis';
import { afterAll, expect, test } from 'vitest';
import { type Io, run } from '../src/index.js';
import { existing, writeDataSet } from './helpers.js';

// What a person at a terminal sees: the confirmation prompt and the progress bar. `run` in-process, with
// streams that say they are terminals.

const client = new Redis(servers().redis.url);
afterAll(() => client.disconnect());

class Terminal extends PassThrough {
  readonly isTTY = true;
  readonly columns = 160;
  text = '';

  constructor() {
    super();
    this.setEncoding('utf8').on('data', (chunk: string) => {
      this.text += chunk;
    });
  }
}

function terminal(answer?: string): Io & { stdout: Terminal; stderr: Terminal } {
  const [stdin, stdout, stderr] = [new Terminal(), new Terminal(), new Terminal()];
  if (answer !== undefined) {
    // Answers once the question is on the screen, as a person would.
    stderr.on('data', () => {
      if (stderr.text.includes('[y/N]') && stdin.writableLength === 0 && !stdin.writableEnded)
        stdin.end(`${answer}\n`);
    });
  }
  return { stdin, stdout, stderr, env: { REDIS_URL: servers().redis.url } };
}

test('on a terminal, it counts the keys, asks, and deletes on "y"', async () => {
  const prefix = testPrefix();
  const data = await writeDataSet(client, prefix, { bulk: 100 });
  const io = terminal('y');

  const code = await run(['migrate', '--match', `${prefix}:*`], io);

  expect(code).toBe(0);
  expect(io.stderr.text).toContain(
    `Delete ${data.legacy.length} keys matching "${prefix}:*" on redis://127.0.0.1:`,
  );
  expect(io.stdout.text).toContain(`migrate: deleted ${data.legacy.length}, kept ${data.periodkey.length}`);
  expect(await existing(client, data.legacy)).toBe(0);
});

test('anything but "y" deletes nothing and fails', async () => {
  const prefix = testPrefix();
  const data = await writeDataSet(client, prefix, { bulk: 100 });
  const io = terminal('n');

  const code = await run(['flush', '--match', `${prefix}:*`], io);

  expect(code).toBe(1);
  expect(io.stderr.text).toContain('flush failed: not confirmed; nothing was deleted');
  expect(await existing(client, data.legacy)).toBe(data.legacy.length);
});

test('on a terminal, a progress bar shows what was scanned and deleted', async () => {
  const prefix = testPrefix();
  const data = await writeDataSet(client, prefix, { bulk: 500 });
  const io = terminal();

  const code = await run(['flush', '--yes', '--match', `${prefix}:*`], io);

  expect(code).toBe(0);
  const deleted = data.legacy.length + data.periodkey.length;
  // The final frame of the bar: 100% of what the scan found, counts and rate.
  expect(io.stderr.text).toMatch(
    new RegExp(
      `100% \\| scanned ${deleted}/~${deleted} \\| deleted ${deleted.toLocaleString('en-US')} \\| [\\d,]+ keys/s`,
    ),
  );
  expect(io.stdout.text).toContain(`flush: deleted ${deleted.toLocaleString('en-US')}`);
});
