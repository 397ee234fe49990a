/**
 * Checkpoint benchmark, against a real S3-protocol server (moto, as in the tests):
 *
 * 1. A subtask's checkpoint of N keys (100k, 1M) on both backends to s3://: the synchronous
 *    snapshot (what the barrier waits for), then materialize + key-group file + upload; and for
 *    `level` an incremental checkpoint after 5% of the keys changed.
 * 2. Throughput of the 5-minute spend job on a local cluster (2 TaskManagers x 1 slot, p2) without
 *    checkpoints and with checkpoints every 10 s to s3://, per backend. The default event count
 *    makes a run last over 60 s, so it takes several checkpoints, most of them not the first.
 * 3. Recovery: a TaskManager killed with SIGKILL (spare TaskManager waiting), time until the job
 *    runs again and until its first checkpoint after the restore completes (records flowed
 *    through every task by then).
 *
 *   pnpm bench:checkpoint [-- --sections state,throughput,recovery --events 15000000
 *                              --backends hashmap,level --rounds 1]
 */
import { ValueStateDescriptor } from '@nimble/api';
import type { KeyedStateBackend, StateBackendKind } from '@nimble/runtime';
import {
  assignToKeyGroup,
  createKeyedStateBackend,
  fileSystemFor,
  KeyGroupRange,
} from '@nimble/runtime';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { assembleKeyedStateFile } from '../packages/runtime/src/checkpoint/keyed-state-file.js';
import { nimble, TestCluster } from '../test/fixtures/cluster.js';
import { startS3Server } from '../test/fixtures/s3-server.js';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    sections: { type: 'string', default: 'state,throughput,recovery' },
    events: { type: 'string', default: '15000000' },
    backends: { type: 'string', default: 'hashmap,level' },
    /** Runs of each (backend, with/without) pair, alternating, to see the noise of a shared machine. */
    rounds: { type: 'string', default: '1' },
    /** `plain` (no checkpoints), `checkpoints` (every 10 s) or both; one only, to profile it. */
    modes: { type: 'string', default: 'plain,checkpoints' },
    /** Extra `key=value` configuration for the throughput jobs (repeatable), e.g. to compare paths. */
    conf: { type: 'string', multiple: true, default: [] },
  },
});
const sections = new Set(args.sections.split(','));
const root = fileURLToPath(new URL('..', import.meta.url));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const MAXP = 128;

const s3 = await startS3Server();
const s3Flags = s3.flags;
const dirs: string[] = [];

async function filled(kind: StateBackendKind, n: number): Promise<KeyedStateBackend> {
  const dir = mkdtempSync(join(tmpdir(), 'nimble-chk-bench-'));
  dirs.push(dir);
  const b = createKeyedStateBackend({
    kind,
    operatorName: 'bench',
    maxParallelism: MAXP,
    keyGroupRange: KeyGroupRange.forOperatorIndex(MAXP, 1, 0),
    localDir: dir,
  });
  await b.open();
  const state = b.getState(new ValueStateDescriptor<{ spend: number; count: number }>('features'));
  for (let i = 0; i < n; i++) {
    const key = `user-${i}`;
    b.setCurrentKey(key, assignToKeyGroup(key, MAXP));
    state.update({ spend: i * 1.5, count: i % 100 });
    if (i % 10_000 === 0) await b.availability();
  }
  await b.flush();
  return b;
}

/** One subtask's checkpoint: sync snapshot, then materialize, file, upload to S3. */
async function checkpoint(b: KeyedStateBackend, id: number, name: string) {
  const start = performance.now();
  const snapshot = b.snapshot(id, 'native');
  const syncMs = performance.now() - start;
  const blocks = await snapshot.materialize();
  snapshot.release();
  const { bytes } = assembleKeyedStateFile(0, blocks, undefined);
  const uri = `s3://${s3.bucket}/bench/${name}-${id}`;
  await fileSystemFor(uri, s3.s3Options).write(uri, bytes);
  const totalMs = performance.now() - start;
  b.notifyCheckpointComplete(id);
  return { kind: snapshot.kind, syncMs, totalMs, bytes: bytes.length };
}

