import type { ConfigValue } from '@nimble/api';
import {
  installPipelineExecutor,
  StreamExecutionEnvironment,
  Time,
  TumblingEventTimeWindows,
  WatermarkStrategy,
} from '@nimble/api';
import { LocalExecutor } from '@nimble/runtime';
import type { Admin } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { KafkaBroker } from '../../../test/fixtures/kafka-broker.js';
import { createTopic, startKafka } from '../../../test/fixtures/kafka-broker.js';
import type { MalformedKafkaRecord } from '../src/index.js';
import {
  DeliveryGuarantee,
  JsonDeserializationSchema,
  JsonSerializationSchema,
  KafkaOffsetResetStrategy,
  KafkaOffsetsInitializer,
  KafkaRecordSerializationSchema,
  KafkaSink,
  KafkaSource,
  SimpleStringSchema,
  splitOwner,
} from '../src/index.js';

function localEnv(configuration: Record<string, ConfigValue> = {}): StreamExecutionEnvironment {
  installPipelineExecutor(new LocalExecutor({ threads: false, stdout: () => {} }));
  return StreamExecutionEnvironment.getExecutionEnvironment(configuration);
}

let broker: KafkaBroker;
let kafka: Kafka;
let admin: Admin;

beforeAll(async () => {
  broker = await startKafka();
  kafka = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
}, 180_000);

afterAll(async () => {
  await admin?.disconnect();
  await broker?.stop();
}, 60_000);

/** Writes `values` round robin over the partitions of `topic`, with timestamps 1000 + i. */
async function produce(topic: string, values: string[], partitions: number): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({
    topic,
    messages: values.map((value, i) => ({
      value,
      partition: i % partitions,
      timestamp: String(1000 + i),
    })),
  });
  await producer.disconnect();
}

/**
 * Every value of `topic`, read with read_committed (or read_uncommitted). A commit returns before
 * the broker wrote its transaction markers, so this first waits until the end offsets hold still.
 */
async function readAll(topic: string, readCommitted = true): Promise<string[]> {
  let last = '';
  for (let i = 0; i < 50; i++) {
    const ends = JSON.stringify(await admin.fetchTopicOffsets(topic));
    if (ends === last) break;
    last = ends;
    await new Promise((r) => setTimeout(r, 300));
  }
  const source = KafkaSource.builder<string>()
    .setBootstrapServers(broker.bootstrapServers)
    .setTopics(topic)
    .setBounded(KafkaOffsetsInitializer.latest())
    .setValueOnlyDeserializer(new SimpleStringSchema())
    .setProperty('isolation.level', readCommitted ? 'read_committed' : 'read_uncommitted')
    .build();
  const env = localEnv();
  env.setParallelism(1);
  return env.fromSource(source, WatermarkStrategy.noWatermarks(), 'read').executeAndCollect();
}

// First in this file: the broker has served no transaction yet.
describe('kafkajs logging', () => {
  it('retries the errors of a broker creating its transaction coordinator quietly: INFO, no ERROR', async () => {
    // A broker creates and loads __transaction_state at the first transactional request; until
    // then it answers "The coordinator is not available" or "... is loading", which kafkajs
    // retries and logs at ERROR. The writer and committer run here, in this thread (a job's
    // tasks and enumerators may run in worker threads, whose stderr a spy does not see).
    await createTopic(broker.bootstrapServers, 'log.first-transaction', 1);
    const sink = KafkaSink.builder<string>()
      .setBootstrapServers(broker.bootstrapServers)
      .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
      .setTransactionalIdPrefix('log-first-transaction')
      .setRecordSerializer(
        KafkaRecordSerializationSchema.builder<string>()
          .setTopic('log.first-transaction')
          .setValueSerializationSchema(new SimpleStringSchema())
          .build(),
      )
      .build();
    const stderr = vi.spyOn(process.stderr, 'write');
    let lines: string[] = [];
    try {
      const writer = sink.createWriter({
        getSubtaskId: () => 0,
        getNumberOfParallelSubtasks: () => 1,
        getAttemptNumber: () => 0,
        getRestoredCheckpointId: () => undefined,
      });
      for (const v of ['a', 'b']) {
        writer.write(v, { timestamp: () => undefined, currentWatermark: () => 0 });
      }
      const committer = sink.createCommitter();
      await committer.commit(await writer.prepareCommit(1));
      await Promise.all([writer.close(), committer.close()]);
    } finally {
      // Read before mockRestore(), which forgets the calls.
      lines = stderr.mock.calls.map(([chunk]) => String(chunk));
      stderr.mockRestore();
    }
    const kafkajsLines = lines.filter((l) => l.startsWith('kafkajs '));
    expect(kafkajsLines.filter((l) => !l.startsWith('kafkajs INFO'))).toEqual([]);
    expect(kafkajsLines.some((l) => /coordinator .*: retrying/.test(l))).toBe(true);
    expect(await readAll('log.first-transaction')).toEqual(['a', 'b']);
  });
});

