/**
 * Fencing on real daemons: calls a process on the same network can forge with a raw gRPC client
 * (registering under a live TaskManager's id, reports of subtasks it does not run, state paths
 * that leave the checkpoint directory, data-exchange streams under another TaskManager's id) are
 * refused, change nothing, and leave the daemons serving. docs/security.md, "Fencing".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type {
  DeployTasksRequest__Output,
  ExchangeBatch,
  ExchangeBatch__Output,
  JobManagerHeartbeat__Output,
  TaskManagerHeartbeat,
  TriggerCheckpointRequest__Output,
} from '@nimble/proto';
import { Metadata, nimbleServices } from '@nimble/proto';
import { nimble, startDaemon, stopDaemon, TestCluster } from './fixtures/cluster.js';
import type { Daemon } from './fixtures/cluster.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const COUNT_JOB = `${root}test/fixtures/cluster-jobs/checkpointed-count-job.ts`;
const services = nimbleServices();
const insecure = grpc.credentials.createInsecure();

type Unary<Req> = (req: Req, cb: (e: grpc.ServiceError | null, res?: unknown) => void) => unknown;

/** Calls a unary method and resolves with its error (null when it succeeded) and response. */
function call<Req>(
  method: Unary<Req>,
  client: grpc.Client,
  req: Req,
): Promise<{ err: grpc.ServiceError | null; res: any }> {
  return new Promise((resolve) =>
    method.call(client, req, (err, res) => resolve({ err, res: res ?? null })),
  );
}

async function submit(cluster: TestCluster, args: string[]): Promise<string> {
  const run = await nimble(['run', '-d', '-m', cluster.address, ...args]);
  expect(run.code, run.stderr).toBe(0);
  const jobId = /JobID ([0-9a-f]{32})/.exec(run.stdout)![1]!;
  await cluster.waitFor(async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'RUNNING');
  return jobId;
}

