/**
 * The chaos driver (run by main.ts inside the hub namespace): a Kafka -> keyed 5-minute windows
 * -> Kafka EXACTLY_ONCE job (packages/examples/src/kafka-user-spend.ts) with checkpoints in the S3
 * server, on a JobManager and two TaskManagers, each a process in its own namespace, while faults
 * are injected at random (seeded) times. Afterwards it closes all windows, drains, and compares
 * the committed output (read_committed) with the failure-free result computed from the input
 * topic. See docs/chaos.md.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Consumer, Producer } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import { fixKafkajsReadCommitted } from '@nimble/connector-kafka';
import type { ReadyMessage } from '@nimble/cli';
import { connectProducer, purchaseRecord } from '../../packages/examples/src/purchase-producer.js';
import type { PurchaseStreamOptions } from '../../packages/examples/src/purchases.js';
import { NIMBLE_BIN, nimble } from '../../test/fixtures/cluster.js';
import { createTopic, runKafkaScript } from '../../test/fixtures/kafka-broker.js';
import {
  closeAllWindows,
  expectedFeatures,
  KAFKA_SPEND_JOB,
  MALFORMED_EVERY,
} from '../../test/fixtures/kafka-spend.js';
import type { NetworkSpec, TaskManagerLink } from './netns.js';
import { heal, partition } from './netns.js';

// ---- options ------------------------------------------------------------------------------------

const { values: opts } = parseArgs({
  options: {
    faults: { type: 'string', default: '5' },
    seed: { type: 'string' },
    rate: { type: 'string', default: '1000' },
    json: { type: 'string' },
    kinds: { type: 'string' },
    /** Start the input before the job: the job starts with a backlog of a few seconds. */
    'input-first': { type: 'boolean', default: false },
    /** Keep the work dir (logs, data) also when the run passes. */
    'keep-work': { type: 'boolean', default: false },
    /** Extra job configuration, key=value, e.g. execution.window.aligned-fast-path=false. */
    'job-conf': { type: 'string', multiple: true },
  },
});
const FAULTS = Number(opts.faults);
const SEED = opts.seed !== undefined ? Number(opts.seed) : Math.floor(Math.random() * 2 ** 31);
/** Input events per second. */
const RATE = Number(opts.rate);
const net = JSON.parse(process.env['NIMBLE_CHAOS_NETWORK'] ?? 'null') as NetworkSpec | null;
if (!net) throw new Error('driver.ts runs under main.ts (pnpm chaos), which sets up its network');
const HOST = net.serviceAddress;

/** The job's recovery must show within this time of a fault for the run to count it recovered. */
const RECOVERY_LIMIT_MS = 10_000;
/** After this long without recovery the run stops injecting faults: the job is wedged. */
const WEDGE_MS = 120_000;

// 15,000 ms of event time per 5-minute window at 200 ms per event: at 1000 events/s a window
// closes every 1.5 s, so the committed output advances every couple of seconds.
const STREAM: PurchaseStreamOptions = { users: 100, msPerEvent: 200, maxDelayMs: 3000 };
const PARTITIONS = 4;
const SOURCE = 'raw.purchases';
const SINK = 'features.user_5min_spend';
const DLQ = 'raw.purchases.dlq';

// ---- seeded randomness --------------------------------------------------------------------------

/** mulberry32: a small, well-distributed PRNG; the same seed gives the same faults and times. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(SEED);
const between = (lo: number, hi: number) => lo + random() * (hi - lo);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

// ---- the daemons' configuration: all of it here -------------------------------------------------

const work = mkdtempSync(join(tmpdir(), 'nimble-chaos-'));
const S3 = {
  port: 5000,
  bucket: 'nimble-checkpoints',
  dir: join(work, 's3'),
  endpoint: `http://${HOST}:5000`,
};
const KAFKA = { port: 9092, controllerPort: 9093, dir: join(work, 'kafka') };
const JM = { rpcPort: 6123, restPort: 8081, blobs: join(work, 'blobs') };

/** Options every daemon gets. */
const COMMON: Record<string, string> = {
  // The daemons bind non-loopback addresses, which they refuse without TLS and a token. These
  // addresses exist only inside the suite's network namespaces; to run the daemons secured,
  // give them certificates and a token here instead.
  'security.insecure': 'true',
  'heartbeat.interval': '1 s',
  'heartbeat.timeout': '5 s',
  's3.endpoint': S3.endpoint,
  's3.access-key': 'chaos-access-key',
  's3.secret-key': 'chaos-secret-key',
  's3.path.style.access': 'true',
};

