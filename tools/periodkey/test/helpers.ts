import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildKey, type KeyParts } from '@periodkey/ratelimit';
import type { Cluster, Redis } from 'ioredis';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

export type Line = Record<string, unknown>;

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout, one parsed JSON object per line (throws on a line that is not one). */
  readonly lines: Line[];
  /** The last stdout line, parsed: the summary with `--json`. */
  readonly summary: Line;
}

export interface CliOptions {
  /** Extra environment; the child otherwise gets only PATH, so no REDIS_URL leaks in. */
  readonly env?: Readonly<Record<string, string>>;
  /** Called with the child for every complete JSON line on stdout, as it arrives. */
  readonly onLine?: (line: Line, child: ChildProcess) => void;
}

/** Runs the built CLI (`dist/bin.js`) as a child process, stdin not a terminal. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
      const text = pending.slice(0, end);
      pending = pending.slice(end + 1);
      if (options.onLine && text.startsWith('{')) options.onLine(JSON.parse(text) as Line, child);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const texts = stdout.split('\n').filter((line) => line !== '');
      const parse = () => texts.map((text) => JSON.parse(text) as Line);
      resolve({
        code,
        signal,
        stdout,
        stderr,
        get lines() {
          return parse();
        },
        get summary() {
          const last = parse().at(-1);
          if (!last) throw new Error(`no output on stdout; stderr:\n${stderr}`);
          return last;
        },
      });
    });
  });
}

type Client = Redis | Cluster;

export interface DataSet {
  /** Match the pattern and are not periodkey keys: `migrate` deletes them. */
  readonly legacy: readonly Buffer[];
  /** Match the pattern and are periodkey keys: `migrate` keeps them, `flush` deletes them. */
  readonly periodkey: readonly Buffer[];
  /** Do not match the pattern: nothing touches them. */
  readonly unrelated: readonly Buffer[];
  /** Legacy keys by type, as `--dry-run` should count them. */
  readonly legacyTypes: Readonly<Record<string, number>>;
}

export interface DataSetOptions {
  /**
   * Plain legacy string counters besides the odd ones, so that a run takes several pages and batches; half
   * as many periodkey counters are written. The keys that stay are then at least a third of the keys
   * written, so deleting the rest never makes Redis shrink its table mid-run, which would let SCAN return
   * some keys twice and make the summary's counts inexact.
   */
  readonly bulk?: number;
  /** Leave out key names that are not valid UTF-8 (REST cannot name them). */
  readonly utf8Only?: boolean;
}

const key = (text: string) => Buffer.from(text);

/** A token hash as periodkey writes it: 22 base64url characters. */
const TOKEN_HASH = 'AbCdEfGhIjKlMnOpQrStUv';

/**
 * Writes a mixed data set under `prefix` (the pattern is `${prefix}:*`): legacy strings, hashes, sorted
 * sets, lists and sets, some with a TTL; periodkey keys built with `buildKey` and written as the SDK writes
 * them (counter + PEXPIREAT, sorted set and hash for rolling rules); unrelated keys; and names with spaces,
 * newlines, braces, glob characters and non-ASCII bytes.
 */
