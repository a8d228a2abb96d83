import type { Server } from 'node:http';
import type { Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer, type HttpBindings } from '@hono/node-server';
import type { HttpOptions, RateLimitOptions } from '@periodkey/http';
import { rateLimit as expressRateLimit } from '@periodkey/http/express';
import { rateLimit as fastifyRateLimit } from '@periodkey/http/fastify';
import { withRateLimit as fetchRateLimit } from '@periodkey/http/fetch';
import { rateLimit as honoRateLimit } from '@periodkey/http/hono';
import { MemoryStore, type Ratelimit } from '@periodkey/ratelimit';
import type { Store, StoreRequest } from '@periodkey/ratelimit/store';
import type { Request as ExpressRequest, Response as ExpressResponse, NextFunction } from 'express';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { type Context, Hono } from 'hono';
import { Agent, fetch } from 'undici';

export const FRAMEWORKS = ['express', 'fastify', 'hono', 'fetch'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

/** The in-memory store, remembering every key it was asked about. */
export class RecordingStore extends MemoryStore {
  readonly keys = new Set<string>();
  override evaluate(request: StoreRequest) {
    for (const rule of request.rules) this.keys.add(rule.key);
    return super.evaluate(request);
  }
}

/** A store whose Redis is down. */
const downStore: Store = {
  evaluate: () => Promise.reject(new Error('store down')),
  delete: () => Promise.reject(new Error('store down')),
};

/** A limiter that throws, as one of another implementation or version might. */
const brokenLimiter = { limit: () => Promise.reject(new Error('limiter broken')) } as unknown as Ratelimit;

/** What a test varies; every route of the app gets these. */
export type AppOptions = Pick<HttpOptions<never>, 'trustProxy' | 'headers' | 'enabled'>;

export interface App {
  readonly store: RecordingStore;
  /** The clock of every limiter of the app; tests move it. */
  now: number;
  /** A real HTTP request from `from` (a loopback address), with fetch. */
  get(path: string, options?: { headers?: Record<string, string>; from?: string }): Promise<Reply>;
  close(): Promise<void>;
}

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

/**
 * The same service in every framework:
 * - `GET /users/:id`: `{ monthly: '10/month', burst: '3/minute' }`, skipped with `x-skip: yes`, costing `x-cost`;
 * - `GET /posts/:id`: `{ posts: '2/minute' }`;
 * - `GET /me`: `{ me: '2/minute' }` per `x-user`, or per IP without one;
 * - `GET /custom`: `{ custom: '1/minute' }` with an `onLimited` that answers 503 `slow down`;
 * - `GET /banned`: `{ minute: '5/minute', hour: '50/hour' }` with 127.0.0.1 on the denylist;
 * - `GET /down-open`, `GET /down-closed`: a store that is down, under the limiter's failure policy `open` (the
 *   default) and `closed`;
 * - `GET /broken`: a limiter that throws; the app's error handler answers 500 `error: <message>`.
 * Handlers answer `ok <route>`.
 */
export async function startApp(framework: Framework, options: AppOptions = {}): Promise<App> {
  const store = new RecordingStore();
  const state = { now: Date.UTC(2026, 10, 15, 10, 0, 30) };
  const base = { ...options, store, now: () => state.now };
  const routes = <In extends readonly unknown[]>(
    header: (name: string, ...input: In) => string | undefined,
  ) =>
    ({
      '/users/:id': {
        ...base,
        rules: { monthly: '10/month', burst: '3/minute' },
        skip: (...input: In) => header('x-skip', ...input) === 'yes',
        cost: (...input: In) => Number(header('x-cost', ...input) ?? 1),
      },
      '/posts/:id': { ...base, rules: { posts: '2/minute' } },
      '/me': {
        ...base,
        rules: { me: '2/minute' },
        identify: (...input: In) => {
          const user = header('x-user', ...input);
          return user === undefined ? undefined : `user:${user}`;
        },
      },
      '/custom': { ...base, rules: { custom: '1/minute' } },
      '/banned': { ...base, rules: { minute: '5/minute', hour: '50/hour' }, denylist: ['ip:127.0.0.1'] },
      '/down-open': { ...base, store: downStore, rules: { down: '5/minute' } },
      '/down-closed': { ...base, store: downStore, failure: 'closed', rules: { down: '5/minute' } },
      '/broken': { ...options, limiter: brokenLimiter },
    }) satisfies Record<string, RateLimitOptions<In>>;

  const server = await SERVERS[framework](routes);
  const { port } = server.address() as AddressInfo;
  const agents = new Map<string, Agent>();
  const agent = (from: string) => {
    let found = agents.get(from);
    if (found === undefined) {
      // A client address of the loopback range: 127.0.0.2 is another client than 127.0.0.1.
      found = new Agent({ localAddress: from });
      agents.set(from, found);
    }
    return found;
  };
  return {
    store,
    get now() {
      return state.now;
    },
    set now(value) {
      state.now = value;
    },
    async get(path, { headers = {}, from = '127.0.0.1' } = {}) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers, dispatcher: agent(from) });
      return {
        status: response.status,
        headers: response.headers as unknown as Headers,
        body: await response.text(),
      };
    },
    async close() {
      await Promise.all([...agents.values()].map((a) => a.close()));
      await server.close();
    },
  };
}

