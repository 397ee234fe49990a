import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { nimble, TestCluster } from './fixtures/cluster.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const job = (name: string) => `${root}test/fixtures/cluster-jobs/${name}`;
const example = (name: string) => `${root}packages/examples/src/${name}`;

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({
    taskManagers: 3,
    jm: [
      '-D',
      'slot.request.timeout=3 s',
      '-D',
      'restart-strategy.type=fixed-delay',
      '-D',
      'restart-strategy.fixed-delay.attempts=3',
      '-D',
      'restart-strategy.fixed-delay.delay=200 ms',
    ],
    tm: ['-D', 'metrics.fetcher.update-interval=500 ms'],
  });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

/** Lines of a program's print() output, run in-process with tsx. */
function localRun(file: string, args: string[] = []): string[] {
  const tsx = `${root}node_modules/.bin/tsx`;
  const run = spawnSync(tsx, [file, ...args], {
    encoding: 'utf8',
    // The session tracker prints about 1 MiB, spawnSync's default limit: beyond it the output is
    // cut and the child killed.
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, NIMBLE_EXAMPLE_IMPORT: '0' },
  });
  expect(run.status).toBe(0);
  return run.stdout.split('\n').filter(Boolean);
}

/** Runs a job on the cluster and returns the lines its TaskManagers printed meanwhile. */
async function clusterRun(file: string, args: string[] = []): Promise<string[]> {
  const before = cluster.taskManagers.map((tm) => tm.stdout().length);
  const run = await nimble(['run', '-m', cluster.address, file, ...args]);
  expect(run.stderr).toContain('FINISHED');
  expect(run.code).toBe(0);
  return cluster.taskManagers.flatMap((tm, i) =>
    tm
      .stdout()
      .slice(before[i] ?? 0)
      .split('\n')
      .filter(Boolean),
  );
}

// Subtask prefixes ("1> ") depend on which subtask printed; the records themselves must match.
const strip = (lines: string[]) => lines.map((l) => l.replace(/^\d+> /, '')).sort();

describe('examples on a cluster of real daemons', () => {
  it('late-data: the same records as the local executor', async () => {
    const expected = localRun(example('late-data.ts'));
    const printed = await clusterRun(example('late-data.ts'));
    expect(strip(printed)).toEqual(strip(expected));
    expect(printed.length).toBeGreaterThan(5);
  });

  it('session-tracker: the same records as the local executor', async () => {
    // Sessions depend on the order of a user's events: one source subtask keeps it fixed.
    const args = ['--events', '20000', '--parallelism', '1'];
    const expected = localRun(example('session-tracker.ts'), args);
    const printed = await clusterRun(example('session-tracker.ts'), args);
    expect(strip(printed)).toEqual(strip(expected));
    expect(printed.length).toBeGreaterThan(0);
  });

  it('user-spend at parallelism 2 across two TaskManagers: the same spend per user and window', async () => {
    const args = ['--events', '20000', '--rate', '0'];
    // The category is the last purchase's, which depends on arrival order: compare the rest.
    const key = (lines: string[]) =>
      lines
        .map((l) => JSON.parse(l.replace(/^\d+> /, '')) as Record<string, unknown>)
        .map((r) => `${r['user_id']} ${r['spend_5min_usd']} ${r['window_end_ts']}`)
        .sort();
    const expected = key(localRun(example('user-spend.ts'), args));
    const printed = key(await clusterRun(example('user-spend.ts'), args));
    expect(printed).toEqual(expected);
    expect(printed.length).toBeGreaterThan(1000);
  });

  it('nimble run -p 2 sets the parallelism of a job that sets none (slots and enumerators agree)', async () => {
    const run = await nimble([
      'run',
      '-m',
      cluster.address,
      '-p',
      '2',
      job('default-parallelism-job.ts'),
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(/RESULT (.*)/.exec(run.stdout)![1]!)).toEqual({ seen: [2], sum: 499_500 });
  });

  it('executeAndCollect returns the collected records to the client', async () => {
    const run = await nimble(['run', '-m', cluster.address, job('count-job.ts'), '20000']);
    expect(run.code).toBe(0);
    const result = JSON.parse(/RESULT (.*)/.exec(run.stdout)![1]!);
    expect(result).toEqual(
      Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 2000])),
    );
    expect(run.stdout).toMatch(/Job has been submitted with JobID [0-9a-f]{32}/);
  });
});

