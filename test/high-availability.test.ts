// JobManager high availability on real daemons (docs/high-availability.md): two JobManagers
// electing a leader through the real S3 server (moto), two TaskManagers following it, an
// EXACTLY_ONCE Kafka job on a real broker. The leader is SIGKILLed: the standby leads within
// 10 s, recovers the job from the shared job store and its latest checkpoint, and the
// read_committed output is exact. A standby answers REST and gRPC with the leader's address, the
// CLI follows it, and a TaskManager refuses calls of a former leader's epoch.
import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nimbleServices, Metadata } from '@nimble/proto';
import type { Daemon } from './fixtures/cluster.js';
import { FAST_RESTARTS, nimble, startDaemon, stopDaemon } from './fixtures/cluster.js';
import type { KafkaBroker } from './fixtures/kafka-broker.js';
import { createTopic, startKafka } from './fixtures/kafka-broker.js';
import type { S3Server } from './fixtures/s3-server.js';
import { startS3Server } from './fixtures/s3-server.js';
import {
  closeAllWindows,
  expectedFeatures,
  KAFKA_SPEND_JOB,
  TopicReader,
  writePurchases,
} from './fixtures/kafka-spend.js';

const PARTITIONS = 4;

let broker: KafkaBroker;
let s3: S3Server;
let work: string;
let ha: string[];
const jobManagers: Daemon[] = [];
const taskManagers: Daemon[] = [];

const rpcOf = (d: Daemon) => `127.0.0.1:${d.ready.rpcPort}`;
const restOf = (d: Daemon) => `http://127.0.0.1:${d.ready.httpPort}`;
const alive = (d: Daemon) => d.child.exitCode === null && d.child.signalCode === null;

async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function rest(d: Daemon, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(restOf(d) + path);
  return { status: res.status, body: await res.json() };
}

/** Whether `d` serves (leads): its /overview answers 200 rather than a standby's 503. */
async function leads(d: Daemon): Promise<boolean> {
  try {
    return (await rest(d, '/overview')).status === 200;
  } catch {
    return false;
  }
}