type Routes = <In extends readonly unknown[]>(
  header: (name: string, ...input: In) => string | undefined,
) => Record<
  '/users/:id' | '/posts/:id' | '/me' | '/custom' | '/banned' | '/down-open' | '/down-closed' | '/broken',
  RateLimitOptions<In>
>;

export interface Listening {
  address(): AddressInfo | string | null;
  close(): Promise<void>;
}

const SERVERS: Record<Framework, (routes: Routes) => Promise<Listening>> = {
  async express(routes) {
    const { default: express } = await import('express');
    const limits = routes<[req: ExpressRequest]>((name, req) => req.get(name));
    const app = express();
    for (const [path, options] of Object.entries(limits)) {
      const onLimited =
        path === '/custom'
          ? {
              onLimited: (_req: ExpressRequest, res: ExpressResponse) =>
                void res.status(503).type('text').send('slow down'),
            }
          : {};
      app.get(
        path,
        expressRateLimit({ ...options, ...onLimited }),
        (_req, res) => void res.type('text').send(`ok ${path}`),
      );
    }
    app.use((error: Error, _req: ExpressRequest, res: ExpressResponse, _next: NextFunction) => {
      res.status(500).type('text').send(`error: ${error.message}`);
    });
    return listen(app.listen(0, '127.0.0.1'));
  },

  async fastify(routes) {
    const limits = routes<[request: FastifyRequest]>(
      (name, request) => request.headers[name] as string | undefined,
    );
    const app = Fastify();
    for (const [path, options] of Object.entries(limits)) {
      const onLimited =
        path === '/custom'
          ? {
              onLimited: (_request: FastifyRequest, reply: FastifyReply) =>
                void reply.code(503).type('text/plain').send('slow down'),
            }
          : {};
      app.get(path, { onRequest: fastifyRateLimit({ ...options, ...onLimited }) }, async () => `ok ${path}`);
    }
    app.setErrorHandler((error: Error, _request, reply) =>
      reply.code(500).type('text/plain').send(`error: ${error.message}`),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { address: () => app.server.address(), close: () => app.close() };
  },

  async hono(routes) {
    const limits = routes<[c: Context]>((name, c) => c.req.header(name));
    const app = new Hono();
    for (const [path, options] of Object.entries(limits)) {
      const onLimited = path === '/custom' ? { onLimited: (c: Context) => c.text('slow down', 503) } : {};
      app.get(path, honoRateLimit({ ...options, ...onLimited }), (c) => c.text(`ok ${path}`));
    }
    app.onError((error, c) => c.text(`error: ${error.message}`, 500));
    return listen(
      createAdaptorServer({ fetch: app.fetch, overrideGlobalObjects: false }).listen(0, '127.0.0.1'),
    );
  },

  async fetch(routes) {
    const limits = routes<[request: Request, env: HttpBindings]>(
      (name, request) => request.headers.get(name) ?? undefined,
    );
    // A router of Next.js-style route handlers, each wrapped with its route as the scope.
    const table = Object.entries(limits).map(([path, options]) => {
      const handler = async () => new Response(`ok ${path}`);
      const onLimited =
        path === '/custom' ? { onLimited: () => new Response('slow down', { status: 503 }) } : {};
      const wrapped = fetchRateLimit<[env: HttpBindings]>(handler, {
        ...options,
        ...onLimited,
        scope: path,
        remoteAddress: (_request: Request, env: HttpBindings) => env.incoming.socket.remoteAddress,
      });
      return { pattern: new RegExp(`^${path.replace(/:[a-z]+/g, '[^/]+')}$`), wrapped };
    });
    const app = async (request: Request, env: HttpBindings) => {
      const route = table.find(({ pattern }) => pattern.test(new URL(request.url).pathname));
      if (route === undefined) return new Response('not found', { status: 404 });
      try {
        return await route.wrapped(request, env);
      } catch (error) {
        return new Response(`error: ${(error as Error).message}`, { status: 500 });
      }
    };
    return listen(
      createAdaptorServer({
        fetch: (request, env) => app(request, env as HttpBindings),
        overrideGlobalObjects: false,
      }).listen(0, '127.0.0.1'),
    );
  },
};

/** A node:http server once it listens, closed with its keep-alive connections. */
export async function listen(server: Server | Http2Server): Promise<Listening> {
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    address: () => server.address(),
    close: () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
