import { randomBytes } from 'node:crypto';
import { access, constants } from 'node:fs/promises';
import { dirname } from 'node:path';
import { classifyRedisError } from '@periodkey/ratelimit/storage';
import type { Backend } from './backend.js';
import { Explained, messageOf } from './failure.js';
import { exampleKey } from './pattern.js';
import { UsageError } from './usage.js';

/** A command a run sends on the keys it scans, as `[name, ...args after the key]`. */
export type Probe = readonly [name: string, ...args: string[]];

export const DELETE: Probe = ['UNLINK'];
export const TYPE: Probe = ['TYPE'];

/** Probe keys: enough of them, with different fillers, that some fall outside any one master's slots. */
const KEYS = 16;

/**
 * Checks, before anything is deleted, that the run may do what it will: each probe on keys that match the
 * pattern and do not exist (random names), so nothing changes; the delete probe falls back to DEL like the
 * run. Also finds a Cluster that CLUSTER SLOTS could not reveal (the user may not run it): keys of other
 * masters answer MOVED. Rejects with the cause and the fix.
 */
export async function preflight(backend: Backend, match: string, probes: readonly Probe[]): Promise<void> {
  const run = randomBytes(6).toString('hex');
  await backend.send(['SCAN', '0', 'MATCH', match, 'COUNT', '1']);
  const keys: string[] = [];
  for (let i = 0; i < KEYS; i++) {
    const key = exampleKey(match, `periodkey-preflight-${run}-${i}`);
    if (key !== undefined) keys.push(key);
  }
  for (const [name, ...args] of probes) {
    for (const key of keys) {
      try {
        await probe(backend, name === 'UNLINK' ? backend.deleteCommand.name : name, key, args);
      } catch (error) {
        const { kind } = classifyRedisError(error);
        if (kind === 'moved' || kind === 'ask' || kind === 'crossslot') {
          throw new Explained(
            `${backend.label} is a node of a Redis Cluster (${kind.toUpperCase()}), and the user may not run CLUSTER SLOTS, which finding every master needs: add +cluster|slots to its ACL (and do not pass --no-cluster)`,
            { cause: error },
          );
        }
        throw error;
      }
    }
  }
}

async function probe(backend: Backend, name: string, key: string, args: readonly string[]): Promise<void> {
  try {
    await backend.send([name, key, ...args]);
  } catch (error) {
    if (name !== 'UNLINK' || !backend.deleteCommand.fallBack(messageOf(error))) throw error;
    await backend.send(['DEL', key]).catch((fallback: unknown) => {
      // Neither UNLINK nor DEL: ask for UNLINK, the one the tool prefers (Redis names commands in lower case).
      throw new Error(messageOf(fallback).replace("'del'", "'unlink'"), { cause: fallback });
    });
  }
}

/**
 * `--metrics-file` can be written: its directory is writable, and the file too if it exists.
 * @throws {UsageError} otherwise, before anything is done.
 */
export async function checkWritable(path: string): Promise<void> {
  try {
    await access(dirname(path), constants.W_OK);
    await access(path, constants.W_OK).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  } catch (error) {
    throw new UsageError(
      `--metrics-file ${path} cannot be written (${(error as NodeJS.ErrnoException).code ?? messageOf(error)}): name a file in a directory this user may write to`,
    );
  }
}
