import type { RatelimitResult } from '@periodkey/ratelimit';
import { JSON_CONTENT_TYPE, limitedStatus, rateLimitBody } from './body.js';

/** The default 429 (or 413) of the fetch and Hono integrations: the JSON body and the rate-limit headers. */
export function limitedResponse(result: RatelimitResult, headers: Record<string, string>): Response {
  return new Response(JSON.stringify(rateLimitBody(result)), {
    status: limitedStatus(result),
    headers: { ...headers, 'Content-Type': JSON_CONTENT_TYPE },
  });
}

/** `response` with `headers` set; a copy if its headers are immutable (`Response.redirect()`, `fetch()`). */
export function withHeaders(response: Response, headers: Record<string, string>): Response {
  const entries = Object.entries(headers);
  try {
    for (const [name, value] of entries) response.headers.set(name, value);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    for (const [name, value] of entries) copy.headers.set(name, value);
    return copy;
  }
}