async function stateSection(): Promise<void> {
  console.log('## a subtask checkpoint to s3:// (moto), ValueState of a 2-field object per key');
  for (const kind of ['hashmap', 'level'] as const) {
    for (const n of [100_000, 1_000_000]) {
      const b = await filled(kind, n);
      const full = await checkpoint(b, 1, `${kind}-${n}`);
      console.log(
        `${kind} ${fmt(n)} keys, ${full.kind}: sync ${full.syncMs.toFixed(1)} ms, total ${fmt(full.totalMs)} ms, ${fmt(full.bytes / 1024)} KiB`,
      );
      if (kind === 'level') {
        const state = b.getState(
          new ValueStateDescriptor<{ spend: number; count: number }>('features'),
        );
        for (let i = 0; i < n; i += 20) {
          const key = `user-${i}`;
          b.setCurrentKey(key, assignToKeyGroup(key, MAXP));
          state.update({ spend: -i, count: 1 });
          if (i % 10_000 === 0) await b.availability();
        }
        const delta = await checkpoint(b, 2, `${kind}-${n}`);
        console.log(
          `${kind} ${fmt(n)} keys, 5% changed, ${delta.kind}: sync ${delta.syncMs.toFixed(1)} ms, total ${fmt(delta.totalMs)} ms, ${fmt(delta.bytes / 1024)} KiB (target < 2 s for 1M keys)`,
        );
      }
      await b.close();
    }
  }
}

interface JobRun {
  readonly ms: number;
  readonly checkpoints: number;
  /** End-to-end durations of the completed checkpoints the history holds (the latest ten). */
  readonly checkpointMs: readonly number[];
  /** Their state sizes in bytes. */
  readonly checkpointBytes: readonly number[];
}

function runJob(cluster: TestCluster, extra: string[], events: number): Promise<JobRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        `${root}packages/cli/bin/nimble.mjs`,
        'run',
        '-m',
        cluster.address,
        ...extra,
        ...args.conf.flatMap((c) => ['-D', c]),
        `${root}bench/jobs/cluster-spend-job.ts`,
        String(events),
        '100000',
        '2',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', async (code) => {
      if (code !== 0) return reject(new Error(`the job exited with ${code}`));
      const jobId = /JobID ([0-9a-f]{32})/.exec(out)![1]!;
      const details = await cluster.rest(`/jobs/${jobId}`);
      let checkpoints = 0;
      let checkpointMs: number[] = [];
      let checkpointBytes: number[] = [];
      if (extra.some((a) => a.startsWith('execution.checkpointing.interval'))) {
        const stats = await cluster.rest(`/jobs/${jobId}/checkpoints`);
        checkpoints = stats.counts.completed;
        const completed = (
          stats.history as { status: string; end_to_end_duration: number; state_size: number }[]
        ).filter((h) => h.status === 'COMPLETED');
        checkpointMs = completed.map((h) => h.end_to_end_duration);
        checkpointBytes = completed.map((h) => h.state_size);
      }
      resolve({
        ms: details.timestamps['FINISHED'] - details.timestamps['RUNNING'],
        checkpoints,
        checkpointMs,
        checkpointBytes,
      });
    });
  });
}

