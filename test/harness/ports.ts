import { createServer } from 'node:net';

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

const taken = new Set<number>();

/**
 * A port on 127.0.0.1 that is free now and not handed out before by this process. With `bus`, port + 10000
 * is free too (the Redis Cluster bus port). Random in 20000..45000 so parallel runs rarely collide; a
 * server that still loses a race fails to bind, and its start is retried on another port.
 */
export async function freePort(bus = false): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 25_000);
    if (taken.has(port) || (bus && taken.has(port + 10_000))) continue;
    if ((await canListen(port)) && (!bus || (await canListen(port + 10_000)))) {
      taken.add(port);
      if (bus) taken.add(port + 10_000);
      return port;
    }
  }
  throw new Error('no free port found on 127.0.0.1 after 200 attempts');
}
