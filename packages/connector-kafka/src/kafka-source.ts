import type {
  Source,
  SourceReader,
  SourceReaderContext,
  SplitEnumerator,
  SplitEnumeratorContext,
} from '@nimble/api';
import type { OutputTag } from '@nimble/api';
import { Boundedness } from '@nimble/api';
import type { Admin } from 'kafkajs';
import { checkBootstrapServers, createKafkaClient, numberProperty } from './client.js';
import type { KafkaPartitionSplit } from './kafka-partition-split.js';
import type { MalformedKafkaRecord } from './kafka-source-reader.js';
import { KafkaSourceReader, MALFORMED_RECORDS } from './kafka-source-reader.js';
import type { KafkaSourceConfig } from './kafka-source-config.js';
import type { KafkaOffsetsInitializer as Initializer } from './offsets-initializer.js';
import {
  checkOffsetsInitializer,
  KafkaOffsetsInitializer,
  resolveOffsets,
} from './offsets-initializer.js';
import type { DeserializationSchema, KafkaRecordDeserializationSchema } from './schemas.js';
import { isDeserializationSchema, isRecordDeserializationSchema } from './schemas.js';

/** The enumerator's checkpointed state: which partitions were handed out, and which wait for a reader. */
export interface KafkaSourceEnumState {
  readonly assigned: readonly string[];
  readonly pending: readonly KafkaPartitionSplit[];
  readonly initialDiscoveryFinished: boolean;
}

/**
 * Reads Kafka topics (Flink's `KafkaSource`). Each partition is a split: the enumerator (in the
 * JobManager) discovers partitions and spreads them over the source subtasks; a reader consumes its
 * partitions and checkpoints the offset of the next record of each, so a restored job resumes
 * exactly there. Offsets are committed to the group when a checkpoint completes, for monitoring.
 *
 * ```ts
 * const source = KafkaSource.builder<string>()
 *   .setBootstrapServers('kafka:9092')
 *   .setTopics('raw.purchases')
 *   .setGroupId('feature-pipeline')
 *   .setStartingOffsets(KafkaOffsetsInitializer.committedOffsets(KafkaOffsetResetStrategy.EARLIEST))
 *   .setValueOnlyDeserializer(new SimpleStringSchema())
 *   .build();
 * env.fromSource(source, WatermarkStrategy.forBoundedOutOfOrderness(Duration.ofSeconds(5)), 'Kafka Source');
 * ```
 */
export class KafkaSource<T> implements Source<T, KafkaPartitionSplit, KafkaSourceEnumState> {
  /**
   * The side output of records the deserializer could not read, with their topic, partition and
   * offset: `stream.getSideOutput(KafkaSource.MALFORMED_RECORDS).sinkTo(deadLetterSink)`.
   */
  static readonly MALFORMED_RECORDS: OutputTag<MalformedKafkaRecord> = MALFORMED_RECORDS;

  /** A builder; `T` is what the value deserializer returns. */
  static builder<T = string>(): KafkaSourceBuilder<T> {
    return new KafkaSourceBuilder<T>();
  }

  /** @internal Use {@link KafkaSource.builder}. */
  constructor(readonly config: KafkaSourceConfig<T>) {}

  getBoundedness(): Boundedness {
    return this.config.stoppingOffsets ? Boundedness.BOUNDED : Boundedness.CONTINUOUS_UNBOUNDED;
  }

  createReader(context: SourceReaderContext): SourceReader<T, KafkaPartitionSplit> {
    return new KafkaSourceReader(this.config, context);
  }

  createEnumerator(
    context: SplitEnumeratorContext<KafkaPartitionSplit>,
  ): SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> {
    return new KafkaSourceEnumerator(this.config, context, {
      assigned: [],
      pending: [],
      initialDiscoveryFinished: false,
    });
  }

  restoreEnumerator(
    context: SplitEnumeratorContext<KafkaPartitionSplit>,
    state: KafkaSourceEnumState,
  ): SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> {
    return new KafkaSourceEnumerator(this.config, context, state);
  }
}

