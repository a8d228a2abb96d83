import type { RatelimitResult } from '@periodkey/ratelimit';
import type { Request, RequestHandler, Response } from 'express';
import { createLimit } from './_core.js';
import { JSON_CONTENT_TYPE, limitedStatus, rateLimitBody } from './body.js';
import type { RateLimitOptions } from './options.js';

/** Options of the Express middleware. */
export type ExpressRateLimitOptions = RateLimitOptions<[req: Request]> & {
  /**
   * Sends the response to a denied request, whose rate-limit headers are set already.
   * @default a 429 with the JSON body `{"error":{"code":"RATE_LIMIT_EXCEEDED",...,"retryAfter":45}}`
   */
  onLimited?: (req: Request, res: Response, result: RatelimitResult) => void | Promise<void>;
};

/**
 * Express middleware. On a route it counts per route pattern (`req.baseUrl` + `req.route.path`, such as
 * `/api/users/:id`); with `app.use()` or `router.use()`, where no route is matched yet, per mount path
 * (`req.baseUrl`, `''` at the root). Limiter failures go to `next(err)`: the error handler answers.
 *
 * @example
 * app.get('/users/:id', rateLimit({ rules: presets.read }), (req, res) => { ... });
 */
export function rateLimit(options: ExpressRateLimitOptions): RequestHandler {
  const limit = createLimit<[req: Request]>(options, {
    options: ['onLimited'],
    remoteAddress: (req) => req.socket.remoteAddress,
    forwardedFor: (req) => req.get('x-forwarded-for'),
    scope: (req) => req.baseUrl + (req.route === undefined ? '' : String(req.route.path)),
  });
  const onLimited = options.onLimited ?? sendLimited;
  const handle = async (req: Request, res: Response): Promise<boolean> => {
    const decision = await limit(req);
    if (decision === undefined) return true;
    res.set(decision.headers);
    if (decision.result.success) return true;
    await onLimited(req, res, decision.result);
    return false;
  };
  return (req, res, next) => {
    handle(req, res).then((proceed) => proceed && next(), next);
  };
}

function sendLimited(_req: Request, res: Response, result: RatelimitResult): void {
  res
    .status(limitedStatus(result))
    .set('Content-Type', JSON_CONTENT_TYPE)
    .send(JSON.stringify(rateLimitBody(result)));
}
