// Unaligned checkpoints in the exchange and the barrier handler: the barrier as a priority event
// that overtakes buffers waiting for credit (the producer's output channel state), the consumer
// that snapshots at its first barrier and captures the input channel state without blocking, the
// switch of an aligned checkpoint at its timeout, and the replay of channel state on restore.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CheckpointOptions } from '../src/exchange/buffer-codec.js';
import { decodeElements, encodeElements, ElementKind } from '../src/exchange/buffer-codec.js';
import type { ChannelReceiver, ChannelSender } from '../src/exchange/channel.js';
import { localChannel } from '../src/exchange/channel.js';
import { InputGate } from '../src/exchange/input-gate.js';
import { RecordWriter } from '../src/exchange/record-writer.js';
import type { AlignedCheckpointHandler, InputChannelState } from '../src/task/barrier-aligner.js';
import { BarrierAligner } from '../src/task/barrier-aligner.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assembleChannelStateFile,
  CHANNEL_STATE_FORMAT,
  checkChannelStateParallelism,
  hasChannelState,
  readChannelState,
} from '../src/checkpoint/channel-state.js';
import { LocalFileSystem } from '../src/checkpoint/storage/local-file-system.js';
import { parseExecutionConfiguration } from '../src/config.js';
import { barrierAlignment } from '../src/task/stream-task.js';
import type { CheckpointMetadata } from '../src/checkpoint/metadata.js';

const writer = (sender: ChannelSender) =>
  new RecordWriter(
    'forward',
    undefined,
    128,
    [sender],
    0,
    1,
    { bufferBytes: 32 * 1024, bufferTimeoutMs: 0 },
    'forward()',
    'Producer (1/1)',
    (e) => {
      throw e;
    },
  );

/** What the buffers hold, in order: records as themselves, events named. */
function elements(buffers: readonly Uint8Array[]): unknown[] {
  const out: unknown[] = [];
  for (const b of buffers) {
    decodeElements(b, {
      record: (v) => out.push(v),
      watermark: () => {},
      watermarkStatus: () => {},
      endOfPartition: () => out.push('EOP'),
      barrier: (id, o) => out.push(`${o.unaligned ? 'UNALIGNED ' : ''}BARRIER ${id}`),
      cancelBarrier: (id) => out.push(`CANCEL ${id}`),
    });
  }
  return out;
}

const recordBuffer = (...values: unknown[]): Uint8Array =>
  encodeElements(values.flatMap((v) => [ElementKind.RECORD, undefined, v]));

const base: CheckpointOptions = {
  timestamp: 0,
  savepoint: false,
  targetDir: 'file:///x',
  sharedDir: 'file:///s',
};

describe("a source's barriers", () => {
  it('follow the configuration, and a savepoint is always aligned', () => {
    const config = (entries: Record<string, string>) => parseExecutionConfiguration(entries);
    const enabled = { 'execution.checkpointing.unaligned.enabled': 'true' };
    expect(barrierAlignment(base, config({}))).toEqual(base);
    expect(barrierAlignment(base, config(enabled))).toEqual({ ...base, unaligned: true });
    expect(
      barrierAlignment(
        base,
        config({ ...enabled, 'execution.checkpointing.aligned-checkpoint-timeout': '2 s' }),
      ),
    ).toEqual({ ...base, alignedCheckpointTimeoutMs: 2000 });
    const savepoint = { ...base, savepoint: true };
    expect(barrierAlignment(savepoint, config(enabled))).toEqual(savepoint);
  });
});

