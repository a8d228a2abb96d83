import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';

// The delay proxy of `proxy.ts`, run as a child process: argv is the target port on 127.0.0.1 and the delay
// in ms; it reports the port it listens on through IPC, and ends when its parent goes away.

/**
 * Writes what `from` sends to `to`, each chunk `delayMs` later. Node fires timers of one duration in the
 * order they were set, so the chunks keep their order; the end of the stream follows the last chunk.
 */
function forward(from: Socket, to: Socket, delayMs: number): void {
  from.on('data', (chunk) => setTimeout(() => to.write(chunk), delayMs));
  from.on('end', () => setTimeout(() => to.end(), delayMs));
  from.on('error', () => to.destroy());
}

const [targetPort, delayMs] = process.argv.slice(2).map(Number);
if (targetPort === undefined || delayMs === undefined)
  throw new Error('usage: proxy-child <port> <delay-ms>');
const server = createServer({ noDelay: true }, (client) => {
  const upstream = createConnection({ host: '127.0.0.1', port: targetPort, noDelay: true });
  forward(client, upstream, delayMs);
  forward(upstream, client, delayMs);
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const address = server.address();
if (address === null || typeof address === 'string') throw new Error('the delay proxy has no port');
process.send?.({ port: address.port });
process.on('disconnect', () => process.exit(0));
