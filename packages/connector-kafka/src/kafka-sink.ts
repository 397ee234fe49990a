import type {
  Committer,
  CommittingSinkWriter,
  SinkInitContext,
  SinkWriterContext,
  TwoPhaseCommittingSink,
} from '@nimble/api';
import { END_OF_INPUT_CHECKPOINT_ID } from '@nimble/api';
import type { Kafka, Message, Producer, Transaction } from 'kafkajs';
import { CompressionTypes, Partitioners } from 'kafkajs';
import type { KafkaProperties } from './client.js';
import { checkBootstrapServers, createKafkaClient, numberProperty } from './client.js';
import type { SerializationSchema } from './schemas.js';
import { isSerializationSchema } from './schemas.js';
import { isRetriableKafkaError, KafkaInternalClient, producerIdentity } from './kafka-internals.js';

/** What the sink guarantees (Flink's `DeliveryGuarantee`). */
export enum DeliveryGuarantee {
  /** Records are sent, never waited for: a failure may lose or duplicate them. */
  NONE = 'none',
  /** Every checkpoint waits until the broker acknowledged all records sent before it. */
  AT_LEAST_ONCE = 'at-least-once',
  /** Kafka transactions committed when the checkpoint completes; read with `read_committed`. */
  EXACTLY_ONCE = 'exactly-once',
}

/** Header values of a record to write: a key with several values is written once per value. */
export type KafkaHeaders = Readonly<Record<string, Buffer | string | readonly (Buffer | string)[]>>;

/** A record to write: what a {@link KafkaRecordSerializationSchema} makes of an element. */
export interface KafkaProducerRecord {
  readonly topic: string;
  readonly key?: Buffer | string | null;
  /** Null writes a tombstone: a compacted topic drops the key's earlier records. */
  readonly value: Buffer | string | null;
  readonly partition?: number;
  /** Epoch milliseconds; absent: the producer's current time. */
  readonly timestamp?: number;
  readonly headers?: KafkaHeaders;
}

/**
 * Turns an element into a Kafka record (Flink's `KafkaRecordSerializationSchema`). `timestamp`
 * is the element's timestamp, if it has one. Returning null writes nothing for the element.
 */
export interface KafkaRecordSerializationSchema<T> {
  serialize(element: T, timestamp: number | undefined): KafkaProducerRecord | null;
  /** Optional, as {@link SerializationSchema.open}: awaited before the writer's first element. */
  open?(): Promise<void> | void;
}

/** The headers of each record (Flink's `HeaderProvider`). */
export interface HeaderProvider<T> {
  getHeaders(element: T): KafkaHeaders;
}

/**
 * Builds a {@link KafkaRecordSerializationSchema} from a topic and value (and key) schemas
 * (Flink's `KafkaRecordSerializationSchemaBuilder`). Each record carries the element's
 * timestamp, as in Flink; a value schema returning null writes a tombstone.
 */
export class KafkaRecordSerializationSchemaBuilder<T> {
  private topic: string | ((element: T) => string) | undefined;
  private valueSchema: SerializationSchema<T> | undefined;
  private keySchema: SerializationSchema<T> | undefined;
  private headerProvider: HeaderProvider<T> | undefined;

  /** The topic every record goes to. */
  setTopic(topic: string): this {
    if (typeof topic !== 'string' || topic.length === 0) {
      throw new TypeError('KafkaRecordSerializationSchema.setTopic: a non-empty topic name');
    }
    this.topic = topic;
    return this;
  }

  /** Chooses each record's topic from the element. */
  setTopicSelector(selector: (element: T) => string): this {
    if (typeof selector !== 'function') {
      throw new TypeError('KafkaRecordSerializationSchema.setTopicSelector: a function');
    }
    this.topic = selector;
    return this;
  }