describe('forged calls against a running job', () => {
  let cluster: TestCluster;
  let dir: string;
  let jobId: string;
  let jm: any;
  let gateway: any;

  /** Waits until `n` more checkpoints completed than now. */
  async function checkpointsComplete(n: number): Promise<void> {
    const before = (await cluster.rest(`/jobs/${jobId}/checkpoints`)).counts.completed;
    await cluster.waitFor(
      async () => (await cluster.rest(`/jobs/${jobId}/checkpoints`)).counts.completed >= before + n,
      60_000,
    );
  }

  /** The job still runs its first attempt, on both TaskManagers. */
  async function unharmed(): Promise<void> {
    const job = await cluster.rest(`/jobs/${jobId}`);
    expect(job.state).toBe('RUNNING');
    const { taskmanagers } = await cluster.rest('/taskmanagers');
    for (const tm of cluster.taskManagers) {
      expect(taskmanagers.find((t: any) => t.id === tm.ready.resourceId)?.path).toBe(
        `127.0.0.1:${tm.ready.rpcPort}`,
      );
    }
    const exceptions = await cluster.rest(`/jobs/${jobId}/exceptions`);
    expect(exceptions['root-exception']).toBeNull();
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nimble-fencing-'));
    cluster = await TestCluster.start({ taskManagers: 2, slots: 1 });
    // Parallelism 2 on two single-slot TaskManagers: the keyBy exchange crosses them.
    jobId = await submit(cluster, [
      '-D',
      `state.checkpoints.dir=${pathToFileURL(join(dir, 'checkpoints')).href}`,
      COUNT_JOB,
      '100000000',
      '500',
    ]);
    await checkpointsComplete(1);
    jm = new services.ResourceManager(cluster.address, insecure);
    gateway = new services.JobMasterGateway(cluster.address, insecure);
  }, 120_000);

  afterAll(async () => {
    jm?.close();
    gateway?.close();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('registering under a live TaskManager id is refused, not an eviction', async () => {
    const victim = cluster.taskManagers[0]!.ready.resourceId!;
    const { err } = await call(jm.RegisterTaskManager, jm, {
      resourceId: victim,
      address: '127.0.0.1:1',
      numberOfSlots: 4,
      metricsAddress: '127.0.0.1:1',
    });
    expect(err?.code).toBe(grpc.status.ALREADY_EXISTS);
    expect(err?.details).toContain(`TaskManager ${victim} is already registered`);
    // Logs arrive through a pipe: wait for the line.
    await cluster.waitFor(() =>
      cluster.jobManager
        .stderr()
        .includes('refused a registration under the id of a registered TaskManager'),
    );
    await checkpointsComplete(1);
    await unharmed();
  }, 90_000);

  it('a heartbeat stream under a TaskManager id without its registration is ended and drops nothing', async () => {
    const victim = cluster.taskManagers[1]!.ready.resourceId!;
    const stream = jm.Heartbeat() as grpc.ClientDuplexStream<
      TaskManagerHeartbeat,
      JobManagerHeartbeat__Output
    >;
    const ended = new Promise<void>((resolve) => {
      stream.on('data', () => {});
      stream.on('end', () => resolve());
      stream.on('error', () => resolve());
    });
    stream.write({ resourceId: victim, registrationId: '0'.repeat(32), metrics: [] });
    await ended;
    stream.end();
    await checkpointsComplete(1);
    await unharmed();
  }, 90_000);

  it('forged UpdateTaskExecutionState(FINISHED) for guessed attempts and subtasks changes nothing', async () => {
    // A registration of its own (a new TaskManager id) gives the forger no subtask.
    const rogue = await call(jm.RegisterTaskManager, jm, {
      resourceId: 'rogue-tm',
      address: '127.0.0.1:1',
      numberOfSlots: 1,
      metricsAddress: '127.0.0.1:1',
    });
    expect(rogue.err).toBeNull();
    const rogueRegistration: string = rogue.res.registrationId;
    expect(rogueRegistration).toMatch(/^[0-9a-f]{32}$/);
    const victim = cluster.taskManagers[0]!.ready.resourceId!;
    let refused = 0;
    for (const registrationId of ['', rogueRegistration]) {
      for (let attempt = 0; attempt < 3; attempt++) {
        for (let vertexId = 0; vertexId < 4; vertexId++) {
          for (let subtask = 0; subtask < 2; subtask++) {
            const { err } = await call(gateway.UpdateTaskExecutionState, gateway, {
              jobId,
              attempt,
              vertexId,
              subtask,
              state: 'FINISHED',
              resourceId: victim,
              registrationId,
              executionId: `${attempt}${vertexId}${subtask}`.padStart(32, '0'),
            });
            expect(err?.code).toBe(grpc.status.PERMISSION_DENIED);
            refused++;
          }
        }
      }
    }
    expect(refused).toBe(48);
    await cluster.waitFor(() => cluster.jobManager.stderr().includes('refused a report'));
    const job = await cluster.rest(`/jobs/${jobId}`);
    expect(job.vertices.every((v: any) => v.status === 'RUNNING')).toBe(true);
    await checkpointsComplete(1);
    await unharmed();
  }, 90_000);

  it('a forged RegisterQueryableState is refused and registers nothing', async () => {
    // Accepted, a registration under the name of a real state would fail the job (name clash).
    for (const registrationId of ['', cluster.taskManagers[0]!.ready.resourceId!]) {
      const { err } = await call(gateway.RegisterQueryableState, gateway, {
        jobId,
        attempt: 0,
        vertexId: 1,
        subtask: 0,
        registrationId,
        executionId: '0'.repeat(32),
        queryableStateName: 'forged',
        stateName: 'forged',
        kind: 'value',
        ttl: false,
        operatorUid: 'forger',
        operatorName: 'Forger',
        parallelism: 1,
        maxParallelism: 128,
      });
      expect(err?.code).toBe(grpc.status.PERMISSION_DENIED);
    }
    expect((await cluster.rest(`/jobs/${jobId}/state`)).states).toEqual([]);
    await unharmed();
  }, 60_000);

  it('a forged AcknowledgeCheckpoint with a ../../.. path and a decline are refused; the file survives', async () => {
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'keep me');
    const stats = await cluster.rest(`/jobs/${jobId}/checkpoints`);
    const next = stats.latest.completed.id + 1;
    for (let checkpointId = next; checkpointId < next + 3; checkpointId++) {
      const ack = await call(gateway.AcknowledgeCheckpoint, gateway, {
        jobId,
        attempt: 0,
        vertexId: 0,
        subtask: 0,
        checkpointId,
        state: {
          operators: {
            events: {
              keyed: {
                keyGroupRange: [0, 0],
                files: [
                  { path: '../../../victim.txt', kind: 'canonical', size: 1, offsets: [0, 1] },
                ],
              },
            },
          },
        },
      });
      expect(ack.err?.code).toBe(grpc.status.PERMISSION_DENIED);
      const decline = await call(gateway.DeclineCheckpoint, gateway, {
        jobId,
        attempt: 0,
        vertexId: 0,
        subtask: 0,
        checkpointId,
        error: { name: 'Error', message: 'forged', domain: 'user', restorable: true },
      });
      expect(decline.err?.code).toBe(grpc.status.PERMISSION_DENIED);
    }
    await checkpointsComplete(2);
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
    const after = await cluster.rest(`/jobs/${jobId}/checkpoints`);
    expect(after.history.some((h: any) => h.failure_message?.includes('forged'))).toBe(false);
    await unharmed();
  }, 90_000);

  it('forged acks for subtasks that do not exist complete no checkpoint', async () => {
    const stats = await cluster.rest(`/jobs/${jobId}/checkpoints`);
    const next = stats.latest.completed.id + 1;
    for (let checkpointId = next; checkpointId < next + 3; checkpointId++) {
      for (let vertexId = 0; vertexId < 8; vertexId++) {
        for (let subtask = 0; subtask < 4; subtask++) {
          const { err } = await call(gateway.AcknowledgeCheckpoint, gateway, {
            jobId,
            attempt: 0,
            vertexId,
            subtask,
            checkpointId,
            executionId: 'f'.repeat(32),
            state: { operators: {} },
          });
          expect(err?.code).toBe(grpc.status.PERMISSION_DENIED);
        }
      }
    }
    await checkpointsComplete(2);
    // Every completed checkpoint holds the keyed state of both subtasks of the counting operator:
    // none was completed by empty forged acks.
    const after = await cluster.rest(`/jobs/${jobId}/checkpoints`);
    for (const h of after.history.filter((x: any) => x.status === 'COMPLETED')) {
      const metadataPath = join(fileURLToPath(h.external_path), '_metadata');
      if (!existsSync(metadataPath)) continue; // subsumed and discarded meanwhile
      const metadata = JSON.parse(readFileSync(metadataPath, 'utf8'));
      const count = metadata.operators.find((o: any) => o.uid === 'count');
      expect(count.subtasks.map((s: any) => s.subtask).sort()).toEqual([0, 1]);
      for (const s of count.subtasks) expect(s.keyed.files.length).toBeGreaterThan(0);
    }
    await unharmed();
  }, 90_000);

  it('Exchange.Connect claiming a TaskManager id without its secret is refused; checkpoints still complete', async () => {
    const [a, b] = cluster.taskManagers.map((t) => t.ready) as [
      (typeof cluster.taskManagers)[0]['ready'],
      (typeof cluster.taskManagers)[0]['ready'],
    ];
    // Dial each TaskManager claiming to be the other one, without a secret and with a wrong one.
    for (const [target, claimed] of [
      [b, a],
      [a, b],
    ] as const) {
      for (const secret of ['', 'a'.repeat(64)]) {
        const client = new services.Exchange(`127.0.0.1:${target.rpcPort}`, insecure);
        const metadata = new Metadata();
        metadata.set('nimble-resource-id', claimed.resourceId!);
        if (secret) metadata.set('nimble-exchange-secret', secret);
        const stream = client.Connect(metadata) as grpc.ClientDuplexStream<
          ExchangeBatch,
          ExchangeBatch__Output
        >;
        const received: ExchangeBatch__Output[] = [];
        const outcome = await new Promise<grpc.ServiceError | 'ended'>((resolve) => {
          stream.on('data', (batch: ExchangeBatch__Output) => received.push(batch));
          stream.on('error', (e: grpc.ServiceError) => resolve(e));
          stream.on('end', () => resolve('ended'));
        });
        expect(outcome).not.toBe('ended');
        expect((outcome as grpc.ServiceError).code).toBe(grpc.status.PERMISSION_DENIED);
        expect(received).toEqual([]);
        client.close();
      }
    }
    await cluster.waitFor(() =>
      cluster.taskManagers.every((t) => t.stderr().includes('refused an exchange stream')),
    );
    await checkpointsComplete(2);
    await unharmed();
  }, 90_000);
});

