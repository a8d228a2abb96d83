import type { RatelimitResult } from '@periodkey/ratelimit';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { createLimit } from './_core.js';
import { JSON_CONTENT_TYPE, limitedStatus, rateLimitBody } from './body.js';
import type { RateLimitOptions } from './options.js';

/** Options of the Fastify hook and plugin. */
export type FastifyRateLimitOptions = RateLimitOptions<[request: FastifyRequest]> & {
  /**
   * Sends the reply to a denied request (`reply.code(...).send(...)`), whose rate-limit headers are set already.
   * @default a 429 with the JSON body `{"error":{"code":"RATE_LIMIT_EXCEEDED",...,"retryAfter":45}}`
   */
  onLimited?: (request: FastifyRequest, reply: FastifyReply, result: RatelimitResult) => void | Promise<void>;
};

/**
 * An `onRequest` hook for one route: `app.get('/users/:id', { onRequest: rateLimit(options) }, handler)`.
 * Counts per route pattern (`request.routeOptions.url`, such as `/users/:id`). Limiter failures are thrown
 * to Fastify's error handler.
 */
export function rateLimit(options: FastifyRateLimitOptions): onRequestAsyncHookHandler {
  const limit = createLimit<[request: FastifyRequest]>(options, {
    options: ['onLimited'],
    remoteAddress: (request) => request.socket.remoteAddress,
    forwardedFor: (request) => {
      const value = request.headers['x-forwarded-for'];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    scope: (request) => request.routeOptions.url ?? '',
  });
  const onLimited = options.onLimited ?? sendLimited;
  return async (request, reply) => {
    const decision = await limit(request);
    if (decision === undefined) return;
    reply.headers(decision.headers);
    if (decision.result.success) return;
    await onLimited(request, reply, decision.result);
    return reply;
  };
}

/**
 * A plugin that limits every route of the instance it is registered on (each route counted on its own,
 * under its pattern): `app.register(rateLimitPlugin, { rules: presets.read })`. Register it inside an
 * encapsulated plugin to limit only that plugin's routes.
 */
export const rateLimitPlugin: FastifyPluginCallback<FastifyRateLimitOptions> = Object.assign(
  (instance: Parameters<FastifyPluginCallback>[0], options: FastifyRateLimitOptions, done: () => void) => {
    instance.addHook('onRequest', rateLimit(options));
    done();
  },
  // What fastify-plugin sets: the hook applies to the instance the plugin is registered on, not to a child.
  { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: '@periodkey/http' },
);

function sendLimited(_request: FastifyRequest, reply: FastifyReply, result: RatelimitResult): void {
  reply
    .code(limitedStatus(result))
    .type(JSON_CONTENT_TYPE)
    .send(JSON.stringify(rateLimitBody(result)));
}
