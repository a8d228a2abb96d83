import { randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';

// An Upstash-compatible REST server in front of a real redis-server, as described in
// shared/design/UPSTASH_REST.md, with fault injection for reliability tests. Test and benchmark use only.

export interface UpstashServerOptions {
  /** The redis-server to forward to, e.g. `redis://127.0.0.1:6379`. */
  redisUrl: string;
  /** The bearer token clients must send. @default random hex */
  token?: string;
  /** @default a free port on 127.0.0.1 */
  port?: number;
}

export interface Fault {
  /** Hold each request this long before it reaches Redis (latency on the way in). */
  delayMs?: number;
  /** Answer with this status and a JSON `{ error }` body; the command does not run. */
  status?: 429 | 500 | 502 | 503;
  /**
   * Destroy the connection without an answer, so the client sees a network error; the command does not run.
   * Wins over `status`.
   */
  drop?: boolean;
  /** Apply to the next `times` requests only. @default every request until `clear()` */
  times?: number;
}

export interface Faults {
  /** Replaces the current fault; takes effect for requests that arrive from now on. */
  set(fault: Fault): void;
  clear(): void;
}

export interface UpstashStats {
  /** Every request seen since start, faulty or not. */
  readonly requests: number;
  /** Requests seen per URL path, e.g. `{ '/': 3, '/pipeline': 7 }` (a copy). */
  readonly paths: Readonly<Record<string, number>>;
  /** Requests a `delayMs` fault has held so far; counted when the hold starts. */
  readonly delayed: number;
}

export interface UpstashServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly token: string;
  readonly faults: Faults;
  readonly stats: UpstashStats;
  /** Stops listening, ends open keep-alive connections and held requests, disconnects from Redis. */
  close(): Promise<void>;
}

// Upstash's limit on free and pay-as-you-go databases. Upstash documents "400 Bad Request when command
// execution fails" and this limit as an ERR reply, so it is a 400 like every other command error.
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const MAX_REQUEST_SIZE_ERROR = 'ERR max request size exceeded';

// Commands that change per-connection state or block. Upstash REST has no connection to keep them on, and
// here they would wedge or corrupt the connection every request shares.
const STATEFUL = new Set([
  'AUTH',
  'DISCARD',
  'EXEC',
  'HELLO',
  'MONITOR',
  'MULTI',
  'PSUBSCRIBE',
  'PSYNC',
  'PUNSUBSCRIBE',
  'QUIT',
  'REPLICAOF',
  'RESET',
  'SELECT',
  'SLAVEOF',
  'SSUBSCRIBE',
  'SUBSCRIBE',
  'SUNSUBSCRIBE',
  'SYNC',
  'UNSUBSCRIBE',
  'UNWATCH',
  'WATCH',
]);
const BLOCKING = new Set([
  'BLMOVE',
  'BLMPOP',
  'BLPOP',
  'BRPOP',
  'BRPOPLPUSH',
  'BZMPOP',
  'BZPOPMAX',
  'BZPOPMIN',
]);
const STATEFUL_CLIENT = new Set(['CACHING', 'KILL', 'PAUSE', 'REPLY', 'TRACKING']);

type Command = [name: string, ...args: string[]];
// What ioredis hands back with `stringNumbers`: integers as decimal strings, bulk and status replies as
// Buffers, errors nested in arrays (EXEC, Lua) as Error objects.
type Reply = null | string | Buffer | Error | Reply[];

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** A command this server will not run; answered like a Redis error reply. */
class Refused extends Error {
  override name = 'Refused';
}

function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ReplyError';
}

function isCommandError(error: unknown): error is Error {
  return error instanceof Refused || isReplyError(error);
}

function parseCommand(value: unknown): Command | undefined {
  if (!Array.isArray(value) || typeof value[0] !== 'string' || value[0] === '') return undefined;
  const args: string[] = [];
  for (const arg of value.slice(1) as unknown[]) {
    if (arg === null) args.push('');
    else if (typeof arg === 'string' || typeof arg === 'number' || typeof arg === 'boolean')
      args.push(String(arg));
    else return undefined;
  }
  // Upper case also keeps ioredis from applying its own reply transformers (it turns `hgetall` into an object).
  return [value[0].toUpperCase(), ...args];
}

function parseCommands(value: unknown, path: string): Command[] {
  const commands = Array.isArray(value) && value.length > 0 ? value.map(parseCommand) : [];
  if (commands.length === 0 || commands.some((command) => command === undefined)) {
    throw new HttpError(
      400,
      `ERR ${path} expects a JSON array of commands like [["SET","k","v"],["GET","k"]]`,
    );
  }
  return commands as Command[];
}

