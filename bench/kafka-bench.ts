/**
 * Kafka benchmark: Nimble jobs between topics of a real Kafka 3.9.1 broker (test/fixtures/
 * kafka-broker.ts), on a local cluster (`nimble local`'s: a JobManager and two TaskManagers of one
 * slot, as processes), checkpoints every 10 s to a file:// directory, no restarts (a failed job
 * is an error of the benchmark).
 *
 * 1. Throughput, EXACTLY_ONCE: N purchases (100,000 users) written to `raw.purchases` beforehand,
 *    then the 5-minute spend job (packages/examples/src/kafka-user-spend.ts) reads the backlog in
 *    bounded mode at parallelism 2: events / time from RUNNING to FINISHED (JobManager REST), the
 *    checkpoints completed meanwhile, and the features a read_committed consumer finds.
 * 2. Latency at a fixed rate, AT_LEAST_ONCE and EXACTLY_ONCE: the per-event feature job
 *    (packages/examples/src/kafka-rolling-spend.ts) runs detached from the end of a fresh topic;
 *    purchases (10,000 users) are written at R events/s for S seconds by a producer in a worker
 *    thread. A read_uncommitted consumer measures the write latency (the feature record's Kafka
 *    timestamp, set by the sink's producer, minus the purchase record's, which the feature
 *    carries as `appended_ms`); for EXACTLY_ONCE a read_committed consumer also measures when a
 *    feature becomes visible (its arrival in this process minus `appended_ms`). The first 5 s are
 *    warm-up. Broker, TaskManagers and this process share one machine clock.
 *
 * 3. Clients (only with `--sections clients`): the Kafka clients side by side, outside Nimble,
 *    on this broker: consuming a backlog of `--client-events` purchases (4 partitions, from the
 *    first record to the last), and the transactional producer as KafkaSink uses it (begin, batches
 *    of 5,000 records one request at a time, commit every `--client-commit-ms`, 1,000: a
 *    checkpoint interval; `--client-txn-events` records, 1,000,000). Also whether
 *    transactions, fencing (a second producer with the same transactional.id) and the abort of a
 *    transaction left open (by a new producer with its id) work through public API. kafkajs comes
 *    from the repository; `@confluentinc/kafka-javascript` and `@platformatic/kafka` from
 *    `--clients-dir`, a scratch folder with its own package.json (see docs/connectors/kafka.md), so the
 *    repository does not depend on them.
 *
 *   pnpm bench:kafka [-- --events 2000000 --rate 80000 --seconds 30 --partitions 4]
 *   (--sections throughput,latency runs a part; --sections clients --clients-dir /tmp/kclients)
 *
 * Exits non-zero on errors only, not on missed targets.
 */
import type { LocalCluster } from '@nimble/cli';
import { startLocalCluster } from '@nimble/cli';
import type { Consumer, EachBatchPayload } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import { fixKafkajsReadCommitted } from '@nimble/connector-kafka';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { PurchaseProducerOptions } from '../packages/examples/src/purchase-producer.js';
import { producePurchases, purchaseRecord } from '../packages/examples/src/purchase-producer.js';
import type { PurchaseStreamOptions } from '../packages/examples/src/purchases.js';
import { purchaseAt } from '../packages/examples/src/purchases.js';
import type { KafkaBroker } from '../test/fixtures/kafka-broker.js';
import { createTopic, startKafka } from '../test/fixtures/kafka-broker.js';

const WARM_UP_MS = 5_000;
/** How long after the producer stopped the output may trail and still count as keeping up. */
const KEEP_UP_MS = 5_000;
/** How long to wait for the rest of the output (EXACTLY_ONCE: the next checkpoint's commit). */
const DRAIN_MS = 25_000;
const THROUGHPUT_STREAM: PurchaseStreamOptions = {
  users: 100_000,
  msPerEvent: 1,
  maxDelayMs: 3000,
};
const LATENCY_STREAM: PurchaseStreamOptions = { users: 10_000, msPerEvent: 1, maxDelayMs: 3000 };

const root = fileURLToPath(new URL('..', import.meta.url));
const nimbleBin = join(root, 'packages/cli/bin/nimble.mjs');
const spendJob = join(root, 'packages/examples/src/kafka-user-spend.ts');
const rollingJob = join(root, 'packages/examples/src/kafka-rolling-spend.ts');
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => console.log(`[kafka-bench] ${line}`);

// ---------------------------------------------------------------------------------------------
// The rate-limited producer runs in a worker thread, so that the consumers' work in this thread
// does not hold back its sends (and the other way round).

interface ProducerResult {
  startMs: number;
  endMs: number;
  events: number;
}

async function producerWorker(): Promise<void> {
  const options = workerData as Omit<PurchaseProducerOptions, 'onSent'>;
  const startMs = Date.now();
  await producePurchases(options);
  const result: ProducerResult = {
    startMs,
    endMs: Date.now(),
    events: options.to - options.from,
  };
  parentPort!.postMessage(result);
}