/** Builds a {@link KafkaSource} (Flink's `KafkaSourceBuilder`). */
export class KafkaSourceBuilder<T> {
  private bootstrapServers: string | undefined;
  private topics: string[] | undefined;
  private topicPattern: RegExp | undefined;
  private groupId: string | undefined;
  private startingOffsets: Initializer = KafkaOffsetsInitializer.earliest();
  private stoppingOffsets: Initializer | undefined;
  private deserializer: KafkaSourceConfig<T>['deserializer'] | undefined;
  private readonly properties: Record<string, string> = {};

  /** `host:port[,host:port...]`. */
  setBootstrapServers(servers: string): this {
    this.bootstrapServers = checkBootstrapServers(servers, 'KafkaSource');
    return this;
  }

  /** The topics to read (a list, or several arguments). */
  setTopics(...topics: (string | readonly string[])[]): this {
    const list = topics.flat();
    if (list.length === 0 || list.some((t) => typeof t !== 'string' || t.length === 0)) {
      throw new TypeError(
        `KafkaSource.setTopics: topic names must be non-empty strings; got ${JSON.stringify(list)}`,
      );
    }
    this.topics = list;
    this.topicPattern = undefined;
    return this;
  }

  /** Reads every topic whose whole name matches `pattern`, also topics created later. */
  setTopicPattern(pattern: RegExp): this {
    if (!(pattern instanceof RegExp))
      throw new TypeError('KafkaSource.setTopicPattern: expected a RegExp');
    this.topicPattern = pattern;
    this.topics = undefined;
    return this;
  }

  /** The consumer group whose committed offsets `committedOffsets()` reads and checkpoints update. */
  setGroupId(groupId: string): this {
    if (typeof groupId !== 'string' || groupId.length === 0) {
      throw new TypeError('KafkaSource.setGroupId: a non-empty group id');
    }
    this.groupId = groupId;
    return this;
  }

  /** Where reading starts in each partition (default: earliest). A restored job ignores this. */
  setStartingOffsets(initializer: Initializer): this {
    this.startingOffsets = checkOffsetsInitializer(initializer, 'KafkaSource.setStartingOffsets');
    return this;
  }

  /**
   * Bounded mode: stop at these offsets (usually `latest()`: the end of each partition when the
   * job started) and finish, for tests and backfills.
   */
  setBounded(stoppingOffsets: Initializer): this {
    this.stoppingOffsets = checkOffsetsInitializer(stoppingOffsets, 'KafkaSource.setBounded');
    return this;
  }

  /** Reads each record's value with `schema` (keys are ignored). */
  setValueOnlyDeserializer(schema: DeserializationSchema<T>): this {
    if (!isDeserializationSchema(schema)) {
      throw new TypeError(
        'KafkaSource.setValueOnlyDeserializer: expected a DeserializationSchema (e.g. new SimpleStringSchema() or new JsonDeserializationSchema())',
      );
    }
    this.deserializer = { kind: 'value', schema };
    return this;
  }

  /**
   * Reads whole records (key, value, headers, topic, partition, offset, timestamp) with `schema`,
   * which emits zero or more elements per record. Tombstones reach it with a null value; an error
   * it throws fails the job (no malformed-records side output).
   */
  setDeserializer(schema: KafkaRecordDeserializationSchema<T>): this {
    if (!isRecordDeserializationSchema(schema)) {
      throw new TypeError(
        'KafkaSource.setDeserializer: expected a KafkaRecordDeserializationSchema (an object with deserialize(record, out))',
      );
    }
    this.deserializer = { kind: 'record', schema };
    return this;
  }