async function throughputSection(): Promise<void> {
  const events = Number(args.events);
  const rounds = Number(args.rounds);
  const cluster = await TestCluster.start({ taskManagers: 2, jm: s3Flags, tm: s3Flags });
  try {
    console.log(
      `## throughput, 5-minute spend job, ${fmt(events)} events, 100,000 users, p2 on 2 TaskManagers`,
    );
    for (const backend of args.backends.split(',')) {
      for (let round = 0; round < rounds; round++) {
        const load = () =>
          loadavg()
            .map((l) => l.toFixed(2))
            .join(' ');
        const loadBefore = load();
        const modes = args.modes.split(',');
        const plain = modes.includes('plain')
          ? await runJob(cluster, ['-D', `state.backend.type=${backend}`], events)
          : undefined;
        const withChk = modes.includes('checkpoints')
          ? await runJob(
              cluster,
              [
                '-D',
                `state.backend.type=${backend}`,
                '-D',
                'execution.checkpointing.interval=10 s',
                '-D',
                'state.backend.incremental=true',
                '-D',
                `state.checkpoints.dir=s3://${s3.bucket}/throughput`,
              ],
              events,
            )
          : undefined;
        if (plain === undefined || withChk === undefined) {
          const run = (plain ?? withChk)!;
          console.log(
            `${backend}, ${args.modes}: ${fmt(events / (run.ms / 1000))} events/s, checkpoints ` +
              `${run.checkpointMs.map(fmt).join('/')} ms, ${run.checkpointBytes.map((b) => fmt(b / 1024)).join('/')} KiB`,
          );
          continue;
        }
        const a = events / (plain.ms / 1000);
        const b = events / (withChk.ms / 1000);
        console.log(
          `${backend}: without checkpoints ${fmt(a)} events/s (${fmt(plain.ms)} ms), with checkpoints ` +
            `every 10 s ${fmt(b)} events/s (${fmt(withChk.ms)} ms, ${withChk.checkpoints} completed, ` +
            `${withChk.checkpointMs.map(fmt).join('/')} ms end to end, ` +
            `${withChk.checkpointBytes.map((b) => fmt(b / 1024)).join('/')} KiB): loss ` +
            `${(((a - b) / a) * 100).toFixed(1)}% (target < 5%); load ${loadBefore} -> ${load()}`,
        );
      }
    }
  } finally {
    await cluster.stop();
  }
}

async function recoverySection(): Promise<void> {
  const cluster = await TestCluster.start({
    taskManagers: 3,
    jm: [
      ...s3Flags,
      '-D',
      'restart-strategy.type=fixed-delay',
      '-D',
      'restart-strategy.fixed-delay.delay=0',
      '-D',
      'restart-strategy.fixed-delay.attempts=10',
    ],
    tm: s3Flags,
  });
  const out = mkdtempSync(join(tmpdir(), 'nimble-recovery-bench-'));
  dirs.push(out);
  try {
    const submitted = await nimble([
      'run',
      '-d',
      '-m',
      cluster.address,
      '-D',
      'execution.checkpointing.interval=500',
      '-D',
      `state.checkpoints.dir=s3://${s3.bucket}/recovery`,
      `${root}test/fixtures/cluster-jobs/exactly-once-job.ts`,
      '200000',
      '5000',
      '2',
      out,
    ]);
    const jobId = /JobID ([0-9a-f]{32})/.exec(submitted.stdout)![1]!;
    const completed = async () =>
      (await cluster.rest(`/jobs/${jobId}/checkpoints`)).counts?.completed ?? 0;
    await cluster.waitFor(async () => (await completed()) >= 2, 60_000);
    const times: string[] = [];
    for (let round = 0; round < 3; round++) {
      const busy = (
        (await cluster.rest('/taskmanagers')).taskmanagers as { id: string; freeSlots: number }[]
      ).find((tm) => tm.freeSlots === 0)!;
      const before = await completed();
      const restarts = (await cluster.rest(`/jobs/${jobId}`))['num-restarts'] as number;
      const killedAt = performance.now();
      cluster.taskManagers.find((tm) => tm.ready.resourceId === busy.id)!.child.kill('SIGKILL');
      await cluster.waitFor(async () => {
        const d = await cluster.rest(`/jobs/${jobId}`);
        if (d.state === 'FAILED' || d.state === 'FINISHED')
          throw new Error(`the job is ${d.state}`);
        return d['num-restarts'] > restarts && d.state === 'RUNNING';
      }, 30_000);
      const runningMs = performance.now() - killedAt;
      await cluster.waitFor(async () => (await completed()) > before, 30_000);
      const checkpointMs = performance.now() - killedAt;
      times.push(
        `RUNNING after ${fmt(runningMs)} ms, first checkpoint after the restore at ${fmt(checkpointMs)} ms`,
      );
      await cluster.addTaskManager();
    }
    console.log(
      '## recovery from a TaskManager SIGKILL (restart delay 0, 2 of 3 TaskManagers busy)',
    );
    for (const t of times) console.log(t);
    await nimble(['cancel', '-m', cluster.address, jobId]);
  } finally {
    await cluster.stop();
  }
}

try {
  if (sections.has('state')) await stateSection();
  if (sections.has('throughput')) await throughputSection();
  if (sections.has('recovery')) await recoverySection();
} finally {
  await s3.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
