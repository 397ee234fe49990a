/**
 * JobManager failover benchmark (docs/high-availability.md): two JobManagers electing a leader
 * through the real S3 server (moto, test/fixtures/s3-server.ts), two TaskManagers of two slots,
 * all processes, and the per-event feature job (packages/examples/src/kafka-rolling-spend.ts)
 * EXACTLY_ONCE on a real Kafka broker, checkpointing every second to S3. Purchases are written at
 * a fixed rate throughout; a read_committed consumer notes when each feature arrives.
 *
 * Each round SIGKILLs the leading JobManager and measures, from the kill:
 *   (a) leading:  the standby's REST /overview answers 200 (it leads);
 *   (b) running:  the job is RUNNING on it again (recovered from the job store, its tasks
 *                 redeployed from the latest checkpoint);
 *   (c) output:   the first feature of a purchase appended after the kill arrives committed.
 * The killed JobManager is then started again (a standby, as Kubernetes would restart it).
 * Lease timing: the defaults (lease 6 s, renew 4 s, retry 1 s); heartbeats of the defaults.
 *
 *   pnpm bench:ha [-- --rounds 3 --rate 500]
 *
 * Exits non-zero on errors only.
 */
import { Kafka, logLevel } from 'kafkajs';
import { fixKafkajsReadCommitted } from '@nimble/connector-kafka';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { producePurchases } from '../packages/examples/src/purchase-producer.js';
import type { Daemon } from '../test/fixtures/cluster.js';
import { nimble, startDaemon, stopDaemon } from '../test/fixtures/cluster.js';
import { createTopic, startKafka } from '../test/fixtures/kafka-broker.js';
import { startS3Server } from '../test/fixtures/s3-server.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const JOB = join(root, 'packages/examples/src/kafka-rolling-spend.ts');

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    rate: { type: 'string', default: '500' },
  },
});
const rounds = Number(values.rounds);
const rate = Number(values.rate);

const log = (s: string) => process.stderr.write(`${s}\n`);

async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const restOf = (d: Daemon) => `http://127.0.0.1:${d.ready.httpPort}`;

async function rest(d: Daemon, path: string): Promise<{ status: number; body: any }> {
  try {
    const res = await fetch(restOf(d) + path);
    return { status: res.status, body: await res.json() };
  } catch {
    return { status: 0, body: {} };
  }
}

const work = mkdtempSync(join(tmpdir(), 'nimble-ha-bench-'));
const [broker, s3] = await Promise.all([startKafka(), startS3Server()]);
const ha = [
  ...s3.flags,
  '-D',
  'high-availability.type=storage',
  '-D',
  `high-availability.storageDir=s3://${s3.bucket}/ha`,
];
const daemons: Daemon[] = [];
let stopProducing = false;

function startJobManager(): Promise<Daemon> {
  return startDaemon([
    'jobmanager',
    '-D',
    'jobmanager.rpc.port=0',
    '-D',
    'rest.port=0',
    '-D',
    `blob.storage.directory=${mkdtempSync(join(work, 'blobs-'))}`,
    ...ha,
  ]).then((d) => (daemons.push(d), d));
}

