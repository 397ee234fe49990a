import type { ReaderOutput, SourceOutput, SourceReader, SourceReaderContext } from '@nimble/api';
import { InputStatus, OutputTag } from '@nimble/api';
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka, KafkaMessage, PartitionAssigner } from 'kafkajs';
import { AssignerProtocol } from 'kafkajs';
import { createKafkaClient, numberProperty } from './client.js';
import { KafkaInternalClient } from './kafka-internals.js';
import type { KafkaPartitionSplit } from './kafka-partition-split.js';
import type { KafkaSourceConfig } from './kafka-source-config.js';
import type { KafkaConsumerRecord } from './schemas.js';

const NO_HEADERS: KafkaConsumerRecord['headers'] = Object.freeze({});

/** Records emitted per poll at most: the task checks barriers and timers between polls. */
const RECORDS_PER_POLL = 2048;
/** Fetched records held at most before the fetch loop waits for the task (backpressure). */
const MAX_QUEUED_RECORDS = 50_000;

interface PartitionState {
  readonly splitId: string;
  readonly topic: string;
  readonly partition: number;
  /** The offset of the next record to emit. */
  next: number;
  readonly stop: number | undefined;
  output: SourceOutput<unknown> | undefined;
  /** The partition's end offset, from the last fetch. */
  highWatermark: number;
  /** The offset last committed to the group, or -1. */
  committed: number;
}

interface FetchedBatch {
  readonly state: PartitionState;
  readonly generation: number;
  readonly messages: readonly KafkaMessage[];
  index: number;
  /** The offset after the batch, also past control records and aborted records it skipped. */
  readonly endOffset: number;
}

/** A record the value deserializer could not read: what the malformed-records side output carries. */
export interface MalformedKafkaRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  /** The key as UTF-8, or null. */
  readonly key: string | null;
  /** The value as UTF-8 (null for a tombstone). */
  readonly value: string | null;
  /** Why it could not be read. */
  readonly error: string;
}

/**
 * The side output the reader sends the records it cannot deserialize to. It lives with the reader
 * that emits to it, as the source imports the reader and not the reverse; users reach it as
 * `KafkaSource.MALFORMED_RECORDS`.
 */
export const MALFORMED_RECORDS = new OutputTag<MalformedKafkaRecord>('kafka-malformed-records');

/**
 * Reads the partitions assigned to one source subtask (Flink's KafkaSourceReader). A kafkajs
 * consumer fetches in the background into a queue; `pollNext` emits from it synchronously,
 * so the offsets in a snapshot are exactly those of the records emitted before the barrier.
 *
 * kafkajs has no manual partition assignment: the consumer joins a group of its own (never
 * the user's group id, never committing), whose assigner hands it exactly this reader's splits,
 * and seeks each partition to its split offset.
 */
export class KafkaSourceReader<T> implements SourceReader<T, KafkaPartitionSplit> {
  private readonly kafka: Kafka;
  private readonly splits = new Map<string, PartitionState>();
  private queue: FetchedBatch[] = [];
  private queuedRecords = 0;
  private generation = 0;
  private consumer: Consumer | undefined;
  /** Consumer starts and stops run one after the other. */
  private lifecycle: Promise<void> = Promise.resolve();
  private noMoreSplits = false;
  private failure: Error | undefined;
  private wakeReader: (() => void) | undefined;
  private wakeFetcher: (() => void) | undefined;
  private readonly offsetsToCommit = new Map<
    number,
    { topic: string; partition: number; offset: number }[]
  >();
  private committer: KafkaInternalClient | undefined;
  private numRecordsInErrors = 0;
  private closed = false;
  /** Splits were added that have no output yet. */
  private newSplits = false;
  /** What a record deserializer emits to: the current split's output, with the record's timestamp. */
  private readonly recordOut = {
    target: undefined as SourceOutput<unknown> | undefined,
    timestamp: 0,
    collect(element: T): void {
      this.target!.collect(element, this.timestamp);
    },
  };

  constructor(
    private readonly config: KafkaSourceConfig<T>,
    private readonly context: SourceReaderContext,
  ) {
    this.kafka = createKafkaClient(config.properties, 'KafkaSource');
    const metrics = context.metricGroup();
    metrics.gauge('KafkaSourceReader_KafkaConsumer_records_lag_max', () => this.maxLag());
    metrics.gauge('numRecordsInErrors', () => this.numRecordsInErrors);
    // FLIP-33: the records between the reader's positions and the end offsets it already knows.
    metrics.gauge('pendingRecords', () => this.pendingRecords());
  }