const JM_CONFIG: Record<string, string> = {
  ...COMMON,
  'jobmanager.bind-host': HOST,
  'jobmanager.rpc.address': HOST,
  'jobmanager.rpc.port': String(JM.rpcPort),
  'rest.bind-address': HOST,
  'rest.address': HOST,
  'rest.port': String(JM.restPort),
  'blob.storage.directory': JM.blobs,
  'restart-strategy.type': 'fixed-delay',
  'restart-strategy.fixed-delay.attempts': '100000',
  'restart-strategy.fixed-delay.delay': '200 ms',
};

function tmConfig(link: TaskManagerLink): Record<string, string> {
  return {
    ...COMMON,
    'jobmanager.rpc.address': HOST,
    'jobmanager.rpc.port': String(JM.rpcPort),
    'taskmanager.bind-host': link.address,
    'taskmanager.host': link.address,
    'taskmanager.rpc.port': '6122',
    'metrics.reporter.prom.port': '0',
    'taskmanager.numberOfTaskSlots': '2',
  };
}

/** The job's options for `nimble run`. */
const JOB_CONFIG: Record<string, string> = {
  'execution.checkpointing.interval': '1000',
  'state.checkpoints.dir': `s3://${S3.bucket}/checkpoints`,
  ...Object.fromEntries(
    (opts['job-conf'] ?? []).map((kv) => [
      kv.slice(0, kv.indexOf('=')),
      kv.slice(kv.indexOf('=') + 1),
    ]),
  ),
};

const dashD = (c: Record<string, string>) =>
  Object.entries(c).flatMap(([k, v]) => ['-D', `${k}=${v}`]);

// ---- processes ----------------------------------------------------------------------------------

interface Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  log(): string;
}

/** All processes started, for the final stop. */
const procs = new Set<Proc>();

const logCounts = new Map<string, number>();

