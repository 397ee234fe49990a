import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { decodeElements } from '../src/exchange/buffer-codec.js';
import type { ChannelSender } from '../src/exchange/channel.js';
import { localChannel, PortMultiplexer } from '../src/exchange/channel.js';
import { RecordWriter } from '../src/exchange/record-writer.js';

const options = { bufferBytes: 32 * 1024, bufferTimeoutMs: 0 };
const writer = (sender: ChannelSender) =>
  new RecordWriter(
    'forward',
    undefined,
    128,
    [sender],
    0,
    1,
    options,
    'keyBy()',
    'Producer (1/1)',
    (e) => {
      throw e;
    },
  );

function records(buffers: Uint8Array[]): unknown[] {
  const out: unknown[] = [];
  for (const b of buffers) {
    decodeElements(b, {
      record: (v) => out.push(v),
      watermark: () => {},
      watermarkStatus: () => {},
      endOfPartition: () => out.push('EOP'),
    });
  }
  return out;
}

describe('credit-based channels', () => {
  it('credit granted before the producer connected is delivered, not lost (same thread)', () => {
    const { sender, receiver } = localChannel();
    const received: Uint8Array[] = [];
    receiver.onBuffer = (b) => received.push(b);
    receiver.grantCredit(2); // the consumer started first
    const w = writer(sender);
    w.emit('a', undefined);
    w.flushAll();
    w.emit('b', undefined);
    w.endOfPartition();
    expect(records(received)).toEqual(['a', 'b', 'EOP']);
    expect(w.isAvailable()).toBe(true);
  });

  it('a producer without credit queues buffers and becomes unavailable until credit comes', () => {
    const { sender, receiver } = localChannel();
    const received: Uint8Array[] = [];
    receiver.onBuffer = (b) => received.push(b);
    const w = writer(sender);
    w.emit('a', undefined);
    w.flushAll();
    expect(received).toHaveLength(0);
    expect(w.isAvailable()).toBe(false);
    expect(w.backlogSize()).toBe(1);
    receiver.grantCredit(1);
    expect(records(received)).toEqual(['a']);
    expect(w.isAvailable()).toBe(true);
  });

  it('credit that crosses threads before the producer connected is delivered (MessagePort)', async () => {
    const { port1, port2 } = new MessageChannel();
    const producerSide = new PortMultiplexer(port1);
    const consumerSide = new PortMultiplexer(port2);
    const sender = producerSide.sender('edge|0|1');
    const receiver = consumerSide.receiver('edge|0|1');
    const received: Uint8Array[] = [];
    receiver.onBuffer = (b) => received.push(b);
    receiver.grantCredit(3); // arrives at the producer side before it connects
    await new Promise((r) => setTimeout(r, 20));
    const w = writer(sender);
    w.emit({ n: 1 }, undefined);
    w.endOfPartition();
    await new Promise((r) => setTimeout(r, 20));
    expect(records(received)).toEqual([{ n: 1 }, 'EOP']);
    port1.close();
    port2.close();
  });
});