describe('job control', () => {
  it('cancel: a running job ends CANCELED and gives its slots back; backpressure bounds memory', async () => {
    const submit = await nimble(['run', '-d', '-m', cluster.address, job('slow-sink-job.ts')]);
    expect(submit.code).toBe(0);
    const jobId = /JobID ([0-9a-f]{32})/.exec(submit.stdout)![1]!;
    await cluster.waitFor(async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'RUNNING');
    const list = await nimble(['list', '-r', '-m', cluster.address]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(`${jobId} : slow-sink (RUNNING)`);
    const overview = await cluster.rest('/overview');
    expect(overview['slots-available']).toBe(1);

    // The source could produce millions of records per second; the sink takes ~1000/s per
    // subtask. Credit-based flow control must hold the source back rather than buffer.
    let backPressure = 0;
    let rss: number[] = [];
    const readMetrics = async (): Promise<void> => {
      const now: number[] = [];
      for (const tm of cluster.taskManagers) {
        const text = await (await fetch(`http://127.0.0.1:${tm.ready.httpPort}/metrics`)).text();
        now.push(
          Number(/^nimble_taskmanager_process_resident_memory_bytes (\d+)/m.exec(text)?.[1]),
        );
        for (const m of text.matchAll(
          /^nimble_taskmanager_job_task_backPressuredTimeMsPerSecond\{[^}]*task_name="fast-source[^}]*\} ([\d.]+)/gm,
        )) {
          backPressure = Math.max(backPressure, Number(m[1]));
        }
      }
      rss = now;
    };
    // Readings until one shows the source held back: one sampling interval can fall on a moment
    // when the loaded machine starved the slot thread.
    await cluster.waitFor(async () => {
      await readMetrics();
      return backPressure > 200;
    }, 60_000);
    // Memory is read once the slow map has taken several thousand records, enough time for a
    // source that buffered instead of waiting to have grown its TaskManager.
    const slowMapRead = async (): Promise<number> => {
      const d = await cluster.rest(`/jobs/${jobId}`);
      const v = d.vertices.find((x: { name: string }) => x.name.includes('slow-map'));
      return Number(v?.metrics?.['read-records'] ?? 0);
    };
    const readBefore = await slowMapRead();
    await cluster.waitFor(async () => (await slowMapRead()) >= readBefore + 5000, 60_000);
    await readMetrics();
    const details = await cluster.rest(`/jobs/${jobId}`);
    const cancel = await nimble(['cancel', jobId, '-m', cluster.address]);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toContain(`Cancelled job ${jobId}.`);
    expect((await cluster.rest(`/jobs/${jobId}`)).state).toBe('CANCELED');
    await cluster.waitFor(async () => (await cluster.rest('/overview'))['slots-available'] === 3);
    // The sources spent a good part of each second waiting for credit, and no TaskManager grew.
    expect(backPressure).toBeGreaterThan(200);
    for (const bytes of rss) {
      expect(bytes).toBeGreaterThan(0);
      expect(bytes).toBeLessThan(400 * 1024 * 1024);
    }
    const sink = details.vertices.find((v: { name: string }) => v.name.includes('slow-map'));
    expect(sink.parallelism).toBe(2);
    expect(sink.metrics['read-records']).toBeGreaterThan(0);
    const all = await cluster.rest('/jobs/overview');
    expect(all.jobs.find((j: { jid: string }) => j.jid === jobId).state).toBe('CANCELED');
  }, 180_000);

  it('cluster shows the TaskManagers and their slots', async () => {
    const run = await nimble(['cluster', '-m', cluster.address]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('TaskManagers: 3  slots: 3 free of 3');
    const tms = await cluster.rest('/taskmanagers');
    expect(tms.taskmanagers).toHaveLength(3);
    expect(tms.taskmanagers[0].slotsNumber).toBe(1);
  });
});

describe('bad input: a clear error, and the daemons keep running', () => {
  it('a job that throws while building its plan', async () => {
    const run = await nimble(['run', '-m', cluster.address, job('plan-error-job.ts')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/parallelism/i);
  });

  it('an unknown job id', async () => {
    const run = await nimble(['cancel', '0123456789abcdef0123456789abcdef', '-m', cluster.address]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Job "0123456789abcdef0123456789abcdef" not found');
    const res = await fetch(`${cluster.restUrl}/jobs/0123`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ errors: ['Job 0123 not found'] });
  });

  it('more parallelism than slots fails after slot.request.timeout with a message', async () => {
    const run = await nimble(['run', '-m', cluster.address, job('count-job.ts'), '100', '0', '5']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'Could not acquire the minimum required resources: the job needs 5 task slot(s)',
    );
    expect((await cluster.rest('/overview'))['slots-available']).toBe(3);
  });

  it('malformed REST requests', async () => {
    expect((await fetch(`${cluster.restUrl}/nonsense`)).status).toBe(404);
    const patch = await fetch(`${cluster.restUrl}/jobs/abc?mode=stop`, { method: 'PATCH' });
    expect(patch.status).toBe(404);
    // A known path with a method it does not serve: 405 with the methods it does.
    const post = await fetch(`${cluster.restUrl}/jobs`, { method: 'POST', body: '{{{' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    expect((await cluster.rest('/overview')).taskmanagers).toBe(3);
  });

  it('malformed gRPC requests', async () => {
    const garbage = new grpc.Client(cluster.address, grpc.credentials.createInsecure());
    const call = (path: string, bytes: Buffer) =>
      new Promise<grpc.ServiceError | null>((resolve) =>
        garbage.makeUnaryRequest(
          path,
          (b: Buffer) => b,
          (b: Buffer) => b,
          bytes,
          (err) => resolve(err),
        ),
      );
    const bad = await call(
      '/nimble.v1.Dispatcher/SubmitJob',
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]),
    );
    expect(bad?.code).toBe(grpc.status.INTERNAL);
    // Well-formed protobuf, but not a job: named field errors.
    const { nimbleServices } = await import('@nimble/proto');
    const Dispatcher = nimbleServices().Dispatcher;
    const client = new Dispatcher(cluster.address, grpc.credentials.createInsecure());
    const err = await new Promise<grpc.ServiceError | null>((resolve) =>
      client.SubmitJob(
        { jobName: 'x', bundle: Buffer.from('x'), planJson: '{"jobName": 1}' },
        (e) => resolve(e),
      ),
    );
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toContain('plan_json: expected an object with a string jobName');
    client.close();
    garbage.close();
    expect((await cluster.rest('/overview')).taskmanagers).toBe(3);
  });

  it('an unknown configuration key or a bad value stops a daemon with a message naming it', async () => {
    const unknown = await nimble(['jobmanager', '-D', 'rest.prot=0']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('rest.prot');
    const bad = await nimble(['taskmanager', '-D', 'taskmanager.numberOfTaskSlots=many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('taskmanager.numberOfTaskSlots');
  });
});

describe('failover', () => {
  it('a TaskManager killed with SIGKILL mid-job: the job restarts on the remaining slots and finishes', async () => {
    const run = nimble(['run', '-m', cluster.address, job('count-job.ts'), '60000', '15000']);
    let jobId = '';
    await cluster.waitFor(async () => {
      const jobs = (await cluster.rest('/jobs/overview')).jobs as {
        jid: string;
        name: string;
        state: string;
      }[];
      jobId = jobs.find((j) => j.name === 'count-job' && j.state === 'RUNNING')?.jid ?? '';
      return jobId !== '';
    }, 120_000);
    // The source is throttled to 4 s of events: a TaskManager that holds a slot of the job
    // runs its tasks mid-job.
    let holder: { id: string; freeSlots: number } | undefined;
    await cluster.waitFor(async () => {
      holder = (
        (await cluster.rest('/taskmanagers')).taskmanagers as { id: string; freeSlots: number }[]
      ).find((tm) => tm.freeSlots === 0);
      return holder !== undefined;
    });
    const busy = holder!;
    const victim = cluster.taskManagers.find((tm) => tm.ready.resourceId === busy.id)!;
    victim.child.kill('SIGKILL');
    const result = await run;
    expect(result.stderr).toContain('RESTARTING');
    expect(result.code).toBe(0);
    expect(JSON.parse(/RESULT (.*)/.exec(result.stdout)![1]!)).toEqual(
      Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 6000])),
    );
    const details = await cluster.rest(`/jobs/${jobId}`);
    expect(details['num-restarts']).toBeGreaterThanOrEqual(1);
    const exceptions = await cluster.rest(`/jobs/${jobId}/exceptions`);
    expect(exceptions['root-exception']).toContain(`TaskManager ${busy.id} was lost`);
    const metrics = await (await fetch(`${cluster.restUrl}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`nimble_jobmanager_job_numRestarts\\{job_id="${jobId}"[^}]*\\} [1-9]`),
    );
  }, 90_000);
});