/** Starts a process; its output goes to <work>/logs/<name>-<n>.log (n counts restarts). */
function startProc(name: string, cmd: string, args: string[], ipc: boolean): Proc {
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? (['ipc'] as const) : [])],
  });
  const n = (logCounts.get(name) ?? 0) + 1;
  logCounts.set(name, n);
  mkdirSync(join(work, 'logs'), { recursive: true });
  const file = createWriteStream(join(work, 'logs', `${name}-${n}.log`));
  let log = '';
  const keep = (d: Buffer) => {
    file.write(d);
    log = (log + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const p: Proc = { child, exited, log: () => log };
  procs.add(p);
  void exited.then(() => procs.delete(p));
  return p;
}

function alive(p: Proc): boolean {
  return p.child.exitCode === null && p.child.signalCode === null;
}

async function kill(p: Proc, signal: NodeJS.Signals): Promise<void> {
  if (!alive(p)) return;
  p.child.kill(signal);
  const t = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  await p.exited;
  clearTimeout(t);
}

/** Starts `nimble <args>` (in namespace `ns`, if given) and resolves once it reports ready. */
async function startNimble(name: string, args: string[], ns?: string): Promise<Proc> {
  const node = [process.execPath, NIMBLE_BIN, ...args];
  const p = ns
    ? startProc(name, 'ip', ['netns', 'exec', ns, ...node], true)
    : startProc(name, node[0]!, node.slice(1), true);
  await new Promise<void>((resolve, reject) => {
    p.child.on('message', (m: ReadyMessage) => {
      if (m?.nimble === 'ready') resolve();
    });
    void p.exited.then(() =>
      reject(new Error(`nimble ${args[0]} exited before it was ready:\n${p.log()}`)),
    );
  });
  return p;
}

let jobManager: Proc;
const taskManagers: Proc[] = [];

const startJobManager = () => startNimble('jobmanager', ['jobmanager', ...dashD(JM_CONFIG)]);
const startTaskManager = (i: number) =>
  startNimble(
    `taskmanager${i + 1}`,
    ['taskmanager', ...dashD(tmConfig(net.taskManagers[i]!))],
    net.taskManagers[i]!.ns,
  );

let s3: Proc;
async function startS3(): Promise<void> {
  const script = fileURLToPath(new URL('./s3-server.py', import.meta.url));
  s3 = startProc(
    's3',
    'python3',
    [script, '--host', HOST, '--port', String(S3.port), '--data-dir', S3.dir],
    false,
  );
  await waitFor('the S3 server to answer', 30_000, async () => {
    if (!alive(s3)) throw new Error(`the S3 server exited:\n${s3.log()}`);
    return fetch(`${S3.endpoint}/`).then(
      () => true,
      () => false,
    );
  });
}

const kafkaArgs = () => [
  'start',
  '--host',
  HOST,
  '--port',
  String(KAFKA.port),
  '--controller-port',
  String(KAFKA.controllerPort),
  '--dir',
  KAFKA.dir,
  '--owner-pid',
  String(process.pid),
];
async function startBroker(): Promise<void> {
  const r = await runKafkaScript(kafkaArgs(), 180_000);
  if (r.code !== 0) throw new Error(`kafka.sh start failed:\n${r.output}`);
}
async function stopBroker(): Promise<void> {
  const r = await runKafkaScript(['stop', '--dir', KAFKA.dir], 60_000);
  if (r.code !== 0) throw new Error(`kafka.sh stop failed:\n${r.output}`);
}

// ---- polling ------------------------------------------------------------------------------------

async function waitFor(what: string, timeoutMs: number, cond: () => Promise<boolean> | boolean) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rest(path: string): Promise<any> {
  const ctl = AbortSignal.timeout(2000);
  const res = await fetch(`http://${HOST}:${JM.restPort}${path}`, { signal: ctl });
  if (!res.ok) return undefined;
  return res.json();
}
const restOrUndefined = (path: string) => rest(path).catch(() => undefined);

// ---- input and output ---------------------------------------------------------------------------

/** Writes events at RATE per second; pauses while the broker restarts. */
class Input {
  next = 0;
  paused = false;
  stopped = false;
  errors = 0;
  private producer: Producer | undefined;
  private loop: Promise<void> | undefined;
  private idle = true;

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const began = performance.now();
    const firstSeq = this.next;
    let pausedMs = 0;
    while (!this.stopped) {
      if (this.paused) {
        this.idle = true;
        const t = performance.now();
        await sleep(50);
        pausedMs += performance.now() - t;
        continue;
      }
      this.idle = false;
      const due = firstSeq + Math.floor(((performance.now() - began - pausedMs) / 1000) * RATE);
      if (due <= this.next) {
        this.idle = true;
        await sleep(20);
        continue;
      }
      const until = Math.min(due, this.next + 5000);
      const messages = [];
      for (let i = this.next; i < until; i++)
        messages.push(purchaseRecord(i, STREAM, MALFORMED_EVERY));
      try {
        this.producer ??= await connectProducer(`${HOST}:${KAFKA.port}`);
        await this.producer.send({ topic: SOURCE, messages, acks: 1 });
        this.next = until;
      } catch (e) {
        // A batch may be partly written; writing it again may put records twice into the log
        // (the expected result is computed from the log, so it counts them as input).
        this.errors++;
        console.log(`input: a write failed (${(e as Error).message}); retrying`);
        await this.producer?.disconnect().catch(() => {});
        this.producer = undefined;
        await sleep(500);
      }
    }
    this.idle = true;
  }

  /** Pauses after the batch being written. */
  async pause(): Promise<void> {
    this.paused = true;
    await waitFor('the input to pause', 60_000, () => this.idle);
    await this.producer?.disconnect().catch(() => {});
    this.producer = undefined;
  }

  resume(): void {
    this.paused = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await this.producer?.disconnect().catch(() => {});
  }
}

