// Async I/O with real daemons: an enrichment job calls an HTTP profile service started here while
// TaskManagers are killed with SIGKILL, and across a stop-with-savepoint and a restart at another
// parallelism. The committed output must equal the failure-free output exactly, and the events
// that were in flight at the restored checkpoint (read from its _metadata) must be requested
// again by the restored job: they are re-issued from state, not replayed by the source.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeMetadata, decodeOpaque } from '@nimble/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_RESTARTS, nimble, TestCluster } from './fixtures/cluster.js';
import { committedOutput } from './fixtures/exactly-once-output.js';
import { completedCheckpoints, runningJobId } from './fixtures/failover.js';

const JOB = fileURLToPath(
  new URL('./fixtures/cluster-jobs/async-enrichment-job.ts', import.meta.url),
);
const JOB_NAME = 'async-enrichment-job';
/** The async operator's state name (Flink's): its in-flight input elements. */
const ASYNC_STATE = '_async_wait_operator_state_';

const TIERS = ['basic', 'silver', 'gold'];
const tierOf = (user: string) => TIERS[Number(user.slice(1)) % 3]!;

/** The failure-free output for `events` events, sorted. */
function expectedOutput(events: number): string[] {
  const lines: string[] = [];
  const counts = new Map<string, number>();
  for (let i = 0; i < events; i++) {
    const user = `u${i % 20}`;
    const n = (counts.get(user) ?? 0) + 1;
    counts.set(user, n);
    lines.push(`enriched ${i} ${user} ${tierOf(user)}`, `count ${user} ${n} ${tierOf(user)}`);
  }
  return lines.sort();
}

/** The profile service: answers each request after a short delay and records which event asked. */
interface ProfileService {
  readonly url: string;
  /** Event ids in the order their requests arrived. */
  readonly requests: number[];
  stop(): Promise<void>;
}

function startProfileService(delayMs: number): Promise<ProfileService> {
  const requests: number[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://localhost');
    const user = url.pathname.split('/')[2]!;
    requests.push(Number(url.searchParams.get('event')));
    setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ user, tier: tierOf(user) }));
    }, delayMs);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        requests,
        stop: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      }),
    ),
  );
}

/** The event ids the async operator had in flight in the checkpoint or savepoint at `dir`. */
function inFlightEvents(dir: string): number[] {
  const file = join(dir, '_metadata');
  const metadata = decodeMetadata(readFileSync(file), file);
  const op = metadata.operators.find((o) => o.uid === 'enrich');
  if (!op) throw new Error(`${file} has no state of operator enrich`);
  return op.subtasks.flatMap((st) => {
    const encoded = st.operatorState?.[ASYNC_STATE];
    if (encoded === undefined) return [];
    return (decodeOpaque(encoded) as [{ id: number }, number | undefined][]).map(([e]) => e.id);
  });
}

