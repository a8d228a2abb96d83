import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { type CarryFlags, parseRules } from './carry.js';
import { Context, EXIT, NONE, type Outcome, summarize } from './context.js';
import { messageOf } from './failure.js';
import type { Io } from './io.js';
import { type LogFormat, Output } from './output.js';
import { matchesEverything } from './pattern.js';
import { statusCommand } from './status.js';
import { sweepCommand } from './sweep-command.js';
import { type ConnectionFlags, resolveTarget, secretsOf } from './target.js';
import { UsageError } from './usage.js';

interface CommonFlags extends ConnectionFlags {
  readonly connectTimeout: number;
  readonly commandTimeout: number;
  readonly json?: boolean;
  readonly logFormat?: LogFormat;
  readonly metricsFile?: string;
  readonly match: string;
}

interface DeleteFlags extends CommonFlags {
  readonly dryRun?: boolean;
  readonly yes?: boolean;
  readonly force?: boolean;
  readonly batchSize: number;
  readonly rate?: number;
  readonly maxDelete?: number;
}

interface MigrateFlags extends DeleteFlags {
  readonly carryOver?: boolean;
  readonly template?: string;
  readonly rule?: string;
  readonly prefix: string;
  readonly timeZone: string;
}

interface StatusFlags extends CommonFlags {
  readonly top: number;
  readonly rule: readonly string[];
}

type Chosen =
  | { readonly name: 'migrate'; readonly command: Command; readonly flags: MigrateFlags }
  | { readonly name: 'flush'; readonly command: Command; readonly flags: DeleteFlags }
  | { readonly name: 'status'; readonly command: Command; readonly flags: StatusFlags };

/**
 * An option's value, which is never a token that starts with `--`: `--match --dry-run` is a missing
 * pattern, not a pattern named `--dry-run`.
 */
function value<T = string>(parse: (text: string) => T = (text) => text as T): (text: string) => T {
  return (text) => {
    if (text.startsWith('--')) {
      throw new InvalidArgumentError(
        `it is missing: ${JSON.stringify(text)} is the next option, and a value never starts with --`,
      );
    }
    return parse(text);
  };
}

function integer(min: number): (value: string) => number {
  return value((text) => {
    if (!/^\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
      throw new InvalidArgumentError(`expected a whole number, at least ${min}`);
    }
    return Number(text);
  });
}

/** Seconds, as a positive number (`0.5` allowed), in ms. */
const seconds = value((text) => {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(n > 0)) {
    throw new InvalidArgumentError('expected a number of seconds greater than 0, such as 10');
  }
  return Math.round(n * 1000);
});

const collect = value((text): string[] => [text]);

function connection(command: Command): Command {
  return command
    .option(
      '--url <url>',
      'redis://[user:password@]host[:port][/db] or rediss:// (default: $REDIS_URL)',
      value(),
    )
    .option('--cluster', 'the URL is a node of a Redis Cluster: scan every master (default: detected)')
    .option('--no-cluster', 'the URL is a standalone server: do not detect a Cluster')
    .option('--upstash-url <url>', 'Upstash REST URL (default: $UPSTASH_REDIS_REST_URL)', value())
    .option(
      '--upstash-token <token>',
      'Upstash REST token (default: $UPSTASH_REDIS_REST_TOKEN, which keeps it out of `ps`)',
      value(),
    )
    .option('--connect-timeout <seconds>', 'give up connecting after this long', seconds, 10_000)
    .option('--command-timeout <seconds>', 'fail when a command gets no reply for this long', seconds, 30_000)
    .option('--json', 'one JSON object per stdout line; the last one is the summary')
    .addOption(
      new Option('--log-format <format>', 'json, gcp (Cloud Logging severity and message) or pretty').choices(
        ['json', 'gcp', 'pretty'],
      ),
    )
    .option(
      '--metrics-file <path>',
      'write Prometheus text format metrics (rate_limit_flush_keys_deleted, ...) here at the end',
      value(),
    );
}