describe('KafkaSource', () => {
  it('reads every partition exactly once across subtasks and stops at the latest offsets (bounded)', async () => {
    await createTopic(broker.bootstrapServers, 'src.bounded', 3);
    const values = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ n: i }));
    await produce('src.bounded', values, 3);
    const source = KafkaSource.builder<{ n: number }>()
      .setBootstrapServers(broker.bootstrapServers)
      .setTopics('src.bounded')
      .setGroupId('bounded-test')
      .setStartingOffsets(KafkaOffsetsInitializer.earliest())
      .setBounded(KafkaOffsetsInitializer.latest())
      .setValueOnlyDeserializer(new JsonDeserializationSchema<{ n: number }>())
      .build();
    const env = localEnv();
    env.setParallelism(2);
    const out = await env
      .fromSource(source, WatermarkStrategy.noWatermarks(), 'kafka')
      .map((e) => e.n)
      .executeAndCollect();
    expect(out.sort((a, b) => a - b)).toEqual(values.map((_, i) => i));
  });

  it('reports pendingRecords: the records up to the end offset it fetched, not yet emitted', async () => {
    await createTopic(broker.bootstrapServers, 'src.pending', 1);
    await produce(
      'src.pending',
      Array.from({ length: 100 }, (_, i) => `v${i}`),
      1,
    );
    const gauges = new Map<string, () => number>();
    const source = KafkaSource.builder<string>()
      .setBootstrapServers(broker.bootstrapServers)
      .setTopics('src.pending')
      .setValueOnlyDeserializer(new SimpleStringSchema())
      .build();
    const reader = source.createReader({
      getIndexOfSubtask: () => 0,
      getParallelism: () => 1,
      currentProcessingTime: () => Date.now(),
      metricGroup: () => ({
        gauge: (name, value) => gauges.set(name, value),
        removeGauge: (name) => gauges.delete(name),
      }),
    });
    const pending = () => gauges.get('pendingRecords')!();
    try {
      reader.start();
      expect(pending()).toBe(0);
      reader.addSplits([
        { splitId: 'src.pending-0', topic: 'src.pending', partition: 0, offset: 0 },
      ]);
      // Fetched but not polled: every record up to the end offset is pending.
      const deadline = Date.now() + 30_000;
      while (pending() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(pending()).toBe(100);
      const read: string[] = [];
      const output = {
        collect: (v: string) => read.push(v),
        collectSide: () => {},
        createOutputForSplit: () => ({ collect: (v: string) => read.push(v) }),
        releaseOutputForSplit: () => {},
        markIdle: () => {},
      };
      while (read.length < 100 && Date.now() < deadline) {
        reader.pollNext(output);
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(read.length).toBe(100);
      expect(pending()).toBe(0);
    } finally {
      await reader.close();
    }
  });

  it('sends records it cannot deserialize to the malformed-records side output and goes on', async () => {
    await createTopic(broker.bootstrapServers, 'src.malformed', 1);
    await produce('src.malformed', ['{"n":1}', '{"n":', '{"n":3}', 'not json', '{"n":5}'], 1);
    const source = KafkaSource.builder<{ n: number }>()
      .setBootstrapServers(broker.bootstrapServers)
      .setTopics(['src.malformed'])
      .setBounded(KafkaOffsetsInitializer.latest())
      .setValueOnlyDeserializer(new JsonDeserializationSchema<{ n: number }>())
      .build();
    const env = localEnv();
    env.setParallelism(1);
    const stream = env.fromSource(source, WatermarkStrategy.noWatermarks(), 'kafka');
    const bad: MalformedKafkaRecord[] = [];
    stream.getSideOutput(KafkaSource.MALFORMED_RECORDS).sinkTo({
      createWriter: () => ({
        write: (r: MalformedKafkaRecord) => void bad.push(r),
        flush: () => {},
        close: () => {},
      }),
    });
    const good = await stream.map((e) => e.n).executeAndCollect();
    expect(good).toEqual([1, 3, 5]);
    expect(bad.map(({ error: _e, ...r }) => r)).toEqual([
      {
        topic: 'src.malformed',
        partition: 0,
        offset: 1,
        timestamp: 1001,
        key: null,
        value: '{"n":',
      },
      {
        topic: 'src.malformed',
        partition: 0,
        offset: 3,
        timestamp: 1003,
        key: null,
        value: 'not json',
      },
    ]);
    expect(bad[0]!.error).toMatch(/JSON/);
  });

  it('starts at earliest, latest, a timestamp, or the committed offsets with a reset strategy', async () => {
    await createTopic(broker.bootstrapServers, 'src.start', 1);
    await produce('src.start', ['a', 'b', 'c', 'd'], 1); // timestamps 1000..1003
    const run = async (start: KafkaOffsetsInitializer, groupId = 'start-test') => {
      const source = KafkaSource.builder<string>()
        .setBootstrapServers(broker.bootstrapServers)
        .setTopics('src.start')
        .setGroupId(groupId)
        .setStartingOffsets(start)
        .setBounded(KafkaOffsetsInitializer.latest())
        .setValueOnlyDeserializer(new SimpleStringSchema())
        .build();
      const env = localEnv();
      env.setParallelism(1);
      return env.fromSource(source, WatermarkStrategy.noWatermarks(), 'k').executeAndCollect();
    };
    expect(await run(KafkaOffsetsInitializer.earliest())).toEqual(['a', 'b', 'c', 'd']);
    expect(await run(KafkaOffsetsInitializer.latest())).toEqual([]);
    expect(await run(KafkaOffsetsInitializer.timestamp(1002))).toEqual(['c', 'd']);
    expect(await run(KafkaOffsetsInitializer.timestamp(5000))).toEqual([]);
    // No committed offset: NONE refuses, naming the partition and the group; EARLIEST/LATEST reset.
    await expect(run(KafkaOffsetsInitializer.committedOffsets(), 'no-commits')).rejects.toThrow(
      /partition src\.start-0 has no committed offset for group no-commits/,
    );
    expect(
      await run(KafkaOffsetsInitializer.committedOffsets(KafkaOffsetResetStrategy.EARLIEST), 'g1'),
    ).toEqual(['a', 'b', 'c', 'd']);
    expect(
      await run(KafkaOffsetsInitializer.committedOffsets(KafkaOffsetResetStrategy.LATEST), 'g2'),
    ).toEqual([]);
    await admin.setOffsets({
      groupId: 'g3',
      topic: 'src.start',
      partitions: [{ partition: 0, offset: '1' }],
    });
    expect(await run(KafkaOffsetsInitializer.committedOffsets(), 'g3')).toEqual(['b', 'c', 'd']);
  });

  it('keeps a watermark per partition: a partition read ahead does not make the others late', async () => {
    await createTopic(broker.bootstrapServers, 'src.watermarks', 2);
    // Partition 0 holds a backlog far ahead in event time; partition 1 starts at 0 s.
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const at = (partition: number, seconds: number) => ({
      partition,
      value: JSON.stringify({ p: partition, t: seconds * 1000 }),
      timestamp: String(seconds * 1000),
    });
    await producer.send({
      topic: 'src.watermarks',
      messages: Array.from({ length: 100 }, (_, i) => at(0, 1000 + i)),
    });
    await producer.send({
      topic: 'src.watermarks',
      messages: Array.from({ length: 100 }, (_, i) => at(1, i)),
    });
    await producer.disconnect();
    const source = KafkaSource.builder<{ p: number; t: number }>()
      .setBootstrapServers(broker.bootstrapServers)
      .setTopics('src.watermarks')
      .setBounded(KafkaOffsetsInitializer.latest())
      .setValueOnlyDeserializer(new JsonDeserializationSchema<{ p: number; t: number }>())
      .build();
    const env = localEnv();
    env.setParallelism(1);
    const counts = await env
      .fromSource(
        source,
        WatermarkStrategy.forMonotonousTimestamps<{ p: number; t: number }>().withTimestampAssigner(
          (e) => e.t,
        ),
        'kafka',
      )
      .keyBy((e) => e.p)
      .window(TumblingEventTimeWindows.of(Time.seconds(10)))
      .reduce((a, b) => ({ p: a.p, t: a.t + 1_000_000 * 0 + 0 * b.t }))
      .map((e) => e.p)
      .executeAndCollect();
    // 10 windows per partition, none dropped as late.
    expect(counts.filter((p) => p === 0).length).toBe(10);
    expect(counts.filter((p) => p === 1).length).toBe(10);
  });

  it('reads every topic matching a pattern', async () => {
    await createTopic(broker.bootstrapServers, 'pattern.a', 1);
    await createTopic(broker.bootstrapServers, 'pattern.b', 2);
    await createTopic(broker.bootstrapServers, 'pattern.a.not', 1);
    await produce('pattern.a', ['a1', 'a2'], 1);
    await produce('pattern.b', ['b1', 'b2', 'b3'], 2);
    await produce('pattern.a.not', ['x'], 1);
    const source = KafkaSource.builder<string>()
      .setBootstrapServers(broker.bootstrapServers)
      .setTopicPattern(/pattern\.[ab]/)
      .setBounded(KafkaOffsetsInitializer.latest())
      .setValueOnlyDeserializer(new SimpleStringSchema())
      .build();
    const env = localEnv();
    env.setParallelism(2);
    const out = await env
      .fromSource(source, WatermarkStrategy.noWatermarks(), 'k')
      .executeAndCollect();
    expect(out.sort()).toEqual(['a1', 'a2', 'b1', 'b2', 'b3']);
  });

  it('spreads partitions over subtasks as Flink does', () => {
    // Flink: ((topic.hashCode() * 31) & 0x7FFFFFFF) % p, then + partition.
    const owners = [0, 1, 2, 3, 4, 5].map((p) => splitOwner('raw.purchases', p, 4));
    expect(new Set(owners).size).toBe(4);
    expect(owners.slice(4)).toEqual(owners.slice(0, 2));
  });

  it('fails the job with the servers or topic at fault when it cannot read partitions', async () => {
    const run = (servers: string, topic: string) => {
      const source = KafkaSource.builder<string>()
        .setBootstrapServers(servers)
        .setTopics(topic)
        .setBounded(KafkaOffsetsInitializer.latest())
        .setValueOnlyDeserializer(new SimpleStringSchema())
        .setProperty('retries', 0)
        .setProperty('kafkajs.log.level', 'NOTHING')
        .build();
      const env = localEnv();
      return env.fromSource(source, WatermarkStrategy.noWatermarks(), 'k').executeAndCollect();
    };
    await expect(run('127.0.0.1:1', 'any')).rejects.toThrow(
      /cannot connect to the bootstrap servers 127\.0\.0\.1:1/,
    );
    await expect(run(broker.bootstrapServers, 'no.such.topic')).rejects.toThrow(
      /cannot read the partitions of topic\(s\) no\.such\.topic/,
    );
  });

  it('refuses bad builder settings with what to do', () => {
    expect(() => KafkaSource.builder().setBootstrapServers('localhost')).toThrow(/host:port/);
    expect(() => KafkaSource.builder().setBootstrapServers('k:9092').build()).toThrow(
      /topics are required/,
    );
    expect(() =>
      KafkaSource.builder().setBootstrapServers('k:9092').setTopics('t').build(),
    ).toThrow(/deserializer is required/);
    expect(() =>
      KafkaSource.builder()
        .setBootstrapServers('k:9092')
        .setTopics('t')
        .setValueOnlyDeserializer(new SimpleStringSchema())
        .setProperty('isolation.level', 'serializable')
        .build(),
    ).toThrow(/isolation.level/);
    expect(() =>
      KafkaSink.builder()
        .setBootstrapServers('k:9092')
        .setRecordSerializer(
          KafkaRecordSerializationSchema.builder<string>()
            .setTopic('t')
            .setValueSerializationSchema(new SimpleStringSchema())
            .build(),
        )
        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
        .build(),
    ).toThrow(/transactional id prefix/);
  });
});