/** The committed (read_committed) records of topics, by partition and offset. */
class Output {
  readonly records = new Map<string, Map<string, string>>();
  private consumer: Consumer | undefined;
  private stopped = false;
  private constructor(
    private readonly topics: string[],
    private readonly readCommitted: boolean,
  ) {
    for (const t of topics) this.records.set(t, new Map());
  }

  static async start(topics: string[], readCommitted: boolean): Promise<Output> {
    // kafkajs alone delivers records of aborted transactions under read_committed.
    fixKafkajsReadCommitted();
    const out = new Output(topics, readCommitted);
    await out.run();
    return out;
  }

  /**
   * Reads the topics from their beginning in a group of its own. A consumer that kafkajs does not
   * restart itself (it crashed on an error kafkajs calls non-retriable, such as "Failed to find
   * group coordinator" while the broker restarts) is replaced by a new one: records are kept by
   * partition and offset, so reading them again changes nothing.
   */
  private async run(): Promise<void> {
    const kafka = new Kafka({ brokers: [`${HOST}:${KAFKA.port}`], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({
      groupId: `chaos-reader-${Math.random().toString(36).slice(2)}`,
      readUncommitted: !this.readCommitted,
      maxWaitTimeInMs: 200,
      // After a broker restart kafkajs may rejoin the group as a new member; the broker then
      // waits for the old one until its session times out (kafkajs' default 30 s) before it
      // assigns the partitions again, and the suite saw the output stand still that long.
      // 6 s is the broker's minimum (group.min.session.timeout.ms).
      sessionTimeout: 6000,
      heartbeatInterval: 1000,
      retry: { retries: 1000, maxRetryTime: 2000 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.stopped || this.consumer !== consumer) return;
      console.log(`output reader: its consumer failed (${payload.error.message}); reading again`);
      void consumer.disconnect().catch(() => {});
      setTimeout(() => void this.restart(), 1000);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const m = this.records.get(batch.topic)!;
        for (const r of batch.messages)
          m.set(`${batch.partition}:${r.offset}`, r.value?.toString('utf8') ?? '');
      },
    });
  }

  private async restart(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.run();
        return;
      } catch (e) {
        console.log(`output reader: could not start again (${(e as Error).message}); retrying`);
        await this.consumer?.disconnect().catch(() => {});
        await sleep(1000);
      }
    }
  }

  count(topic: string): number {
    return this.records.get(topic)?.size ?? 0;
  }

  values(topic: string): string[] {
    return [...(this.records.get(topic)?.values() ?? [])];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.disconnect().catch(() => {});
  }
}

// ---- the job ------------------------------------------------------------------------------------

let jobId = '';
const findings: string[] = [];

async function submit(savepoint?: string): Promise<string> {
  const r = await nimble([
    'run',
    '-d',
    '-m',
    `${HOST}:${JM.rpcPort}`,
    ...(savepoint ? ['-s', savepoint] : []),
    ...dashD(JOB_CONFIG),
    KAFKA_SPEND_JOB,
    '--bootstrap-servers',
    `${HOST}:${KAFKA.port}`,
    '--source-topic',
    SOURCE,
    '--sink-topic',
    SINK,
    '--dlq-topic',
    DLQ,
    '--guarantee',
    'exactly-once',
    '--parallelism',
    '2',
  ]);
  const id = /JobID ([0-9a-f]+)/.exec(r.stdout)?.[1];
  if (!id) throw new Error(`nimble run printed no job id:\n${r.stdout}\n${r.stderr}`);
  return id;
}

interface JobHealth {
  running: boolean;
  checkpoint: number;
  checkpointAckedAt: number;
}