function deleting(command: Command): Command {
  return connection(
    command
      .option('--dry-run', 'count what would be deleted, by type, and show a sample; delete nothing')
      .option('--yes', 'delete without asking (required when stdin is not a terminal)')
      .option('--force', "allow a pattern that matches every key, such as '*'")
      .option(
        '--batch-size <n>',
        'largest UNLINK batch and SCAN COUNT (which may grow over a slow network); both shrink while Redis is slow',
        integer(1),
        1000,
      )
      .option('--rate <keys/s>', 'delete at most this many keys per second', integer(1))
      .option('--max-delete <n>', 'delete at most this many keys; fail (exit 1) if more remain', integer(0)),
  );
}

function program(io: Io, choose: (chosen: Chosen) => void): Command {
  const root = new Command('periodkey')
    .description('Migrate legacy rate-limit keys to periodkey, flush them, or show the current counts.')
    .version(packageJson.version)
    .exitOverride()
    .showHelpAfterError(HINT)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  const sub = (name: string) =>
    root.command(name).exitOverride().showHelpAfterError(`(periodkey ${name} --help lists the options)`);
  deleting(
    sub('migrate')
      .description('delete the keys that match and are not periodkey keys (legacy, unversioned keys)')
      .option('--match <pattern>', 'SCAN MATCH pattern', value(), 'ratelimit:*')
      .option(
        '--carry-over',
        "add each legacy counter's count to the current period's periodkey key, then delete it",
      )
      .option(
        '--template <template>',
        "--carry-over: how legacy keys are laid out, e.g. 'ratelimit:{identity}:{scope}'",
        value(),
      )
      .option(
        '--rule <name=rule>',
        "--carry-over: the calendar rule that receives the counts, e.g. 'monthly=10/month'",
        value(),
      )
      .option('--prefix <prefix>', "--carry-over: the SDK's key prefix", value(), 'ratelimit')
      .option('--time-zone <zone>', "--carry-over: the rule's IANA time zone", value(), 'UTC'),
  ).action((flags: MigrateFlags, command: Command) => choose({ name: 'migrate', command, flags }));
  deleting(
    sub('flush')
      .description('delete every key that matches (the monthly flush of a service not yet migrated)')
      .requiredOption('--match <pattern>', 'SCAN MATCH pattern, e.g. ratelimit:*', value()),
  ).action((flags: DeleteFlags, command: Command) => choose({ name: 'flush', command, flags }));
  connection(
    sub('status')
      .description(
        'show the periodkey keys with the highest use: identity, scope, rule, used, remaining, time to reset',
      )
      .option('--match <pattern>', 'SCAN MATCH pattern', value(), 'ratelimit:*')
      .option('--top <n>', 'how many keys to show', integer(1), 20)
      .option(
        '--rule <name=rule>',
        "the SDK's rule of that name, so its keys show what remains (repeatable), e.g. 'burst=5/minute'",
        (text: string, rules: readonly string[]) => [...rules, ...collect(text)],
        [] as string[],
      ),
  ).action((flags: StatusFlags, command: Command) => choose({ name: 'status', command, flags }));
  return root;
}

const HINT = '(periodkey --help lists the commands and options)';

function logFormat(flags: Pick<CommonFlags, 'json' | 'logFormat'>): LogFormat {
  if (flags.json && flags.logFormat === 'pretty') {
    throw new UsageError('--json and --log-format pretty contradict each other');
  }
  return flags.logFormat ?? (flags.json ? 'json' : 'pretty');
}

function carryFlags(flags: MigrateFlags): CarryFlags | undefined {
  const { carryOver, template, rule, prefix, timeZone } = flags;
  if (!carryOver) {
    if (template !== undefined || rule !== undefined) {
      throw new UsageError('--template and --rule go with --carry-over');
    }
    return undefined;
  }
  if (template === undefined || rule === undefined) {
    throw new UsageError(
      "--carry-over needs --template (such as 'ratelimit:{identity}:{scope}') and --rule (such as 'monthly=10/month')",
    );
  }
  return { template, rule, prefix, timeZone };
}