  /** The value of each record; a schema returning null writes a tombstone. */
  setValueSerializationSchema(schema: SerializationSchema<T>): this {
    if (!isSerializationSchema(schema)) {
      throw new TypeError(
        'KafkaRecordSerializationSchema.setValueSerializationSchema: expected a SerializationSchema (e.g. new SimpleStringSchema())',
      );
    }
    this.valueSchema = schema;
    return this;
  }

  /** The key of each record (records with equal keys go to the same partition). */
  setKeySerializationSchema(schema: SerializationSchema<T>): this {
    if (!isSerializationSchema(schema)) {
      throw new TypeError(
        'KafkaRecordSerializationSchema.setKeySerializationSchema: expected a SerializationSchema',
      );
    }
    this.keySchema = schema;
    return this;
  }

  /** The headers of each record: an object with getHeaders(element), or a function. */
  setHeaderProvider(provider: HeaderProvider<T> | ((element: T) => KafkaHeaders)): this {
    if (typeof provider === 'function') this.headerProvider = { getHeaders: provider };
    else if (typeof (provider as { getHeaders?: unknown } | null)?.getHeaders === 'function') {
      this.headerProvider = provider;
    } else {
      throw new TypeError(
        'KafkaRecordSerializationSchema.setHeaderProvider: expected a HeaderProvider (an object with getHeaders(element)) or a function',
      );
    }
    return this;
  }

  build(): KafkaRecordSerializationSchema<T> {
    const topic = this.topic;
    const value = this.valueSchema;
    const key = this.keySchema;
    const headers = this.headerProvider;
    if (topic === undefined) {
      throw new Error('KafkaRecordSerializationSchema: a topic is required (setTopic)');
    }
    if (value === undefined) {
      throw new Error(
        'KafkaRecordSerializationSchema: a value schema is required (setValueSerializationSchema)',
      );
    }
    return {
      serialize: (element, timestamp) => ({
        topic: typeof topic === 'string' ? topic : topic(element),
        value: value.serialize(element),
        ...(key ? { key: key.serialize(element) } : {}),
        ...(timestamp !== undefined && timestamp >= 0 ? { timestamp } : {}),
        ...(headers ? { headers: headers.getHeaders(element) } : {}),
      }),
      ...(value.open || key?.open
        ? { open: async () => void (await Promise.all([value.open?.(), key?.open?.()])) }
        : {}),
    };
  }
}

export const KafkaRecordSerializationSchema = {
  builder<T>(): KafkaRecordSerializationSchemaBuilder<T> {
    return new KafkaRecordSerializationSchemaBuilder<T>();
  },
} as const;

/** What a pre-committed Kafka transaction needs to be committed later, also from another process. */
export interface KafkaCommittable {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
}

interface KafkaSinkConfig<T> {
  readonly properties: KafkaProperties;
  readonly serializer: KafkaRecordSerializationSchema<T>;
  readonly guarantee: DeliveryGuarantee;
  readonly transactionalIdPrefix: string | undefined;
  readonly transactionTimeoutMs: number;
  readonly lingerMs: number;
  readonly batchSize: number;
  readonly maxBufferedRecords: number;
}

/**
 * Writes to Kafka (Flink's `KafkaSink`). With EXACTLY_ONCE each subtask writes into a Kafka
 * transaction with the id `<prefix>-<subtask>-<checkpoint>`: pre-committed (flushed) at the barrier
 * of a checkpoint, committed when the checkpoint completes, committed again after a restore
 * (idempotent), and a restarted writer aborts the transactions an earlier attempt left open.
 *
 * ```ts
 * const sink = KafkaSink.builder<string>()
 *   .setBootstrapServers('kafka:9092')
 *   .setRecordSerializer(
 *     KafkaRecordSerializationSchema.builder<string>()
 *       .setTopic('features.user_5min_spend')
 *       .setValueSerializationSchema(new SimpleStringSchema())
 *       .build(),
 *   )
 *   .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
 *   .setTransactionalIdPrefix('user-5min-spend')
 *   .build();
 * ```
 */