function produceInWorker(
  options: Omit<PurchaseProducerOptions, 'onSent'>,
): Promise<ProducerResult> {
  // tsx's hooks do not reach worker threads by themselves: the worker registers them first.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const code = `import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(import.meta.url)});`;
  const worker = new Worker(code, { eval: true, workerData: options });
  return new Promise((resolve, reject) => {
    let result: ProducerResult | undefined;
    worker.once('message', (m: ProducerResult) => (result = m));
    worker.once('error', reject);
    worker.once('exit', (code) =>
      result ? resolve(result) : reject(new Error(`the producer worker exited with ${code}`)),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Latency histogram in whole milliseconds (Kafka timestamps are ms).

class Histogram {
  private readonly buckets = new Float64Array(600_001);
  count = 0;
  max = 0;
  add(ms: number): void {
    const v = Math.max(0, Math.round(ms));
    this.buckets[Math.min(600_000, v)]!++;
    this.count++;
    if (v > this.max) this.max = v;
  }
  percentile(q: number): number {
    if (this.count === 0) return NaN;
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]!;
      if (seen >= q * this.count) return i;
    }
    return this.max;
  }
}

// ---------------------------------------------------------------------------------------------
// Output readers

function kafkaClient(bootstrapServers: string, clientId: string): Kafka {
  return new Kafka({ clientId, brokers: [bootstrapServers], logLevel: logLevel.ERROR });
}

/** Reads a topic from its beginning; `onBatch` sees each batch with the time it arrived. */
class TopicReader {
  count = 0;
  /** Per partition: the offset after the last record or control record read. */
  readonly positions = new Map<number, number>();

  private constructor(private readonly consumer: Consumer) {}

  static async start(
    bootstrapServers: string,
    topic: string,
    readCommitted: boolean,
    onBatch?: (payload: EachBatchPayload, receivedMs: number) => void,
  ): Promise<TopicReader> {
    // kafkajs alone delivers records of aborted transactions under read_committed.
    fixKafkajsReadCommitted();
    const consumer = kafkaClient(bootstrapServers, 'kafka-bench-reader').consumer({
      groupId: `kafka-bench-reader-${Math.random().toString(36).slice(2)}`,
      readUncommitted: !readCommitted,
      // Fetches of at least 64 KiB or 10 ms: fewer requests keep the measuring consumers' load on
      // the broker (which shares the 2 cores) low; write latency uses record timestamps anyway.
      minBytes: 65536,
      maxWaitTimeInMs: 10,
      maxBytesPerPartition: 4 * 1024 * 1024,
    });
    const reader = new TopicReader(consumer);
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const at = Number(payload.lastOffset) + 1;
      if (at > (reader.positions.get(payload.partition) ?? 0))
        reader.positions.set(payload.partition, at);
    });
    const joined = new Promise<void>((resolve) =>
      consumer.on(consumer.events.GROUP_JOIN, () => resolve()),
    );
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async (payload) => {
        const received = Date.now();
        reader.count += payload.batch.messages.length;
        onBatch?.(payload, received);
      },
    });
    await Promise.race([
      joined,
      sleep(30_000).then(() => {
        throw new Error(`the reader of ${topic} did not join its group within 30 s`);
      }),
    ]);
    return reader;
  }

  /** Whether every partition was read up to `ends` (partition -> end offset). */
  readTo(ends: Map<number, number>): boolean {
    for (const [p, end] of ends) if (end > 0 && (this.positions.get(p) ?? 0) < end) return false;
    return true;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

async function endOffsets(bootstrapServers: string, topic: string): Promise<Map<number, number>> {
  const admin = kafkaClient(bootstrapServers, 'kafka-bench-admin').admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** Records of `group`'s committed offsets behind the end of `topic`. */
async function groupLag(bootstrapServers: string, group: string, topic: string): Promise<number> {
  const admin = kafkaClient(bootstrapServers, 'kafka-bench-admin').admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    let lag = 0;
    for (const e of ends) lag += Number(e.high) - Math.max(0, at.get(e.partition) ?? 0);
    return lag;
  } finally {
    await admin.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// The cluster

function nimble(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [nimbleBin, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolve(out)
        : reject(
            new Error(
              `nimble ${args.slice(0, 4).join(' ')} ... exited with ${code}:\n${out}${err}`,
            ),
          ),
    );
  });
}

interface JobDetails {
  state: string;
  timestamps: Record<string, number>;
  'status-counts': Record<string, number>;
  vertices: { name: string; metrics: { 'read-records': number; 'write-records': number } }[];
}

interface CheckpointStats {
  counts: { completed: number; failed: number; in_progress: number };
  summary: { end_to_end_duration: { min: number; max: number; avg: number } };
}

async function rest<T>(cluster: LocalCluster, path: string): Promise<T> {
  const res = await fetch(`${cluster.restUrl}${path}`);
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

function jobIdOf(out: string): string {
  const m = /JobID ([0-9a-f]{32})/.exec(out);
  if (!m) throw new Error(`no JobID in the output of nimble run:\n${out}`);
  return m[1]!;
}

async function waitForState(
  cluster: LocalCluster,
  jobId: string,
  states: readonly string[],
  timeoutMs: number,
): Promise<JobDetails> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await rest<JobDetails>(cluster, `/jobs/${jobId}`);
    const tasks = Object.values(d['status-counts']).reduce((a, b) => a + b, 0);
    const allRunning = d.state !== 'RUNNING' || d['status-counts']['running'] === tasks;
    if (states.includes(d.state) && allRunning) return d;
    if (['FAILED', 'CANCELED', 'FINISHED'].includes(d.state) && !states.includes(d.state)) {
      const ex = await rest<{ 'root-exception': string | null }>(
        cluster,
        `/jobs/${jobId}/exceptions`,
      ).catch(() => ({ 'root-exception': null }));
      throw new Error(`job ${jobId} is ${d.state}: ${ex['root-exception'] ?? ''}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`job ${jobId} is ${d.state}, not ${states.join('/')}, after ${timeoutMs} ms`);
    }
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// The measurements

interface ThroughputResult {
  produceRate: number;
  eventsPerSecond: number;
  runningMs: number;
  checkpoints: CheckpointStats['counts'];
  features: number;
  expectedFeatures: number;
}

/** The number of distinct (user, 5-minute window) pairs of events [0, n): the features expected. */
function distinctWindows(n: number, stream: PurchaseStreamOptions): number {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const p = purchaseAt(i, stream);
    seen.add(`${p.user_id}/${Math.floor(p.event_time_ms / 300_000)}`);
  }
  return seen.size;
}

async function throughput(
  broker: KafkaBroker,
  cluster: LocalCluster,
  jobFlags: string[],
  o: { events: number; partitions: number; stamp: string },
): Promise<ThroughputResult> {
  const bs = broker.bootstrapServers;
  const [source, sink, dlq] = ['raw.purchases', 'features.user_5min_spend', 'raw.purchases.dlq'];
  await createTopic(bs, source, o.partitions);
  await createTopic(bs, sink, o.partitions);
  await createTopic(bs, dlq, 1);
  log(`writing ${fmt(o.events)} purchases to ${source} (${o.partitions} partitions)...`);
  const started = performance.now();
  await producePurchases({
    bootstrapServers: bs,
    topic: source,
    from: 0,
    to: o.events,
    stream: THROUGHPUT_STREAM,
    maxInFlight: 8,
  });
  const produceRate = o.events / ((performance.now() - started) / 1000);
  log(`written at ${fmt(produceRate)} events/s; running kafka-user-spend.ts (bounded)...`);
  const out = await nimble([
    'run',
    '-m',
    cluster.jobManagerAddress,
    ...jobFlags,
    spendJob,
    '--bootstrap-servers',
    bs,
    '--source-topic',
    source,
    '--sink-topic',
    sink,
    '--dlq-topic',
    dlq,
    '--group-id',
    `bench-spend-${o.stamp}`,
    '--guarantee',
    'exactly-once',
    '--transactional-id-prefix',
    `bench-spend-${o.stamp}`,
    '--parallelism',
    '2',
    '--bounded',
    'true',
  ]);
  const jobId = jobIdOf(out);
  const details = await waitForState(cluster, jobId, ['FINISHED'], 30_000);
  const runningMs = details.timestamps['FINISHED']! - details.timestamps['RUNNING']!;
  const checkpoints = (await rest<CheckpointStats>(cluster, `/jobs/${jobId}/checkpoints`)).counts;
  log(`job ${jobId}: ${fmt(runningMs)} ms RUNNING to FINISHED; reading the features...`);

  const ends = await endOffsets(bs, sink);
  const reader = await TopicReader.start(bs, sink, true);
  const deadline = Date.now() + 120_000;
  while (!reader.readTo(ends)) {
    if (Date.now() > deadline) {
      await reader.stop();
      throw new Error(
        `read_committed: ${sink} not read to its end (${JSON.stringify([...ends])}) within 120 s; ` +
          `positions ${JSON.stringify([...reader.positions])} (a transaction left open?)`,
      );
    }
    await sleep(200);
  }
  const features = reader.count;
  await reader.stop();
  if (features === 0) throw new Error(`the spend job wrote no features to ${sink}`);
  return {
    produceRate,
    eventsPerSecond: o.events / (runningMs / 1000),
    runningMs,
    checkpoints,
    features,
    expectedFeatures: distinctWindows(o.events, THROUGHPUT_STREAM),
  };
}

interface LatencyResult {
  guarantee: string;
  events: number;
  produceRate: number;
  outputRate: number;
  write: Histogram;
  visible: Histogram | undefined;
  keptUp: boolean;
  /** ms after the producer stopped until every feature was written (read_uncommitted). */
  caughtUpMs: number | undefined;
  /** ms after the producer stopped until every feature was visible (read_committed). */
  visibleAfterMs: number | undefined;
  checkpoints: CheckpointStats['counts'];
  lagNote: string;
}

async function latency(
  broker: KafkaBroker,
  cluster: LocalCluster,
  jobFlags: string[],
  guarantee: 'at-least-once' | 'exactly-once',
  o: { rate: number; seconds: number; partitions: number; stamp: string },
): Promise<LatencyResult> {
  const bs = broker.bootstrapServers;
  const tag = `${guarantee === 'exactly-once' ? 'eo' : 'alo'}-${o.stamp}`;
  const source = `raw.purchases.${tag}`;
  const sink = `features.user_rolling_spend.${tag}`;
  const group = `bench-rolling-${tag}`;
  await createTopic(bs, source, o.partitions);
  await createTopic(bs, sink, o.partitions);

  let warmUpEnd = Number.POSITIVE_INFINITY;
  const write = new Histogram();
  let firstWrite = Number.POSITIVE_INFINITY;
  let lastWrite = 0;
  const uncommitted = await TopicReader.start(bs, sink, false, ({ batch }) => {
    for (const m of batch.messages) {
      const appended = (JSON.parse(m.value!.toString('utf8')) as { appended_ms: number })
        .appended_ms;
      const written = Number(m.timestamp);
      if (written < firstWrite) firstWrite = written;
      if (written > lastWrite) lastWrite = written;
      if (appended >= warmUpEnd) write.add(written - appended);
    }
  });
  const visible = guarantee === 'exactly-once' ? new Histogram() : undefined;
  const committed = visible
    ? await TopicReader.start(bs, sink, true, ({ batch }, received) => {
        for (const m of batch.messages) {
          const appended = (JSON.parse(m.value!.toString('utf8')) as { appended_ms: number })
            .appended_ms;
          if (appended >= warmUpEnd) visible.add(received - appended);
        }
      })
    : undefined;

  let jobId: string | undefined;
  try {
    log(`${guarantee}: submitting kafka-rolling-spend.ts...`);
    jobId = jobIdOf(
      await nimble([
        'run',
        '-d',
        '-m',
        cluster.jobManagerAddress,
        ...jobFlags,
        rollingJob,
        '--bootstrap-servers',
        bs,
        '--source-topic',
        source,
        '--sink-topic',
        sink,
        '--group-id',
        group,
        '--guarantee',
        guarantee,
        '--transactional-id-prefix',
        `bench-rolling-${tag}`,
        '--parallelism',
        '2',
        '--starting-offsets',
        'latest',
      ]),
    );
    await waitForState(cluster, jobId, ['RUNNING'], 60_000);
    await sleep(3_000); // The readers join their groups and seek to the end.
    const events = o.rate * o.seconds;
    log(
      `${guarantee}: job ${jobId} running; writing ${fmt(o.rate)} events/s for ${o.seconds} s...`,
    );
    const producing = produceInWorker({
      bootstrapServers: bs,
      topic: source,
      from: 0,
      to: events,
      rate: o.rate,
      stream: LATENCY_STREAM,
    });
    warmUpEnd = Date.now() + WARM_UP_MS;
    const produced = await producing;
    const produceRate = events / ((produced.endMs - produced.startMs) / 1000);
    log(
      `${guarantee}: ${fmt(events)} written at ${fmt(produceRate)} events/s; ${fmt(uncommitted.count)} features so far`,
    );

    const waitFor = async (reader: TopicReader, ms: number): Promise<number | undefined> => {
      const deadline = produced.endMs + ms;
      while (reader.count < events && Date.now() < deadline) await sleep(50);
      return reader.count >= events ? Math.max(0, Date.now() - produced.endMs) : undefined;
    };
    const keptUpMs = await waitFor(uncommitted, KEEP_UP_MS);
    let lagNote = '';
    if (keptUpMs === undefined) {
      const lag = await groupLag(bs, group, source);
      lagNote =
        `${fmt(events - uncommitted.count)} features missing ${KEEP_UP_MS / 1000} s after the ` +
        `producer stopped; source group lag at its last checkpoint ${fmt(lag)} records`;
      log(`${guarantee}: not kept up: ${lagNote}`);
    }
    const caughtUpMs = keptUpMs ?? (await waitFor(uncommitted, DRAIN_MS));
    const visibleAfterMs = committed ? await waitFor(committed, DRAIN_MS) : undefined;
    if (uncommitted.count < events) {
      lagNote += `${lagNote ? '; ' : ''}${fmt(events - uncommitted.count)} features still missing after ${DRAIN_MS / 1000} s`;
    }
    if (committed && committed.count < events) {
      lagNote += `${lagNote ? '; ' : ''}${fmt(events - committed.count)} features not committed after ${DRAIN_MS / 1000} s`;
    }
    if (uncommitted.count > events || (committed && committed.count > events)) {
      lagNote += `${lagNote ? '; ' : ''}more features than purchases (${fmt(uncommitted.count)} written, ${fmt(committed?.count ?? 0)} committed)`;
    }
    const checkpoints = (await rest<CheckpointStats>(cluster, `/jobs/${jobId}/checkpoints`)).counts;
    return {
      guarantee,
      events,
      produceRate,
      outputRate: uncommitted.count / (Math.max(1, lastWrite - firstWrite) / 1000),
      write,
      visible,
      keptUp: keptUpMs !== undefined,
      caughtUpMs,
      visibleAfterMs,
      checkpoints,
      lagNote,
    };
  } finally {
    if (jobId !== undefined) {
      const state = (await rest<JobDetails>(cluster, `/jobs/${jobId}`).catch(() => undefined))
        ?.state;
      if (state === 'RUNNING' || state === 'CREATED' || state === 'RESTARTING') {
        await nimble(['cancel', '-m', cluster.jobManagerAddress, jobId]);
        await waitForState(cluster, jobId, ['CANCELED'], 30_000);
      }
    }
    await Promise.allSettled([uncommitted.stop(), committed?.stop()]);
  }
}

// ---------------------------------------------------------------------------------------------
// Clients side by side. The foreign clients have no types here: they are loaded from a scratch
// folder at run time, so their API is used untyped (`any`), as in a plain JS script.

type Untyped = any;
type ClientName = 'kafkajs' | 'confluent' | 'platformatic';
const CLIENTS: readonly ClientName[] = ['kafkajs', 'confluent', 'platformatic'];

interface TxnHandle {
  send(topic: string, messages: { key: string; value: string }[]): Promise<unknown>;
  commit(): Promise<unknown>;
  abort(): Promise<unknown>;
}
interface TxnProducer {
  begin(): Promise<TxnHandle>;
  close(): Promise<unknown>;
}

class ClientLoader {
  private readonly req: NodeJS.Require;
  constructor(private readonly dir: string) {
    this.req = createRequire(join(dir, 'package.json'));
  }
  confluent(): Untyped {
    return this.req('@confluentinc/kafka-javascript').KafkaJS;
  }
  async platformatic(): Promise<Untyped> {
    return import(pathToFileURL(this.req.resolve('@platformatic/kafka')).href);
  }
}

async function txnProducer(
  loader: ClientLoader,
  client: ClientName,
  bs: string,
  transactionalId: string,
): Promise<TxnProducer> {
  if (client === 'kafkajs') {
    const p = kafkaClient(bs, 'kafka-bench-clients').producer({
      allowAutoTopicCreation: false,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionalId,
      transactionTimeout: 60_000,
    });
    await p.connect();
    return {
      begin: async () => {
        const t = await p.transaction();
        return {
          send: (topic, messages) =>
            t.sendBatch({ topicMessages: [{ topic, messages }], acks: -1 }),
          commit: () => t.commit(),
          abort: () => t.abort(),
        };
      },
      close: () => p.disconnect(),
    };
  }
  if (client === 'confluent') {
    const { Kafka, logLevel: level } = loader.confluent();
    const kafka = new Kafka({
      kafkaJS: { clientId: 'kafka-bench-clients', brokers: [bs], logLevel: level.ERROR },
    });
    const p = kafka.producer({
      kafkaJS: { transactionalId, idempotent: true, transactionTimeout: 60_000, acks: -1 },
      'linger.ms': 5,
    });
    await p.connect();
    return {
      begin: async () => {
        const t = await p.transaction();
        return {
          send: (topic, messages) => t.send({ topic, messages }),
          commit: () => t.commit(),
          abort: () => t.abort(),
        };
      },
      close: () => p.disconnect(),
    };
  }
  const { Producer, stringSerializers } = await loader.platformatic();
  const p = new Producer({
    clientId: 'kafka-bench-clients',
    bootstrapBrokers: [bs],
    transactionalId,
    idempotent: true,
    acks: -1,
    serializers: stringSerializers,
    autocreateTopics: false,
    // "No expected producer id and epoch" (KIP-360): without it, a second producer with the same
    // transactional id is refused (PRODUCER_FENCED) instead of taking the id over.
    producerId: -1n,
    producerEpoch: -1,
  });
  return {
    begin: async () => {
      const t = await p.beginTransaction();
      return {
        send: (topic, messages) => t.send({ messages: messages.map((m) => ({ ...m, topic })) }),
        commit: () => t.commit(),
        abort: () => t.abort(),
      };
    },
    close: () => p.close(),
  };
}

/** Reads `n` records of `topic` from its beginning: records/s from the first record to the last. */
async function consumeRate(
  loader: ClientLoader,
  client: ClientName,
  bs: string,
  topic: string,
  n: number,
): Promise<number> {
  const groupId = `kafka-bench-clients-${client}-${Date.now()}`;
  let count = 0;
  let first = 0;
  let done!: (at: number) => void;
  const finished = new Promise<number>((r) => (done = r));
  const onRecords = (k: number) => {
    if (first === 0) first = performance.now();
    count += k;
    if (count >= n) done(performance.now());
  };
  let stop: () => Promise<unknown>;
  if (client === 'kafkajs') {
    // KafkaSource's settings (fetch.min.bytes 1, fetch.max.wait.ms 500, 1 MiB per partition).
    const c = kafkaClient(bs, 'kafka-bench-clients').consumer({
      groupId,
      minBytes: 1,
      maxWaitTimeInMs: 500,
      maxBytesPerPartition: 1_048_576,
    });
    await c.connect();
    await c.subscribe({ topics: [topic], fromBeginning: true });
    await c.run({
      autoCommit: false,
      eachBatch: ({ batch }) => {
        for (const m of batch.messages) if (m.value === null) throw new Error('a tombstone');
        onRecords(batch.messages.length);
        return Promise.resolve();
      },
    });
    stop = () => c.disconnect();
  } else if (client === 'confluent') {
    const { Kafka, logLevel: level } = loader.confluent();
    const kafka = new Kafka({
      kafkaJS: { clientId: 'kafka-bench-clients', brokers: [bs], logLevel: level.ERROR },
    });
    const c = kafka.consumer({ kafkaJS: { groupId, fromBeginning: true, autoCommit: false } });
    await c.connect();
    await c.subscribe({ topics: [topic] });
    await c.run({
      partitionsConsumedConcurrently: 4,
      eachBatch: ({ batch }: Untyped) => {
        onRecords(batch.messages.length);
        return Promise.resolve();
      },
    });
    stop = () => c.disconnect();
  } else {
    const { Consumer, MessagesStreamModes } = await loader.platformatic();
    const c = new Consumer({
      groupId,
      clientId: 'kafka-bench-clients',
      bootstrapBrokers: [bs],
      autocommit: false,
      maxWaitTime: 500,
      minBytes: 1,
    });
    const stream = await c.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
    stream.on('data', () => onRecords(1));
    stop = async () => {
      await stream.close();
      await c.close();
    };
  }
  const end = await finished;
  await stop();
  return n / ((end - first) / 1000);
}

/**
 * Transactions committed every `commitMs` (a checkpoint interval, as KafkaSink commits one per
 * checkpoint), each sent in batches of 5,000 records one request at a time: records/s over the
 * whole run, commits included, and the number of commits.
 */
async function transactionalRate(
  loader: ClientLoader,
  client: ClientName,
  bs: string,
  n: number,
  commitMs: number,
): Promise<{ rate: number; commits: number }> {
  const topic = `clients.txn.${client}.${Date.now()}`;
  await createTopic(bs, topic, 4);
  const batches: { key: string; value: string }[][] = [];
  for (let i = 0; i < n; i += 5000) {
    const b = [];
    for (let j = i; j < Math.min(n, i + 5000); j++) b.push(purchaseRecord(j, THROUGHPUT_STREAM));
    batches.push(b);
  }
  const p = await txnProducer(loader, client, bs, `kafka-bench-clients-${client}-${Date.now()}`);
  const started = performance.now();
  let next = 0;
  let commits = 0;
  while (next < batches.length) {
    const t = await p.begin();
    const began = performance.now();
    do await t.send(topic, batches[next++]!);
    while (next < batches.length && performance.now() - began < commitMs);
    await t.commit();
    commits++;
  }
  const ms = performance.now() - started;
  await p.close();
  return { rate: n / (ms / 1000), commits };
}

interface ClientFeatures {
  transactions: boolean;
  fencing: boolean;
  lingeringAborted: boolean;
  fenceError: string;
}

/**
 * Commit visible and abort not; a transaction left open (neither committed nor aborted), then a
 * second producer with the same transactional id: the open one must be aborted, and the first
 * producer fenced (its next send or commit fails, and nothing of it becomes visible).
 */
async function clientFeatures(
  loader: ClientLoader,
  client: ClientName,
  bs: string,
): Promise<ClientFeatures> {
  const topic = `clients.features.${client}.${Date.now()}`;
  await createTopic(bs, topic, 1);
  const id = `kafka-bench-features-${client}-${Date.now()}`;
  const record = (value: string) => [{ key: 'k', value }];
  const p1 = await txnProducer(loader, client, bs, id);
  let t = await p1.begin();
  await t.send(topic, record('committed-1'));
  await t.commit();
  t = await p1.begin();
  await t.send(topic, record('aborted-1'));
  await t.abort();
  t = await p1.begin();
  await t.send(topic, record('left-open'));
  const p2 = await txnProducer(loader, client, bs, id);
  const t2 = await p2.begin();
  await t2.send(topic, record('committed-2'));
  await t2.commit();
  let fenceError = '';
  try {
    await t.send(topic, record('zombie'));
    await t.commit();
  } catch (e) {
    fenceError = (e as Error).message.slice(0, 120);
  }
  await Promise.allSettled([p1.close(), p2.close()]);
  const values: string[] = [];
  const reader = await TopicReader.start(bs, topic, true, ({ batch }) => {
    for (const m of batch.messages) values.push(m.value?.toString() ?? '');
  });
  const ends = await endOffsets(bs, topic);
  const deadline = Date.now() + 30_000;
  while (!reader.readTo(ends) && Date.now() < deadline) await sleep(100);
  await reader.stop();
  return {
    transactions: values.includes('committed-1') && !values.includes('aborted-1'),
    lingeringAborted: values.includes('committed-2') && !values.includes('left-open'),
    fencing: fenceError !== '' && !values.includes('zombie'),
    fenceError,
  };
}

async function clients(
  broker: KafkaBroker,
  o: { dir: string; events: number; rounds: number; txnEvents: number; commitMs: number },
): Promise<[string, string, string][]> {
  const bs = broker.bootstrapServers;
  const loader = new ClientLoader(o.dir);
  const topic = 'clients.purchases';
  await createTopic(bs, topic, 4);
  log(`clients: writing ${fmt(o.events)} purchases to ${topic}...`);
  await producePurchases({
    bootstrapServers: bs,
    topic,
    from: 0,
    to: o.events,
    stream: THROUGHPUT_STREAM,
  });
  const rows: [string, string, string][] = [];
  const consumed = new Map<ClientName, number[]>();
  const produced = new Map<ClientName, number[]>();
  // Rounds alternate the clients, each round starting with the next one, so that the machine's
  // other load spreads over all of them.
  for (let r = 0; r < o.rounds; r++) {
    for (const c of [
      ...CLIENTS.slice(r % CLIENTS.length),
      ...CLIENTS.slice(0, r % CLIENTS.length),
    ]) {
      const load = loadavg()[0]!.toFixed(1);
      const rate = await consumeRate(loader, c, bs, topic, o.events);
      const txn = await transactionalRate(loader, c, bs, o.txnEvents, o.commitMs);
      log(
        `clients: ${c}: consume ${fmt(rate)}/s, transactional ${fmt(txn.rate)}/s ` +
          `(${txn.commits} commits; load ${load} -> ${loadavg()[0]!.toFixed(1)})`,
      );
      consumed.set(c, [...(consumed.get(c) ?? []), rate]);
      produced.set(c, [...(produced.get(c) ?? []), txn.rate]);
    }
  }
  const range = (xs: number[]) =>
    xs.length === 1 ? fmt(xs[0]!) : `${fmt(Math.min(...xs))} – ${fmt(Math.max(...xs))}`;
  for (const c of CLIENTS) {
    const f = await clientFeatures(loader, c, bs);
    const yes = (b: boolean) => (b ? 'yes' : 'NO');
    rows.push([
      `${c}: consume / transactional produce (records/s)`,
      `${range(consumed.get(c)!)} / ${range(produced.get(c)!)}`,
      `transactions ${yes(f.transactions)}, fencing ${yes(f.fencing)} (${f.fenceError}), ` +
        `open transaction aborted by a new producer ${yes(f.lingeringAborted)}`,
    ]);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      events: { type: 'string', default: '2000000' },
      rate: { type: 'string', default: '80000' },
      seconds: { type: 'string', default: '30' },
      partitions: { type: 'string', default: '4' },
      sections: { type: 'string', default: 'throughput,latency' },
      'clients-dir': { type: 'string', default: '/tmp/kclients' },
      'client-events': { type: 'string', default: '1000000' },
      'client-rounds': { type: 'string', default: '2' },
      'client-txn-events': { type: 'string', default: '1000000' },
      'client-commit-ms': { type: 'string', default: '1000' },
    },
  });
  const events = Number(args.events);
  const rate = Number(args.rate);
  const seconds = Number(args.seconds);
  const partitions = Number(args.partitions);
  const sections = new Set(args.sections.split(','));
  const stamp = Date.now().toString(36);
  const benchStarted = performance.now();

  const dirs: string[] = [];
  const tempDir = (prefix: string) => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
  // Checkpoints every 10 s to a directory of this run; no restarts: a job that fails is an error
  // of the benchmark, not a slow run.
  const jobFlags = [
    '-D',
    'execution.checkpointing.interval=10s',
    '-D',
    'restart-strategy.type=none',
    '-D',
    `state.checkpoints.dir=${pathToFileURL(tempDir('nimble-kafka-bench-chk-')).href}`,
  ];

  let broker: KafkaBroker | undefined;
  let cluster: LocalCluster | undefined;
  const cleanUp = async () => {
    try {
      await cluster?.stop();
    } finally {
      cluster = undefined;
      try {
        await broker?.stop();
      } finally {
        broker = undefined;
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
      }
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void cleanUp().finally(() => process.exit(130));
    });
  }

  let tp: ThroughputResult | undefined;
  const lat: LatencyResult[] = [];
  let clientRows: [string, string, string][] = [];
  try {
    log('starting a Kafka broker...');
    broker = await startKafka();
    log(`broker at ${broker.bootstrapServers}; starting the cluster...`);
    // A blob and job store of this cluster's own: a JobManager recovers the jobs it finds there.
    cluster = await startLocalCluster({
      taskManagers: 2,
      slots: 1,
      args: [
        '-D',
        'jobmanager.rpc.port=0',
        '-D',
        'rest.port=0',
        '-D',
        `blob.storage.directory=${tempDir('nimble-kafka-bench-blobs-')}`,
      ],
    });
    if (sections.has('throughput')) {
      tp = await throughput(broker, cluster, jobFlags, { events, partitions, stamp });
    }
    if (sections.has('clients')) {
      clientRows = await clients(broker, {
        dir: args['clients-dir'],
        events: Number(args['client-events']),
        rounds: Number(args['client-rounds']),
        txnEvents: Number(args['client-txn-events']),
        commitMs: Number(args['client-commit-ms']),
      });
    }
    if (sections.has('latency')) {
      for (const g of ['at-least-once', 'exactly-once'] as const) {
        lat.push(await latency(broker, cluster, jobFlags, g, { rate, seconds, partitions, stamp }));
      }
    }
  } finally {
    await cleanUp();
  }

  const ms = (h: Histogram | undefined) =>
    h && h.count > 0
      ? `${h.percentile(0.5)} / ${h.percentile(0.99)} / ${h.max} ms (${fmt(h.count)} records)`
      : 'n/a';
  const rows: [string, string, string][] = [];
  if (tp) {
    rows.push(
      ['one producer, as fast as it goes (maxInFlight 8)', `${fmt(tp.produceRate)} events/s`, ''],
      [
        `backlog of ${fmt(events)}, kafka-user-spend.ts, EXACTLY_ONCE, p2`,
        `${fmt(tp.eventsPerSecond)} events/s (${fmt(tp.runningMs)} ms RUNNING to FINISHED)`,
        `80,000 events/s sustained: ${tp.eventsPerSecond >= 80_000 ? 'met' : 'not met'}`,
      ],
      [
        'checkpoints during the backlog run',
        `${tp.checkpoints.completed} completed, ${tp.checkpoints.failed} failed`,
        '',
      ],
      [
        'features (read_committed)',
        fmt(tp.features),
        tp.features === tp.expectedFeatures
          ? `as many as the input has (user, window) pairs`
          : `the input has ${fmt(tp.expectedFeatures)} (user, window) pairs; with maxInFlight 8 the ` +
            'log is not in sequence order, and events later than the watermark are dropped',
      ],
    );
  }
  for (const l of lat) {
    const name = l.guarantee === 'exactly-once' ? 'EXACTLY_ONCE' : 'AT_LEAST_ONCE';
    rows.push(
      [
        `${name}: producer at ${fmt(rate)} events/s target, ${seconds} s`,
        `${fmt(l.produceRate)} events/s`,
        l.produceRate < 0.95 * rate
          ? 'behind schedule: it sent in bursts (up to 10,000 records a request, 8 in flight), ' +
            'which count in the latency'
          : '',
      ],
      [`${name}: output`, `${fmt(l.outputRate)} records/s`, ''],
      [
        `${name}: write latency p50 / p99 / max`,
        ms(l.write),
        `p99 < 100 ms: ${l.write.count > 0 && l.write.percentile(0.99) < 100 ? 'met' : 'not met'}`,
      ],
    );
    if (l.visible) {
      rows.push([
        `${name}: visible to read_committed p50 / p99 / max`,
        ms(l.visible),
        `p99 < 100 ms: ${l.visible.count > 0 && l.visible.percentile(0.99) < 100 ? 'met' : 'not met'}`,
      ]);
    }
    rows.push([
      `${name}: kept up`,
      l.keptUp
        ? `yes (all written ${fmt(l.caughtUpMs!)} ms after the producer stopped)`
        : `no: ${l.lagNote}`,
      `checkpoints ${l.checkpoints.completed} completed, ${l.checkpoints.failed} failed` +
        (l.visibleAfterMs !== undefined
          ? `; all committed ${fmt(l.visibleAfterMs)} ms after the producer stopped`
          : ''),
    ]);
  }
  rows.push(...clientRows);
  console.log('');
  console.log(
    `Kafka benchmark (${partitions} partitions; nimble local, 2 TaskManagers x 1 slot; checkpoints every 10 s), ${fmt((performance.now() - benchStarted) / 1000)} s`,
  );
  console.log('| figure | result | note |');
  console.log('|---|---|---|');
  for (const [a, b, c] of rows) console.log(`| ${a} | ${b} | ${c} |`);
}

if (isMainThread) {
  try {
    await main();
  } catch (e) {
    console.error(e);
    process.exitCode = 1;
  }
} else {
  await producerWorker();
}
