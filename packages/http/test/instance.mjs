// A child process of the multi-instance test: one instance of a service whose POST /api/test allows 100
// requests a minute per client, counted in the shared Redis. Runs the built packages, as a deployment would.
// Prints its port once it listens.
import { rateLimit } from '@periodkey/http/express';
import { IORedisStore } from '@periodkey/ioredis';
import express from 'express';
import { Redis } from 'ioredis';

const { redisUrl, prefix, now } = JSON.parse(process.argv[2]);
const store = new IORedisStore(new Redis(redisUrl));
const app = express();
// No store timeout: on a loaded machine a slow answer must not turn into the failure policy's admission.
const limited = rateLimit({
  rules: { minute: '100/minute' },
  store,
  prefix,
  now: () => now,
  timeout: Number.POSITIVE_INFINITY,
});
app.post('/api/test', limited, (_req, res) => res.json({ ok: true }));
const server = app.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