describe('KafkaSink', () => {
  const sinkTo = (topic: string, guarantee: DeliveryGuarantee, prefix?: string) => {
    const b = KafkaSink.builder<{ n: number }>()
      .setBootstrapServers(broker.bootstrapServers)
      .setDeliveryGuarantee(guarantee)
      .setRecordSerializer(
        KafkaRecordSerializationSchema.builder<{ n: number }>()
          .setTopic(topic)
          .setKeySerializationSchema({ serialize: (e) => String(e.n % 7) })
          .setValueSerializationSchema(new JsonSerializationSchema())
          .build(),
      );
    if (prefix) b.setTransactionalIdPrefix(prefix);
    return b.build();
  };

  for (const guarantee of [
    DeliveryGuarantee.NONE,
    DeliveryGuarantee.AT_LEAST_ONCE,
    DeliveryGuarantee.EXACTLY_ONCE,
  ]) {
    it(`writes every record with ${guarantee}`, async () => {
      const topic = `sink.${guarantee}`;
      await createTopic(broker.bootstrapServers, topic, 2);
      const env = localEnv();
      env.setParallelism(2);
      const elements = Array.from({ length: 5000 }, (_, n) => ({ n }));
      env.fromCollection(elements).sinkTo(sinkTo(topic, guarantee, `test-${guarantee}`));
      await env.execute();
      const read = await readAll(topic);
      expect(read.map((v) => (JSON.parse(v) as { n: number }).n).sort((a, b) => a - b)).toEqual(
        elements.map((e) => e.n),
      );
    });
  }

  const exactlyOnce = (topic: string, prefix: string) =>
    KafkaSink.builder<string>()
      .setBootstrapServers(broker.bootstrapServers)
      .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
      .setTransactionalIdPrefix(prefix)
      .setRecordSerializer(
        KafkaRecordSerializationSchema.builder<string>()
          .setTopic(topic)
          .setValueSerializationSchema(new SimpleStringSchema())
          .build(),
      )
      .build();
  const initContext = (restored?: number, parallelism = 1) => ({
    getSubtaskId: () => 0,
    getNumberOfParallelSubtasks: () => parallelism,
    getAttemptNumber: () => 0,
    getRestoredCheckpointId: () => restored,
  });
  const writeContext = { timestamp: () => undefined, currentWatermark: () => 0 };

  it('EXACTLY_ONCE: a pre-committed transaction of a crashed writer is committed after the restore', async () => {
    await createTopic(broker.bootstrapServers, 'sink.recommit', 1);
    const sink = exactlyOnce('sink.recommit', 'recommit');
    const writer = sink.createWriter(initContext());
    for (const v of ['a', 'b', 'c']) writer.write(v, writeContext);
    const committables = await writer.prepareCommit(1);
    expect(committables).toHaveLength(1);
    expect(committables[0]!.transactionalId).toBe('recommit-0-1');
    // The writer's process dies before the checkpoint's commit: nothing is visible yet.
    await writer.close();
    // The restored job's committer commits the checkpointed committable by producer id and epoch,
    // and doing it twice is harmless.
    const committer = sink.createCommitter();
    await committer.commit(committables);
    await committer.commit(committables);
    await committer.close();
    expect(await readAll('sink.recommit')).toEqual(['a', 'b', 'c']);
  });

  it('EXACTLY_ONCE: a restarted writer aborts the transactions an earlier attempt left open', async () => {
    await createTopic(broker.bootstrapServers, 'sink.lingering', 1);
    // An earlier attempt restored from checkpoint 4 wrote into transactions 5 and 6 and died.
    for (const id of ['lingering-0-5', 'lingering-0-6']) {
      const p = kafka.producer({ transactionalId: id, maxInFlightRequests: 1, idempotent: true });
      await p.connect();
      const t = await p.transaction();
      await t.send({ topic: 'sink.lingering', messages: [{ value: `lost-${id}` }] });
      await p.disconnect(); // Neither committed nor aborted: read_committed readers wait on it.
    }
    const sink = exactlyOnce('sink.lingering', 'lingering');
    const writer = sink.createWriter(initContext(4));
    writer.write('kept', writeContext);
    const committables = await writer.prepareCommit(7);
    const committer = sink.createCommitter();
    await committer.commit(committables);
    await committer.close();
    await writer.close();
    // Without the aborts, the open transactions would hold read_committed back for 15 minutes.
    expect(await readAll('sink.lingering')).toEqual(['kept']);
  });

  it('EXACTLY_ONCE: a writer closed with its transaction open aborts it', async () => {
    await createTopic(broker.bootstrapServers, 'sink.cancelled', 1);
    const sink = exactlyOnce('sink.cancelled', 'cancelled');
    // An attempt restored from checkpoint 4 commits checkpoint 5's transaction and writes on into
    // transaction 6. It has been replaced already: the attempt that replaced it probed id 6
    // before the write, so only this writer can end transaction 6 when its task is cancelled.
    const replaced = sink.createWriter(initContext(4));
    replaced.write('committed', writeContext);
    const committer = sink.createCommitter();
    await committer.commit(await replaced.prepareCommit(5));
    replaced.write('written after the replacement', writeContext);
    await replaced.flush(false);
    await replaced.close();
    // A later attempt, restored from checkpoint 7 (which that attempt completed), does not probe 6.
    const writer = sink.createWriter(initContext(7));
    writer.write('kept', writeContext);
    await committer.commit(await writer.prepareCommit(8));
    await committer.close();
    await writer.close();
    // An open transaction 6 would hold read_committed readers back for transaction.timeout.ms.
    expect(await readAll('sink.cancelled')).toEqual(['committed', 'kept']);
  });

  it('holds the job back when more than max.buffered.records wait for the broker', async () => {
    await createTopic(broker.bootstrapServers, 'sink.backpressure', 1);
    const sink = KafkaSink.builder<string>()
      .setBootstrapServers(broker.bootstrapServers)
      .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
      .setProperty('max.buffered.records', 100)
      .setRecordSerializer(
        KafkaRecordSerializationSchema.builder<string>()
          .setTopic('sink.backpressure')
          .setValueSerializationSchema(new SimpleStringSchema())
          .build(),
      )
      .build();
    const writer = sink.createWriter(initContext());
    for (let i = 0; i < 99; i++) writer.write(`r${i}`, writeContext);
    expect(writer.availability!()).toBeUndefined();
    writer.write('r99', writeContext);
    const waiting = writer.availability!();
    expect(waiting).toBeInstanceOf(Promise);
    await waiting; // Resolves once the broker acknowledged enough.
    expect(writer.availability!()).toBeUndefined();
    await writer.flush(true);
    await writer.close();
    expect((await readAll('sink.backpressure')).length).toBe(100);
  });

  it('splits what it buffered into requests the broker accepts (message.max.bytes, 1 MiB)', async () => {
    await createTopic(broker.bootstrapServers, 'sink.large', 1);
    const sink = exactlyOnce('sink.large', 'large');
    const writer = sink.createWriter(initContext());
    const value = (i: number) => `${i}:`.padEnd(1024, 'x');
    // 4 MiB written at once, as at the end of a bounded input.
    for (let i = 0; i < 4096; i++) writer.write(value(i), writeContext);
    await writer.flush(true);
    const committer = sink.createCommitter();
    await committer.commit(await writer.prepareCommit(Number.MAX_SAFE_INTEGER));
    await committer.close();
    await writer.close();
    const read = await readAll('sink.large');
    expect(read.length).toBe(4096);
    expect(read.map((v) => Number(v.split(':')[0]))).toEqual([...Array(4096).keys()]);
  });

  it('EXACTLY_ONCE: after a restore at a lower parallelism, transactions of the old subtasks are aborted too', async () => {
    await createTopic(broker.bootstrapServers, 'sink.downscale', 1);
    // Subtasks 1 and 2 of a job at parallelism 3, restored from checkpoint 9, left transactions open.
    for (const id of ['downscale-1-10', 'downscale-2-10', 'downscale-2-11']) {
      const p = kafka.producer({ transactionalId: id, maxInFlightRequests: 1, idempotent: true });
      await p.connect();
      const t = await p.transaction();
      await t.send({ topic: 'sink.downscale', messages: [{ value: `lost-${id}` }] });
      await p.disconnect();
    }
    // The job restarts at parallelism 1 from checkpoint 9.
    const sink = exactlyOnce('sink.downscale', 'downscale');
    const writer = sink.createWriter(initContext(9, 1));
    writer.write('kept', writeContext);
    const committer = sink.createCommitter();
    await committer.commit(await writer.prepareCommit(10));
    await committer.close();
    await writer.close();
    expect(await readAll('sink.downscale')).toEqual(['kept']);
  });

  it('names a topic that does not exist', async () => {
    const sink = KafkaSink.builder<string>()
      .setBootstrapServers(broker.bootstrapServers)
      .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
      .setProperty('retries', 0)
      .setProperty('kafkajs.log.level', 'NOTHING')
      .setRecordSerializer(
        KafkaRecordSerializationSchema.builder<string>()
          .setTopic('no.such.topic')
          .setValueSerializationSchema(new SimpleStringSchema())
          .build(),
      )
      .build();
    const writer = sink.createWriter(initContext());
    writer.write('x', writeContext);
    await expect(writer.flush(false)).rejects.toThrow(
      /sending to no\.such\.topic failed: .*the topic does not exist on 127\.0\.0\.1:\d+: create it/,
    );
    await writer.close();
  });
});