/** Why the command cannot run here, or undefined if it can. */
function refusal([name, ...args]: Command): string | undefined {
  const blocking =
    BLOCKING.has(name) ||
    ((name === 'XREAD' || name === 'XREADGROUP') && args.some((a) => a.toUpperCase() === 'BLOCK'));
  const stateful =
    STATEFUL.has(name) || (name === 'CLIENT' && STATEFUL_CLIENT.has(args[0]?.toUpperCase() ?? ''));
  if (!blocking && !stateful) return undefined;
  const why = blocking ? 'blocking commands' : 'commands that keep per-connection state';
  return `ERR Command is not available: '${name.toLowerCase()}'. The REST API does not support ${why}`;
}

/** Upstash answers DEL/UNLINK without keys with 0 where Redis errors; `return 0` works inside MULTI too. */
function rewrite(command: Command): Command {
  return command.length === 1 && (command[0] === 'DEL' || command[0] === 'UNLINK')
    ? ['EVAL', 'return 0', '0']
    : command;
}

/** JSON text of a reply: strings base64 of their bytes or UTF-8, integers as Redis wrote them (int64-exact). */
function replyJson(reply: Reply, base64: boolean): string {
  if (reply === null) return 'null';
  if (typeof reply === 'string') return reply;
  if (Buffer.isBuffer(reply)) return JSON.stringify(reply.toString(base64 ? 'base64' : 'utf8'));
  if (Array.isArray(reply)) return `[${reply.map((item) => replyJson(item, base64)).join(',')}]`;
  return JSON.stringify(reply.message); // an error nested in a Lua table: never encoded
}

function resultJson(reply: Reply, base64: boolean): string {
  return `{"result":${replyJson(reply, base64)}}`;
}

