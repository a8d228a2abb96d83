import {
  classifyRedisError,
  counterAmount,
  counterCommands,
  isRefusal,
  type RedisErrorKind,
  readCommand,
  storedValue,
} from '@periodkey/ratelimit/storage';
import { describe, expect, test } from 'vitest';

// The replies exactly as servers send them (Redis 6.2, 7.0 and 7.2+, and the Upstash REST API), and as the
// clients wrap them. test/sdk/redis-errors.test.ts holds the same table to a real server.
const REPLIES: readonly (readonly [string, RedisErrorKind])[] = [
  ["NOPERM User u has no permissions to run the 'unlink' command", { kind: 'noperm', command: 'unlink' }],
  ["NOPERM this user has no permissions to run the 'set' command", { kind: 'noperm', command: 'set' }],
  [
    "NOPERM this user has no permissions to run the 'get' command or its subcommand",
    { kind: 'noperm', command: 'get' },
  ],
  [
    "NOPERM this user has no permissions to run the 'cluster|slots' command",
    { kind: 'noperm', command: 'cluster|slots' },
  ],
  [
    'NOPERM this user has no permissions to access one of the keys used as arguments',
    { kind: 'noperm', command: undefined },
  ],
  ['NOPERM No permissions to access a key', { kind: 'noperm', command: undefined }],
  // Redis 7.0, inside a script: as redis.pcall hands it to the script, and as redis.call fails with it.
  [
    "ERR The user executing the script can't run this command or subcommand",
    { kind: 'noperm', command: undefined },
  ],
  [
    "ERR The user executing the script can't run this command or subcommand script: e4b630ca3f4eca507701b11eb4f233603551fa65, on @user_script:1.",
    { kind: 'noperm', command: undefined },
  ],
  [
    "ERR The user executing the script can't access at least one of the keys mentioned in the command script: e4b630ca3f4eca507701b11eb4f233603551fa65, on @user_script:1.",
    { kind: 'noperm', command: undefined },
  ],
  ['WRONGPASS invalid username-password pair or user is disabled.', { kind: 'wrongpass' }],
  ['WRONGPASS invalid or missing auth token', { kind: 'wrongpass' }],
  ['NOAUTH Authentication required.', { kind: 'noauth' }],
  ['WRONGTYPE Operation against a key holding the wrong kind of value', { kind: 'wrongtype' }],
  [
    'WRONGTYPE Operation against a key holding the wrong kind of value script: ad66cc4f88e9dd25832b3745b99614303d7ee94f, on @user_script:1.',
    { kind: 'wrongtype' },
  ],
  ['MOVED 3999 127.0.0.1:6381', { kind: 'moved' }],
  ['ASK 3999 127.0.0.1:6381', { kind: 'ask' }],
  ["CROSSSLOT Keys in request don't hash to the same slot", { kind: 'crossslot' }],
  ['NOSCRIPT No matching script. Please use EVAL.', { kind: 'noscript' }],
  ['LOADING Redis is loading the dataset in memory', { kind: 'loading' }],
  [
    "ERR user_script:1: Script attempted to access nonexistent global variable 'x' script: c7977cd7f36622d6ecd2600423927e1a1c3028b4, on @user_script:1.",
    { kind: 'script' },
  ],
  [
    "ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'",
    { kind: 'script' },
  ],
  [
    'ERR Error running script (call to f_c7977cd7f36622d6ecd2600423927e1a1c3028b4): @user_script:1: user_script:1: attempt to call a nil value',
    { kind: 'script' },
  ],
  ["ERR unknown command 'unlink', with args beginning with: 'k' ", { kind: 'unknown-command' }],
  ["ERR unknown command 'ASK', with args beginning with: ", { kind: 'unknown-command' }],
  ['ERR This instance has cluster support disabled', { kind: 'cluster-disabled' }],
  ['ERR DB index is out of range', { kind: 'db-out-of-range' }],
  ["ERR wrong number of arguments for 'get' command", { kind: 'err' }],
  ["OOM command not allowed when used memory > 'maxmemory'.", { kind: 'other' }],
  ['Connection is closed.', { kind: 'other' }],
  ['connect ECONNREFUSED 127.0.0.1:6379', { kind: 'other' }],
  // Deno's refusal of a socket or a fetch its flags do not allow (NotCapable).
  [
    'Requires net access to "127.0.0.1:6379", run again with the --allow-net flag',
    { kind: 'runtime-permission' },
  ],
  // @upstash/redis: a failed request, a pipelined command, an auto-pipelined one.
  ['WRONGPASS invalid or missing auth token, command was: ["get","k"]', { kind: 'wrongpass' }],
  [
    'Command 1 [ getdel ] failed: WRONGTYPE Operation against a key holding the wrong kind of value',
    { kind: 'wrongtype' },
  ],
  ['Command failed: NOSCRIPT No matching script. Please use EVAL.', { kind: 'noscript' }],
];

