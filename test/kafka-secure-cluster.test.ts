// Keyed records with headers through real daemons and a broker that authenticates them
// (SASL_SSL, SCRAM): EXACTLY_ONCE through a TaskManager SIGKILL and through a savepoint taken at
// parallelism 2 and restored at 3, read with read_committed, key, value and header exact; a
// user the broker does not know fails the job with an error naming the broker and the mechanism,
// the job restarts by its restart strategy, and once the user exists it loses nothing.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixKafkajsReadCommitted } from '@nimble/connector-kafka';
import type { Consumer } from 'kafkajs';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAST_RESTARTS, nimble, TestCluster } from './fixtures/cluster.js';
import type { KafkaBroker, SecureListeners } from './fixtures/kafka-broker.js';
import {
  addScramUser,
  createTopic,
  saslSslProperties,
  startKafka,
} from './fixtures/kafka-broker.js';

const JOB = join(import.meta.dirname, 'fixtures/cluster-jobs/kafka-secure-count-job.ts');
const PARTITIONS = 4;
const KEYS = 12;
const writer = { name: 'writer', password: 'writer-secret' };

let broker: KafkaBroker;
let secure: SecureListeners;
let cluster: TestCluster;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-kafka-secure-'));
  [broker, cluster] = await Promise.all([
    startKafka({ secure: { users: [writer] } }),
    TestCluster.start({ taskManagers: 3, jm: [...FAST_RESTARTS] }),
  ]);
  secure = broker.secure!;
}, 180_000);

/** Jobs to cancel and readers to stop after each test, also a failed one. */
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await broker?.stop();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

/** `key|value|trace` of each record, read_committed, as they arrive. */
class RecordReader {
  readonly records: string[] = [];
  private constructor(private readonly consumer: Consumer) {}

  static async start(topic: string): Promise<RecordReader> {
    fixKafkajsReadCommitted();
    const kafka = new Kafka({
      brokers: [secure.saslSslBootstrapServers],
      logLevel: logLevel.NOTHING,
      ssl: { ca: [readFileSync(secure.caFile, 'utf8')] },
      sasl: { mechanism: 'scram-sha-256', username: writer.name, password: writer.password },
    });
    const consumer = kafka.consumer({
      groupId: `check-${topic}-${Math.random().toString(36).slice(2)}`,
      readUncommitted: false,
      maxWaitTimeInMs: 200,
    });
    const reader = new RecordReader(consumer);
    cleanups.push(() => consumer.disconnect());
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const trace = message.headers?.['trace'];
        reader.records.push(
          `${message.key?.toString() ?? ''}|${message.value?.toString() ?? ''}|${
            Buffer.isBuffer(trace) ? trace.toString('utf8') : String(trace)
          }`,
        );
      },
    });
    return reader;
  }
}

