/**
 * The lookup service of the async I/O benchmark, run as its own process so it does not share the
 * job's event loop: it answers every request after at least `delay` ms (default 1), with one
 * timer for all requests (answers due together leave together). Two protocols:
 *
 * - `http`: `GET /lookup/<n>` answers `<n * 2>` (keep-alive);
 * - `tcp`: newline-delimited and pipelined on one connection: `<id>\n` answers `<id> <id * 2>\n`.
 *
 * Usage: `node --import tsx lookup-server.ts http|tcp [delayMs]`; prints `LISTENING <port>`.
 */
import { createServer as createHttpServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createServer as createTcpServer } from 'node:net';

const [protocol = 'tcp', delayArg = '1'] = process.argv.slice(2);
const delay = Number(delayArg);

/** Answers due at `at` (performance.now()), in arrival order; one timer for all. */
interface Pending {
  at: number;
  send: () => void;
}
const queue: Pending[] = [];
let head = 0;
let timer: NodeJS.Timeout | undefined;

/** Answers `send` `delay` ms after `arrived` (the requests of one read share their arrival time). */
function later(arrived: number, send: () => void): void {
  queue.push({ at: arrived + delay, send });
  timer ??= setTimeout(flush, delay);
}

function flush(): void {
  timer = undefined;
  const now = performance.now();
  while (head < queue.length && queue[head]!.at <= now) queue[head++]!.send();
  for (const s of tcpOut.keys()) flushSocket(s);
  if (head === queue.length) {
    queue.length = 0;
    head = 0;
  } else {
    timer = setTimeout(flush, Math.max(0, queue[head]!.at - now));
  }
}

// TCP answers of one flush leave in one write per connection.
const tcpOut = new Map<Socket, string>();
function flushSocket(socket: Socket): void {
  const out = tcpOut.get(socket);
  if (out) socket.write(out);
  tcpOut.delete(socket);
}

function listening(port: number): void {
  process.stdout.write(`LISTENING ${port}\n`);
}

if (protocol === 'http') {
  const server = createHttpServer({ keepAlive: true }, (req, res: ServerResponse) => {
    const n = Number(req.url!.slice('/lookup/'.length));
    later(performance.now(), () => res.end(String(n * 2)));
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => listening((server.address() as { port: number }).port));
} else {
  const server = createTcpServer((socket) => {
    socket.setNoDelay(true);
    let partial = '';
    socket.on('data', (chunk: Buffer) => {
      const arrived = performance.now();
      const text = partial + chunk.toString('latin1');
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        const id = text.slice(start, nl);
        start = nl + 1;
        later(arrived, () =>
          tcpOut.set(socket, (tcpOut.get(socket) ?? '') + `${id} ${Number(id) * 2}\n`),
        );
      }
      partial = text.slice(start);
    });
    socket.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1', () => listening((server.address() as { port: number }).port));
}