try {
  log('starting JobManagers and TaskManagers...');
  let leader = await startJobManager();
  await waitFor(async () => (await rest(leader, '/overview')).status === 200);
  let standby = await startJobManager();
  for (let i = 0; i < 2; i++) {
    daemons.push(
      await startDaemon([
        'taskmanager',
        '-D',
        'taskmanager.rpc.port=0',
        '-D',
        'metrics.reporter.prom.port=0',
        '-D',
        'taskmanager.numberOfTaskSlots=2',
        ...ha,
      ]),
    );
  }
  await waitFor(async () => (await rest(leader, '/overview')).body.taskmanagers === 2);

  const source = 'raw.purchases.ha-bench';
  const sink = 'features.ha-bench';
  await createTopic(broker.bootstrapServers, source, 4);
  await createTopic(broker.bootstrapServers, sink, 2);

  // Arrival (epoch ms) of every committed feature, with the append time of its purchase.
  fixKafkajsReadCommitted();
  const kafka = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: 'ha-bench-reader', maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic: sink, fromBeginning: true });
  const arrivals: { arrived: number; appended: number }[] = [];
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const arrived = Date.now();
      for (const m of batch.messages) {
        const f = JSON.parse(m.value!.toString()) as { appended_ms: number };
        arrivals.push({ arrived, appended: f.appended_ms });
      }
    },
  });

  const run = await nimble([
    'run',
    '-d',
    '-m',
    `127.0.0.1:${leader.ready.rpcPort}`,
    '-D',
    'execution.checkpointing.interval=1000',
    '-D',
    `state.checkpoints.dir=s3://${s3.bucket}/checkpoints`,
    ...s3.flags,
    JOB,
    '--bootstrap-servers',
    broker.bootstrapServers,
    '--source-topic',
    source,
    '--sink-topic',
    sink,
    '--group-id',
    'ha-bench',
    '--guarantee',
    'exactly-once',
    '--transactional-id-prefix',
    'tx-ha-bench',
    '--parallelism',
    '2',
    '--starting-offsets',
    'earliest',
  ]);
  const jobId = /JobID ([0-9a-f]{32})/.exec(run.stdout)?.[1];
  if (!jobId) throw new Error(`submission failed:\n${run.stdout}\n${run.stderr}`);
  await waitFor(async () => (await rest(leader, `/jobs/${jobId}`)).body.state === 'RUNNING');

  // Purchases at `rate` per second, in rounds of 10 s, until the benchmark ends.
  const producing = (async () => {
    for (let from = 0; !stopProducing; from += rate * 10) {
      await producePurchases({
        bootstrapServers: broker.bootstrapServers,
        topic: source,
        from,
        to: from + rate * 10,
        rate,
        stream: { users: 1000, msPerEvent: 2, maxDelayMs: 0 },
        malformedEvery: 0,
        maxInFlight: 1,
      });
    }
  })();

  const results: { leading: number; running: number; output: number }[] = [];
  for (let round = 1; round <= rounds; round++) {
    const completed = async () =>
      ((await rest(leader, `/jobs/${jobId}/checkpoints`)).body.counts?.completed as number) ?? 0;
    const before = await completed();
    await waitFor(async () => (await completed()) >= before + 3);
    const seen = arrivals.length;
    await waitFor(() => arrivals.length > seen + rate);

    log(`round ${round}: SIGKILL of the leader`);
    leader.child.kill('SIGKILL');
    const killed = performance.now();
    const killedWall = Date.now();
    await waitFor(async () => (await rest(standby, '/overview')).status === 200);
    const leading = performance.now() - killed;
    await waitFor(async () => (await rest(standby, `/jobs/${jobId}`)).body.state === 'RUNNING');
    const running = performance.now() - killed;
    await waitFor(() => arrivals.some((a) => a.appended > killedWall));
    const first = Math.min(
      ...arrivals.filter((a) => a.appended > killedWall).map((a) => a.arrived),
    );
    const output = first - killedWall;
    results.push({ leading, running, output });
    log(
      `round ${round}: leading ${leading.toFixed(0)} ms, RUNNING ${running.toFixed(0)} ms, ` +
        `first new output ${output} ms`,
    );
    // The killed JobManager comes back as a standby.
    const back = await startJobManager();
    [leader, standby] = [standby, back];
    await waitFor(async () => (await rest(standby, '/overview')).status === 503);
  }
  stopProducing = true;
  await producing;
  await consumer.disconnect();

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const row = (name: string, xs: number[]) =>
    `${name.padEnd(44)} ${xs.map((x) => `${Math.round(x)}`.padStart(7)).join('')}   median ${Math.round(median(xs))} ms`;
  console.log(
    `JobManager failover: SIGKILL of the leader, ${rounds} rounds, EXACTLY_ONCE Kafka job at ` +
      `${rate} events/s, checkpoints every 1 s to S3 (moto); lease 6 s, renew 4 s, retry 1 s; ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
  console.log(
    row(
      '(a) kill -> standby leads (ms)',
      results.map((r) => r.leading),
    ),
  );
  console.log(
    row(
      '(b) kill -> job RUNNING again (ms)',
      results.map((r) => r.running),
    ),
  );
  console.log(
    row(
      '(c) kill -> first new committed output (ms)',
      results.map((r) => r.output),
    ),
  );
} finally {
  stopProducing = true;
  await Promise.all(daemons.map((d) => stopDaemon(d)));
  await broker.stop();
  await s3.stop();
  rmSync(work, { recursive: true, force: true });
}