/** Writes records n = from+1..to of every key (key k<i>, value k<i>:n, header trace), over SASL_SSL. */
async function writeKeyed(topic: string, from: number, to: number): Promise<void> {
  const kafka = new Kafka({
    brokers: [secure.saslSslBootstrapServers],
    logLevel: logLevel.NOTHING,
    ssl: { ca: [readFileSync(secure.caFile, 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', username: writer.name, password: writer.password },
  });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let n = from + 1; n <= to; n++) {
      await producer.send({
        topic,
        messages: Array.from({ length: KEYS }, (_, i) => ({
          key: `k${i}`,
          value: `k${i}:${n}`,
          headers: { trace: Buffer.from(`t-k${i}-${n}`) },
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/** The output of records 1..to of every key: each once, counted, with its header. */
function expected(to: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < KEYS; i++) {
    for (let n = 1; n <= to; n++) out.push(`k${i}|k${i}:${n}:${n}|t-k${i}-${n}`);
  }
  return out.sort();
}

async function topics(name: string): Promise<{ source: string; sink: string }> {
  const t = { source: `secure.in.${name}`, sink: `secure.out.${name}` };
  await createTopic(broker.bootstrapServers, t.source, PARTITIONS);
  await createTopic(broker.bootstrapServers, t.sink, 2);
  return t;
}

function jobArgs(
  t: { source: string; sink: string },
  name: string,
  user = writer,
  mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512' = 'SCRAM-SHA-512',
): string[] {
  return [
    JOB,
    JSON.stringify({
      servers: secure.saslSslBootstrapServers,
      source: t.source,
      sink: t.sink,
      groupId: `group-${name}`,
      prefix: `tx-${name}`,
      properties: saslSslProperties(secure, mechanism, user),
    }),
  ];
}

const checkpointing = (name: string, parallelism: number) => [
  '-p',
  String(parallelism),
  '-D',
  'execution.checkpointing.interval=400',
  '-D',
  `state.checkpoints.dir=file://${join(work, `chk-${name}`)}`,
];

async function submit(options: string[], args: string[]): Promise<string> {
  const r = await nimble(['run', '-d', '-m', cluster.address, ...options, ...args]);
  expect(r.stderr).toBe('');
  const jobId = /JobID ([0-9a-f]+)/.exec(r.stdout)?.[1];
  if (!jobId) throw new Error(`no job id in: ${r.stdout}\n${r.stderr}`);
  cleanups.push(async () => {
    await nimble(['cancel', '-m', cluster.address, jobId]);
    await cluster.waitFor(async () => (await cluster.rest(`/jobs/${jobId}`)).state !== 'RUNNING');
  });
  return jobId;
}

async function running(jobId: string): Promise<void> {
  await cluster.waitFor(
    async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'RUNNING',
    60_000,
  );
}

async function checkpointsCompleted(jobId: string): Promise<number> {
  const c = await cluster.rest(`/jobs/${jobId}/checkpoints`);
  return (c.counts?.completed as number | undefined) ?? 0;
}

/** Waits for `n` distinct records, then two more checkpoints, so that extras would show. */
async function waitForOutput(reader: RecordReader, n: number, jobId: string): Promise<void> {
  await cluster.waitFor(() => new Set(reader.records).size >= n, 120_000);
  const done = await checkpointsCompleted(jobId);
  await cluster.waitFor(async () => (await checkpointsCompleted(jobId)) >= done + 2, 60_000);
}

describe('Kafka over SASL_SSL on a cluster', () => {
  it('EXACTLY_ONCE through a TaskManager SIGKILL: keys, values and headers exact', async () => {
    const t = await topics('kill');
    const reader = await RecordReader.start(t.sink);
    const jobId = await submit(checkpointing('kill', 2), jobArgs(t, 'kill'));
    await running(jobId);
    await writeKeyed(t.source, 0, 40);
    const before = await checkpointsCompleted(jobId);
    await cluster.waitFor(async () => (await checkpointsCompleted(jobId)) > before + 1, 60_000);
    const busy = (
      (await cluster.rest('/taskmanagers')).taskmanagers as { id: string; freeSlots: number }[]
    ).find((tm) => tm.freeSlots === 0);
    const victim = cluster.taskManagers.find((tm) => tm.ready.resourceId === busy?.id);
    expect(victim).toBeDefined();
    victim!.child.kill('SIGKILL');
    await cluster.addTaskManager();
    await writeKeyed(t.source, 40, 80);
    await waitForOutput(reader, KEYS * 80, jobId);
    expect((await cluster.rest(`/jobs/${jobId}`))['num-restarts']).toBeGreaterThanOrEqual(1);
    expect([...reader.records].sort()).toEqual(expected(80));
  }, 240_000);

  it('a savepoint taken at parallelism 2 restored at 3: nothing lost or repeated', async () => {
    const t = await topics('sp');
    const reader = await RecordReader.start(t.sink);
    const jobId = await submit(checkpointing('sp', 2), jobArgs(t, 'sp'));
    await running(jobId);
    await writeKeyed(t.source, 0, 30);
    await cluster.waitFor(() => new Set(reader.records).size >= KEYS * 30, 120_000);
    const stopped = await nimble([
      'stop',
      '-m',
      cluster.address,
      jobId,
      '--savepointPath',
      join(work, 'savepoints'),
    ]);
    expect(stopped.code).toBe(0);
    const savepoint = /Savepoint completed\. Path: (\S+)/.exec(stopped.stdout)?.[1];
    expect(savepoint).toBeDefined();
    // Written while the job is down: read after the restore, counted on from the savepoint.
    await writeKeyed(t.source, 30, 60);
    const resumed = await submit(['-s', savepoint!, ...checkpointing('sp', 3)], jobArgs(t, 'sp'));
    await running(resumed);
    const vertices = (await cluster.rest(`/jobs/${resumed}`)).vertices as { parallelism: number }[];
    expect(vertices.map((v) => v.parallelism)).toEqual(vertices.map(() => 3));
    await waitForOutput(reader, KEYS * 60, resumed);
    expect([...reader.records].sort()).toEqual(expected(60));
  }, 240_000);

  it('a user the broker does not know: the error names broker and mechanism, the job restarts, and loses nothing once the user exists', async () => {
    const t = await topics('late');
    const late = { name: 'late', password: 'late-secret' };
    await writeKeyed(t.source, 0, 10);
    const reader = await RecordReader.start(t.sink);
    // The job's own restart strategy: enough attempts for the time the user takes to add.
    const jobId = await submit(
      [
        ...checkpointing('late', 2),
        '-D',
        'restart-strategy.fixed-delay.attempts=1000',
        '-D',
        'restart-strategy.fixed-delay.delay=300 ms',
      ],
      jobArgs(t, 'late', late, 'SCRAM-SHA-256'),
    );
    await cluster.waitFor(async () => {
      const job = await cluster.rest(`/jobs/${jobId}`);
      return (job['num-restarts'] as number) >= 1;
    }, 120_000);
    const exceptions = await cluster.rest(`/jobs/${jobId}/exceptions`);
    expect(exceptions['root-exception']).toContain(
      `SASL authentication with mechanism SCRAM-SHA-256 failed at broker ${secure.saslSslBootstrapServers} (security.protocol=SASL_SSL)`,
    );
    await addScramUser(broker, late);
    await running(jobId);
    await waitForOutput(reader, KEYS * 10, jobId);
    expect([...reader.records].sort()).toEqual(expected(10));
  }, 240_000);
});