describe('the producer of an unaligned barrier', () => {
  it('sends it ahead of the buffers waiting for credit, without credit, and keeps those as output state', async () => {
    const { sender, receiver } = localChannel();
    const received: Uint8Array[] = [];
    receiver.onBuffer = (b) => received.push(b);
    const w = writer(sender);
    w.emit('a', undefined);
    w.flushAll();
    w.emit('b', undefined); // pending, not yet a buffer: flushed before the barrier
    const state = await w.broadcastBarrier(3, { ...base, unaligned: true })!;
    expect(elements(received)).toEqual(['UNALIGNED BARRIER 3']);
    expect(state.map((channel) => elements(channel))).toEqual([['a', 'b']]);
    // The overtaken buffers still go to the consumer, in order, against credit.
    receiver.grantCredit(5);
    expect(elements(received.slice(1))).toEqual(['a', 'b']);
  });

  it('with an aligned timeout: the barrier leaves in order with nothing to persist, or overtakes at the timeout', async () => {
    vi.useFakeTimers();
    try {
      const inOrder = localChannel();
      const got: Uint8Array[] = [];
      inOrder.receiver.onBuffer = (b) => got.push(b);
      const w = writer(inOrder.sender);
      w.emit('a', undefined);
      const now = Date.now();
      const options = { ...base, timestamp: now, alignedCheckpointTimeoutMs: 1000 };
      const sent = w.broadcastBarrier(4, options)!;
      inOrder.receiver.grantCredit(2);
      expect(elements(got)).toEqual(['a', 'BARRIER 4']);
      expect(await sent).toEqual([[]]);

      const late = localChannel();
      const got2: Uint8Array[] = [];
      late.receiver.onBuffer = (b) => got2.push(b);
      const w2 = writer(late.sender);
      w2.emit('x', undefined);
      w2.flushAll();
      w2.emit('y', undefined);
      const converted = w2.broadcastBarrier(5, options)!;
      w2.emit('z', undefined);
      w2.flushAll();
      expect(got2).toHaveLength(0);
      vi.advanceTimersByTime(999);
      expect(got2).toHaveLength(0);
      vi.advanceTimersByTime(1);
      expect(elements(got2)).toEqual(['UNALIGNED BARRIER 5']);
      expect((await converted).map((c) => elements(c))).toEqual([['x', 'y']]);
      late.receiver.grantCredit(10);
      // The barrier's in-band buffer is gone; what it overtook follows, then what came after it.
      expect(elements(got2.slice(1))).toEqual(['x', 'y', 'z']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('on restore sends its output state before anything written now', () => {
    const { sender, receiver } = localChannel();
    const received: Uint8Array[] = [];
    receiver.onBuffer = (b) => received.push(b);
    const w = writer(sender);
    receiver.grantCredit(1); // the consumer started first
    w.restoreOutputState([[recordBuffer('old-1'), recordBuffer('old-2')]]);
    w.emit('new', undefined);
    w.flushAll();
    receiver.grantCredit(5);
    expect(elements(received)).toEqual(['old-1', 'old-2', 'new']);
  });
});

/** A consumer task in miniature: a gate of `n` channels, the barrier handler and its turns. */
class Consumer implements AlignedCheckpointHandler {
  readonly senders: ChannelSender[] = [];
  readonly credits: number[];
  readonly gate: InputGate;
  readonly aligner: BarrierAligner;
  readonly processed: unknown[] = [];
  readonly snapshots: { id: number; after: unknown[]; unaligned: boolean }[] = [];
  readonly inputStates = new Map<number, Promise<InputChannelState>>();
  readonly forwarded: string[] = [];
  private last = 0;
  private channel = 0;

  constructor(n: number) {
    const receivers: ChannelReceiver[] = [];
    this.credits = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) {
      const { sender, receiver } = localChannel();
      sender.connect((k) => (this.credits[i]! += k));
      this.senders.push(sender);
      receivers.push(receiver);
    }
    this.gate = new InputGate(receivers, 4, () => {});
    this.gate.start();
    this.aligner = new BarrierAligner(n, this.gate, this, 'Consumer (1/1)');
  }

  lastCheckpointId(): number {
    return this.last;
  }
  setLastCheckpointId(id: number): void {
    this.last = id;
  }
  triggerCheckpoint(
    id: number,
    options: CheckpointOptions,
    _alignmentMs: number,
    inputState?: Promise<InputChannelState>,
  ): void {
    this.snapshots.push({ id, after: [...this.processed], unaligned: options.unaligned === true });
    this.forwarded.push(`${options.unaligned ? 'UNALIGNED ' : ''}BARRIER ${id}`);
    if (inputState) this.inputStates.set(id, inputState);
  }
  abortCheckpoint(): void {}
  cancelCheckpoint(): void {}

  /** Processes up to `max` buffers, priority events first, as NetworkInput does. */
  turn(max = Infinity): void {
    this.priority();
    for (let i = 0; i < max; i++) {
      const next = this.gate.poll();
      if (!next) break;
      this.channel = next.channel;
      decodeElements(next.buffer, {
        record: (v) => this.processed.push(v),
        watermark: () => {},
        watermarkStatus: () => {},
        endOfPartition: () => this.aligner.onEndOfPartition(this.channel),
        barrier: (id, o) =>
          this.gate.lastPolledRestored ? undefined : this.aligner.onBarrier(this.channel, id, o),
        cancelBarrier: (id) => this.aligner.onCancelBarrier(id),
      });
      this.gate.recycle(next.channel);
      this.priority();
    }
  }

  private priority(): void {
    for (let e = this.gate.pollPriority(); e; e = this.gate.pollPriority())
      this.aligner.onPriorityBarrier(e.channel, e.checkpointId, e.options, e.overtaken);
  }
}

const inBand = (id: number, options: CheckpointOptions): Uint8Array =>
  encodeElements([ElementKind.BARRIER, id, options]);

describe('the consumer of unaligned barriers', () => {
  it('snapshots at the first barrier, ahead of the buffers it overtook, and blocks no channel', async () => {
    const c = new Consumer(2);
    const [a, b] = c.senders as [ChannelSender, ChannelSender];
    a.send(recordBuffer('a1'));
    a.send(recordBuffer('a2'));
    b.send(recordBuffer('b1'));
    c.turn(1); // a1 processed before the barrier arrives
    // Producer a's unaligned barrier overtakes what it had not sent; a3 follows it.
    // The producer has no credit left (the test took the gate's): a3 waits in its backlog.
    const up = writer(a);
    up.emit('a3', undefined);
    up.flushAll();
    const output = await up.broadcastBarrier(7, { ...base, unaligned: true })!;
    expect(output.map((ch) => elements(ch))).toEqual([['a3']]);
    up.emit('after-a', undefined);
    up.flushAll();
    c.turn(0); // the priority event is handled at once
    expect(c.snapshots).toEqual([{ id: 7, after: ['a1'], unaligned: true }]);
    expect(c.forwarded).toEqual(['UNALIGNED BARRIER 7']);
    // No channel is blocked: both channels' buffers flow, before and after the barrier.
    b.send(recordBuffer('b2'));
    c.turn();
    expect(c.processed).toEqual(['a1', 'b1', 'a2', 'b2', 'a3', 'after-a']);
    // Channel b's barrier comes later: b's buffers up to it are its input state.
    b.send(recordBuffer('b3'));
    const upB = writer(b);
    void upB.broadcastBarrier(7, { ...base, unaligned: true });
    b.send(recordBuffer('b-after'));
    c.turn();
    const state = await c.inputStates.get(7)!;
    // a3 is the producer's output state, not the consumer's input state: never both.
    expect(state.map((ch) => elements(ch))).toEqual([['a2'], ['b1', 'b2', 'b3']]);
    expect(c.snapshots).toHaveLength(1);
  });

  it('switches an aligned checkpoint to unaligned at its timeout: blocked channels give nothing, the others their in-flight buffers', async () => {
    vi.useFakeTimers();
    try {
      const c = new Consumer(2);
      const [a, b] = c.senders as [ChannelSender, ChannelSender];
      const options = { ...base, timestamp: Date.now(), alignedCheckpointTimeoutMs: 500 };
      a.send(inBand(9, options));
      a.send(recordBuffer('a-after'));
      b.send(recordBuffer('b1'));
      c.turn(1); // a's barrier: a is blocked
      expect(c.snapshots).toEqual([]);
      vi.advanceTimersByTime(500);
      expect(c.snapshots).toEqual([{ id: 9, after: [], unaligned: true }]);
      b.send(recordBuffer('b2'));
      c.turn();
      expect(c.processed).toEqual(['b1', 'a-after', 'b2']);
      // b's barrier arrives in-band after the switch; what arrived behind it is not state.
      b.send(inBand(9, options));
      b.send(recordBuffer('b-after'));
      c.turn(3);
      const state = await c.inputStates.get(9)!;
      expect(state.map((ch) => elements(ch))).toEqual([[], ['b1', 'b2', 'BARRIER 9']]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('switches an alignment in progress when the barrier arrives as a priority event', async () => {
    const c = new Consumer(2);
    const [a, b] = c.senders as [ChannelSender, ChannelSender];
    const options = { ...base, timestamp: Date.now(), alignedCheckpointTimeoutMs: 60_000 };
    a.send(inBand(11, options));
    b.send(recordBuffer('b1'));
    b.send(recordBuffer('b2'));
    c.turn(1);
    expect(c.snapshots).toEqual([]);
    // The producer of b converted its barrier at its timeout: it overtakes b1 and b2.
    void writer(b).broadcastBarrier(11, { ...options, unaligned: true });
    c.turn(0);
    expect(c.snapshots).toEqual([{ id: 11, after: [], unaligned: true }]);
    const state = await c.inputStates.get(11)!;
    expect(state.map((ch) => elements(ch))).toEqual([[], ['b1', 'b2']]);
  });

  it('replays restored input state ahead of new input, without granting credit for it', () => {
    const c = new Consumer(1);
    const [a] = c.senders as [ChannelSender];
    const before = c.credits[0];
    a.send(recordBuffer('new'));
    c.gate.restoreQueued(0, [recordBuffer('old-1'), inBand(3, base), recordBuffer('old-2')]);
    c.turn();
    expect(c.processed).toEqual(['old-1', 'old-2', 'new']);
    // Only the buffer that came over the channel returned a credit; the restored barrier is stale.
    expect(c.credits[0]).toBe(before! + 1);
    expect(c.snapshots).toEqual([]);
  });
});

describe('channel state in checkpoints', () => {
  const metadata = (withChannelState: boolean): CheckpointMetadata => ({
    version: 1,
    jobId: 'j',
    checkpointId: 4,
    type: 'CHECKPOINT',
    timestamp: 0,
    operators: [
      {
        uid: 'sink',
        name: 'Sink',
        parallelism: 2,
        maxParallelism: 128,
        subtasks: withChannelState
          ? [
              {
                subtask: 0,
                channelState: { format: 1, path: 'f', size: 5, input: [], output: [] },
              },
            ]
          : [],
      },
    ],
  });

  it('is refused at a changed parallelism, naming the checkpoint and what to do', () => {
    expect(hasChannelState(metadata(true))).toBe(true);
    expect(hasChannelState(metadata(false))).toBe(false);
    expect(() => checkChannelStateParallelism(metadata(true), () => 3, 'file:///c/chk-4')).toThrow(
      'Cannot restore file:///c/chk-4 (checkpoint 4) at a changed parallelism: it is an unaligned ' +
        'checkpoint that holds in-flight data, and operator sink (Sink) would run at 3 instead of 2. ' +
        'In-flight data is not redistributed: restore it at the same parallelism, take a savepoint ' +
        'there (savepoints are always aligned) and rescale from the savepoint.',
    );
    checkChannelStateParallelism(metadata(true), () => 2, 'x');
    checkChannelStateParallelism(metadata(false), () => 3, 'x');
  });

  it('round-trips through its file, each buffer owning its memory; a cut file is named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nimble-channel-state-'));
    try {
      const fs = new LocalFileSystem();
      const file = assembleChannelStateFile({
        input: [[recordBuffer('i0a'), recordBuffer('i0b')], [], [recordBuffer('i2')]],
        output: new Map([['edge-1', [[], [recordBuffer('o1')]]]]),
      })!;
      const uri = `file://${join(dir, 'channels')}`;
      await fs.write(uri, file.bytes);
      const handle = {
        format: CHANNEL_STATE_FORMAT,
        path: 'channels',
        size: file.bytes.length,
        input: file.input,
        output: file.output,
      };
      expect(file.input.map((e) => e.channel)).toEqual([0, 2]);
      const state = await readChannelState(fs, uri, handle);
      expect(state.input.map((ch) => elements(ch))).toEqual([['i0a', 'i0b'], [], ['i2']]);
      expect(state.output.get('edge-1')!.map((ch) => elements(ch))).toEqual([[], ['o1']]);
      const first = state.input[0]![0]!;
      expect(first.byteOffset === 0 && first.byteLength === first.buffer.byteLength).toBe(true);

      writeFileSync(join(dir, 'channels'), file.bytes.subarray(0, file.bytes.length - 3));
      await expect(readChannelState(fs, uri, handle)).rejects.toThrow(
        `${uri} is corrupted: expected a channel state file of ${file.bytes.length} bytes`,
      );
      await expect(readChannelState(fs, uri, { ...handle, format: 2 })).rejects.toThrow(
        'channel state format 2 is not known',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes nothing when no buffer was in flight', () => {
    expect(assembleChannelStateFile({ input: [[], []], output: new Map([['e', [[]]]]) })).toBe(
      undefined,
    );
  });
});

beforeEach(() => vi.useRealTimers());
afterEach(() => vi.useRealTimers());
