/**
 * The async I/O benchmark: generated numbers -> an async wait operator (capacity 100) that looks
 * each one up in a local service answering after 1 ms -> a sink that counts. At parallelism 1
 * the figure is the operator's throughput per subtask. The service runs in a child process
 * (./lookup-server.ts), reached over HTTP (Node's http client, keep-alive) or over one persistent
 * TCP connection with a pipelined newline protocol (BENCH_ASYNC_TRANSPORT=http|tcp), so the job
 * pays for the transport as well as the operator. Parameters come from environment variables.
 */
import type { AsyncMapFunction, Sink, SinkWriter } from '@nimble/api';
import {
  AsyncDataStream,
  Duration,
  StreamExecutionEnvironment,
  WatermarkStrategy,
} from '@nimble/api';
import '@nimble/runtime/local';
import { DataGeneratorSource } from '@nimble/connector-datagen';
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

const env = (name: string, fallback: string): string => process.env[name] ?? fallback;
const events = Number(env('BENCH_EVENTS', '500000'));
const transport = env('BENCH_ASYNC_TRANSPORT', 'tcp');
const capacity = Number(env('BENCH_ASYNC_CAPACITY', '100'));
const ordered = env('BENCH_ASYNC_MODE', 'ordered') === 'ordered';
const delayMs = env('BENCH_ASYNC_DELAY_MS', '1');

/** Starts the lookup service in its own process; resolves with its port. */
function startServer(): Promise<{ port: number; stop: () => void }> {
  const script = fileURLToPath(new URL('./lookup-server.ts', import.meta.url));
  const tsx = new URL(import.meta.resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsx, script, transport, delayMs], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /LISTENING (\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), stop: () => child.kill() });
    });
    child.once('exit', (code) => reject(new Error(`lookup server exited with ${code}`)));
  });
}

/** One persistent connection; requests are written once per turn, answers matched by id. */
function tcpLookup(port: number): AsyncMapFunction<number, number> {
  let socket: Socket | undefined;
  const waiting = new Map<number, (v: number) => void>();
  let out = '';
  let partial = '';
  const flush = () => {
    socket!.write(out);
    out = '';
  };
  return (n) => {
    if (socket === undefined) {
      socket = connect(port, '127.0.0.1');
      socket.setNoDelay(true);
      socket.on('data', (chunk: Buffer) => {
        const text = partial + chunk.toString('latin1');
        let start = 0;
        for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
          const space = text.indexOf(' ', start);
          const id = Number(text.slice(start, space));
          const resolve = waiting.get(id)!;
          waiting.delete(id);
          resolve(Number(text.slice(space + 1, nl)));
          start = nl + 1;
        }
        partial = text.slice(start);
      });
      socket.unref();
    }
    if (out === '') setImmediate(flush);
    out += `${n}\n`;
    return new Promise<number>((resolve) => waiting.set(n, resolve));
  };
}

/** Node's http client with keep-alive connections, one per call in flight. */
function httpLookup(port: number): AsyncMapFunction<number, number> {
  const agent = new Agent({ keepAlive: true, maxSockets: capacity });
  return (n) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: `/lookup/${n}`, agent }, (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve(Number(body)));
      });
      req.on('error', reject);
      req.end();
    });
}

/** Counts and checks what reaches it: every lookup answered n * 2. */
class CheckingSink implements Sink<number> {
  createWriter(): SinkWriter<number> {
    let n = 0;
    let sum = 0;
    return {
      write: (v) => {
        n++;
        sum += v;
      },
      flush: () => {},
      close: () => {
        // The answers of 0..events-1 doubled: a lost or repeated call shows here.
        if (n !== events || sum !== events * (events - 1)) {
          throw new Error(
            `expected ${events} answers summing ${events * (events - 1)}; got ${n}, ${sum}`,
          );
        }
      },
    };
  }
}

const server = await startServer();
const lookup = transport === 'http' ? httpLookup(server.port) : tcpLookup(server.port);
const e = StreamExecutionEnvironment.getExecutionEnvironment();
e.setParallelism(1);
e.configure(JSON.parse(env('BENCH_CONF', '{}')) as Record<string, string | number | boolean>);
const numbers = e.fromSource(
  new DataGeneratorSource((i) => i, events),
  WatermarkStrategy.noWatermarks<number>(),
  'numbers',
);
const wait = ordered ? AsyncDataStream.orderedWait : AsyncDataStream.unorderedWait;
wait(numbers, lookup, Duration.ofSeconds(30), capacity).sinkTo(new CheckingSink(), 'Check');
try {
  const result = await e.execute('bench-async-io');
  // The runner reads this line: the job's own running time, without process start-up.
  process.stdout.write(`BENCH_RESULT ${JSON.stringify({ netRuntimeMs: result.netRuntimeMs })}\n`);
} finally {
  server.stop();
}
