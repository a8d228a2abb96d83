import type { RatelimitResult } from '@periodkey/ratelimit';

/** The JSON body of a denied request's response. */
export type RateLimitBody =
  | {
      /** A 429: the request may pass later. */
      readonly error: {
        readonly code: 'RATE_LIMIT_EXCEEDED';
        readonly message: string;
        /** Seconds until the same request could pass (at least 1); the same number as `Retry-After`. */
        readonly retryAfter: number;
      };
    }
  | {
      /** A 413: the request costs more than a rule's limit, so no wait lets it pass. */
      readonly error: {
        readonly code: 'COST_EXCEEDS_LIMIT';
        readonly message: string;
        /** The rule whose limit the cost exceeds, and that limit. */
        readonly rule: string;
        readonly limit: number;
      };
    };

/** The `Content-Type` of {@link rateLimitBody} as the middleware sends it. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * The status of a denied request: 429, or 413 for a request whose cost is above a rule's limit (reason
 * `'cost-exceeds-limit'`), which never passes and so gets no `Retry-After`.
 */
export function limitedStatus(result: RatelimitResult): 413 | 429 {
  return result.reason === 'cost-exceeds-limit' ? 413 : 429;
}

/**
 * The body that every integration sends with a denied request, unless `onLimited` replaces it.
 * @example JSON.stringify(rateLimitBody(result))
 * // '{"error":{"code":"RATE_LIMIT_EXCEEDED","message":"Too many requests. Please try again later.","retryAfter":45}}'
 */
export function rateLimitBody(result: RatelimitResult): RateLimitBody {
  if (result.reason === 'cost-exceeds-limit') {
    return {
      error: {
        code: 'COST_EXCEEDS_LIMIT',
        message: `This request costs more than the limit of rule "${result.rule}" (${result.limit}), so it can never pass.`,
        rule: result.rule,
        limit: result.limit,
      },
    };
  }
  return {
    error: {
      code: 'RATE_LIMIT_EXCEEDED',
      message: 'Too many requests. Please try again later.',
      retryAfter: Math.max(1, result.retryAfter ?? 1),
    },
  };
}