/**
 * A TaskManager that registered properly and lies: it holds real registration and execution
 * ids, so only the checks behind the fencing stop it (state paths, duplicates, subtasks).
 */
class LyingTaskManager {
  readonly server = new grpc.Server();
  deployed: DeployTasksRequest__Output | undefined;
  readonly triggers: TriggerCheckpointRequest__Output[] = [];
  registrationId = '';
  private heartbeat: grpc.ClientDuplexStream<TaskManagerHeartbeat, unknown> | undefined;
  private timer: NodeJS.Timeout | undefined;
  readonly rm: any;
  readonly gateway: any;

  constructor(jobManager: string) {
    this.rm = new services.ResourceManager(jobManager, insecure);
    this.gateway = new services.JobMasterGateway(jobManager, insecure);
    const ok = (_call: unknown, cb: (e: null, r: object) => void): void => cb(null, {});
    this.server.addService(services.TaskExecutor.service, {
      DeployTasks: (c: grpc.ServerUnaryCall<DeployTasksRequest__Output, object>, cb: any) => {
        this.deployed = c.request;
        cb(null, {});
      },
      StartTasks: ok,
      CancelTasks: ok,
      AssignSplits: ok,
      TriggerCheckpoint: (
        c: grpc.ServerUnaryCall<TriggerCheckpointRequest__Output, object>,
        cb: any,
      ) => {
        this.triggers.push(c.request);
        cb(null, {});
      },
      NotifyCheckpoint: ok,
    });
  }