export async function writeDataSet(
  client: Client,
  prefix: string,
  options: DataSetOptions = {},
): Promise<DataSet> {
  const bulk = options.bulk ?? 600;
  const expireAt = Date.now() + 3 * 86_400_000;
  const month = new Date().toISOString().slice(0, 7).replace('-', '');
  const writes: Promise<unknown>[] = [];
  const legacyTypes: Record<string, number> = {};
  const legacy: Buffer[] = [];
  const addLegacy = (name: Buffer, type: string, write: (k: Buffer) => Promise<unknown>) => {
    legacy.push(name);
    legacyTypes[type] = (legacyTypes[type] ?? 0) + 1;
    writes.push(write(name));
  };

  for (let i = 0; i < bulk; i++) {
    addLegacy(key(`${prefix}:user:${i}:/api/chat`), 'string', (k) =>
      i % 2 === 0 ? client.set(k, String(i), 'PXAT', expireAt + i) : client.set(k, String(i)),
    );
  }
  for (let i = 0; i < 5; i++) {
    addLegacy(key(`${prefix}:ip:203.0.113.${i}`), 'hash', (k) =>
      client.hset(k, 'count', i, 'reset', expireAt),
    );
    addLegacy(key(`${prefix}:sliding:${i}`), 'zset', (k) => client.zadd(k, 1, 'a', 2, `b${i}`));
  }
  addLegacy(key(`${prefix}:list`), 'list', (k) => client.rpush(k, 'a', 'b'));
  addLegacy(key(`${prefix}:set`), 'set', (k) => client.sadd(k, 'a', 'b'));
  const odd = [
    `${prefix}:with space`,
    `${prefix}:new\nline`,
    `${prefix}:tab\tand\r\nreturn`,
    `${prefix}:{brace}`,
    `${prefix}:{`,
    `${prefix}:}{`,
    `${prefix}:{}`,
    `${prefix}:*[?]\\`,
    `${prefix}:ключ`,
    `${prefix}:🔑 key`,
    `${prefix}:`,
    // Almost periodkey keys: a period id that is none, a missing period, an identity escaped wrongly.
    `${prefix}:{user:1}:/api:monthly:20261`,
    `${prefix}:{user:1}:/api:monthly`,
    `${prefix}:{user%3A1}:/api:monthly:${month}`,
  ].map(key);
  if (!options.utf8Only)
    odd.push(Buffer.concat([key(`${prefix}:bytes:`), Buffer.from([0xff, 0xfe, 0x00, 0xc3])]));
  for (const name of odd) addLegacy(name, 'string', (k) => client.set(k, 'legacy', 'PXAT', expireAt));

  const calendar = (identity: KeyParts['identity'], scope: string, rule: string, periodId: string) =>
    buildKey({ prefix, identity, scope, rule, period: { kind: 'calendar', periodId } });
  const periodkeyText = [
    ...Array.from({ length: Math.ceil(bulk / 2) }, (_, i) =>
      calendar(`user:${i}`, '/api/chat', 'monthly', month),
    ),
    calendar('ip:203.0.113.7', '', 'daily', `${month}01`),
    calendar('with space', 'GET /a b', 'monthly', month),
    calendar('new\nline', 'scope\nwith\nnewlines', 'monthly', month),
    calendar('{brace}', '{scope}', 'monthly', month),
    calendar('*[?]\\', ':colon:', 'monthly', month),
    calendar('ключ 🔑', 'área', 'monthly', month),
    calendar({ kind: 'token', hash: TOKEN_HASH }, '/api', 'monthly', month),
  ];
  const periodkey = periodkeyText.map(key);
  for (const [i, name] of periodkey.entries()) {
    writes.push(client.set(name, String((i + 1) * 1_000_000), 'PXAT', expireAt + i));
  }
  const sliding = key(
    buildKey({
      prefix,
      identity: 'user:1',
      scope: '/api',
      rule: 'burst',
      period: { kind: 'rolling', tag: 'sw' },
    }),
  );
  const bucket = key(
    buildKey({
      prefix,
      identity: 'user:1',
      scope: '/api',
      rule: 'bucket',
      period: { kind: 'rolling', tag: 'tb' },
    }),
  );
  writes.push(client.zadd(sliding, 1, 'm1', 2, 'm2').then(() => client.pexpireat(sliding, expireAt)));
  writes.push(
    client.hset(bucket, 'tokens', 5_000_000, 'at', 1).then(() => client.pexpireat(bucket, expireAt)),
  );
  periodkey.push(sliding, bucket);

  const unrelated = [
    `${prefix}-other:1`,
    `x${prefix}:1`,
    prefix,
    `other:${prefix}:ключ`,
    `${prefix}.{brace}`,
  ].map(key);
  for (const name of unrelated) writes.push(client.set(name, 'keep me'));

  await Promise.all(writes);
  return { legacy, periodkey, unrelated, legacyTypes };
}

export interface KeyState {
  readonly dump: Buffer | null;
  /** Absolute expiry in ms (PEXPIRETIME), -1 without one, -2 if the key is gone. */
  readonly expireAt: number;
}

/** DUMP and PEXPIRETIME of every key: what must not change for keys that stay. */
export async function snapshot(client: Client, keys: readonly Buffer[]): Promise<KeyState[]> {
  return Promise.all(
    keys.map(async (name) => ({
      dump: await client.dumpBuffer(name),
      expireAt: Number(await client.call('PEXPIRETIME', name)),
    })),
  );
}

/** How many of `keys` exist. */
export async function existing(client: Client, keys: readonly Buffer[]): Promise<number> {
  const found = await Promise.all(keys.map((name) => client.exists(name)));
  return found.reduce((sum: number, n) => sum + n, 0);
}
