import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { decodeElements, ElementKind, encodeElements } from '../src/exchange/buffer-codec.js';
import type { ChannelReceiver } from '../src/exchange/channel.js';
import { PortMultiplexer } from '../src/exchange/channel.js';
import { DataPort } from '../src/executor/worker-protocol.js';

describe('data port between slot threads', () => {
  it('posts each message at once, buffers transferred, and delivers arrays in order', async () => {
    const { port1, port2 } = new MessageChannel();
    const raw: unknown[] = [];
    port2.on('message', (m) => raw.push(m));
    const sender = new DataPort(port1);
    const buffers = [encodeElements([ElementKind.RECORD, 1, ['a', 1]]), new Uint8Array([5, 6])];
    sender.postMessage({ c: 'x', b: buffers[0] }, [buffers[0]!.buffer as ArrayBuffer]);
    // Transferred at once, not copied: the sender's view is detached.
    expect(buffers[0]!.byteLength).toBe(0);
    sender.postMessage({ c: 'y', k: 2 });
    sender.postMessage({ c: 'x', b: buffers[1] }, [buffers[1]!.buffer as ArrayBuffer]);
    await new Promise((r) => setTimeout(r, 50));
    expect(raw.map((m) => (m as { c: string }[]).map((x) => x.c))).toEqual([['x'], ['y'], ['x']]);
    port1.close();
  });

  it('carries channels between two PortMultiplexers over batching ports', async () => {
    const { port1, port2 } = new MessageChannel();
    const producer = new PortMultiplexer(new DataPort(port1));
    const consumer = new PortMultiplexer(new DataPort(port2));
    const sender = producer.sender('e|0|1');
    const receiver: ChannelReceiver = consumer.receiver('e|0|1');
    const values: unknown[] = [];
    const credits: number[] = [];
    sender.connect((k) => credits.push(k));
    const done = new Promise<void>((resolve) => {
      receiver.onBuffer = (b) => {
        decodeElements(b, {
          record: (v) => values.push(v),
          watermark: () => {},
          watermarkStatus: () => {},
          endOfPartition: () => resolve(),
          barrier: () => {},
          cancelBarrier: () => {},
        });
      };
    });
    receiver.grantCredit(1);
    receiver.grantCredit(2);
    sender.send(encodeElements([ElementKind.RECORD, 1, { user: 'u1', amount: 2.5 }]));
    sender.send(encodeElements([ElementKind.RECORD, 2, { user: 'u2', amount: -0 }, 3, 0, 0]));
    await done;
    expect(values).toEqual([
      { user: 'u1', amount: 2.5 },
      { user: 'u2', amount: -0 },
    ]);
    await new Promise((r) => setTimeout(r, 20));
    expect(credits).toEqual([1, 2]);
    port1.close();
  });

  it('also delivers a message that was posted alone', async () => {
    const { port1, port2 } = new MessageChannel();
    const got: unknown[] = [];
    new DataPort(port2).on('message', (m) => got.push(m));
    port1.postMessage({ c: 'z', k: 1 });
    port1.postMessage([{ c: 'z', k: 2 }]);
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual([
      { c: 'z', k: 1 },
      { c: 'z', k: 2 },
    ]);
    port1.close();
  });
});