  async start(): Promise<void> {
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    const { err, res } = await call(this.rm.RegisterTaskManager, this.rm, {
      resourceId: 'lying-tm',
      address: `127.0.0.1:${port}`,
      numberOfSlots: 2,
      metricsAddress: '127.0.0.1:1',
    });
    expect(err).toBeNull();
    this.registrationId = res.registrationId;
    const stream = this.rm.Heartbeat() as grpc.ClientDuplexStream<TaskManagerHeartbeat, unknown>;
    this.heartbeat = stream;
    stream.on('data', () => {});
    stream.on('error', () => {});
    const beat = (): void => {
      stream.write({ resourceId: 'lying-tm', registrationId: this.registrationId, metrics: [] });
    };
    beat();
    this.timer = setInterval(beat, 500);
  }

  execution(vertexId: number, subtask: number): string {
    return this.deployed!.executions.find((e) => e.vertexId === vertexId && e.subtask === subtask)!
      .executionId;
  }

  /** Fields every report of subtask vertexId/subtask carries. */
  origin(vertexId: number, subtask: number) {
    return {
      jobId: this.deployed!.attempt!.jobId,
      attempt: this.deployed!.attempt!.attempt,
      vertexId,
      subtask,
      registrationId: this.registrationId,
      executionId: this.execution(vertexId, subtask),
    };
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.heartbeat?.end();
    this.rm.close();
    this.gateway.close();
    await new Promise<void>((r) => this.server.tryShutdown(() => r()));
  }
}

