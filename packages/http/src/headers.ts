import type { RatelimitResult, RuleResult } from '@periodkey/ratelimit';

/** Which header families to send. Both are on by default; `Retry-After` is sent on every 429 regardless. */
export interface HeaderFamilies {
  /** `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (an ISO 8601 date). @default true */
  readonly legacy?: boolean;
  /** `RateLimit-Policy` and `RateLimit` of draft-ietf-httpapi-ratelimit-headers-10. @default true */
  readonly ietf?: boolean;
}

/**
 * The rate-limit response headers of one decision, by name:
 * - `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` of the binding rule (`result.rule`),
 *   the reset as an ISO 8601 date such as `2025-12-26T10:45:00.000Z`;
 * - `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers-10, structured fields), one
 *   list member per rule: `"monthly";q=10;w=2592000` and `"monthly";r=0;t=45`;
 * - `Retry-After` (seconds) when the request is denied.
 *
 * The IETF fields carry integers: fractional limits and amounts are rounded down there. When the limiter's
 * failure policy answered because the store failed (`reason` `'error'` or `'timeout'`), the counts are
 * unknown, and only `Retry-After` is sent (on a denial).
 */
export function rateLimitHeaders(
  result: RatelimitResult,
  options: HeaderFamilies = {},
): Record<string, string> {
  const headers: Record<string, string> = {};
  const known = result.reason !== 'error' && result.reason !== 'timeout';
  if (known && (options.legacy ?? true)) {
    headers['X-RateLimit-Limit'] = String(result.limit);
    headers['X-RateLimit-Remaining'] = String(result.remaining);
    headers['X-RateLimit-Reset'] = new Date(result.reset).toISOString();
  }
  if (known && (options.ietf ?? true)) {
    headers['RateLimit-Policy'] = result.rules
      .map((rule) => `"${rule.rule}";q=${Math.floor(rule.limit)};w=${windowSeconds(rule)}`)
      .join(', ');
    headers.RateLimit = result.rules
      .map(
        (rule) =>
          `"${rule.rule}";r=${Math.floor(rule.remaining)};t=${Math.max(0, Math.ceil((rule.reset - result.at) / 1000))}`,
      )
      .join(', ');
  }
  if (!result.success && result.retryAfter !== undefined) headers['Retry-After'] = String(result.retryAfter);
  return headers;
}

/** A rule's window in whole seconds (at least 1): the current period's length for a calendar rule. */
function windowSeconds(rule: RuleResult): number {
  return Math.max(1, Math.round(rule.windowMs / 1000));
}