export class KafkaSink<T> implements TwoPhaseCommittingSink<T, KafkaCommittable> {
  static builder<T = string>(): KafkaSinkBuilder<T> {
    return new KafkaSinkBuilder<T>();
  }

  /** @internal Use {@link KafkaSink.builder}. */
  constructor(private readonly config: KafkaSinkConfig<T>) {}

  createWriter(context: SinkInitContext): CommittingSinkWriter<T, KafkaCommittable> {
    return new KafkaWriter(this.config, context);
  }

  createCommitter(): Committer<KafkaCommittable> {
    return new KafkaCommitter(this.config);
  }
}

/** Builds a {@link KafkaSink}. */
export class KafkaSinkBuilder<T> {
  private bootstrapServers: string | undefined;
  private serializer: KafkaRecordSerializationSchema<T> | undefined;
  private guarantee = DeliveryGuarantee.NONE;
  private prefix: string | undefined;
  private readonly properties: Record<string, string> = {};

  setBootstrapServers(servers: string): this {
    this.bootstrapServers = checkBootstrapServers(servers, 'KafkaSink');
    return this;
  }

  setRecordSerializer(serializer: KafkaRecordSerializationSchema<T>): this {
    if (typeof (serializer as { serialize?: unknown } | null)?.serialize !== 'function') {
      throw new TypeError(
        'KafkaSink.setRecordSerializer: expected a KafkaRecordSerializationSchema (KafkaRecordSerializationSchema.builder()...build())',
      );
    }
    this.serializer = serializer;
    return this;
  }

  /** NONE (default), AT_LEAST_ONCE or EXACTLY_ONCE. */
  setDeliveryGuarantee(guarantee: DeliveryGuarantee): this {
    if (!Object.values(DeliveryGuarantee).includes(guarantee)) {
      throw new TypeError(`KafkaSink.setDeliveryGuarantee: unknown guarantee ${String(guarantee)}`);
    }
    this.guarantee = guarantee;
    return this;
  }

  /**
   * The prefix of the transactional ids (EXACTLY_ONCE). It must be unique per job: two jobs with
   * one prefix abort each other's transactions.
   */
  setTransactionalIdPrefix(prefix: string): this {
    if (typeof prefix !== 'string' || prefix.length === 0) {
      throw new TypeError('KafkaSink.setTransactionalIdPrefix: a non-empty prefix');
    }
    this.prefix = prefix;
    return this;
  }

  /**
   * A producer property: `transaction.timeout.ms` (default 900000, the broker's maximum; it must
   * exceed the longest time between a checkpoint and the restart after a failure), `linger.ms`
   * (default 5), `batch.size` (records per request, default 5000), `max.buffered.records`
   * (default 100000: more records unacknowledged make the job wait, backpressure), `compression.type`
   * (none, gzip), `client.id`, `request.timeout.ms`, `kafkajs.log.level`.
   */
  setProperty(key: string, value: string | number): this {
    this.properties[key] = String(value);
    return this;
  }

  build(): KafkaSink<T> {
    if (this.bootstrapServers === undefined) {
      throw new Error('KafkaSink: bootstrap servers are required (setBootstrapServers)');
    }
    if (this.serializer === undefined) {
      throw new Error('KafkaSink: a record serializer is required (setRecordSerializer)');
    }
    if (this.guarantee === DeliveryGuarantee.EXACTLY_ONCE && this.prefix === undefined) {
      throw new Error(
        'KafkaSink: EXACTLY_ONCE needs a transactional id prefix that is unique to the job (setTransactionalIdPrefix)',
      );
    }
    const properties: Record<string, string> = {
      ...this.properties,
      'bootstrap.servers': this.bootstrapServers,
    };
    const compression = properties['compression.type'] ?? 'none';
    if (compression !== 'none' && compression !== 'gzip') {
      throw new TypeError(`KafkaSink: compression.type must be none or gzip; got ${compression}`);
    }
    return new KafkaSink({
      properties,
      serializer: this.serializer,
      guarantee: this.guarantee,
      transactionalIdPrefix: this.prefix,
      transactionTimeoutMs: numberProperty(
        properties,
        'transaction.timeout.ms',
        900_000,
        'KafkaSink',
      ),
      lingerMs: numberProperty(properties, 'linger.ms', 5, 'KafkaSink'),
      batchSize: Math.max(1, numberProperty(properties, 'batch.size', 5000, 'KafkaSink')),
      maxBufferedRecords: Math.max(
        1,
        numberProperty(properties, 'max.buffered.records', 100_000, 'KafkaSink'),
      ),
    });
  }
}

