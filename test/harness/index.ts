import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { Servers } from './global-setup.js';

export { createAclUser } from './acl.js';
export type { Servers } from './global-setup.js';
export { freePort } from './ports.js';
export { track, untrack } from './reaper.js';
export { rejection } from './rejection.js';
export type { RedisSentinel } from './sentinel.js';
export { startSentinel } from './sentinel.js';
export type { RedisCluster, RedisServer, UpstashServer } from './servers.js';
export { startCluster, startRedis, startUpstashServer } from './servers.js';
export type { TlsRedis } from './tls.js';
export { startTlsRedis } from './tls.js';
export type { Fault, Faults, UpstashServerOptions, UpstashStats } from './upstash-server.js';

/** Addresses of the servers the global setup started for this run. */
export function servers(): Servers {
  return inject('servers');
}

/** A fresh key prefix for one test, so tests never see each other's keys. */
export function testPrefix(label = 'pk'): string {
  return `${label}-${randomBytes(6).toString('hex')}`;
}