  /**
   * A Kafka client property: `client.id`, `isolation.level` (`read_uncommitted` default, or
   * `read_committed`), `partition.discovery.interval.ms` (default 30000; 0 turns discovery off),
   * `request.timeout.ms`, `fetch.max.wait.ms`, `max.partition.fetch.bytes`, `kafkajs.log.level`.
   */
  setProperty(key: string, value: string | number): this {
    this.properties[key] = String(value);
    return this;
  }

  build(): KafkaSource<T> {
    if (this.bootstrapServers === undefined) {
      throw new Error('KafkaSource: bootstrap servers are required (setBootstrapServers)');
    }
    if (this.topics === undefined && this.topicPattern === undefined) {
      throw new Error('KafkaSource: topics are required (setTopics or setTopicPattern)');
    }
    if (this.deserializer === undefined) {
      throw new Error(
        'KafkaSource: a deserializer is required (setValueOnlyDeserializer(new SimpleStringSchema()))',
      );
    }
    const properties: Record<string, string> = {
      ...this.properties,
      'bootstrap.servers': this.bootstrapServers,
    };
    const isolation = properties['isolation.level'] ?? 'read_uncommitted';
    if (isolation !== 'read_committed' && isolation !== 'read_uncommitted') {
      throw new TypeError(
        `KafkaSource: isolation.level must be read_committed or read_uncommitted; got ${isolation}`,
      );
    }
    return new KafkaSource<T>({
      properties,
      topics: this.topics,
      topicPattern: this.topicPattern,
      groupId: this.groupId,
      startingOffsets: this.startingOffsets,
      stoppingOffsets: this.stoppingOffsets,
      deserializer: this.deserializer,
      discoveryIntervalMs: numberProperty(
        properties,
        'partition.discovery.interval.ms',
        30_000,
        'KafkaSource',
      ),
      readCommitted: isolation === 'read_committed',
    });
  }
}

