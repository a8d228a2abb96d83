import { classifyRedisError } from '../storage/errors.js';
import { LIMIT_SCRIPT } from '../storage/script.js';
import type { RuleOutcome, Store, StoreRequest } from '../store.js';

/** The few Redis operations a Lua-backed store needs; each adapter package maps its client onto them. */
export interface ScriptClient {
  evalsha(sha: string, keys: string[], args: string[]): Promise<unknown>;
  eval(source: string, keys: string[], args: string[]): Promise<unknown>;
  unlink(keys: string[]): Promise<unknown>;
}

function isNoScript(error: unknown): boolean {
  return classifyRedisError(error).kind === 'noscript';
}

/**
 * A store that runs the limiter's Lua script: EVALSHA, and EVAL when the server answers NOSCRIPT (after a
 * restart, a failover or SCRIPT FLUSH). One round trip per call for all rules.
 */
export class ScriptStore implements Store {
  readonly #client: ScriptClient;

  constructor(client: ScriptClient) {
    this.#client = client;
  }

  async evaluate(request: StoreRequest): Promise<RuleOutcome[]> {
    const keys = request.rules.map((rule) => rule.key);
    const args = [request.mode === 'consume' ? 'c' : 'p', request.countDenied ? '1' : '0'];
    args.push(String(request.now), String(request.cost), request.member);
    for (const rule of request.rules) {
      args.push(
        rule.algorithm,
        String(rule.limit),
        String(rule.windowMs),
        String(rule.resetAt),
        String(rule.expireAt),
      );
    }
    let reply: unknown;
    try {
      reply = await this.#client.evalsha(LIMIT_SCRIPT.sha, keys, args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      reply = await this.#client.eval(LIMIT_SCRIPT.source, keys, args);
    }
    const values = reply as number[];
    return request.rules.map((_, i) => ({
      allowed: values[i * 4] === 1,
      used: Number(values[i * 4 + 1]),
      reset: Number(values[i * 4 + 2]),
      retryAt: Number(values[i * 4 + 3]),
    }));
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length > 0) await this.#client.unlink([...keys]);
  }
}
