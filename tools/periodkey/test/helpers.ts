import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { IORedisStore } from '@periodkey/ioredis';
import { type Identity, isPeriodkeyKey, Ratelimit, type RuleObject } from '@periodkey/ratelimit';
import { type RedisServer, startRedis } from '@periodkey/test';
import { Cluster, Redis } from 'ioredis';

/** The built CLI; `PERIODKEY_CLI_BIN` runs another build (such as the one before a fix) against the same tests. */
const BIN = process.env.PERIODKEY_CLI_BIN ?? fileURLToPath(new URL('../dist/bin.js', import.meta.url));

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
  /** Called with the child once it is spawned. */
  readonly onStart?: (child: ChildProcess) => void;
}

/** Runs the built CLI (`dist/bin.js`) as a child process, stdin not a terminal. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  options.onStart?.(child);
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

/** Every key under `match`, on every master of a Cluster. */
export async function scanAll(client: Client, match: string): Promise<Buffer[]> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  const pages = await Promise.all(
    nodes.map(async (node) => {
      const keys: Buffer[] = [];
      let cursor = '0';
      do {
        const [next, page] = await node.scanBuffer(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next.toString();
        keys.push(...page);
      } while (cursor !== '0');
      return keys;
    }),
  );
  return pages.flat();
}

/** A limiter of the real SDK on `client`: fixtures are written the way services write them. */
export function sdk(
  client: Client,
  prefix: string,
  rules: Readonly<Record<string, string | RuleObject>>,
  now?: () => number,
): Ratelimit {
  return new Ratelimit({
    store: new IORedisStore(client),
    rules,
    prefix,
    tokenSecret: 'periodkey-cli-test-token-secret',
    ...(now ? { now } : {}),
  });
}

/**
 * Writes a mixed data set under `prefix` (the pattern is `${prefix}:*`): legacy strings, hashes, sorted
 * sets, lists and sets, some with a TTL; periodkey keys written by the SDK itself (calendar counters, and
 * one key of each rolling algorithm); unrelated keys; and names with spaces, newlines, braces, glob
 * characters and non-ASCII bytes.
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

  // The SDK counts (i + 1) units on its i-th counter; the token identity's is the highest.
  const monthly = sdk(client, prefix, { monthly: '1000000/month' });
  const daily = sdk(client, prefix, { daily: '1000000/day' });
  const counters: [Ratelimit, Identity, string][] = [
    ...Array.from({ length: Math.ceil(bulk / 2) }, (_, i): [Ratelimit, Identity, string] => [
      monthly,
      `user:${i}`,
      '/api/chat',
    ]),
    [daily, 'ip:203.0.113.7', ''],
    [monthly, 'with space', 'GET /a b'],
    [monthly, 'new\nline', 'scope\nwith\nnewlines'],
    [monthly, '{brace}', '{scope}'],
    [monthly, '*[?]\\', ':colon:'],
    [monthly, 'ключ 🔑', 'área'],
    [monthly, { token: 'sk-live-secret-token' }, '/api'],
  ];
  for (const [i, [limiter, identity, scope]] of counters.entries()) {
    writes.push(limiter.limit(identity, { scope, cost: i + 1 }));
  }
  // One key of each rolling algorithm.
  const rolling = sdk(client, prefix, {
    burst: { limit: 10, per: '1 minute', algorithm: 'sliding' },
    smooth: { limit: 10, per: '1 minute', algorithm: 'sliding-counter' },
    bucket: { limit: 10, per: '1 minute', algorithm: 'token-bucket' },
    pace: { limit: 10, per: '1 minute', algorithm: 'gcra' },
  });
  writes.push(rolling.limit('user:1', { scope: '/api', cost: 2 }));

  const unrelated = [
    `${prefix}-other:1`,
    `x${prefix}:1`,
    prefix,
    `other:${prefix}:ключ`,
    `${prefix}.{brace}`,
  ].map(key);
  for (const name of unrelated) writes.push(client.set(name, 'keep me'));

  await Promise.all(writes);
  const periodkey = (await scanAll(client, `${prefix}:*`)).filter((name) => isPeriodkeyKey(name.toString()));
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

/** What a test file started on its own (private servers), stopped together after its tests. */
export class Owned {
  private readonly stops: (() => Promise<void>)[] = [];

  add(stop: () => Promise<void>): void {
    this.stops.push(stop);
  }

  /** A private redis-server (DEBUG allowed), for runs that delete everything, get killed or freeze it. */
  async redis(args: readonly string[] = []): Promise<{ server: RedisServer; client: Redis }> {
    const server = await startRedis({ args: ['--enable-debug-command', 'yes', ...args] });
    const client = new Redis(server.url);
    this.add(async () => {
      client.disconnect();
      await server.stop();
    });
    return { server, client };
  }

  async stop(): Promise<void> {
    await Promise.all(this.stops.map((stop) => stop()));
  }
}