async function health(): Promise<JobHealth | undefined> {
  const job = await restOrUndefined(`/jobs/${jobId}`);
  if (!job) return undefined;
  const counts = job['status-counts'] as Record<string, number> | undefined;
  const total = Object.values(counts ?? {}).reduce((a, b) => a + b, 0);
  const running = job.state === 'RUNNING' && total > 0 && counts?.['running'] === total;
  const chk = await restOrUndefined(`/jobs/${jobId}/checkpoints`);
  const latest = chk?.latest?.completed;
  return {
    running,
    checkpoint: (latest?.id as number | undefined) ?? 0,
    checkpointAckedAt: (latest?.latest_ack_timestamp as number | undefined) ?? 0,
  };
}

/**
 * Resubmits the job from its latest retained checkpoint, as a user would with `nimble run -s`,
 * for a JobManager that came back without the job.
 */
async function resubmitFromLatestCheckpoint(): Promise<void> {
  const prefix = `checkpoints/${jobId}/`;
  const listing = await (
    await fetch(`${S3.endpoint}/${S3.bucket}?list-type=2&prefix=${prefix}&delimiter=/`)
  ).text();
  const ids = [...listing.matchAll(/<Prefix>[^<]*chk-(\d+)\/<\/Prefix>/g)].map((m) => Number(m[1]));
  const latest = Math.max(...ids);
  const path = `s3://${S3.bucket}/${prefix}chk-${latest}`;
  console.log(`resubmitting from ${path}`);
  jobId = await submit(path);
}

// ---- faults -------------------------------------------------------------------------------------

const KINDS = [
  'tm-kill',
  'jm-kill',
  'tm-stop',
  'tm-partition',
  's3-restart',
  'kafka-restart',
] as const;
type Kind = (typeof KINDS)[number];

interface FaultResult {
  n: number;
  kind: Kind;
  target: string;
  /** ms since the run started, when the fault was injected. */
  at: number;
  /** How long the fault lasted (stopped, partitioned, down) before it was lifted, ms. */
  durationMs: number;
  /** From the fault's end (the kill, SIGCONT, the healed link, the server back) to recovery. */
  recoveryMs: number | null;
  detail: string;
}

const started = Date.now();

async function inject(
  kind: Kind,
  input: Input,
  n: number,
): Promise<Omit<FaultResult, 'recoveryMs'> & { end: number }> {
  const tm = Math.floor(random() * taskManagers.length);
  const t0 = Date.now();
  const at = t0 - started;
  switch (kind) {
    case 'tm-kill': {
      await kill(taskManagers[tm]!, 'SIGKILL');
      const end = Date.now();
      taskManagers[tm] = await startTaskManager(tm);
      return {
        n,
        kind,
        target: `tm${tm + 1}`,
        at,
        durationMs: 0,
        end,
        detail: 'SIGKILL, restarted',
      };
    }
    case 'jm-kill': {
      await kill(jobManager, 'SIGKILL');
      const end = Date.now();
      jobManager = await startJobManager();
      // A restarted JobManager recovers the job from its job store and latest checkpoint; one
      // that does not is a finding, and the job is resubmitted from its latest checkpoint.
      const back = await waitFor(
        'the job on the restarted JobManager',
        15_000,
        async () => !!(await restOrUndefined(`/jobs/${jobId}`)),
      ).then(
        () => true,
        () => false,
      );
      if (!back) {
        findings.push(
          `fault ${n} (jm-kill): the restarted JobManager did not recover job ${jobId}`,
        );
        await resubmitFromLatestCheckpoint();
      }
      return {
        n,
        kind,
        target: 'jm',
        at,
        durationMs: 0,
        end,
        detail: back ? 'SIGKILL, restarted, job recovered' : 'SIGKILL, restarted, job resubmitted',
      };
    }
    case 'tm-stop': {
      const ms = Math.round(between(1000, 8000));
      taskManagers[tm]!.child.kill('SIGSTOP');
      await sleep(ms);
      taskManagers[tm]!.child.kill('SIGCONT');
      return {
        n,
        kind,
        target: `tm${tm + 1}`,
        at,
        durationMs: ms,
        end: Date.now(),
        detail: `SIGSTOP for ${ms} ms`,
      };
    }
    case 'tm-partition': {
      const ms = Math.round(between(1000, 8000));
      const how = partition(net!, net!.taskManagers[tm]!);
      await sleep(ms);
      heal(net!, net!.taskManagers[tm]!);
      return {
        n,
        kind,
        target: `tm${tm + 1}`,
        at,
        durationMs: ms,
        end: Date.now(),
        detail: `${how} for ${ms} ms`,
      };
    }
    case 's3-restart': {
      const ms = Math.round(between(500, 5000));
      await kill(s3, 'SIGTERM');
      await sleep(ms);
      await startS3();
      return {
        n,
        kind,
        target: 's3',
        at,
        durationMs: Date.now() - t0,
        end: Date.now(),
        detail: `down ${ms} ms`,
      };
    }
    case 'kafka-restart': {
      await input.pause();
      await stopBroker();
      await startBroker();
      input.resume();
      return {
        n,
        kind,
        target: 'kafka',
        at,
        durationMs: Date.now() - t0,
        end: Date.now(),
        detail: 'stopped and started',
      };
    }
  }
}

