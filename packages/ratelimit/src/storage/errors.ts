// Redis error replies, as the SDK and the CLI branch on them: the one place that reads their text. A reply
// is `CODE text` (`NOPERM User u has no permissions to run the 'get' command`); clients may put it after a
// prefix of their own (@upstash/redis: `Command failed: NOSCRIPT ...`, or the reply then `, command was:`),
// so the code is found as a word of its own anywhere in the message, the first one winning.

/**
 * What a Redis error reply says, as far as a caller of periodkey acts on it:
 * - `noperm`: the user's ACL refuses a command (`command`, lower case, `cluster|slots` for a subcommand),
 *   or a key or channel (`command` undefined);
 * - `wrongpass`: the user name or password (Upstash: the token) is wrong; `noauth`: a password is required;
 * - `wrongtype`: a key holds another type than the command (or periodkey's script) expects;
 * - `moved`: a Cluster node does not serve the key's slot; `ask`: it does only for this command, while the
 *   slot migrates; `crossslot`: a multi-key command's keys are in different slots;
 * - `noscript`: EVALSHA of a script the server does not have (after a restart, a failover, SCRIPT FLUSH);
 * - `loading`: the server is still loading its data set;
 * - `script`: a Lua script failed (compiling or running) with no more specific code of its own;
 * - `unknown-command`; `cluster-disabled`: `CLUSTER ...` on a server that is no Cluster node;
 *   `db-out-of-range`: SELECT of a database the server does not have;
 * - `err`: another `ERR` reply, whose own words say what is wrong;
 * - `runtime-permission`: not Redis' answer but the runtime's refusal to reach it (Deno without `--allow-net`);
 * - `other`: anything else, such as another reply or a client's own error (a timeout, a closed connection).
 */
export type RedisErrorKind =
  | { readonly kind: 'noperm'; readonly command: string | undefined }
  | {
      readonly kind:
        | 'wrongpass'
        | 'noauth'
        | 'wrongtype'
        | 'moved'
        | 'ask'
        | 'crossslot'
        | 'noscript'
        | 'loading'
        | 'script'
        | 'unknown-command'
        | 'cluster-disabled'
        | 'db-out-of-range'
        | 'err'
        | 'runtime-permission'
        | 'other';
    };

const CODES = {
  NOPERM: 'noperm',
  WRONGPASS: 'wrongpass',
  NOAUTH: 'noauth',
  WRONGTYPE: 'wrongtype',
  MOVED: 'moved',
  ASK: 'ask',
  CROSSSLOT: 'crossslot',
  NOSCRIPT: 'noscript',
  LOADING: 'loading',
} as const;

// A word of its own, not a quoted name (`ERR unknown command 'ASK'`).
const CODE = new RegExp(`(?<!')\\b(${Object.keys(CODES).join('|')})\\b(?!')`);
/** Redis 7 names the script (`@user_script:1`); Redis 6 says `Error running script` or `Error compiling script`. */
const SCRIPT = /user_script|Error (?:running|compiling) script/;
/** Redis 6.2 and 7 name the refused command in quotes: `... to run the 'get' command`. */
const NOPERM_COMMAND = /'([^']+)' command/;
const ERR = /(?<!')\bERR\b(?!')/;
/**
 * Redis 7.0 answers a command an ACL refuses inside a script with `ERR The user executing the script can't
 * run this command or subcommand` (or `can't access at least one of the keys ...`), without NOPERM and,
 * when the script caught it with `redis.pcall` and returned it (periodkey's script does), without the
 * `@user_script` suffix either.
 */
const SCRIPT_NOPERM = /The user executing the script can't (?:run|access)/;
/**
 * Deno refuses what its flags do not allow (`NotCapable`; `PermissionDenied` before Deno 2):
 * `Requires net access to "127.0.0.1:6379", run again with the --allow-net flag`.
 */
const RUNTIME_PERMISSION = /^Requires \w+ access to .*--allow-\w+/;
const ERR_REPLIES: readonly (readonly [RegExp, Exclude<RedisErrorKind['kind'], 'noperm'>])[] = [
  [/unknown command/i, 'unknown-command'],
  [/cluster support disabled/i, 'cluster-disabled'],
  [/DB index is out of range/, 'db-out-of-range'],
];

/** The kind of a Redis error: an `Error` (its message) or the text of a reply. */
export function classifyRedisError(error: unknown): RedisErrorKind {
  const message = typeof error === 'string' ? error : error instanceof Error ? error.message : '';
  const code = CODE.exec(message)?.[1] as keyof typeof CODES | undefined;
  if (code === 'NOPERM') {
    return { kind: 'noperm', command: NOPERM_COMMAND.exec(message)?.[1]?.toLowerCase() };
  }
  if (code !== undefined) return { kind: CODES[code] };
  if (RUNTIME_PERMISSION.test(message)) return { kind: 'runtime-permission' };
  if (SCRIPT_NOPERM.test(message)) return { kind: 'noperm', command: undefined };
  if (SCRIPT.test(message)) return { kind: 'script' };
  for (const [pattern, kind] of ERR_REPLIES) if (pattern.test(message)) return { kind };
  return { kind: ERR.test(message) ? 'err' : 'other' };
}

const REFUSALS: ReadonlySet<RedisErrorKind['kind']> = new Set([
  'noperm',
  'wrongpass',
  'noauth',
  'wrongtype',
  'moved',
  'crossslot',
  'db-out-of-range',
  'runtime-permission',
  'script',
]);

/**
 * Errors that say the store is up but refuses the command: a permission (ACL), credentials, a key of
 * another type (or holding what the script does not write) under the limiter's prefix, a node of a Redis
 * Cluster reached by a client that is not a Cluster client (`MOVED`, `CROSSSLOT`), a database the server
 * does not have (SELECT), a runtime that may not reach the store (Deno's permissions), or a script error.
 * They are misconfiguration, not an outage: no retry fixes them. (`ASK` is a slot in migration, which a
 * retry through a Cluster client does fix; `LOADING` and `NOSCRIPT` pass too.) A script's failure is one
 * whatever words its message quotes.
 */
export function isRefusal(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return SCRIPT.test(error.message) || REFUSALS.has(classifyRedisError(error).kind);
}
