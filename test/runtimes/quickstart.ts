import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const README = new URL('../../packages/ratelimit/README.md', import.meta.url);

/**
 * The "First five lines" of packages/ratelimit/README.md as a script, unchanged but for its identity (made
 * `identity`, so that runs never share counts on Redis) and its clock (pinned to the middle of the current
 * minute, so that its `5/minute` rule cannot roll over during the run), then five more calls of the same
 * identity, each printed as JSON, and `limiter.close()`: the README's example, and proof that it limits and
 * lets the process exit.
 */
export async function quickstartSource(identity: string): Promise<string> {
  const readme = await readFile(README, 'utf8');
  const section = readme.split('\n## First five lines\n')[1];
  const code = section?.match(/```ts\n([\s\S]*?)```/)?.[1];
  if (code === undefined || !code.includes("'user:42'")) {
    throw new Error('packages/ratelimit/README.md has no "First five lines" ts block that limits user:42');
  }
  const now = Math.floor(Date.now() / 60_000) * 60_000 + 30_000;
  const pinned = code.replace('new Ratelimit({ ', `new Ratelimit({ now: () => ${now}, `);
  if (pinned === code) throw new Error("the README's quickstart no longer calls new Ratelimit({ ... })");
  return `${pinned.replaceAll("'user:42'", JSON.stringify(identity))}
for (let i = 0; i < 5; i++) {
  const { success, remaining, reason } = await limiter.limit(${JSON.stringify(identity)}, { scope: '/api/chat' });
  console.log(JSON.stringify({ success, remaining, reason }));
}
await limiter.close();
`;
}

export interface ScriptOutput {
  /** What the script printed on stdout, one entry per line. */
  readonly lines: string[];
  readonly stderr: string;
}

/**
 * Runs `source` as a module with `command` (`[program, ...args]`; the script's path is appended) in a folder
 * under this one, so that it resolves the workspace's packages through `test/runtimes/node_modules`. The
 * environment names no store but `env`'s. A script that does not exit by itself within 20 s fails.
 */
export async function runScript(
  command: readonly string[],
  source: string,
  env: Record<string, string>,
): Promise<ScriptOutput> {
  const dir = await mkdtemp(join(import.meta.dirname, '.script-'));
  try {
    const script = join(dir, 'script.mjs');
    await writeFile(script, source);
    const {
      REDIS_URL: _redis,
      UPSTASH_REDIS_REST_URL: _url,
      UPSTASH_REDIS_REST_TOKEN: _token,
      ...inherited
    } = process.env;
    const [program = '', ...args] = command;
    const { stdout, stderr } = await run(program, [...args, script], {
      cwd: dir,
      env: { ...inherited, ...env },
      timeout: 20_000,
    });
    return { lines: stdout.trim().split('\n'), stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