describe('a registered TaskManager that lies', () => {
  let jobManager: Daemon;
  let dir: string;
  let liar: LyingTaskManager;
  let jobId: string;
  let restUrl: string;
  const rest = async (path: string): Promise<any> => (await fetch(restUrl + path)).json();
  const waitFor = async (condition: () => Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + 60_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error('condition not met within 60 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  /** Checkpoints up to this one were answered (a pending one blocks the next). */
  let handled = 0;
  /** The first checkpoint trigger after the ones handled. */
  const nextTrigger = async (): Promise<TriggerCheckpointRequest__Output> => {
    await waitFor(async () => liar.triggers.some((t) => t.checkpointId > handled));
    const trigger = liar.triggers.find((t) => t.checkpointId > handled)!;
    handled = trigger.checkpointId;
    return trigger;
  };
  /** Vertex ids of the job: the source and the keyed one. */
  const vertices = (): number[] =>
    [...new Set(liar.deployed!.executions.map((e) => e.vertexId))].sort((a, b) => a - b);
  /** An ack of one subtask with no state. */
  const emptyAck = (vertexId: number, subtask: number, checkpointId: number) => ({
    ...liar.origin(vertexId, subtask),
    checkpointId,
    state: { operators: {}, stateSize: 0 },
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nimble-fencing-liar-'));
    mkdirSync(join(dir, 'blobs'));
    jobManager = await startDaemon([
      'jobmanager',
      '-D',
      'jobmanager.rpc.port=0',
      '-D',
      'rest.port=0',
      '-D',
      `blob.storage.directory=${join(dir, 'blobs')}`,
    ]);
    restUrl = `http://127.0.0.1:${jobManager.ready.httpPort}`;
    liar = new LyingTaskManager(`127.0.0.1:${jobManager.ready.rpcPort}`);
    await liar.start();
    const run = await nimble([
      'run',
      '-d',
      '-m',
      `127.0.0.1:${jobManager.ready.rpcPort}`,
      '-D',
      `state.checkpoints.dir=${pathToFileURL(join(dir, 'checkpoints')).href}`,
      '-D',
      'execution.checkpointing.tolerable-failed-checkpoints=100',
      COUNT_JOB,
      '100000000',
      '500',
    ]);
    expect(run.code, run.stderr).toBe(0);
    jobId = /JobID ([0-9a-f]{32})/.exec(run.stdout)![1]!;
    await waitFor(async () => (await rest(`/jobs/${jobId}`)).state === 'RUNNING');
  }, 120_000);

  afterAll(async () => {
    await liar?.stop();
    if (jobManager) await stopDaemon(jobManager);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('DeployTasks hands out a random 128-bit execution id per subtask and a registration id', () => {
    const ids = liar.deployed!.executions.map((e) => e.executionId);
    expect(ids.length).toBeGreaterThanOrEqual(4);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(liar.registrationId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('an ack whose state path leaves the checkpoint directory is refused and the checkpoint declined; the file survives', async () => {
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'keep me');
    const trigger = await nextTrigger();
    const [source] = vertices();
    const { err } = await call(liar.gateway.AcknowledgeCheckpoint, liar.gateway, {
      ...liar.origin(source!, 0),
      checkpointId: trigger.checkpointId,
      state: {
        operators: {
          events: {
            keyed: {
              keyGroupRange: [0, 0],
              files: [
                { path: '../../../victim.txt', kind: 'level-full', size: 7, offsets: [0, 7] },
              ],
            },
          },
        },
        stateSize: 7,
      },
    });
    expect(err?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(err?.details).toContain('outside');
    // The checkpoint was declined (its cleanup ran) and the file named is still there.
    await waitFor(async () => {
      const stats = await rest(`/jobs/${jobId}/checkpoints`);
      return stats.history.some((h: any) => h.id === trigger.checkpointId && h.status === 'FAILED');
    });
    await waitFor(async () => jobManager.stderr().includes('refused a report'));
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
    // Paths with a `..` further on are refused too.
    const later = await nextTrigger();
    const sneaky = await call(liar.gateway.AcknowledgeCheckpoint, liar.gateway, {
      ...liar.origin(source!, 0),
      checkpointId: later.checkpointId,
      state: {
        operators: {
          events: {
            keyed: {
              keyGroupRange: [0, 0],
              files: [
                { path: 'x/../../../../victim.txt', kind: 'canonical', size: 7, offsets: [0, 7] },
              ],
            },
          },
        },
      },
    });
    expect(sneaky.err?.code).toBe(grpc.status.PERMISSION_DENIED);
    await waitFor(async () => {
      const stats = await rest(`/jobs/${jobId}/checkpoints`);
      return stats.history.some((h: any) => h.id === later.checkpointId && h.status === 'FAILED');
    });
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
    expect((await rest(`/jobs/${jobId}`)).state).toBe('RUNNING');
  }, 90_000);

  it('an ack is accepted once per subtask, for the subtask its execution is, and completes the checkpoint only with all', async () => {
    const trigger = await nextTrigger();
    const id = trigger.checkpointId;
    const [source, keyed] = vertices() as [number, number];
    const first = await call(
      liar.gateway.AcknowledgeCheckpoint,
      liar.gateway,
      emptyAck(source, 0, id),
    );
    expect(first.err).toBeNull();
    const duplicate = await call(
      liar.gateway.AcknowledgeCheckpoint,
      liar.gateway,
      emptyAck(source, 0, id),
    );
    expect(duplicate.err?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(duplicate.err?.details).toContain('already acknowledged');
    // The execution of source/0 claiming to be another subtask, or one that does not exist.
    for (const [vertexId, subtask] of [
      [source, 1],
      [keyed, 0],
      [keyed + 7, 0],
      [source, 9],
    ] as const) {
      const { err } = await call(liar.gateway.AcknowledgeCheckpoint, liar.gateway, {
        ...emptyAck(source, 0, id),
        vertexId,
        subtask,
      });
      expect(err?.code).toBe(grpc.status.PERMISSION_DENIED);
    }
    const stats = await rest(`/jobs/${jobId}/checkpoints`);
    const h = stats.history.find((x: any) => x.id === id);
    expect(h.status).toBe('IN_PROGRESS');
    expect(h.num_acknowledged_subtasks).toBe(1);
    // The other subtasks acknowledge: the checkpoint completes.
    for (const e of liar.deployed!.executions) {
      if (e.vertexId === source && e.subtask === 0) continue;
      const { err } = await call(
        liar.gateway.AcknowledgeCheckpoint,
        liar.gateway,
        emptyAck(e.vertexId, e.subtask, id),
      );
      expect(err).toBeNull();
    }
    await waitFor(async () => {
      const s = await rest(`/jobs/${jobId}/checkpoints`);
      return s.history.some((x: any) => x.id === id && x.status === 'COMPLETED');
    });
  }, 90_000);

  it('a task reports its end once; a slot worker never reports FINISHED', async () => {
    const [source, keyed] = vertices() as [number, number];
    const done = await call(liar.gateway.UpdateTaskExecutionState, liar.gateway, {
      ...liar.origin(keyed, 1),
      state: 'FINISHED',
    });
    expect(done.err).toBeNull();
    const again = await call(liar.gateway.UpdateTaskExecutionState, liar.gateway, {
      ...liar.origin(keyed, 1),
      state: 'FINISHED',
    });
    expect(again.err?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(again.err?.details).toContain('already reported FINISHED');
    const slot = await call(liar.gateway.UpdateTaskExecutionState, liar.gateway, {
      ...liar.origin(source, 0),
      vertexId: -1,
      state: 'FINISHED',
    });
    expect(slot.err?.code).toBe(grpc.status.PERMISSION_DENIED);
    const job = await rest(`/jobs/${jobId}`);
    expect(job.state).toBe('RUNNING');
    expect(job.vertices.filter((v: any) => v.status === 'FINISHED')).toEqual([]);
  }, 30_000);
});