describe('classifyRedisError', () => {
  test.each(REPLIES)('%j', (message, kind) => {
    expect(classifyRedisError(new Error(message))).toEqual(kind);
    expect(classifyRedisError(message)).toEqual(kind);
  });

  test('anything that is not an error or a reply is of no kind', () => {
    for (const value of [undefined, null, 42, { message: 'NOPERM' }]) {
      expect(classifyRedisError(value)).toEqual({ kind: 'other' });
    }
  });
});

describe('isRefusal', () => {
  test('refusals are misconfiguration: permissions, credentials, types, a Cluster node, a missing database, a runtime permission, a script', () => {
    const refusals = REPLIES.filter(([message]) => isRefusal(new Error(message))).map(([, { kind }]) => kind);
    expect([...new Set(refusals)].sort()).toEqual(
      [
        'crossslot',
        'db-out-of-range',
        'moved',
        'noauth',
        'noperm',
        'runtime-permission',
        'script',
        'wrongpass',
        'wrongtype',
      ].sort(),
    );
  });

  test('an outage, a slot in migration or a missing script is not one; nor a bare reply text', () => {
    for (const message of ['ASK 3999 127.0.0.1:6381', 'LOADING Redis is loading', 'Connection is closed.']) {
      expect(isRefusal(new Error(message))).toBe(false);
    }
    expect(isRefusal('NOPERM No permissions to access a key')).toBe(false);
  });

  test('a script’s failure is a refusal whatever codes its message quotes', () => {
    const message =
      'ERR user_script:3: ASK me later, LOADING, then WRONGTYPE script: 4b1c..., on @user_function';
    expect(isRefusal(new Error(message))).toBe(true);
    expect(isRefusal(new Error('ERR Error running script (call to f_4b1c): NOSCRIPT in a string'))).toBe(
      true,
    );
  });
});

describe('the carry-over write', () => {
  test('a whole count of units is held in millionths, exactly or not at all', () => {
    expect([0, 3, 9_000_000_000, 1.5, -1, 99_999_999_999, Number.NaN].map(counterAmount)).toEqual([
      0,
      3_000_000,
      9_000_000_000_000_000,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  test('creates the counter with its absolute expiry, else adds to it keeping its TTL', () => {
    expect(
      counterCommands({ key: 'pk:user:1::monthly:2026-11', amount: 5_000_000, expireAt: 1_800_000 }),
    ).toEqual({
      create: ['SET', 'pk:user:1::monthly:2026-11', '5000000', 'PXAT', '1800000', 'NX'],
      increment: ['INCRBY', 'pk:user:1::monthly:2026-11', '5000000'],
    });
  });
});

describe('reading a key in its layout', () => {
  test('each layout has its read command, whose reply is the stored value', () => {
    const hash = { type: 'hash', fields: ['t', 'ts'] } as const;
    expect(readCommand('k', { type: 'string' })).toEqual(['GET', 'k']);
    expect(readCommand('k', hash)).toEqual(['HMGET', 'k', 't', 'ts']);
    expect(readCommand('k', { type: 'zset' })).toEqual(['ZRANGE', 'k', '0', '-1', 'WITHSCORES']);
    expect(storedValue({ type: 'string' }, '3000000')).toEqual({ type: 'string', value: '3000000' });
    expect(storedValue(hash, ['7', null])).toEqual({ type: 'hash', fields: { t: '7', ts: null } });
    expect(storedValue(hash, { t: 7, ts: 12 })).toEqual({ type: 'hash', fields: { t: '7', ts: '12' } });
    expect(storedValue({ type: 'zset' }, ['a:1000000', '12'])).toEqual({
      type: 'zset',
      entries: [{ member: 'a:1000000', score: 12 }],
    });
  });

  test('a key that is gone reads as no value', () => {
    expect(storedValue({ type: 'string' }, null)).toBeUndefined();
    expect(storedValue({ type: 'hash', fields: ['w', 'c', 'p'] }, [null, null, null])).toBeUndefined();
    expect(storedValue({ type: 'zset' }, [])).toBeUndefined();
  });
});
