// Time-bounded turns of a task's network input: a turn of a slow operator ends inside a buffer
// and goes on there at the next turn (so mail, such as a checkpoint's asynchronous phase, does
// not wait a whole buffer), and an unaligned checkpoint taken while a buffer is partly processed
// persists the rest of that buffer as in-flight data, which a restore replays first.
import { InputStatus } from '@nimble/api';
import { describe, expect, it } from 'vitest';
import type { CheckpointOptions } from '../src/exchange/buffer-codec.js';
import {
  decodeElements,
  encodeElements,
  encodePriorityBarrier,
  ElementKind,
} from '../src/exchange/buffer-codec.js';
import type { ChannelSender } from '../src/exchange/channel.js';
import { localChannel } from '../src/exchange/channel.js';
import type { OperatorInput } from '../src/operators/operator.js';
import { newOperatorMetrics } from '../src/operators/operator.js';
import type { AlignedCheckpointHandler, InputChannelState } from '../src/task/barrier-aligner.js';
import { NetworkInput } from '../src/task/network-input.js';
import type { TaskContext } from '../src/task/task-context.js';

const base: CheckpointOptions = {
  timestamp: 0,
  savepoint: false,
  targetDir: 'file:///x',
  sharedDir: 'file:///s',
};

const recordBuffer = (values: readonly unknown[]): Uint8Array =>
  encodeElements(values.flatMap((v) => [ElementKind.RECORD, undefined, v]));

const records = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `r${from + i}`);

function values(buffers: readonly Uint8Array[]): unknown[] {
  const out: unknown[] = [];
  const ignore = (): void => {};
  for (const b of buffers)
    decodeElements(b, {
      record: (v) => out.push(v),
      watermark: ignore,
      watermarkStatus: ignore,
      endOfPartition: () => out.push('EOP'),
      barrier: ignore,
      cancelBarrier: ignore,
    });
  return out;
}

/** A task's network input over one local channel, into a head operator of 1 ms per record. */
class SlowTask implements AlignedCheckpointHandler {
  readonly sender: ChannelSender;
  readonly input: NetworkInput;
  readonly processed: unknown[] = [];
  readonly snapshots: { id: number; after: unknown[]; inputState?: Promise<InputChannelState> }[] =
    [];
  credits = 0;
  private last = 0;

  constructor() {
    const { sender, receiver } = localChannel();
    sender.connect((k) => (this.credits += k));
    this.sender = sender;
    const processed = this.processed;
    const head: OperatorInput<unknown> = {
      setKeyContextElement: () => {},
      processElement: (value) => {
        const until = performance.now() + 1;
        while (performance.now() < until);
        processed.push(value);
      },
      processWatermark: () => {},
      processWatermarkStatus: () => {},
    };
    const ctx = {
      name: 'Slow (1/1)',
      services: { config: { buffersPerChannel: 2, unalignedCheckpoints: true } },
      requestTurn: () => {},
      mailbox: { execute: (action: () => void) => action() },
    } as unknown as TaskContext;
    this.input = new NetworkInput(
      ctx,
      [{ receiver, inputIndex: 0 }],
      [head],
      newOperatorMetrics(),
      this,
    );
    this.input.start();
  }

  /** Turns until the input runs dry; returns how many it took. */
  drain(): number {
    let turns = 0;
    for (;;) {
      turns++;
      const status = this.input.processTurn(() => true);
      if (status !== InputStatus.MORE_AVAILABLE) return turns;
    }
  }

  lastCheckpointId(): number {
    return this.last;
  }
  setLastCheckpointId(id: number): void {
    this.last = id;
  }
  triggerCheckpoint(
    id: number,
    _options: CheckpointOptions,
    _alignmentMs: number,
    inputState?: Promise<InputChannelState>,
  ): void {
    this.snapshots.push({ id, after: [...this.processed], inputState });
  }
  abortCheckpoint(): void {}
  cancelCheckpoint(): void {}
}

describe("a network input's turn", () => {
  it('ends inside the buffer of a slow operator, goes on there, and returns the credit at its end', () => {
    const task = new SlowTask();
    const credits = task.credits;
    task.sender.send(recordBuffer(records(0, 40)));
    expect(task.input.processTurn(() => true)).toBe(InputStatus.MORE_AVAILABLE);
    const first = task.processed.length;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(40);
    expect(task.credits).toBe(credits);
    // Later turns are shorter still: a look at the clock per record of 1 ms.
    expect(task.input.processTurn(() => true)).toBe(InputStatus.MORE_AVAILABLE);
    expect(task.processed.length - first).toBeLessThan(first);
    task.drain();
    expect(task.processed).toEqual(records(0, 40));
    expect(task.credits).toBe(credits + 1);
  });

  it('persists the rest of a partly processed buffer with an unaligned checkpoint, once, and replays it first', async () => {
    const task = new SlowTask();
    task.sender.send(recordBuffer(records(0, 40)));
    task.sender.send(recordBuffer(records(40, 42)));
    expect(task.input.processTurn(() => true)).toBe(InputStatus.MORE_AVAILABLE);
    const k = task.processed.length;
    expect(k).toBeLessThan(40);
    // The barrier overtakes the rest of the first buffer and the second one.
    task.sender.send(encodePriorityBarrier(7, { ...base, unaligned: true }));
    task.drain();
    expect(task.snapshots.map((s) => [s.id, s.after])).toEqual([[7, records(0, k)]]);
    const state = (await task.snapshots[0]!.inputState)!;
    expect(state.map(values)).toEqual([records(k, 42)]);
    // Processing went on after the snapshot: every record once, in order.
    expect(task.processed).toEqual(records(0, 42));

    // Restore: the persisted rest goes ahead of what arrives now, and grants no credit.
    const restored = new SlowTask();
    const credits = restored.credits;
    restored.input.restoreInputState(state);
    restored.sender.send(recordBuffer(['new']));
    restored.drain();
    expect(restored.processed).toEqual([...records(k, 42), 'new']);
    expect(restored.credits).toBe(credits + 1);
  });

  it('persists the rest of a partly processed restored buffer at the next unaligned checkpoint', async () => {
    const task = new SlowTask();
    task.input.restoreInputState([[recordBuffer(records(0, 40))]]);
    expect(task.input.processTurn(() => true)).toBe(InputStatus.MORE_AVAILABLE);
    const k = task.processed.length;
    task.sender.send(encodePriorityBarrier(8, { ...base, unaligned: true }));
    task.drain();
    const state = (await task.snapshots[0]!.inputState)!;
    expect(state.map(values)).toEqual([records(k, 40)]);
    expect(task.processed).toEqual(records(0, 40));
    // A restored buffer was never granted credit: finishing it grants none.
    expect(task.credits).toBe(2);
  });
});
