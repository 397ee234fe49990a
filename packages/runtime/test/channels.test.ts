import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { decodeElements } from '../src/exchange/buffer-codec.js';
import type { ChannelSender } from '../src/exchange/channel.js';
import { localChannel, PortMultiplexer } from '../src/exchange/channel.js';
import { InputGate } from '../src/exchange/input-gate.js';
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
      barrier: (id) => out.push(`BARRIER ${id}`),
      cancelBarrier: (id) => out.push(`CANCEL ${id}`),
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

describe('checkpoint barriers on channels', () => {
  const options = {
    timestamp: 1,
    savepoint: false,
    targetDir: 'file:///x',
    sharedDir: 'file:///s',
  };

  it('a barrier follows the records written before it and ends its buffer, even without credit', () => {
    const { sender, receiver } = localChannel();
    const received: Uint8Array[] = [];
    receiver.onBuffer = (b) => received.push(b);
    const w = writer(sender);
    w.emit('a', undefined);
    w.emit('b', undefined);
    void w.broadcastBarrier(7, options);
    w.emit('c', undefined);
    w.flushAll();
    expect(w.backlogSize()).toBe(2);
    receiver.grantCredit(5);
    expect(received).toHaveLength(2);
    expect(records([received[0]!])).toEqual(['a', 'b', 'BARRIER 7']);
    expect(records([received[1]!])).toEqual(['c']);
    w.broadcastCancelBarrier(8);
    expect(records([received[2]!])).toEqual(['CANCEL 8']);
  });

  it('a blocked input channel holds its buffers back until unblocked; others flow', () => {
    const a = localChannel();
    const b = localChannel();
    let available = 0;
    const gate = new InputGate([a.receiver, b.receiver], 4, () => available++);
    const credits: number[] = [0, 0];
    a.sender.connect((n) => (credits[0]! += n));
    b.sender.connect((n) => (credits[1]! += n));
    gate.start();
    a.sender.send(Uint8Array.of(1));
    gate.block(0);
    a.sender.send(Uint8Array.of(2));
    b.sender.send(Uint8Array.of(3));
    expect(gate.queuedBuffers).toBe(1);
    const first = gate.poll()!;
    expect([first.channel, first.buffer[0]]).toEqual([1, 3]);
    expect(gate.poll()).toBeUndefined();
    const before = available;
    gate.unblockAll();
    expect(available).toBe(before + 1);
    expect([gate.poll()!.buffer[0], gate.poll()!.buffer[0]]).toEqual([1, 2]);
    expect(gate.poll()).toBeUndefined();
  });
});