/** Transactions pre-committed in this process, by transactional id: the committer commits them through their own producer. */
const preCommitted = new Map<string, { producer: Producer; transaction: Transaction }>();

/**
 * Bytes of keys, values and headers in one request at most (a record more may go over): below the
 * broker's default message.max.bytes (1 MiB), which a partition's record batch must not exceed.
 */
const MAX_REQUEST_BYTES = 900 * 1024;

function byteLength(v: Buffer | string | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

/** A record's size in a request, roughly: key, value, headers and the per-record overhead. */
function messageBytes(m: Message): number {
  let n = 24 + byteLength(m.key) + byteLength(m.value);
  if (m.headers) {
    for (const [k, v] of Object.entries(m.headers)) {
      n += k.length + (Array.isArray(v) ? v.reduce((a, x) => a + byteLength(x), 0) : byteLength(v));
    }
  }
  return n;
}

/** Whether kafkajs gave up on a topic the broker does not have (possibly after retries). */
function unknownTopic(e: unknown): boolean {
  for (let x = e as { type?: string; originalError?: unknown; cause?: unknown } | undefined; x;) {
    if (x.type === 'UNKNOWN_TOPIC_OR_PARTITION') return true;
    x = (x.originalError ?? x.cause) as typeof x;
  }
  return false;
}

/**
 * One transaction (EXACTLY_ONCE) or the plain producer (other guarantees). A channel is opened
 * by the first request it carries, so a transaction always holds records.
 */
interface Channel {
  readonly transactionalId: string | undefined;
  readonly producer: Producer;
  /** Connects, and begins the transaction. */
  readonly ready: Promise<Transaction | undefined>;
}

class KafkaWriter<T> implements CommittingSinkWriter<T, KafkaCommittable> {
  private readonly kafka: Kafka;
  private readonly subtask: number;
  private readonly parallelism: number;
  /** Records not sent yet, by topic, each in the order written. */
  private readonly buffers = new Map<string, Message[]>();
  private buffered = 0;
  private channel: Channel | undefined;
  private plainProducer: Channel | undefined;
  private lingerTimer: ReturnType<typeof setTimeout> | undefined;
  /** The request on its way: one at a time, and what is written meanwhile goes in the next. */
  private inFlight: Promise<void> | undefined;
  /** Records written and not yet acknowledged by the broker (buffered or on their way). */
  private unacknowledged = 0;
  private drained: { promise: Promise<void>; resolve: () => void } | undefined;
  /** Transactions this writer pre-committed that its committer has not committed yet. */
  private readonly handedOver = new Set<string>();
  private failure: Error | undefined;
  /** EXACTLY_ONCE: the checkpoint id in the next transaction's id. */
  private nextTransaction: number;
  private readonly coordinator: KafkaInternalClient | undefined;
  /** Aborting what an earlier attempt left open: the first transaction waits for it. */
  private aborting: Promise<void> = Promise.resolve();
  private abortedUpTo: number;
  private readonly restoredCheckpointId: number;
  private firstPreCommit = true;
  private readonly compression: CompressionTypes;
  /** The serializer's open(), until it resolved: no element is written before. */
  private opening: Promise<void> | undefined;

  constructor(
    private readonly config: KafkaSinkConfig<T>,
    context: SinkInitContext,
  ) {
    this.kafka = createKafkaClient(config.properties, 'KafkaSink');
    this.subtask = context.getSubtaskId();
    this.parallelism = context.getNumberOfParallelSubtasks();
    this.restoredCheckpointId = context.getRestoredCheckpointId() ?? 0;
    this.nextTransaction = this.restoredCheckpointId + 1;
    this.abortedUpTo = this.restoredCheckpointId;
    this.compression =
      config.properties['compression.type'] === 'gzip'
        ? CompressionTypes.GZIP
        : CompressionTypes.None;
    if (config.guarantee === DeliveryGuarantee.EXACTLY_ONCE) {
      this.coordinator = new KafkaInternalClient(this.kafka, config.transactionTimeoutMs);
      this.aborting = this.abortLingering();
    }
    this.openSerializer();
  }

  /** Runs the serializer's open(); availability() holds elements back until it resolved. */
  private openSerializer(): void {
    let opened: Promise<void> | void;
    try {
      opened = this.config.serializer.open?.();
    } catch (e) {
      this.failure = e instanceof Error ? e : new Error(String(e));
      return;
    }
    if (!(opened instanceof Promise)) return;
    this.opening = opened.then(
      () => {
        this.opening = undefined;
      },
      (e: unknown) => {
        this.opening = undefined;
        this.failure ??= e instanceof Error ? e : new Error(String(e));
      },
    );
  }

  private transactionalId(checkpoint: number): string {
    return this.transactionalIdOf(this.subtask, checkpoint);
  }

  private transactionalIdOf(subtask: number, checkpoint: number): string {
    return `${this.config.transactionalIdPrefix}-${subtask}-${checkpoint}`;
  }

  /**
   * Aborts transactions of earlier attempts: ids after the restored checkpoint, one after the
   * other until an id that was never used (as Flink's TransactionAborter does). Ids a failed attempt
   * skipped are aborted at the first pre-commit, which knows the highest id any attempt can have used.
   */
  private async abortLingering(): Promise<void> {
    for (let c = this.restoredCheckpointId + 1; ; c++) {
      const epoch = await this.coordinator!.fence(this.transactionalId(c));
      this.abortedUpTo = c;
      if (epoch === 0) break;
    }
    // After a restore at a lower parallelism, subtasks of the old one that no longer exist left
    // theirs: subtask s also takes s + p, s + 2p, ... until one that never wrote after the
    // restored checkpoint (Flink's TransactionAborter does the same).
    for (let t = this.subtask + this.parallelism; ; t += this.parallelism) {
      let used = false;
      for (let c = this.restoredCheckpointId + 1; ; c++) {
        const epoch = await this.coordinator!.fence(this.transactionalIdOf(t, c));
        if (epoch === 0) break;
        used = true;
      }
      if (!used) return;
    }
  }

  write(element: T, context: SinkWriterContext): void {
    if (this.failure) throw this.failure;
    if (this.opening) {
      throw new Error(
        'KafkaSink: an element came before the serializer finished open() (the task waits for availability())',
      );
    }
    const r = this.config.serializer.serialize(element, context.timestamp());
    if (r === null) return;
    const message: Message = {
      value: r.value,
      ...(r.key !== undefined ? { key: r.key } : {}),
      ...(r.partition !== undefined ? { partition: r.partition } : {}),
      ...(r.timestamp !== undefined ? { timestamp: String(r.timestamp) } : {}),
      ...(r.headers !== undefined ? { headers: r.headers as Message['headers'] } : {}),
    };
    let list = this.buffers.get(r.topic);
    if (!list) this.buffers.set(r.topic, (list = []));
    list.push(message);
    this.buffered++;
    this.unacknowledged++;
    if (this.buffered >= this.config.batchSize) this.send();
    else if (this.lingerTimer === undefined) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        this.send();
      }, this.config.lingerMs);
    }
  }

  /** Sends what is buffered, unless a request is on its way: its completion sends the rest. */
  private send(): void {
    if (this.lingerTimer !== undefined) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    if (this.inFlight !== undefined || this.failure) return;
    if (this.buffered === 0) return;
    const topicMessages = this.takeRequest();
    const channel = this.currentChannel();
    const count = topicMessages.reduce((n, t) => n + t.messages.length, 0);
    const acks = this.config.guarantee === DeliveryGuarantee.NONE ? 1 : -1;
    this.inFlight = channel.ready
      .then(async (transaction) => {
        await (transaction ?? channel.producer).sendBatch({
          topicMessages,
          acks,
          compression: this.compression,
        });
      })
      .catch((e: unknown) => {
        const topics = topicMessages.map((t) => t.topic).join(', ');
        const hint = unknownTopic(e)
          ? ` — the topic does not exist on ${this.config.properties['bootstrap.servers']}: create it (brokers with auto.create.topics.enable=false create none)`
          : '';
        this.failure ??= new Error(
          `KafkaSink: sending to ${topics} failed: ${(e as Error).message}${hint}`,
          { cause: e },
        );
      })
      .finally(() => {
        this.inFlight = undefined;
        this.unacknowledged -= count;
        if (
          this.drained &&
          (this.failure || this.unacknowledged <= this.config.maxBufferedRecords / 2)
        ) {
          this.drained.resolve();
          this.drained = undefined;
        }
        this.send();
      });
  }

  /**
   * Takes the records of the next request off the buffers: at most `batch.size` records and about
   * MAX_REQUEST_BYTES, so that no partition's record batch exceeds the broker's message.max.bytes
   * (1 MiB by default) however much was buffered while the previous request was on its way.
   */
  private takeRequest(): { topic: string; messages: Message[] }[] {
    const request: { topic: string; messages: Message[] }[] = [];
    let records = 0;
    let bytes = 0;
    const take = (topic: string, list: Message[]): number => {
      let n = 0;
      while (n < list.length && records < this.config.batchSize && bytes < MAX_REQUEST_BYTES) {
        bytes += messageBytes(list[n]!);
        records++;
        n++;
      }
      if (n > 0) request.push({ topic, messages: n === list.length ? list : list.slice(0, n) });
      return n;
    };
    for (const [topic, list] of this.buffers) {
      const n = take(topic, list);
      this.buffered -= n;
      if (n === list.length) this.buffers.delete(topic);
      else {
        this.buffers.set(topic, list.slice(n));
        break;
      }
    }
    return request;
  }

  /** Backpressure: at `max.buffered.records` unacknowledged records the task waits for half of them. */
  availability(): Promise<void> | undefined {
    if (this.opening) return this.opening;
    if (this.unacknowledged < this.config.maxBufferedRecords || this.failure) return undefined;
    this.send();
    if (!this.drained) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.drained = { promise, resolve };
    }
    return this.drained.promise;
  }

  /** Sends everything buffered and waits until the broker acknowledged it. */
  private async drain(): Promise<void> {
    this.send();
    while (this.inFlight !== undefined) await this.inFlight;
    if (this.failure) throw this.failure;
  }

  private currentChannel(): Channel {
    if (this.config.guarantee !== DeliveryGuarantee.EXACTLY_ONCE) {
      if (!this.plainProducer) {
        const producer = this.kafka.producer({
          createPartitioner: Partitioners.DefaultPartitioner,
          allowAutoTopicCreation: false,
          idempotent: false,
        });
        this.plainProducer = {
          transactionalId: undefined,
          producer,
          ready: producer.connect().then(() => undefined),
        };
        this.plainProducer.ready.catch(() => {});
      }
      return this.plainProducer;
    }
    if (!this.channel) {
      const transactionalId = this.transactionalId(this.nextTransaction);
      const producer = this.kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionalId,
        transactionTimeout: this.config.transactionTimeoutMs,
      });
      const ready = this.aborting.then(async () => {
        await producer.connect();
        return producer.transaction();
      });
      ready.catch(() => {});
      this.channel = { transactionalId, producer, ready };
    }
    return this.channel;
  }

  /** AT_LEAST_ONCE and the end of input: everything sent is acknowledged. */
  async flush(endOfInput: boolean): Promise<void> {
    if (this.config.guarantee === DeliveryGuarantee.NONE && !endOfInput) return;
    await this.drain();
  }

  /** Pre-commit: flushes the transaction and hands it to the committer; the next one gets the next id. */
  async prepareCommit(checkpointId: number): Promise<KafkaCommittable[]> {
    if (this.config.guarantee !== DeliveryGuarantee.EXACTLY_ONCE) {
      await this.flush(false);
      return [];
    }
    await this.drain();
    const channel = this.channel;
    this.channel = undefined;
    const endOfInput = checkpointId === END_OF_INPUT_CHECKPOINT_ID;
    if (this.firstPreCommit && !endOfInput) {
      this.firstPreCommit = false;
      // Every attempt before this one saw only checkpoints before this one, so their transaction
      // ids are at most `checkpointId`: abort those the probing did not reach.
      this.aborting = this.aborting.then(async () => {
        const current = channel?.transactionalId;
        for (let c = this.abortedUpTo + 1; c <= checkpointId; c++) {
          const id = this.transactionalId(c);
          if (id !== current) await this.coordinator!.fence(id);
        }
      });
      this.aborting.catch(() => {});
    }
    if (!endOfInput) this.nextTransaction = checkpointId + 1;
    if (!channel) return [];
    const transaction = await channel.ready;
    const identity = producerIdentity(channel.transactionalId!);
    if (!transaction || !identity) {
      throw new Error(`KafkaSink: transaction ${channel.transactionalId} has no producer id`);
    }
    for (const id of this.handedOver) if (!preCommitted.has(id)) this.handedOver.delete(id);
    preCommitted.set(channel.transactionalId!, { producer: channel.producer, transaction });
    this.handedOver.add(channel.transactionalId!);
    return [{ transactionalId: channel.transactionalId!, ...identity }];
  }

  async close(): Promise<void> {
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
    const channel = this.channel;
    this.channel = undefined;
    const closing: Promise<unknown>[] = [];
    const inFlight = this.inFlight ?? Promise.resolve();
    // An open transaction is aborted here, as Flink's KafkaWriter does on close. The next attempt
    // aborts only the ids it probes: a cancelled writer on a TaskManager that learns late that its
    // tasks were replaced can begin one after that probe, and nothing else would abort it before
    // transaction.timeout.ms, holding every read_committed reader of its partitions back.
    if (channel) closing.push(inFlight.then(() => abortOpenTransaction(channel)));
    const plain = this.plainProducer;
    if (plain) closing.push(inFlight.then(() => plain.producer.disconnect()));
    // Pre-committed, not committed: a restored committer commits them by producer id and epoch.
    for (const id of this.handedOver) {
      const live = preCommitted.get(id);
      preCommitted.delete(id);
      if (live) closing.push(live.producer.disconnect());
    }
    closing.push(this.aborting.then(() => this.coordinator?.close()));
    await Promise.allSettled(closing);
  }
}