/**
 * Waits until the job is RUNNING with all its tasks, a checkpoint completed after `since`, and
 * the committed output grew past `outputBefore`; resolves with that time, or null after WEDGE_MS.
 */
async function recovered(
  since: number,
  outputBefore: number,
  output: Output,
  /** Receives when each condition first held: running, checkpointed, output advanced. */
  parts?: (running: number, checkpointed: number, advanced: number) => void,
): Promise<number | null> {
  const deadline = since + WEDGE_MS;
  let running = 0;
  let checkpointed = 0;
  let advanced = 0;
  while (Date.now() < deadline) {
    const h = await health();
    const now = Date.now();
    if (h?.running && !running) running = now;
    if (!h?.running) running = 0;
    if (h && h.checkpointAckedAt > since && !checkpointed) checkpointed = now;
    if (output.count(SINK) > outputBefore && !advanced) advanced = now;
    if (running && checkpointed && advanced) {
      parts?.(running, checkpointed, advanced);
      return Math.max(running, checkpointed, advanced);
    }
    await sleep(100);
  }
  return null;
}

// ---- report -------------------------------------------------------------------------------------

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(faults: FaultResult[], check: Check) {
  const times = faults
    .map((f) => f.recoveryMs)
    .filter((t): t is number => t !== null)
    .sort((a, b) => a - b);
  const byKind: Record<
    string,
    { injected: number; recovered: number; within10s: number; maxMs: number | null }
  > = {};
  for (const k of KINDS) byKind[k] = { injected: 0, recovered: 0, within10s: 0, maxMs: null };
  for (const f of faults) {
    const k = byKind[f.kind]!;
    k.injected++;
    if (f.recoveryMs !== null) {
      k.recovered++;
      if (f.recoveryMs <= RECOVERY_LIMIT_MS) k.within10s++;
      k.maxMs = Math.max(k.maxMs ?? 0, f.recoveryMs);
    }
  }
  return {
    seed: SEED,
    faults: faults.length,
    byKind,
    recoveryMs: {
      p50: percentile(times, 50),
      p99: percentile(times, 99),
      max: times.at(-1) ?? null,
    },
    notRecovered: faults.filter((f) => f.recoveryMs === null).length,
    slowerThan10s: faults.filter((f) => f.recoveryMs !== null && f.recoveryMs > RECOVERY_LIMIT_MS)
      .length,
    ...check,
    findings,
    faultLog: faults,
  };
}

interface Check {
  inputEvents: number;
  inputWriteErrors: number;
  expectedRecords: number;
  committedRecords: number;
  recordsLost: number;
  recordsDuplicated: number;
  recordsUnexpected: number;
  drained: boolean;
  jobState: string;
}

