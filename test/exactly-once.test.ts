// Exactly-once state with real daemons: TaskManagers killed with SIGKILL mid-run, the job
// restored from its latest checkpoint each time, and the committed output equal to the
// failure-free output line for line.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nimble, TestCluster } from './fixtures/cluster.js';

const JOB = join(import.meta.dirname, 'fixtures/cluster-jobs/exactly-once-job.ts');

/** The failure-free output of exactly-once-job.ts for `events` events, sorted. */
function expectedOutput(events: number): string[] {
  const lines: string[] = [];
  const counts = new Map<string, number>();
  const windows = new Map<string, number>();
  for (let i = 0; i < events; i++) {
    const user = `u${i % 20}`;
    const n = (counts.get(user) ?? 0) + 1;
    counts.set(user, n);
    lines.push(`count ${user} ${n}`);
    const key = `${user} ${Math.floor((i * 10) / 1000)}`;
    windows.set(key, (windows.get(key) ?? 0) + (i % 7) + 1);
  }
  for (const [key, sum] of windows) lines.push(`window ${key} ${sum}`);
  return lines.sort();
}

/** The committed output lines (staged, uncommitted files are hidden and ignored). */
function committedOutput(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith('part-'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean))
    .sort();
}

function completedCheckpoints(chkDir: string, jobId: string): number[] {
  const dir = join(chkDir, jobId);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => d.startsWith('chk-') && existsSync(join(dir, d, '_metadata')))
    .map((d) => Number(d.slice(4)));
}

let cluster: TestCluster;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-eo-'));
  cluster = await TestCluster.start({
    taskManagers: 3,
    jm: [
      '-D',
      'restart-strategy.type=fixed-delay',
      '-D',
      'restart-strategy.fixed-delay.attempts=20',
      '-D',
      'restart-strategy.fixed-delay.delay=200 ms',
    ],
  });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function runningJobId(name: string): Promise<string> {
  let jobId = '';
  await cluster.waitFor(async () => {
    const jobs = (await cluster.rest('/jobs/overview')).jobs as {
      jid: string;
      name: string;
      state: string;
    }[];
    jobId = jobs.find((j) => j.name === name && j.state === 'RUNNING')?.jid ?? '';
    return jobId !== '';
  }, 60_000);
  return jobId;
}

describe.each(['hashmap', 'level'] as const)('exactly-once state on %s', (backend) => {
  it('TaskManagers killed with SIGKILL three times: the committed output equals the failure-free run', async () => {
    const out = join(work, `out-${backend}`);
    const chk = join(work, `chk-${backend}`);
    const events = 24_000;
    const run = nimble([
      'run',
      '-m',
      cluster.address,
      '-D',
      'execution.checkpointing.interval=300',
      '-D',
      `state.checkpoints.dir=file://${chk}`,
      '-D',
      `state.backend.type=${backend}`,
      '-D',
      'state.backend.incremental=true',
      JOB,
      String(events),
      '1500',
      '2',
      out,
    ]);
    const jobId = await runningJobId('exactly-once-job');
    for (let kill = 0; kill < 3; kill++) {
      // Wait for a new completed checkpoint, then kill a TaskManager that runs the job.
      const before = Math.max(0, ...completedCheckpoints(chk, jobId));
      await cluster.waitFor(
        () => Math.max(0, ...completedCheckpoints(chk, jobId)) > before,
        30_000,
      );
      const busy = (
        (await cluster.rest('/taskmanagers')).taskmanagers as { id: string; freeSlots: number }[]
      ).find((tm) => tm.freeSlots === 0);
      const victim = cluster.taskManagers.find((tm) => tm.ready.resourceId === busy?.id);
      if (!victim) break;
      victim.child.kill('SIGKILL');
      await cluster.addTaskManager();
      await cluster.waitFor(
        async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'RUNNING',
        30_000,
      );
    }
    const result = await run;
    expect(result.stderr).toContain('RESTARTING');
    expect(result.code).toBe(0);
    const details = await cluster.rest(`/jobs/${jobId}`);
    expect(details['num-restarts']).toBeGreaterThanOrEqual(3);
    const actual = committedOutput(out);
    const expected = expectedOutput(events);
    expect(actual.length).toBe(expected.length);
    expect(actual).toEqual(expected);
  }, 180_000);
});
