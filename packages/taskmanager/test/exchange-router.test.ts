import type { ExchangeHandlers, Server } from '@nimble/proto';
import { adaptHandlers, bindServer, createServer, nimbleServices } from '@nimble/proto';
import type { ChannelMessage } from '@nimble/runtime';
import { createLogger } from '@nimble/runtime';
import { MessageChannel } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { ExchangeRouter } from '../src/exchange-router.js';

interface Node {
  readonly id: string;
  readonly router: ExchangeRouter;
  readonly server: Server;
  readonly address: string;
}

const nodes: Node[] = [];

async function startNode(id: string): Promise<Node> {
  const router = new ExchangeRouter(id, createLogger('exchange-router-test'), () => {});
  const server = createServer();
  const services = nimbleServices();
  server.addService(
    services.Exchange.service,
    adaptHandlers<ExchangeHandlers>(
      services.Exchange.service,
      { Connect: (call) => router.accept(call) },
      (_method, e) => {
        throw e;
      },
    ),
  );
  const port = await bindServer(server, '127.0.0.1', 0);
  const node = { id, router, server, address: `127.0.0.1:${port}` };
  nodes.push(node);
  return node;
}

afterEach(async () => {
  for (const n of nodes.splice(0)) {
    n.router.close();
    await new Promise<void>((resolve) => n.server.tryShutdown(() => resolve()));
  }
});

/** Collects the arrays of channel messages that arrive on a worker's end of a route. */
function collect(port: MessagePort): {
  batches: ChannelMessage[][];
  next(n: number): Promise<ChannelMessage[]>;
} {
  const batches: ChannelMessage[][] = [];
  const all: ChannelMessage[] = [];
  let waiting: { n: number; resolve: (m: ChannelMessage[]) => void } | undefined;
  port.on('message', (batch: ChannelMessage[]) => {
    batches.push(batch);
    all.push(...batch);
    if (waiting && all.length >= waiting.n) waiting.resolve(all.slice(0, waiting.n));
  });
  return {
    batches,
    next: (n) =>
      new Promise((resolve) => {
        if (all.length >= n) resolve(all.slice(0, n));
        else waiting = { n, resolve };
      }),
  };
}

describe('exchange router', () => {
  it('relays the buffers and credits of a slot to a slot on another TaskManager, as bytes, in order', async () => {
    const a = await startNode('tm-a');
    const b = await startNode('tm-b');
    // Job slot 0 on tm-a talks to job slot 1 on tm-b; each worker holds port1 of its route.
    const atA = new MessageChannel();
    const atB = new MessageChannel();
    a.router.route('job', 3, 0, 1, b.id, atA.port2);
    b.router.route('job', 3, 1, 0, a.id, atB.port2);
    // The JobManager gives both TaskManagers of a pair the same secret in DeployTasks.
    a.router.expectPeer(b.id, 'secret-of-the-pair-a-b');
    b.router.expectPeer(a.id, 'secret-of-the-pair-a-b');
    a.router.connect(b.id, b.address);
    b.router.connect(a.id, a.address);
    const received = collect(atB.port1);
    const returned = collect(atA.port1);

    const buffers = [
      new Uint8Array([1, 2, 3]),
      new Uint8Array(64 * 1024).fill(7),
      new Uint8Array([9]),
    ];
    // One turn of the producing worker: two buffers of one channel, a credit and a buffer of another.
    atA.port1.postMessage(
      [
        { c: '5|0|1', b: buffers[0]! },
        { c: '5|0|1', b: buffers[1]! },
        { c: '6|1|0', k: 4 },
        { c: '7|0|1', b: buffers[2]! },
      ] satisfies ChannelMessage[],
      buffers.map((x) => x.buffer),
    );
    const got = await received.next(4);
    expect(got.map((m) => m.c)).toEqual(['5|0|1', '5|0|1', '6|1|0', '7|0|1']);
    expect(got[2]).toEqual({ c: '6|1|0', k: 4 });
    const bytes = got.filter((m): m is { c: string; b: Uint8Array } => 'b' in m).map((m) => m.b);
    expect(bytes.map((x) => [...x.subarray(0, 3)])).toEqual([[1, 2, 3], [7, 7, 7], [9]]);
    expect(bytes[1]!.length).toBe(64 * 1024);
    for (const x of bytes) {
      // The worker owns exactly its bytes: a view of a whole ArrayBuffer, transferable onwards.
      expect(x.byteOffset).toBe(0);
      expect(x.byteLength).toBe(x.buffer.byteLength);
    }
    // What one gRPC batch brought for a slot reaches it as one message.
    expect(received.batches.length).toBeLessThanOrEqual(2);

    // Credit flows back the other way on the same stream.
    atB.port1.postMessage([{ c: '5|0|1', k: 2 }] satisfies ChannelMessage[]);
    expect(await returned.next(1)).toEqual([{ c: '5|0|1', k: 2 }]);
  });
});