let cluster: TestCluster;
let profiles: ProfileService;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-async-'));
  profiles = await startProfileService(20);
  cluster = await TestCluster.start({ taskManagers: 3, jm: [...FAST_RESTARTS] });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await profiles?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('async I/O exactly once', () => {
  it('TaskManagers killed with SIGKILL while calls are in flight: in-flight events are called again, the committed output is exact', async () => {
    const out = join(work, 'out-kill');
    const chk = join(work, 'chk-kill');
    const events = 12_000;
    const run = nimble([
      'run',
      '-m',
      cluster.address,
      '-D',
      'execution.checkpointing.interval=300',
      '-D',
      `state.checkpoints.dir=file://${chk}`,
      // Keep every checkpoint until the job ends, so the test can read the one each restore used.
      '-D',
      'state.checkpoints.num-retained=1000',
      JOB,
      String(events),
      '1500',
      '2',
      out,
      profiles.url,
      'unordered',
    ]);
    const jobId = await runningJobId(cluster, JOB_NAME);
    const reissued: number[] = [];
    let lastRestored: number | undefined;
    for (let kill = 0; kill < 3; kill++) {
      const before = Math.max(0, ...completedCheckpoints(chk, jobId));
      await cluster.waitFor(
        () => Math.max(0, ...completedCheckpoints(chk, jobId)) > before,
        30_000,
      );
      const busy = (
        (await cluster.rest('/taskmanagers')).taskmanagers as { id: string; freeSlots: number }[]
      ).find((tm) => tm.freeSlots === 0);
      const victim = cluster.taskManagers.find((tm) => tm.ready.resourceId === busy?.id);
      if (!victim) break; // the job finished
      // Requests after this mark come from the restored job (the killed attempt's surviving
      // subtasks never ask twice for an event).
      const mark = profiles.requests.length;
      victim.child.kill('SIGKILL');
      await cluster.addTaskManager();
      let restored: number | undefined;
      await cluster.waitFor(async () => {
        const job = await cluster.rest(`/jobs/${jobId}`);
        restored = (await cluster.rest(`/jobs/${jobId}/checkpoints`)).latest?.restored?.id;
        return job.state === 'RUNNING' && restored !== undefined && restored !== lastRestored;
      }, 30_000);
      lastRestored = restored;
      const inFlight = inFlightEvents(join(chk, jobId, `chk-${restored}`));
      await cluster.waitFor(() => {
        const asked = new Set(profiles.requests.slice(mark));
        return inFlight.every((id) => asked.has(id));
      }, 30_000);
      reissued.push(...inFlight);
    }
    const result = await run;
    expect(result.stderr).toContain('RESTARTING');
    expect(result.code, result.stderr).toBe(0);
    // At 1,500 events/s and 20 ms per call, about 30 calls are in flight at any checkpoint.
    expect(reissued.length).toBeGreaterThan(0);
    expect(committedOutput(out)).toEqual(expectedOutput(events));
  }, 180_000);

  it('stop with a savepoint at p=2 on hashmap, restart at p=3 on level: in-flight events are called again, the output is exact', async () => {
    const out = join(work, 'out-savepoint');
    const events = 15_000;
    const start = (parallelism: number, backend: string, savepoint?: string) =>
      nimble([
        'run',
        '-d',
        '-m',
        cluster.address,
        '-D',
        'execution.checkpointing.interval=500',
        '-D',
        `state.checkpoints.dir=file://${join(work, 'chk-savepoint')}`,
        '-D',
        `state.backend.type=${backend}`,
        ...(savepoint ? ['-s', savepoint] : []),
        JOB,
        String(events),
        '1500',
        String(parallelism),
        out,
        profiles.url,
        'ordered',
      ]);
    const first = await start(2, 'hashmap');
    expect(first.code, first.stderr).toBe(0);
    const firstId = await runningJobId(cluster, JOB_NAME);
    await cluster.waitFor(() => committedOutput(out).length > 0, 30_000);
    const stopped = await nimble([
      'stop',
      '-m',
      cluster.address,
      firstId,
      '--savepointPath',
      `file://${join(work, 'savepoints')}`,
    ]);
    expect(stopped.code, stopped.stderr).toBe(0);
    const savepoint = /Savepoint completed\. Path: (\S+)/.exec(stopped.stdout)![1]!;
    await cluster.waitFor(
      async () => (await cluster.rest(`/jobs/${firstId}`)).state === 'FINISHED',
    );
    const inFlight = inFlightEvents(new URL(savepoint).pathname);
    expect(inFlight.length).toBeGreaterThan(0);
    const afterFirst = committedOutput(out).length;
    expect(afterFirst).toBeLessThan(expectedOutput(events).length);

    const mark = profiles.requests.length;
    const second = await start(3, 'level', savepoint);
    expect(second.code, second.stderr).toBe(0);
    const secondId = await runningJobId(cluster, JOB_NAME);
    await cluster.waitFor(
      async () => (await cluster.rest(`/jobs/${secondId}`)).state === 'FINISHED',
      90_000,
    );
    const asked = new Set(profiles.requests.slice(mark));
    expect(inFlight.filter((id) => !asked.has(id))).toEqual([]);
    expect(committedOutput(out)).toEqual(expectedOutput(events));
  }, 180_000);
});