function startJobManager(): Promise<Daemon> {
  return startDaemon([
    'jobmanager',
    '-D',
    'jobmanager.rpc.port=0',
    '-D',
    'rest.port=0',
    '-D',
    `blob.storage.directory=${mkdtempSync(join(work, 'blobs-'))}`,
    ...FAST_RESTARTS,
    ...ha,
  ]).then((d) => (jobManagers.push(d), d));
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-ha-'));
  [broker, s3] = await Promise.all([startKafka(), startS3Server()]);
  ha = [
    ...s3.flags,
    '-D',
    'high-availability.type=storage',
    '-D',
    `high-availability.storageDir=s3://${s3.bucket}/ha`,
    '-D',
    'high-availability.cluster-id=test-cluster',
  ];
  const first = await startJobManager();
  await waitFor(() => leads(first));
  await startJobManager();
  for (let i = 0; i < 2; i++) {
    taskManagers.push(
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
  await waitFor(async () => (await rest(first, '/overview')).body.taskmanagers === 2);
}, 180_000);

afterAll(async () => {
  await Promise.all(taskManagers.map((d) => stopDaemon(d)));
  await Promise.all(jobManagers.map((d) => stopDaemon(d)));
  await broker?.stop();
  await s3?.stop();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('JobManager high availability', () => {
  let jobId: string;

  it('a standby answers with the leader; the CLI follows the leader', async () => {
    const [leader, standby] = jobManagers as [Daemon, Daemon];
    const answer = await rest(standby, '/overview');
    expect(answer.status).toBe(503);
    expect(answer.body.leader).toBe(restOf(leader));
    expect(answer.body.errors[0]).toBe(
      `This JobManager is a standby: the leader (epoch 1) is at ${rpcOf(leader)} (REST ${restOf(leader)}); send requests there`,
    );
    // A gRPC client gets UNAVAILABLE with the leader's address in the trailers.
    const raw = new (nimbleServices().Dispatcher)(
      rpcOf(standby),
      grpc.credentials.createInsecure(),
    ) as any;
    const err = await new Promise<grpc.ServiceError>((resolve) =>
      raw.ListJobs({ runningOnly: false }, (e: grpc.ServiceError) => resolve(e)),
    );
    raw.close();
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(err.metadata.get('nimble-leader-address')).toEqual([rpcOf(leader)]);
    // The CLI pointed at the standby reaches the leader.
    const listed = await nimble(['list', '-m', rpcOf(standby)]);
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
  }, 60_000);

  it('SIGKILL of the leader during an EXACTLY_ONCE Kafka job: the standby leads within 10 s, the output is exact', async () => {
    const [leader, standby] = jobManagers as [Daemon, Daemon];
    const t = { source: 'raw.purchases.ha', sink: 'features.ha', dlq: 'dlq.ha' };
    await createTopic(broker.bootstrapServers, t.source, PARTITIONS);
    await createTopic(broker.bootstrapServers, t.sink, 2);
    await createTopic(broker.bootstrapServers, t.dlq, 1);
    const reader = await TopicReader.start(broker.bootstrapServers, [t.sink, t.dlq], true);
    try {
      const events = 30_000;
      // Submitted through the standby: the CLI follows it to the leader.
      const run = await nimble([
        'run',
        '-d',
        '-m',
        rpcOf(standby),
        '-D',
        'execution.checkpointing.interval=500',
        '-D',
        `state.checkpoints.dir=s3://${s3.bucket}/checkpoints`,
        ...s3.flags,
        KAFKA_SPEND_JOB,
        '--bootstrap-servers',
        broker.bootstrapServers,
        '--source-topic',
        t.source,
        '--sink-topic',
        t.sink,
        '--dlq-topic',
        t.dlq,
        '--group-id',
        'group-ha',
        '--guarantee',
        'exactly-once',
        '--transactional-id-prefix',
        'tx-ha',
        '--parallelism',
        '2',
      ]);
      expect(run.stderr).toBe('');
      jobId = /JobID ([0-9a-f]{32})/.exec(run.stdout)![1]!;
      const state = async (d: Daemon) => (await rest(d, `/jobs/${jobId}`)).body.state as string;
      await waitFor(async () => (await state(leader)) === 'RUNNING');
      const producing = writePurchases(broker.bootstrapServers, t.source, 0, events, 3000);
      const completed = async (d: Daemon) =>
        ((await rest(d, `/jobs/${jobId}/checkpoints`)).body.counts?.completed as number) ?? 0;
      await waitFor(async () => (await completed(leader)) >= 3);
      const lastBefore = (await rest(leader, `/jobs/${jobId}/checkpoints`)).body.latest?.completed
        ?.id as number;

      leader.child.kill('SIGKILL');
      const killed = performance.now();
      await waitFor(() => leads(standby), 30_000);
      const ledAfter = performance.now() - killed;
      expect(ledAfter).toBeLessThan(10_000);
      await waitFor(async () => (await state(standby)) === 'RUNNING', 120_000);
      // Checkpoint numbering continues from the old leader's.
      await waitFor(async () => (await completed(standby)) >= 1, 60_000);
      const resumed = (await rest(standby, `/jobs/${jobId}/checkpoints`)).body.latest?.completed
        ?.id as number;
      expect(resumed).toBeGreaterThan(lastBefore);

      await producing;
      await closeAllWindows(broker.bootstrapServers, t.source, PARTITIONS);
      const input = await TopicReader.start(broker.bootstrapServers, [t.source], true);
      let expected: string[];
      try {
        await waitFor(() => input.of(t.source).length >= events + PARTITIONS, 60_000);
        expected = expectedFeatures(input.of(t.source));
      } finally {
        await input.stop();
      }
      await waitFor(() => new Set(reader.of(t.sink)).size >= expected.length, 180_000);
      // Two more checkpoints: a duplicate committed late would show now.
      const done = await completed(standby);
      await waitFor(async () => (await completed(standby)) >= done + 2, 60_000);
      expect(reader.of(t.sink).length).toBe(expected.length);
      expect([...reader.of(t.sink)].sort()).toEqual(expected);
    } finally {
      await reader.stop();
    }
  }, 300_000);

  it('a TaskManager refuses the calls of a former leader; a restarted JobManager is a standby', async () => {
    const standby = jobManagers[1]!;
    const tm = taskManagers.find(alive)!;
    const raw = new (nimbleServices().TaskExecutor)(
      `127.0.0.1:${tm.ready.rpcPort}`,
      grpc.credentials.createInsecure(),
    ) as any;
    const notify = (token: string | undefined) => {
      const md = new Metadata();
      if (token !== undefined) md.set('nimble-fencing-token', token);
      return new Promise<grpc.ServiceError | null>((resolve) =>
        raw.NotifyCheckpoint(
          { attempt: { jobId, attempt: 1 }, checkpointId: 1, aborted: false },
          md,
          (e: grpc.ServiceError | null) => resolve(e),
        ),
      );
    };
    const old = await notify('1');
    expect(old?.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(old?.details).toBe(
      'NotifyCheckpoint refused: it comes from a former JobManager leader (epoch 1); this TaskManager follows the leader of epoch 2',
    );
    const none = await notify(undefined);
    expect(none?.details).toMatch(/carries no leader fencing token/);
    const forged = await notify('7');
    expect(forged?.details).toMatch(/epoch 7 is not that of the JobManager leader/);
    raw.close();
    // The refused calls changed nothing: the job runs on.
    expect((await rest(standby, `/jobs/${jobId}`)).body.state).toBe('RUNNING');

    // The killed JobManager comes back (as Kubernetes restarts it): a standby of epoch 2.
    const back = await startJobManager();
    await waitFor(async () => (await rest(back, '/overview')).status === 503);
    await waitFor(async () =>
      /the leader \(epoch 2\)/.test((await rest(back, '/overview')).body.errors[0]),
    );
    expect((await rest(back, '/overview')).body.leader).toBe(restOf(standby));
  }, 120_000);
});
