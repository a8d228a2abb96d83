import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';
import { type RedisServer, startRedis } from './redis.js';

const run = promisify(execFile);

/** A redis-server that speaks TLS, with a certificate made for the test by its own CA. */
export interface TlsRedis {
  /** The plain port's server (for the test's own client); TLS is on `tlsPort`. */
  readonly server: RedisServer;
  readonly tlsPort: number;
  /** The CA certificate (PEM) that signed the server's certificate. */
  readonly caFile: string;
  /** The one name the server's certificate is for (not `127.0.0.1`, not `localhost`). */
  readonly servername: string;
  stop(): Promise<void>;
}

/**
 * Makes a CA and a server certificate for `servername` with the openssl CLI, then starts redis-server with
 * a TLS port on 127.0.0.1 (clients are not asked for certificates).
 */
export async function startTlsRedis(servername = 'redis.periodkey.test'): Promise<TlsRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'periodkey-tls-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  await openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=periodkey test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  );
  await openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${servername}`,
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  );
  await writeFile(file('ext'), `subjectAltName=DNS:${servername}\n`);
  await openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'ext',
    '-out',
    'server.crt',
  );
  const tlsPort = await freePort();
  const server = await startRedis({
    args: [
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      file('server.crt'),
      '--tls-key-file',
      file('server.key'),
      '--tls-ca-cert-file',
      file('ca.crt'),
      '--tls-auth-clients',
      'no',
    ],
  });
  return {
    server,
    tlsPort,
    caFile: file('ca.crt'),
    servername,
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