function printTable(s: ReturnType<typeof summary>): void {
  const rows = [['fault', 'injected', 'recovered', '<=10 s', 'max ms']];
  for (const [k, v] of Object.entries(s.byKind)) {
    rows.push([
      k,
      String(v.injected),
      String(v.recovered),
      String(v.within10s),
      String(v.maxMs ?? '-'),
    ]);
  }
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows)
    console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  '));
  console.log(
    `recovery ms: p50 ${s.recoveryMs.p50} p99 ${s.recoveryMs.p99} max ${s.recoveryMs.max}; ` +
      `not recovered ${s.notRecovered}; slower than 10 s ${s.slowerThan10s}`,
  );
  console.log(
    `records: expected ${s.expectedRecords}, committed ${s.committedRecords}, lost ${s.recordsLost}, ` +
      `duplicated ${s.recordsDuplicated}, unexpected ${s.recordsUnexpected}; input ${s.inputEvents} events, ` +
      `${s.inputWriteErrors} write errors; drained ${s.drained}; job ${s.jobState}`,
  );
  for (const f of s.findings) console.log(`FINDING: ${f}`);
}

/** Compares the committed output with the failure-free result over the input log. */
function compare(expected: string[], committed: string[]) {
  const want = new Map<string, number>();
  for (const e of expected) want.set(e, (want.get(e) ?? 0) + 1);
  const got = new Map<string, number>();
  for (const c of committed) got.set(c, (got.get(c) ?? 0) + 1);
  let lost = 0;
  let duplicated = 0;
  let unexpected = 0;
  for (const [v, n] of want) lost += Math.max(0, n - (got.get(v) ?? 0));
  for (const [v, n] of got) {
    const w = want.get(v) ?? 0;
    if (w === 0) unexpected += n;
    else duplicated += Math.max(0, n - w);
  }
  return { lost, duplicated, unexpected };
}

// ---- the run ------------------------------------------------------------------------------------