async function execute(chosen: Chosen, io: Io, output: Output): Promise<number> {
  const { flags } = chosen;
  const target = resolveTarget(flags, io.env);
  if (flags.match === '') throw new UsageError('--match must not be empty');
  output.secrets.push(...secretsOf(target));
  const ctx = new Context(
    io,
    output,
    target,
    flags.metricsFile,
    { connectMs: flags.connectTimeout, commandMs: flags.commandTimeout },
    io.signal ?? new AbortController().signal,
    io.halt ?? new AbortController().signal,
  );
  if (chosen.name === 'status') {
    const rules = await parseRules(chosen.flags.rule);
    return statusCommand(ctx, { match: flags.match, top: chosen.flags.top, rules });
  }

  const { dryRun = false, yes = false } = chosen.flags;
  if (matchesEverything(flags.match) && !chosen.flags.force) {
    throw new UsageError(
      `refusing --match ${JSON.stringify(flags.match)}: it matches every key in the database; name the keys (such as 'ratelimit:*'), or pass --force if you really mean every key`,
    );
  }
  if (!dryRun && !yes && !io.stdin.isTTY) {
    throw new UsageError(
      'refusing to delete without --yes: stdin is not a terminal, so nobody can confirm; look first with --dry-run, then run again with --yes',
    );
  }
  return sweepCommand(ctx, chosen.name, {
    match: flags.match,
    dryRun,
    yes,
    batchSize: chosen.flags.batchSize,
    rate: chosen.flags.rate,
    maxDelete: chosen.flags.maxDelete,
    carry: chosen.name === 'migrate' ? carryFlags(chosen.flags) : undefined,
  });
}

/** The format asked for on the command line, as far as it can be told from arguments that did not parse. */
function askedFormat(argv: readonly string[]): LogFormat {
  const at = argv.findIndex((arg) => arg === '--log-format' || arg.startsWith('--log-format='));
  const named = at < 0 ? undefined : (argv[at]?.split('=')[1] ?? argv[at + 1]);
  if (named === 'json' || named === 'gcp' || named === 'pretty') return named;
  return argv.includes('--json') ? 'json' : 'pretty';
}

/**
 * Runs the `periodkey` command line (`argv` without the node and script paths) and resolves to the exit
 * code: 0 success, 1 failure, 2 usage error (nothing was done), 130 interrupted. Never exits the process.
 * A usage error is one line on stderr, and with `--json` or `--log-format gcp` a `<command>.failed` summary.
 */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  let chosen: Chosen | undefined;
  const root = program(io, (choice) => {
    chosen = choice;
  });
  const command = ['migrate', 'flush', 'status'].find((name) => name === argv[0]) ?? 'periodkey';
  let output = new Output(io, askedFormat(argv), []);
  /** A usage error: one line on stderr, and the summary for machines. */
  const refuse = (message: string, printed = false) => {
    if (!printed) io.stderr.write(`error: ${message}\n${HINT}\n`);
    const failed: Outcome = { counts: NONE, status: 'failure', error: message, usage: true };
    if (output.format !== 'pretty') summarize(output, command, failed, 0);
    return EXIT.usage;
  };
  try {
    await root.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return EXIT.success;
    return refuse(error.message.replace(/^error: /, ''), true);
  }
  if (!chosen) return EXIT.usage; // commander printed the help
  try {
    output = new Output(io, logFormat(chosen.flags), []);
    return await execute(chosen, io, output);
  } catch (error) {
    if (error instanceof UsageError) return refuse(error.message);
    const failed: Outcome = { counts: NONE, status: 'failure', error: messageOf(error) };
    return summarize(output, command, failed, 0);
  }
}