  start(): void {}

  addSplits(splits: KafkaPartitionSplit[]): void {
    const metrics = this.context.metricGroup();
    let added = false;
    for (const s of splits) {
      if (this.splits.has(s.splitId)) continue;
      if (!Number.isSafeInteger(s.offset) || s.offset < 0) {
        throw new Error(
          `KafkaSource: split ${s.splitId} has an invalid offset ${String(s.offset)}`,
        );
      }
      const state: PartitionState = {
        splitId: s.splitId,
        topic: s.topic,
        partition: s.partition,
        next: s.offset,
        stop: s.stoppingOffset,
        output: undefined,
        highWatermark: s.offset,
        committed: -1,
      };
      if (state.stop !== undefined && state.next >= state.stop) continue; // Nothing to read.
      this.splits.set(s.splitId, state);
      added = true;
      const labels = { topic: s.topic, partition: String(s.partition) };
      metrics.gauge('KafkaSourceReader_topic_partition_currentOffset', () => state.next, labels);
      metrics.gauge(
        'KafkaSourceReader_topic_partition_committedOffset',
        () => state.committed,
        labels,
      );
    }
    if (!added) return;
    this.newSplits = true;
    this.restartConsumer();
  }

  notifyNoMoreSplits(): void {
    this.noMoreSplits = true;
  }

  pollNext(output: ReaderOutput<T>): InputStatus {
    if (this.failure) throw this.failure;
    if (this.newSplits) {
      // Every split gets its output (and so its watermark) before any record is emitted: a
      // partition that has not delivered yet holds the watermark back, as in Flink.
      this.newSplits = false;
      for (const s of this.splits.values()) {
        s.output ??= output.createOutputForSplit(s.splitId) as SourceOutput<unknown>;
      }
    }
    let emitted = 0;
    const deserializer = this.config.deserializer;
    const recordOut = this.recordOut;
    while (emitted < RECORDS_PER_POLL && this.queue.length > 0) {
      const batch = this.queue[0]!;
      const s = batch.state;
      if (batch.generation !== this.generation || this.splits.get(s.splitId) !== s) {
        this.dequeue();
        continue;
      }
      const out = s.output!;
      const messages = batch.messages;
      const stop = s.stop ?? Number.MAX_SAFE_INTEGER;
      while (batch.index < messages.length && emitted < RECORDS_PER_POLL) {
        const m = messages[batch.index++]!;
        const offset = Number(m.offset);
        if (offset < s.next) continue; // Fetched again after a seek.
        if (offset >= stop) {
          batch.index = messages.length;
          break;
        }
        emitted++;
        s.next = offset + 1;
        const timestamp = Number(m.timestamp);
        const value = m.value;
        if (deserializer.kind === 'record') {
          // Errors propagate: a record deserializer skips records by emitting nothing.
          recordOut.target = out;
          recordOut.timestamp = timestamp;
          deserializer.schema.deserialize(
            {
              topic: s.topic,
              partition: s.partition,
              offset,
              timestamp,
              key: m.key ?? null,
              value: value ?? null,
              // kafkajs decodes header values as Buffers (a repeated key as an array of them).
              headers: (m.headers as KafkaConsumerRecord['headers'] | undefined) ?? NO_HEADERS,
            },
            recordOut,
          );
          continue;
        }
        let record: T;
        try {
          if (value === null) throw new Error('the record has no value (a tombstone)');
          record = deserializer.schema.deserialize(value);
        } catch (e) {
          this.numRecordsInErrors++;
          output.collectSide(
            MALFORMED_RECORDS,
            {
              topic: s.topic,
              partition: s.partition,
              offset,
              timestamp,
              key: m.key === null ? null : m.key.toString('utf8'),
              value: value === null ? null : value.toString('utf8'),
              error: e instanceof Error ? e.message : String(e),
            },
            timestamp,
          );
          continue;
        }
        out.collect(record, timestamp);
      }
      if (batch.index >= messages.length) {
        this.dequeue();
        if (batch.endOffset > s.next) s.next = Math.min(batch.endOffset, stop);
      }
      if (s.next >= stop) this.finishSplit(s, output);
    }
    if (this.queuedRecords < MAX_QUEUED_RECORDS / 2 && this.wakeFetcher) {
      const wake = this.wakeFetcher;
      this.wakeFetcher = undefined;
      wake();
    }
    if (this.splits.size === 0) {
      // Without splits the subtask is not idle, as in Flink: before the enumerator's first
      // assignment reaches it, an idle subtask would let the others' watermarks fire windows its
      // partitions still have records for. A subtask that gets no partition (parallelism above
      // the partition count) holds the watermark back until `withIdleness` marks it idle.
      return this.noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
    }
    return this.queue.length > 0 ? InputStatus.MORE_AVAILABLE : InputStatus.NOTHING_AVAILABLE;
  }