async function stopAll(): Promise<void> {
  await Promise.all([...procs].map((p) => kill(p, 'SIGTERM')));
  await stopBroker().catch(() => {});
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping the daemons`);
    void stopAll().finally(() => process.exit(130));
  });
}

async function main(): Promise<number> {
  const kinds = (opts.kinds?.split(',') ?? KINDS) as Kind[];
  for (const k of kinds)
    if (!KINDS.includes(k))
      throw new Error(`--kinds: unknown fault ${k} (one of ${KINDS.join(', ')})`);
  console.log(
    `chaos: seed ${SEED}, ${FAULTS} faults of ${kinds.join(', ')}, ${RATE} events/s, work dir ${work}`,
  );
  await Promise.all([startBroker(), startS3()]);
  const bucket = await fetch(`${S3.endpoint}/${S3.bucket}`, { method: 'PUT' });
  if (!bucket.ok) throw new Error(`could not create bucket ${S3.bucket}: ${bucket.status}`);
  const brokers = `${HOST}:${KAFKA.port}`;
  await createTopic(brokers, SOURCE, PARTITIONS);
  await createTopic(brokers, SINK, 2);
  await createTopic(brokers, DLQ, 1);
  jobManager = await startJobManager();
  for (let i = 0; i < net!.taskManagers.length; i++) taskManagers.push(await startTaskManager(i));
  const output = await Output.start([SINK], true);
  const input = new Input();
  if (opts['input-first']) {
    // The job starts with a backlog: three seconds of input written before it is submitted.
    input.start();
    await waitFor('a backlog of input', 120_000, () => input.next >= 3 * RATE);
  }
  jobId = await submit();
  console.log(`job ${jobId} submitted${opts['input-first'] ? ` after ${input.next} events` : ''}`);
  await waitFor('the job to run', 120_000, async () => !!(await health())?.running);
  if (!opts['input-first']) input.start();
  await waitFor('the first checkpoint and output', 120_000, async () => {
    const h = await health();
    return !!h?.running && h.checkpoint > 0 && output.count(SINK) > 0;
  });

  const faults: FaultResult[] = [];
  for (let n = 1; n <= FAULTS && !stopping; n++) {
    await sleep(between(2000, 6000));
    const kind = pick(kinds);
    const outputBefore = output.count(SINK);
    const f = await inject(kind, input, n);
    let parts = '';
    const at = await recovered(f.end, outputBefore, output, (r, c, a) => {
      parts = ` (running +${r - f.end}, checkpoint +${c - f.end}, output +${a - f.end} ms)`;
    });
    const result: FaultResult = {
      n: f.n,
      kind: f.kind,
      target: f.target,
      at: f.at,
      durationMs: f.durationMs,
      recoveryMs: at === null ? null : at - f.end,
      detail: f.detail,
    };
    faults.push(result);
    console.log(
      `fault ${n}/${FAULTS} ${kind} ${f.target} at ${(f.at / 1000).toFixed(1)} s (${f.detail}): ` +
        (at === null
          ? `NOT RECOVERED within ${WEDGE_MS} ms`
          : `recovered in ${at - f.end} ms${parts}`),
    );
    if (at === null) {
      findings.push(
        `fault ${n} (${kind} ${f.target}, seed ${SEED}): the job did not recover within ${WEDGE_MS} ms`,
      );
      break;
    }
  }

  // Drain: stop the input, close every window, wait until the committed output is complete or
  // stops changing.
  await input.stop();
  await closeAllWindows(brokers, SOURCE, PARTITIONS);
  const source = await Output.start([SOURCE], false);
  await waitFor(
    'the input topic to be read',
    120_000,
    () => source.count(SOURCE) >= input.next + PARTITIONS,
  );
  const expected = expectedFeatures(source.values(SOURCE));
  await source.stop();
  let drained = true;
  let last = -1;
  let lastChange = Date.now();
  await waitFor('the output to drain', 180_000, async () => {
    const n = output.count(SINK);
    if (n !== last) {
      last = n;
      lastChange = Date.now();
    }
    // Complete, and two more checkpoints later still complete (duplicates would show).
    const h = await health();
    if (n >= expected.length && h && h.checkpointAckedAt > lastChange + 2000) return true;
    return Date.now() - lastChange > 60_000;
  }).catch(() => {
    drained = false;
  });
  const committed = output.values(SINK);
  await output.stop();
  const diff = compare(expected, committed);
  const job = await restOrUndefined(`/jobs/${jobId}`);
  const s = summary(faults, {
    inputEvents: input.next,
    inputWriteErrors: input.errors,
    expectedRecords: expected.length,
    committedRecords: committed.length,
    recordsLost: diff.lost,
    recordsDuplicated: diff.duplicated,
    recordsUnexpected: diff.unexpected,
    drained: drained && diff.lost === 0,
    jobState: job?.state ?? 'unknown',
  });
  console.log('');
  printTable(s);
  const json = JSON.stringify(s);
  console.log(`CHAOS_RESULT ${json}`);
  if (opts.json) writeFileSync(opts.json, JSON.stringify(s, null, 2));
  const ok =
    s.notRecovered === 0 && diff.lost === 0 && diff.duplicated === 0 && diff.unexpected === 0;
  if (!ok || opts['keep-work']) console.log(`logs kept in ${work}`);
  if (!ok) {
    writeFileSync(join(work, 'expected.txt'), expected.join('\n'));
    writeFileSync(join(work, 'committed.txt'), [...committed].sort().join('\n'));
    // Where each copy of a duplicated record sits: partition:offset.
    const at = new Map<string, string[]>();
    for (const [where, v] of output.records.get(SINK) ?? [])
      at.set(v, [...(at.get(v) ?? []), where]);
    const dups = [...at].filter(([, w]) => w.length > 1).map(([v, w]) => `${w.join(' ')} ${v}`);
    writeFileSync(join(work, 'duplicates.txt'), dups.join('\n'));
  }
  await stopAll();
  if (ok && !opts['keep-work']) rmSync(work, { recursive: true, force: true });
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  async (e: unknown) => {
    console.error(`chaos: ${(e as Error).stack ?? String(e)} (seed ${SEED})`);
    console.error(`logs kept in ${work}`);
    await stopAll();
    process.exit(1);
  },
);