function errorJson(message: string): string {
  return JSON.stringify({ error: message });
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  // Reads to the end even past the limit, so the client gets the 400 rather than a reset connection.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on('end', () => resolve(size <= MAX_BODY_BYTES ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startUpstashServer(options: UpstashServerOptions): Promise<UpstashServer> {
  const token = options.token ?? randomBytes(16).toString('hex');
  const redisOptions = {
    lazyConnect: true,
    stringNumbers: true,
    // A command that fails with the connection is answered as failed, never silently sent again.
    maxRetriesPerRequest: 0,
  };
  const redis = new Redis(options.redisUrl, redisOptions);
  // MULTI...EXEC go to their own connection: one transaction is written in one synchronous block, so another
  // request's commands cannot land between its MULTI and EXEC.
  const transactions = new Redis(options.redisUrl, redisOptions);
  for (const connection of [redis, transactions]) {
    // Failures reach the requests that were waiting on them; without a listener ioredis logs each one.
    connection.on('error', () => {});
  }
  try {
    await Promise.all([redis.connect(), transactions.connect()]);
  } catch (error) {
    redis.disconnect();
    transactions.disconnect();
    throw new Error(`the Upstash REST server could not connect to Redis at ${options.redisUrl}`, {
      cause: error,
    });
  }

  const closing = new AbortController();
  let fault: Fault | undefined;
  let requests = 0;
  let delayed = 0;
  let syncToken = 0;
  const paths: Record<string, number> = {};

  const faults: Faults = {
    set(next) {
      if (next.times !== undefined && !(Number.isInteger(next.times) && next.times > 0)) {
        throw new RangeError(`faults.set: times must be a positive integer, got ${next.times}`);
      }
      if (next.delayMs !== undefined && !(next.delayMs >= 0)) {
        throw new RangeError(`faults.set: delayMs must be >= 0, got ${next.delayMs}`);
      }
      fault = { ...next };
    },
    clear() {
      fault = undefined;
    },
  };

  function takeFault(): Fault | undefined {
    const current = fault;
    if (current?.times !== undefined && --current.times === 0) fault = undefined;
    return current;
  }

  function send(res: ServerResponse, status: number, json: string): void {
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(json),
      'upstash-sync-token': String(++syncToken),
    });
    res.end(json);
  }

  /** Runs one command; a refused command fails like a Redis error reply. */
  function run(command: Command): Promise<Reply> {
    const denied = refusal(command);
    if (denied) return Promise.reject(new Refused(denied));
    const [name, ...args] = rewrite(command);
    return redis.callBuffer(name, ...args) as Promise<Reply>;
  }

  async function single(command: Command, base64: boolean): Promise<[number, string]> {
    try {
      return [200, resultJson(await run(command), base64)];
    } catch (error) {
      if (isCommandError(error)) return [400, errorJson(error.message)];
      throw error;
    }
  }

  async function pipeline(commands: Command[], base64: boolean): Promise<[number, string]> {
    // Sent back to back on one connection, so Redis runs them in order; each succeeds or fails on its own.
    const outcomes = await Promise.allSettled(commands.map(run));
    const items = outcomes.map((outcome) => {
      if (outcome.status === 'fulfilled') return resultJson(outcome.value, base64);
      if (isCommandError(outcome.reason)) return errorJson(outcome.reason.message);
      throw outcome.reason;
    });
    return [200, `[${items.join(',')}]`];
  }

  async function multiExec(commands: Command[], base64: boolean): Promise<[number, string]> {
    const denied = commands.map(refusal).find((reason) => reason !== undefined);
    if (denied) return [400, errorJson(denied)];
    const outcomes = await Promise.allSettled([
      transactions.callBuffer('MULTI'),
      ...commands.map(rewrite).map(([name, ...args]) => transactions.callBuffer(name, ...args)),
      transactions.callBuffer('EXEC'),
    ]);
    const broken = outcomes.find((outcome) => outcome.status === 'rejected' && !isReplyError(outcome.reason));
    if (broken?.status === 'rejected') throw broken.reason;
    // A command refused at queue time makes EXEC fail with EXECABORT: the one error the client sees.
    const exec = outcomes.at(-1);
    if (exec?.status === 'rejected') return [400, errorJson((exec.reason as Error).message)];
    const replies = exec?.value as Reply[];
    const items = replies.map((reply) =>
      reply instanceof Error ? errorJson(reply.message) : resultJson(reply, base64),
    );
    return [200, `[${items.join(',')}]`];
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    requests++;
    paths[path] = (paths[path] ?? 0) + 1;

    const injected = takeFault();
    if (injected?.delayMs) {
      delayed++;
      await sleep(injected.delayMs, undefined, { signal: closing.signal });
    }
    if (injected?.drop) {
      req.socket.destroy();
      return;
    }

    const body = await readBody(req);
    if (injected?.status) {
      throw new HttpError(injected.status, `${STATUS_CODES[injected.status]} (fault injected by the test)`);
    }
    if (path !== '/' && path !== '/pipeline' && path !== '/multi-exec') {
      throw new HttpError(404, `ERR unknown path ${path}; use /, /pipeline or /multi-exec`);
    }
    if (req.method !== 'POST') throw new HttpError(405, `ERR method ${req.method} not allowed; use POST`);
    const auth = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    if (!auth)
      throw new HttpError(400, 'ERR missing or malformed Authorization header; expected "Bearer <token>"');
    if (auth[1] !== token) throw new HttpError(401, 'WRONGPASS invalid or missing auth token');
    if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
      throw new HttpError(400, 'ERR content-type must be application/json');
    }
    if (body === undefined) throw new HttpError(400, MAX_REQUEST_SIZE_ERROR);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new HttpError(400, 'ERR request body is not valid JSON');
    }

    const base64 = String(req.headers['upstash-encoding']).toLowerCase() === 'base64';
    let answer: [number, string];
    if (path === '/') {
      const command = parseCommand(parsed);
      if (!command) throw new HttpError(400, 'ERR / expects a JSON array like ["SET","k","v"]');
      answer = await single(command, base64);
    } else if (path === '/pipeline') {
      answer = await pipeline(parseCommands(parsed, path), base64);
    } else {
      answer = await multiExec(parseCommands(parsed, path), base64);
    }
    send(res, ...answer);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent || res.destroyed || closing.signal.aborted) {
        res.destroy();
      } else if (error instanceof HttpError) {
        send(res, error.status, errorJson(error.message));
      } else {
        // Redis unreachable, or a bug here: the body says which.
        send(res, 500, errorJson(`ERR ${error instanceof Error ? error.message : String(error)}`));
      }
    });
  });

  let port = options.port ?? (await freePort());
  for (let attempt = 1; ; attempt++) {
    try {
      await listen(server, port);
      break;
    } catch (error) {
      // Another process may take a free port between the check and the bind.
      const taken = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!taken || options.port !== undefined || attempt >= 5) {
        redis.disconnect();
        transactions.disconnect();
        throw error;
      }
      port = await freePort();
    }
  }

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    faults,
    stats: {
      get requests() {
        return requests;
      },
      get paths() {
        return { ...paths };
      },
      get delayed() {
        return delayed;
      },
    },
    async close() {
      closing.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      redis.disconnect();
      transactions.disconnect();
    },
  };
}
