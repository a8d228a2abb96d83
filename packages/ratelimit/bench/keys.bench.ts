import { Keyspace, parseRule } from '@periodkey/ratelimit/keys';
import { bench, describe } from 'vitest';

// The keys of one limit() call with two calendar rules, as the SDK computes them on every call:
// pnpm vitest bench packages/ratelimit/bench --run
const rules = [parseRule('monthly', '10/month'), parseRule('burst', '5/minute')];
const utc = new Keyspace({ prefix: 'ratelimit', timeZone: 'UTC', rules });
const newYork = new Keyspace({
  prefix: 'ratelimit',
  timeZone: 'America/New_York',
  rules,
  tokenSecret: 'a secret of 16+ bytes',
});

describe('keys of a call with two rules (monthly + minute)', () => {
  bench('UTC, Date.now()', () => {
    utc.keys('user:42', '/api/chat', Date.now());
  });

  // A clock that runs 1 ms per call crosses a minute every 60,000 calls, so the cost of recomputing the
  // minute's period is in the mean.
  let now = Date.parse('2026-11-30T23:00:00Z');
  bench('America/New_York, a fast clock', () => {
    newYork.keys('user:42', '/api/chat', now++);
  });

  bench('identity and scope that need escaping', () => {
    utc.keys('name:{josé}*', 'a:b', Date.now());
  });

  bench('token identity (HMAC-SHA256)', () => {
    newYork.keys({ token: 'sk_live_0123456789abcdef' }, '/api/chat', Date.now());
  });
});