  private dequeue(): void {
    const b = this.queue.shift()!;
    this.queuedRecords -= b.messages.length;
  }

  private finishSplit(s: PartitionState, output: ReaderOutput<T>): void {
    this.splits.delete(s.splitId);
    output.releaseOutputForSplit(s.splitId);
    const labels = { topic: s.topic, partition: String(s.partition) };
    this.context
      .metricGroup()
      .removeGauge('KafkaSourceReader_topic_partition_currentOffset', labels);
    this.context
      .metricGroup()
      .removeGauge('KafkaSourceReader_topic_partition_committedOffset', labels);
    this.consumer?.pause([{ topic: s.topic, partitions: [s.partition] }]);
  }

  isAvailable(): Promise<void> {
    if (this.queue.length > 0 || this.failure) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeReader = resolve;
    });
  }

  private wake(): void {
    const w = this.wakeReader;
    this.wakeReader = undefined;
    w?.();
  }

  private fail(error: unknown): void {
    if (this.closed) return;
    this.failure ??= error instanceof Error ? error : new Error(String(error));
    this.wake();
  }

  /** (Re)starts the consumer for the current splits, each at its next offset. */
  private restartConsumer(): void {
    const generation = ++this.generation;
    this.queue = [];
    this.queuedRecords = 0;
    this.wakeFetcher?.();
    this.wakeFetcher = undefined;
    const old = this.consumer;
    this.consumer = undefined;
    this.lifecycle = this.lifecycle
      .then(async () => {
        await old?.disconnect().catch(() => {});
        if (generation !== this.generation || this.closed || this.splits.size === 0) return;
        await this.startConsumer(generation);
      })
      .catch((e: unknown) => this.fail(e));
  }

  private async startConsumer(generation: number): Promise<void> {
    const parts = [...this.splits.values()];
    const byTopic = new Map<string, number[]>();
    for (const s of parts) {
      let list = byTopic.get(s.topic);
      if (!list) byTopic.set(s.topic, (list = []));
      list.push(s.partition);
    }
    const props = this.config.properties;
    const assigner: PartitionAssigner = () => ({
      name: 'NimbleSplitAssigner',
      version: 1,
      protocol: ({ topics }) => ({
        name: 'NimbleSplitAssigner',
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: Buffer.alloc(0),
        }),
      }),
      assign: ({ members }) =>
        Promise.resolve(
          members.map((m, i) => ({
            memberId: m.memberId,
            memberAssignment: AssignerProtocol.MemberAssignment.encode({
              version: 1,
              assignment: i === 0 ? Object.fromEntries(byTopic) : {},
              userData: Buffer.alloc(0),
            }),
          })),
        ),
    });
    const consumer = this.kafka.consumer({
      groupId: `${this.config.groupId ?? 'nimble'}-reader-${randomUUID()}`,
      partitionAssigners: [assigner],
      readUncommitted: !this.config.readCommitted,
      allowAutoTopicCreation: false,
      minBytes: numberProperty(props, 'fetch.min.bytes', 1, 'KafkaSource'),
      maxWaitTimeInMs: numberProperty(props, 'fetch.max.wait.ms', 500, 'KafkaSource'),
      maxBytesPerPartition: numberProperty(
        props,
        'max.partition.fetch.bytes',
        1_048_576,
        'KafkaSource',
      ),
      // The reader restarts its consumer itself, at the offsets it emitted up to.
      retry: { restartOnFailure: () => Promise.resolve(false) },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (generation !== this.generation || this.closed) return;
      process.stderr.write(
        `KafkaSource: the consumer failed, restarting it: ${payload.error.message}\n`,
      );
      setTimeout(() => {
        if (generation === this.generation && !this.closed) this.restartConsumer();
      }, 1000);
    });
    // A batch of only control records (transaction markers) or aborted records: no records, but the
    // position moves past it, so a bounded split can reach its stopping offset.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize !== 0 || generation !== this.generation) return;
      const s = this.splits.get(`${payload.topic}-${payload.partition}`);
      if (!s) return;
      this.queue.push({
        state: s,
        generation,
        messages: [],
        index: 0,
        endOffset: Number(payload.lastOffset) + 1,
      });
      this.wake();
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...byTopic.keys()], fromBeginning: true });
    if (generation !== this.generation || this.closed) {
      await consumer.disconnect();
      return;
    }
    const running = consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch, isRunning }) => {
        if (generation !== this.generation) return;
        const s = this.splits.get(`${batch.topic}-${batch.partition}`);
        if (!s) return;
        // The deserializer's lookups for this batch (a registry's schemas), before it is read:
        // pollNext deserializes synchronously. A failure fails the reader, not the consumer.
        const prepare = this.config.deserializer.schema.prepare;
        if (prepare) {
          try {
            await prepare.call(
              this.config.deserializer.schema,
              batch.messages.map((m) => m.value ?? null),
            );
          } catch (e) {
            const err = e instanceof Error ? e : new Error(String(e));
            this.fail(
              new Error(
                `KafkaSource: preparing the records of partition ${batch.partition} of topic ${batch.topic} from offset ${batch.firstOffset() ?? '?'} failed: ${err.message}`,
                { cause: err },
              ),
            );
            return;
          }
          if (generation !== this.generation) return;
        }
        s.highWatermark = Number(batch.highWatermark);
        this.queue.push({
          state: s,
          generation,
          messages: batch.messages,
          index: 0,
          endOffset: Number(batch.lastOffset()) + 1,
        });
        this.queuedRecords += batch.messages.length;
        this.wake();
        while (
          this.queuedRecords > MAX_QUEUED_RECORDS &&
          generation === this.generation &&
          isRunning()
        ) {
          await new Promise<void>((resolve) => {
            this.wakeFetcher = resolve;
          });
        }
      },
    });
    // run() creates the consumer's group state at once; seeks apply at its first fetch.
    for (const s of parts)
      consumer.seek({ topic: s.topic, partition: s.partition, offset: String(s.next) });
    await running;
  }

  snapshotState(checkpointId: number): KafkaPartitionSplit[] {
    const splits: KafkaPartitionSplit[] = [];
    for (const s of this.splits.values()) {
      splits.push({
        splitId: s.splitId,
        topic: s.topic,
        partition: s.partition,
        offset: s.next,
        ...(s.stop !== undefined ? { stoppingOffset: s.stop } : {}),
      });
    }
    if (this.config.groupId !== undefined) {
      this.offsetsToCommit.set(
        checkpointId,
        splits.map((s) => ({ topic: s.topic, partition: s.partition, offset: s.offset })),
      );
    }
    return splits;
  }

  /** Commits the checkpoint's offsets to the group, for monitoring (failures only logged). */
  notifyCheckpointComplete(checkpointId: number): void {
    const offsets = this.offsetsToCommit.get(checkpointId);
    for (const id of [...this.offsetsToCommit.keys()])
      if (id <= checkpointId) this.offsetsToCommit.delete(id);
    if (!offsets || offsets.length === 0 || this.closed) return;
    void this.commitOffsets(offsets).catch((e: unknown) => {
      process.stderr.write(
        `KafkaSource: committing the offsets of checkpoint ${checkpointId} to group ${this.config.groupId} failed: ${String(e)}\n`,
      );
    });
  }

  private async commitOffsets(
    offsets: { topic: string; partition: number; offset: number }[],
  ): Promise<void> {
    this.committer ??= new KafkaInternalClient(this.kafka, 0);
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const o of offsets) {
      let list = byTopic.get(o.topic);
      if (!list) byTopic.set(o.topic, (list = []));
      list.push({ partition: o.partition, offset: String(o.offset) });
    }
    await this.committer.commitOffsets(
      this.config.groupId!,
      [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
    );
    for (const o of offsets) {
      const s = this.splits.get(`${o.topic}-${o.partition}`);
      if (s) s.committed = o.offset;
    }
  }

  private pendingRecords(): number {
    let pending = 0;
    for (const s of this.splits.values()) {
      const end = s.stop === undefined ? s.highWatermark : Math.min(s.highWatermark, s.stop);
      if (end > s.next) pending += end - s.next;
    }
    return pending;
  }

  private maxLag(): number {
    let max = 0;
    for (const s of this.splits.values()) {
      const end = s.stop === undefined ? s.highWatermark : Math.min(s.highWatermark, s.stop);
      if (end - s.next > max) max = end - s.next;
    }
    return max;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.generation++;
    this.wakeFetcher?.();
    const consumer = this.consumer;
    this.consumer = undefined;
    await Promise.allSettled([consumer?.disconnect(), this.committer?.close(), this.lifecycle]);
  }
}