/** Java's `String.hashCode`, so partitions spread over subtasks as in Flink's KafkaSourceEnumerator. */
function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** The subtask that owns partition `partition` of `topic` (Flink's KafkaSourceEnumerator.getSplitOwner). */
export function splitOwner(topic: string, partition: number, parallelism: number): number {
  const start = (Math.imul(javaStringHash(topic), 31) & 0x7fffffff) % parallelism;
  return (start + partition) % parallelism;
}

/** Discovers partitions, resolves their starting offsets and assigns them to readers. */
class KafkaSourceEnumerator<T> implements SplitEnumerator<
  KafkaPartitionSplit,
  KafkaSourceEnumState
> {
  private readonly assigned: Set<string>;
  /** Splits waiting for their reader to register, by owner subtask. */
  private readonly pending = new Map<number, KafkaPartitionSplit[]>();
  private readonly registered = new Set<number>();
  private initialDiscoveryFinished: boolean;
  private admin: Admin | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private discovering = false;
  private closed = false;

  constructor(
    private readonly config: KafkaSourceConfig<T>,
    private readonly context: SplitEnumeratorContext<KafkaPartitionSplit>,
    state: KafkaSourceEnumState,
  ) {
    this.assigned = new Set(state.assigned);
    this.initialDiscoveryFinished = state.initialDiscoveryFinished;
    for (const s of state.pending) this.addPending(s);
  }

  private get bounded(): boolean {
    return this.config.stoppingOffsets !== undefined;
  }

  async start(): Promise<void> {
    this.admin = createKafkaClient(this.config.properties, 'KafkaSource').admin();
    try {
      await this.admin.connect();
    } catch (e) {
      throw new Error(
        `KafkaSource: cannot connect to the bootstrap servers ${this.config.properties['bootstrap.servers']}: ${(e as Error).message}. Check setBootstrapServers and that the brokers are up.`,
        { cause: e },
      );
    }
    await this.discover();
    if (!this.bounded && this.config.discoveryIntervalMs > 0) {
      this.timer = setInterval(() => {
        this.discover().catch((e: unknown) => {
          process.stderr.write(
            `KafkaSource: partition discovery failed (retried in ${this.config.discoveryIntervalMs} ms): ${String(e)}\n`,
          );
        });
      }, this.config.discoveryIntervalMs);
      this.timer.unref?.();
    }
  }

  private async topicsToRead(admin: Admin): Promise<string[]> {
    if (this.config.topics) return [...this.config.topics];
    const pattern = this.config.topicPattern!;
    const all = await admin.listTopics();
    return all.filter((t) => {
      pattern.lastIndex = 0;
      const m = pattern.exec(t);
      return m !== null && m.index === 0 && m[0].length === t.length;
    });
  }

  /** Finds partitions not seen yet and hands them out. */
  private async discover(): Promise<void> {
    if (this.discovering || this.closed) return;
    this.discovering = true;
    try {
      const admin = this.admin!;
      const topics = await this.topicsToRead(admin);
      const found: KafkaPartitionSplit[] = [];
      if (topics.length > 0) {
        let metadata;
        try {
          metadata = await admin.fetchTopicMetadata({ topics });
        } catch (e) {
          throw new Error(
            `KafkaSource: cannot read the partitions of topic(s) ${topics.join(', ')} at ${this.config.properties['bootstrap.servers']}: ${(e as Error).message}`,
            { cause: e },
          );
        }
        for (const t of metadata.topics) {
          const partitions = t.partitions
            .map((p) => p.partitionId)
            .filter((p) => !this.assigned.has(`${t.name}-${p}`) && !this.isPending(t.name, p));
          if (partitions.length === 0) continue;
          // Partitions that appear after the first discovery start at their beginning (as in Flink).
          const start = this.initialDiscoveryFinished
            ? KafkaOffsetsInitializer.earliest()
            : this.config.startingOffsets;
          const offsets = await resolveOffsets(
            admin,
            start,
            t.name,
            partitions,
            this.config.groupId,
          );
          const stops = this.config.stoppingOffsets
            ? await resolveOffsets(
                admin,
                this.config.stoppingOffsets,
                t.name,
                partitions,
                this.config.groupId,
              )
            : undefined;
          for (const p of partitions) {
            found.push({
              splitId: `${t.name}-${p}`,
              topic: t.name,
              partition: p,
              offset: offsets.get(p)!,
              ...(stops ? { stoppingOffset: stops.get(p)! } : {}),
            });
          }
        }
      }
      if (this.closed) return;
      for (const s of found) this.addPending(s);
      this.initialDiscoveryFinished = true;
      for (const subtask of this.registered) this.assignPending(subtask);
    } finally {
      this.discovering = false;
    }
  }

  private isPending(topic: string, partition: number): boolean {
    for (const list of this.pending.values()) {
      if (list.some((s) => s.topic === topic && s.partition === partition)) return true;
    }
    return false;
  }

  private addPending(split: KafkaPartitionSplit): void {
    const owner = splitOwner(split.topic, split.partition, this.context.currentParallelism());
    let list = this.pending.get(owner);
    if (!list) this.pending.set(owner, (list = []));
    list.push(split);
  }

  private assignPending(subtask: number): void {
    const list = this.pending.get(subtask);
    if (list && list.length > 0) {
      this.pending.delete(subtask);
      for (const s of list) this.assigned.add(s.splitId);
      this.context.assignSplits(subtask, list);
    }
    if (this.bounded && this.initialDiscoveryFinished) this.context.signalNoMoreSplits(subtask);
  }

  addReader(subtask: number): void {
    this.registered.add(subtask);
    if (this.initialDiscoveryFinished) this.assignPending(subtask);
  }

  addSplitsBack(splits: KafkaPartitionSplit[]): void {
    for (const s of splits) {
      this.assigned.delete(s.splitId);
      this.addPending(s);
    }
  }

  snapshotState(): KafkaSourceEnumState {
    return {
      assigned: [...this.assigned],
      pending: [...this.pending.values()].flat(),
      initialDiscoveryFinished: this.initialDiscoveryFinished,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.admin?.disconnect();
  }
}
