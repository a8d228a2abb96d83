import type { RatelimitResult } from '@periodkey/ratelimit';

/** The JSON body of a 429 response. */
export interface RateLimitBody {
  readonly error: {
    readonly code: 'RATE_LIMIT_EXCEEDED';
    readonly message: string;
    /** Seconds until the same request could pass; the same number as `Retry-After`. */
    readonly retryAfter: number;
  };
}

/** The `Content-Type` of {@link rateLimitBody} as the middleware sends it. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * The body that every integration sends with a 429, unless `onLimited` replaces it.
 * @example JSON.stringify(rateLimitBody(result))
 * // '{"error":{"code":"RATE_LIMIT_EXCEEDED","message":"Too many requests. Please try again later.","retryAfter":45}}'
 */
export function rateLimitBody(result: RatelimitResult): RateLimitBody {
  return {
    error: {
      code: 'RATE_LIMIT_EXCEEDED',
      message: 'Too many requests. Please try again later.',
      retryAfter: result.retryAfter ?? 0,
    },
  };
}