/**
 * One line on stderr per committed transaction (the TaskManager keeps it with its log): which
 * transactional id, producer id and epoch, so a record in the output can be traced to the
 * checkpoint whose transaction committed it.
 */
function logCommit(c: KafkaCommittable, what: string): void {
  process.stderr.write(
    `KafkaSink: ${what} transaction ${c.transactionalId} (producer id ${c.producerId}, epoch ${c.producerEpoch})\n`,
  );
}

/**
 * How long a commit may take. A kafkajs request on a connection the broker dropped (a broker
 * restart) can stay unanswered for good; the commits of every later checkpoint would wait behind
 * it while checkpoints go on completing. Failing the commit fails the task instead: the job
 * restarts from its latest checkpoint, whose committer commits the same transactions again by
 * producer id and epoch (a transaction committed meanwhile is recognised as such).
 */
const COMMIT_TIMEOUT_MS = 30_000;

function commitWithin(commit: Promise<unknown>, c: KafkaCommittable): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `KafkaSink: committing transaction ${c.transactionalId} got no answer from the broker ` +
              `within ${COMMIT_TIMEOUT_MS} ms; the job restarts from its latest checkpoint and ` +
              'commits it again. Check that the Kafka brokers are reachable.',
          ),
        ),
      COMMIT_TIMEOUT_MS,
    );
  });
  return Promise.race([commit.then(() => undefined), deadline]).finally(() => clearTimeout(timer));
}

