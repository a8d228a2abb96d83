import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { rateLimit as expressRateLimit } from '@periodkey/http/express';
import { rateLimitPlugin } from '@periodkey/http/fastify';
import { rateLimit as honoRateLimit } from '@periodkey/http/hono';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { routePath } from 'hono/route';
import { afterEach, describe, expect, test } from 'vitest';
import { type Listening, listen, RecordingStore } from './apps.js';

// How each framework picks the default scope where it differs: mounted routers, app-wide middleware, plugins.
const NOW = Date.UTC(2026, 10, 15, 10, 0, 30);
const ONE_PER_MINUTE = { rules: { burst: '1/minute' }, now: () => NOW } as const;

let server: Listening | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function statuses(paths: readonly string[]): Promise<number[]> {
  const { port } = (server as Listening).address() as AddressInfo;
  const result: number[] = [];
  for (const path of paths) result.push((await fetch(`http://127.0.0.1:${port}${path}`)).status);
  return result;
}

function scopes(store: RecordingStore): string[] {
  return [...store.keys].map((key) => key.split(':')[3] as string).sort();
}

describe('express', () => {
  test('on a route of a mounted router, the scope is the whole pattern', async () => {
    const { default: express } = await import('express');
    const store = new RecordingStore();
    const router = express.Router();
    router.get(
      '/items/:id',
      expressRateLimit({ ...ONE_PER_MINUTE, store }),
      (_req, res) => void res.send('ok'),
    );
    const app = express();
    app.use('/api', router);
    server = await listen(app.listen(0, '127.0.0.1'));
    expect(await statuses(['/api/items/1', '/api/items/2'])).toEqual([200, 429]);
    expect(scopes(store)).toEqual(['/api/items/%3Aid']);
  });

  test('with app.use(), the routes below the mount path share its count', async () => {
    const { default: express } = await import('express');
    const store = new RecordingStore();
    const app = express();
    app.use('/api', expressRateLimit({ ...ONE_PER_MINUTE, store }));
    app.get('/api/a', (_req, res) => void res.send('a'));
    app.get('/api/b', (_req, res) => void res.send('b'));
    server = await listen(app.listen(0, '127.0.0.1'));
    expect(await statuses(['/api/a', '/api/b'])).toEqual([200, 429]);
    expect(scopes(store)).toEqual(['/api']);
  });
});

describe('fastify', () => {
  test('the plugin limits every route of its instance, each under its own pattern', async () => {
    const store = new RecordingStore();
    const app = Fastify();
    await app.register(rateLimitPlugin, { ...ONE_PER_MINUTE, store });
    app.get('/a/:id', async () => 'a');
    app.get('/b', async () => 'b');
    await app.listen({ port: 0, host: '127.0.0.1' });
    server = { address: () => app.server.address(), close: () => app.close() };
    expect(await statuses(['/a/1', '/a/2', '/b', '/b'])).toEqual([200, 429, 200, 429]);
    expect(scopes(store)).toEqual(['/a/%3Aid', '/b']);
  });

  test('registered inside an encapsulated plugin, it limits only that plugin’s routes', async () => {
    const store = new RecordingStore();
    const app = Fastify();
    await app.register(async (child) => {
      await child.register(rateLimitPlugin, { ...ONE_PER_MINUTE, store });
      child.get('/limited', async () => 'limited');
    });
    app.get('/free', async () => 'free');
    await app.listen({ port: 0, host: '127.0.0.1' });
    server = { address: () => app.server.address(), close: () => app.close() };
    expect(await statuses(['/free', '/free', '/limited', '/limited'])).toEqual([200, 200, 200, 429]);
    expect(scopes(store)).toEqual(['/limited']);
  });
});

describe('hono', () => {
  const serve = (app: Hono) =>
    listen(createAdaptorServer({ fetch: app.fetch, overrideGlobalObjects: false }).listen(0, '127.0.0.1'));

  test('with app.use(), the routes of the group share its count', async () => {
    const store = new RecordingStore();
    const app = new Hono();
    app.use('/api/*', honoRateLimit({ ...ONE_PER_MINUTE, store }));
    app.get('/api/a', (c) => c.text('a'));
    app.get('/api/b', (c) => c.text('b'));
    server = await serve(app);
    expect(await statuses(['/api/a', '/api/b'])).toEqual([200, 429]);
    expect(scopes(store)).toEqual(['/api/%2A']); // '*' is escaped in keys
  });

  test('scope: routePath(c, -1) counts each route of the group on its own', async () => {
    const store = new RecordingStore();
    const app = new Hono();
    app.use('/api/*', honoRateLimit({ ...ONE_PER_MINUTE, store, scope: (c) => routePath(c, -1) }));
    app.get('/api/a/:id', (c) => c.text('a'));
    app.get('/api/b', (c) => c.text('b'));
    server = await serve(app);
    expect(await statuses(['/api/a/1', '/api/b', '/api/a/2'])).toEqual([200, 200, 429]);
    expect(scopes(store)).toEqual(['/api/a/%3Aid', '/api/b']);
  });
});
