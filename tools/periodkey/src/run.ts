import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import type { CarryFlags } from './carry.js';
import { Context, EXIT } from './context.js';
import type { Io } from './io.js';
import { type LogFormat, Output } from './output.js';
import { matchesEverything } from './pattern.js';
import { statusCommand } from './status.js';
import { sweepCommand } from './sweep-command.js';
import { type ConnectionFlags, resolveTarget, secretsOf } from './target.js';
import { UsageError } from './usage.js';

interface CommonFlags extends ConnectionFlags {
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
}

type Chosen =
  | { readonly name: 'migrate'; readonly command: Command; readonly flags: MigrateFlags }
  | { readonly name: 'flush'; readonly command: Command; readonly flags: DeleteFlags }
  | { readonly name: 'status'; readonly command: Command; readonly flags: StatusFlags };

function integer(min: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
      throw new InvalidArgumentError(`expected a whole number, at least ${min}`);
    }
    return Number(value);
  };
}

function connection(command: Command): Command {
  return command
    .option('--url <url>', 'redis:// or rediss:// URL (default: $REDIS_URL)')
    .option('--cluster', 'the URL is a node of a Redis Cluster: scan every master')
    .option('--upstash-url <url>', 'Upstash REST URL (default: $UPSTASH_REDIS_REST_URL)')
    .option(
      '--upstash-token <token>',
      'Upstash REST token (default: $UPSTASH_REDIS_REST_TOKEN, which keeps it out of `ps`)',
    )
    .option('--json', 'one JSON object per stdout line; the last one is the summary')
    .addOption(
      new Option('--log-format <format>', 'json, gcp (Cloud Logging severity and message) or pretty').choices(
        ['json', 'gcp', 'pretty'],
      ),
    )
    .option(
      '--metrics-file <path>',
      'write Prometheus text format metrics (rate_limit_flush_keys_deleted, ...) here at the end',
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
    .showHelpAfterError()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  const sub = (name: string) => root.command(name).exitOverride().showHelpAfterError();
  deleting(
    sub('migrate')
      .description('delete the keys that match and are not periodkey keys (legacy, unversioned keys)')
      .option('--match <pattern>', 'SCAN MATCH pattern', 'ratelimit:*')
      .option(
        '--carry-over',
        "add each legacy counter's count to the current period's periodkey key, then delete it",
      )
      .option(
        '--template <template>',
        "--carry-over: how legacy keys are laid out, e.g. 'ratelimit:{identity}:{scope}'",
      )
      .option(
        '--rule <name=rule>',
        "--carry-over: the calendar rule that receives the counts, e.g. 'monthly=10/month'",
      )
      .option('--prefix <prefix>', "--carry-over: the SDK's key prefix", 'ratelimit')
      .option('--time-zone <zone>', "--carry-over: the rule's IANA time zone", 'UTC'),
  ).action((flags: MigrateFlags, command: Command) => choose({ name: 'migrate', command, flags }));
  deleting(
    sub('flush')
      .description('delete every key that matches (the monthly flush of a service not yet migrated)')
      .requiredOption('--match <pattern>', 'SCAN MATCH pattern, e.g. ratelimit:*'),
  ).action((flags: DeleteFlags, command: Command) => choose({ name: 'flush', command, flags }));
  connection(
    sub('status')
      .description(
        'show the periodkey keys with the highest counts: identity, scope, rule, count, time to reset',
      )
      .option('--match <pattern>', 'SCAN MATCH pattern', 'ratelimit:*')
      .option('--top <n>', 'how many keys to show', integer(1), 20),
  ).action((flags: StatusFlags, command: Command) => choose({ name: 'status', command, flags }));
  return root;
}

function logFormat(flags: CommonFlags): LogFormat {
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

function execute(chosen: Chosen, io: Io): Promise<number> {
  const { flags } = chosen;
  const format = logFormat(flags);
  const target = resolveTarget(flags, io.env);
  if (flags.match === '') throw new UsageError('--match must not be empty');
  const output = new Output(io, format, secretsOf(target));
  const ctx = new Context(io, output, target, flags.metricsFile, io.signal ?? new AbortController().signal);
  if (chosen.name === 'status') return statusCommand(ctx, { match: flags.match, top: chosen.flags.top });

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

/**
 * Runs the `periodkey` command line (`argv` without the node and script paths) and resolves to the exit
 * code: 0 success, 1 failure, 2 usage error (nothing was done), 130 interrupted. Never exits the process.
 */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  let chosen: Chosen | undefined;
  const root = program(io, (choice) => {
    chosen = choice;
  });
  try {
    await root.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.success : EXIT.usage;
    throw error;
  }
  if (!chosen) {
    io.stderr.write(root.helpInformation());
    return EXIT.usage;
  }
  try {
    return await execute(chosen, io);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`error: ${error.message}\n\n${chosen.command.helpInformation()}`);
    return EXIT.usage;
  }
}