/** How long a closing writer waits for the broker to abort its open transaction. */
const ABORT_ON_CLOSE_TIMEOUT_MS = 5_000;

/**
 * Aborts the channel's transaction (if it began) and disconnects its producer. Best effort within
 * ABORT_ON_CLOSE_TIMEOUT_MS: a fenced producer or an unreachable broker leaves the abort to the
 * next attempt's fencing or to the broker's transaction timeout, and close() does not hang on it.
 */
async function abortOpenTransaction(channel: Channel): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ABORT_ON_CLOSE_TIMEOUT_MS);
  });
  const abort = (async () => {
    const transaction = await channel.ready;
    if (transaction?.isActive()) await transaction.abort();
  })().catch(() => {});
  await Promise.race([abort, deadline]).finally(() => clearTimeout(timer));
  await channel.producer.disconnect();
}

/** Commits pre-committed transactions; again after a restore, by producer id and epoch. */
class KafkaCommitter<T> implements Committer<KafkaCommittable> {
  private coordinator: KafkaInternalClient | undefined;

  constructor(private readonly config: KafkaSinkConfig<T>) {}

  async commit(committables: KafkaCommittable[]): Promise<void> {
    for (const c of committables) {
      const live = preCommitted.get(c.transactionalId);
      if (live) {
        preCommitted.delete(c.transactionalId);
        let failure: unknown;
        try {
          await commitWithin(live.transaction.commit(), c);
        } catch (e) {
          if (!isRetriableKafkaError(e)) throw e;
          failure = e;
        }
        if (failure === undefined) {
          logCommit(c, 'committed');
          await live.producer.disconnect();
          continue;
        }
        // No broker answered (one restarting): kafkajs cannot send a transaction's commit
        // again, so it is committed by producer id and epoch, as after a restore, which
        // retries until the coordinator answers.
        process.stderr.write(
          `KafkaSink: committing transaction ${c.transactionalId} failed (${(failure as Error).message}); committing it again by producer id and epoch\n`,
        );
        await live.producer.disconnect().catch(() => {});
      }
      this.coordinator ??= new KafkaInternalClient(
        createKafkaClient(this.config.properties, 'KafkaSink'),
        this.config.transactionTimeoutMs,
      );
      try {
        await commitWithin(
          this.coordinator.commit(c.transactionalId, c.producerId, c.producerEpoch),
          c,
        );
      } catch (e) {
        const type = ((e as Error).cause as { type?: string } | undefined)?.type;
        if (
          type === 'INVALID_PRODUCER_EPOCH' ||
          type === 'PRODUCER_FENCED' ||
          type === 'INVALID_TXN_STATE'
        ) {
          // Committed already and reused, or aborted by the broker after transaction.timeout.ms.
          process.stderr.write(
            `KafkaSink: transaction ${c.transactionalId} cannot be committed again (${type}); it was committed before, or the broker aborted it after transaction.timeout.ms\n`,
          );
          continue;
        }
        throw e;
      }
      logCommit(c, live ? 'committed by producer id and epoch' : 'committed after a restore');
    }
  }

  async close(): Promise<void> {
    await this.coordinator?.close();
  }
}
