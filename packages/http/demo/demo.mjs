// `pnpm demo`: an Express service limited to 10 requests a month and 5 a minute per client, on the in-memory
// store, driven by an injected clock across the end of November 2026. Runs the built packages.
import { rateLimit } from '@periodkey/http/express';
import { MemoryStore } from '@periodkey/ratelimit';
import express from 'express';

/** The in-memory store, remembering the keys of the last request to show them. */
class ShowKeysStore extends MemoryStore {
  keys = [];
  evaluate(request) {
    this.keys = request.rules.map((rule) => rule.key);
    return super.evaluate(request);
  }
}

const store = new ShowKeysStore();
let now = Date.parse('2026-11-30T23:57:00Z');
const rules = { monthly: '10/month', burst: '5/minute' };

const app = express();
const limited = rateLimit({ rules, store, now: () => now });
app.get('/api/chat', limited, (_req, res) => res.json({ reply: 'hello' }));
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const url = `http://127.0.0.1:${server.address().port}/api/chat`;

const HEADERS = [
  'X-RateLimit-Limit',
  'X-RateLimit-Remaining',
  'X-RateLimit-Reset',
  'Retry-After',
  'RateLimit-Policy',
  'RateLimit',
];

/** Sends `count` requests at the clock `at`: all headers of the first response and of a 429, one line for others. */
async function send(at, count, note) {
  now = Date.parse(at);
  console.log(`\n${at}  ${note}`);
  for (let i = 1; i <= count; i++) {
    const response = await fetch(url);
    const body = await response.text();
    const { status, headers } = response;
    if (i > 1 && status !== 429) {
      console.log(`  GET /api/chat -> ${status}  RateLimit: ${headers.get('RateLimit')}`);
      continue;
    }
    console.log(`  GET /api/chat -> ${status}`);
    for (const name of HEADERS) if (headers.has(name)) console.log(`    ${name}: ${headers.get(name)}`);
    if (status === 429) console.log(`    body: ${body}`);
  }
  console.log(`  keys: ${store.keys.join('  ')}`);
}

console.log(`periodkey demo: Express at ${url}, limited to ${JSON.stringify(rules)} per client IP`);
console.log('(in-memory store, injected clock; each block shows the keys of its last request)');
await send('2026-11-30T23:57:00Z', 6, 'six requests in one minute: the sixth exceeds 5/minute');
await send('2026-11-30T23:58:00Z', 5, 'a new minute: five more, and the month has used its 10');
await send('2026-11-30T23:59:59Z', 1, 'the last second of November: 10/month is exhausted');
await send('2026-12-01T00:00:00Z', 1, 'December: new keys ending in 202612, a fresh monthly quota');

server.closeAllConnections();
server.close();
