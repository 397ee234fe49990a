/**
 * Micro-benchmark of a network input's turn (docs/checkpoints.md, "Turns end between records"):
 * what ending turns inside a buffer costs a fast operator. Buffers of the seed's purchases as the
 * exchange carries them (keyed records, ~140 per 32 KiB buffer) go through a local channel into
 *
 * - whole buffers: the input gate and `decodeElements` per buffer, up to 8 buffers per turn (the
 *   turn as it was before turns had a time budget);
 * - time-bounded turns: `NetworkInput.processTurn` (a cursor per buffer, a look at the clock every
 *   few elements, the turn ends after 2 ms);
 *
 * into a head operator that adds up the amounts. The two run in alternation, several rounds, and
 * the best and median round of each are printed, so a busy machine disturbs the comparison less.
 *
 *   pnpm bench:turns [-- --rounds 15]
 */
import { InputStatus } from '@nimble/api';
import { purchaseAt } from '@nimble/examples/purchases';
import type { ElementHandler } from '@nimble/runtime';
import { decodeElements, encodeElements, newOperatorMetrics } from '@nimble/runtime';
import { localChannel } from '../packages/runtime/src/exchange/channel.js';
import { InputGate } from '../packages/runtime/src/exchange/input-gate.js';
import type { OperatorInput } from '../packages/runtime/src/operators/operator.js';
import type { AlignedCheckpointHandler } from '../packages/runtime/src/task/barrier-aligner.js';
import { NetworkInput } from '../packages/runtime/src/task/network-input.js';
import type { TaskContext } from '../packages/runtime/src/task/task-context.js';

const i = process.argv.indexOf('--rounds');
const ROUNDS = i > 0 ? Number(process.argv[i + 1]) : 15;
const RECORDS_PER_BUFFER = 140;
const BUFFERS = 200;
/** Buffers sent per batch: the gate's credit is not enforced by a local channel. */
const BATCH = 8;
const PASSES = 10;

const options = { users: 100_000, msPerEvent: 1, maxDelayMs: 3000 };
const buffers = Array.from({ length: BUFFERS }, (_, b) => {
  const flat: unknown[] = [];
  for (let r = 0; r < RECORDS_PER_BUFFER; r++) {
    const p = purchaseAt(b * RECORDS_PER_BUFFER + r, options);
    flat.push(16 + (r % 128), p.event_time_ms, p);
  }
  return encodeElements(flat);
});
const records = BUFFERS * RECORDS_PER_BUFFER * PASSES;

let sum = 0;
const head: OperatorInput<unknown> = {
  setKeyContextElement: () => {},
  processElement: (value) => {
    sum += (value as { amount_usd: number }).amount_usd;
  },
  processWatermark: () => {},
  processWatermarkStatus: () => {},
};

/** The turn before: whole buffers, up to 8 per turn. */
function wholeBuffers(): number {
  const { sender, receiver } = localChannel();
  sender.connect(() => {});
  const gate = new InputGate([receiver], 4, () => {});
  gate.start();
  const handler: ElementHandler = {
    record: (value, timestamp, keyGroup) => {
      head.setKeyContextElement(value, keyGroup);
      head.processElement(value, timestamp);
    },
    watermark: () => {},
    watermarkStatus: () => {},
    endOfPartition: () => {},
    barrier: () => {},
    cancelBarrier: () => {},
  };
  const start = performance.now();
  for (let pass = 0; pass < PASSES; pass++)
    for (let b = 0; b < BUFFERS; b += BATCH) {
      for (let k = b; k < b + BATCH; k++) sender.send(buffers[k]!);
      for (;;) {
        let n = 0;
        for (; n < 8; n++) {
          const next = gate.poll();
          if (next === undefined) break;
          decodeElements(next.buffer, handler);
          gate.recycle(next.channel);
        }
        if (gate.queuedBuffers === 0) break;
      }
    }
  return performance.now() - start;
}

const noCheckpoints: AlignedCheckpointHandler = {
  lastCheckpointId: () => 0,
  setLastCheckpointId: () => {},
  triggerCheckpoint: () => {},
  abortCheckpoint: () => {},
  cancelCheckpoint: () => {},
};

/** The turn now: NetworkInput's time-bounded turns. */
function timeBoundedTurns(): number {
  const { sender, receiver } = localChannel();
  sender.connect(() => {});
  const ctx = {
    name: 'Bench (1/1)',
    services: { config: { buffersPerChannel: 4, unalignedCheckpoints: false } },
    requestTurn: () => {},
    mailbox: { execute: (action: () => void) => action() },
  } as unknown as TaskContext;
  const input = new NetworkInput(
    ctx,
    [{ receiver, inputIndex: 0 }],
    [head],
    newOperatorMetrics(),
    noCheckpoints,
  );
  input.start();
  const always = (): boolean => true;
  const start = performance.now();
  for (let pass = 0; pass < PASSES; pass++)
    for (let b = 0; b < BUFFERS; b += BATCH) {
      for (let k = b; k < b + BATCH; k++) sender.send(buffers[k]!);
      while (input.processTurn(always) === InputStatus.MORE_AVAILABLE);
    }
  return performance.now() - start;
}

const variants: [string, () => number][] = [
  ['whole buffers (before)', wholeBuffers],
  ['time-bounded turns (now)', timeBoundedTurns],
];
const times = variants.map((): number[] => []);
for (let round = 0; round < ROUNDS; round++)
  variants.forEach(([, run], v) => times[v]!.push(run()));

const nsPerRecord = (ms: number): number => (ms * 1e6) / records;
console.log(
  `Network input turns: ${records} keyed purchase records per round, ${RECORDS_PER_BUFFER} per buffer, ${ROUNDS} rounds (sum ${sum > 0 ? 'ok' : 'empty'})`,
);
console.log('| turn                     | best ns/record | median ns/record |');
console.log('| ------------------------ | -------------- | ---------------- |');
const medians: number[] = [];
variants.forEach(([name], v) => {
  const sorted = [...times[v]!].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  medians.push(median);
  console.log(
    `| ${name.padEnd(24)} | ${nsPerRecord(sorted[0]!).toFixed(1).padStart(14)} | ${nsPerRecord(median).toFixed(1).padStart(16)} |`,
  );
});
console.log(`median now / before: ${(medians[1]! / medians[0]!).toFixed(3)}`);
