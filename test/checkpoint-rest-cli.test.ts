/**
 * Checkpoints and savepoints as an operator sees them, on real daemons: the REST API's
 * checkpoint statistics and configuration, the JobManager's checkpoint metrics, `nimble
 * savepoint` / `savepoint --dispose` / `stop` / `run -s`, and REST-triggered savepoints.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MetricNames } from '@nimble/runtime';
import { nimble, TestCluster } from './fixtures/cluster.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const job = (name: string) => `${root}test/fixtures/cluster-jobs/${name}`;
const COUNT_JOB = job('checkpointed-count-job.ts');
const UNKNOWN_JOB = '0123456789abcdef0123456789abcdef';

let cluster: TestCluster;
let dir: string;
/** A directory under the test's temp directory, as the file:// URI the JobManager prints. */
const uri = (name: string) => pathToFileURL(join(dir, name)).href;
const metadataOf = (path: string) => join(fileURLToPath(path), '_metadata');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nimble-checkpoint-rest-cli-'));
  // No state.savepoints.dir: savepoints need a target directory, which the tests give.
  cluster = await TestCluster.start({ taskManagers: 2, slots: 2 });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function submit(args: string[]): Promise<string> {
  const run = await nimble(['run', '-d', '-m', cluster.address, ...args]);
  expect(run.code, run.stderr).toBe(0);
  const jobId = /JobID ([0-9a-f]{32})/.exec(run.stdout)![1]!;
  await cluster.waitFor(async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'RUNNING');
  return jobId;
}

/** Polls a savepoint operation until it is no longer IN_PROGRESS and returns its last status. */
async function awaitOperation(jobId: string, triggerId: string): Promise<any> {
  let last: any;
  await cluster.waitFor(async () => {
    const res = await fetch(`${cluster.restUrl}/jobs/${jobId}/savepoints/${triggerId}`);
    expect(res.status).toBe(200);
    last = await res.json();
    return last.status.id !== 'IN_PROGRESS';
  }, 60_000);
  return last;
}

const post = (path: string, body: string) =>
  fetch(`${cluster.restUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });

describe('checkpoints and savepoints of a running job', () => {
  let jobId = '';
  let stoppedAt = '';

  it('GET /jobs/:id/checkpoints: completed checkpoints with Flink’s fields', async () => {
    // 1000 events/s for 60 s at most: the job is stopped with a savepoint further down.
    jobId = await submit([
      '-D',
      `state.checkpoints.dir=${uri('checkpoints')}`,
      COUNT_JOB,
      '60000',
      '1000',
    ]);
    let stats: any;
    await cluster.waitFor(async () => {
      stats = await cluster.rest(`/jobs/${jobId}/checkpoints`);
      return stats.counts.completed >= 2;
    }, 60_000);
    expect(stats.counts.total).toBe(
      stats.counts.completed + stats.counts.failed + stats.counts.in_progress,
    );
    expect(stats.counts.restored).toBe(0);
    const completed = stats.history.filter((h: any) => h.status === 'COMPLETED');
    expect(completed.length).toBeGreaterThanOrEqual(2);
    for (const h of completed) {
      expect(h.is_savepoint).toBe(false);
      expect(h.state_size).toBeGreaterThan(0);
      expect(h.end_to_end_duration).toBeGreaterThanOrEqual(0);
      expect(h.num_acknowledged_subtasks).toBe(h.num_subtasks);
      expect(h.external_path).toBe(`${uri('checkpoints')}/${jobId}/chk-${h.id}`);
    }
    // Newest first.
    const ids = stats.history.map((h: any) => h.id);
    expect(ids).toEqual([...ids].sort((a: number, b: number) => b - a));
    expect(stats.latest.completed.id).toBe(completed[0].id);
    expect(stats.latest.completed.external_path).toBe(completed[0].external_path);
    expect(stats.latest.savepoint).toBeNull();
    expect(stats.latest.restored).toBeNull();
    expect(stats.summary.state_size.min).toBeGreaterThan(0);
    expect(stats.summary.state_size.max).toBeGreaterThanOrEqual(stats.summary.state_size.avg);
    expect(stats.summary.state_size.avg).toBeGreaterThanOrEqual(stats.summary.state_size.min);
    expect(stats.summary.end_to_end_duration.max).toBeGreaterThanOrEqual(
      stats.summary.end_to_end_duration.min,
    );
  }, 60_000);

  it('GET /jobs/:id/checkpoints/config: the job’s checkpoint settings', async () => {
    expect(await cluster.rest(`/jobs/${jobId}/checkpoints/config`)).toEqual({
      mode: 'exactly_once',
      interval: 300,
      timeout: 600_000,
      min_pause: 0,
      max_concurrent: 1,
      externalization: { enabled: true, delete_on_cancellation: true },
      state_backend: 'HashMapStateBackend',
      checkpoint_storage: 'FileSystemCheckpointStorage',
      unaligned_checkpoints: false,
      aligned_checkpoint_timeout: 0,
      tolerable_failed_checkpoints: 0,
    });
  });

  it('/metrics: the checkpoint gauges of the job', async () => {
    const text = await (await fetch(`${cluster.restUrl}/metrics`)).text();
    const value = (name: string): number => {
      const m = new RegExp(
        `^${name}\\{job_id="${jobId}",job_name="checkpointed-count"\\} (\\S+)$`,
        'm',
      ).exec(text);
      expect(m, `${name} for job ${jobId} in:\n${text}`).not.toBeNull();
      return Number(m![1]);
    };
    expect(value(MetricNames.jobNumberOfCompletedCheckpoints)).toBeGreaterThanOrEqual(2);
    expect(value(MetricNames.jobNumberOfFailedCheckpoints)).toBeGreaterThanOrEqual(0);
    expect([0, 1]).toContain(value(MetricNames.jobNumberOfInProgressCheckpoints));
    expect(value(MetricNames.jobLastCheckpointSize)).toBeGreaterThan(0);
    expect(value(MetricNames.jobLastCheckpointDuration)).toBeGreaterThanOrEqual(0);
    expect(text).toContain(`# TYPE ${MetricNames.jobLastCheckpointDuration} gauge`);
  });

  it('nimble savepoint <jobId> <dir> writes a savepoint; --dispose deletes it', async () => {
    const run = await nimble(['savepoint', '-m', cluster.address, jobId, uri('cli-savepoints')]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const path = /^Savepoint completed\. Path: (\S+)$/m.exec(run.stdout)?.[1] ?? '';
    expect(run.stdout).toBe(
      `Triggering savepoint for job ${jobId}.\nWaiting for response...\n` +
        `Savepoint completed. Path: ${path}\n` +
        'You can resume your program from this savepoint with the run command.\n',
    );
    expect(path.startsWith(`${uri('cli-savepoints')}/savepoint-${jobId.slice(0, 6)}-`)).toBe(true);
    expect(existsSync(metadataOf(path))).toBe(true);
    const stats = await cluster.rest(`/jobs/${jobId}/checkpoints`);
    expect(stats.latest.savepoint.external_path).toBe(path);
    expect(stats.latest.savepoint.is_savepoint).toBe(true);
    expect((await cluster.rest(`/jobs/${jobId}`)).state).toBe('RUNNING');

    const dispose = await nimble(['savepoint', '-m', cluster.address, '--dispose', path]);
    expect(dispose.stderr).toBe('');
    expect(dispose.code).toBe(0);
    expect(dispose.stdout).toBe(`Disposing savepoint '${path}'.\nSavepoint '${path}' disposed.\n`);
    expect(existsSync(fileURLToPath(path))).toBe(false);

    const again = await nimble(['savepoint', '-m', cluster.address, '-d', path]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`Disposing the savepoint '${path}' failed: No savepoint at`);
  }, 60_000);

  it('POST /jobs/:id/savepoints, then polling the trigger id, gives the location', async () => {
    const res = await post(
      `/jobs/${jobId}/savepoints`,
      JSON.stringify({ 'target-directory': uri('rest-savepoints'), 'cancel-job': false }),
    );
    expect(res.status).toBe(202);
    const { 'request-id': triggerId } = (await res.json()) as { 'request-id': string };
    expect(triggerId).toMatch(/^[0-9a-f]{32}$/);
    const result = await awaitOperation(jobId, triggerId);
    expect(result.status.id).toBe('COMPLETED');
    expect(result.operation['failure-cause']).toBeUndefined();
    const location: string = result.operation.location;
    expect(location.startsWith(`${uri('rest-savepoints')}/savepoint-`)).toBe(true);
    expect(existsSync(metadataOf(location))).toBe(true);
    expect((await cluster.rest(`/jobs/${jobId}`)).state).toBe('RUNNING');
  }, 60_000);

  it('REST savepoint requests that cannot work: 400 and 404 with a message', async () => {
    const firstError = async (res: Response): Promise<string> =>
      ((await res.json()) as { errors: string[] }).errors[0] ?? '';
    const malformed = await post(`/jobs/${jobId}/savepoints`, '{"target-directory": ');
    expect(malformed.status).toBe(400);
    expect(await firstError(malformed)).toContain('not valid JSON');

    const noDirectory = await post(`/jobs/${jobId}/savepoints`, '{}');
    expect(noDirectory.status).toBe(400);
    expect(await firstError(noDirectory)).toContain('state.savepoints.dir');

    const relative = await post(`/jobs/${jobId}/stop`, '{"targetDirectory": "relative/dir"}');
    expect(relative.status).toBe(400);
    expect(await firstError(relative)).toContain('relative/dir');

    const unknownTrigger = await fetch(`${cluster.restUrl}/jobs/${jobId}/savepoints/abc`);
    expect(unknownTrigger.status).toBe(404);
    expect(await firstError(unknownTrigger)).toContain('abc');

    const unknownJob = await post(`/jobs/${UNKNOWN_JOB}/savepoints`, '{}');
    expect(unknownJob.status).toBe(404);
    expect(await unknownJob.json()).toEqual({ errors: [`Job ${UNKNOWN_JOB} not found`] });
    // None of these disturbed the job.
    expect((await cluster.rest(`/jobs/${jobId}`)).state).toBe('RUNNING');
  });

  it('nimble stop <jobId> --savepoint-path <dir>: the job ends FINISHED after a savepoint', async () => {
    const run = await nimble([
      'stop',
      '-m',
      cluster.address,
      jobId,
      '--savepoint-path',
      uri('stop'),
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    stoppedAt = /^Savepoint completed\. Path: (\S+)$/m.exec(run.stdout)?.[1] ?? '';
    expect(run.stdout).toBe(
      `Suspending job "${jobId}" with a savepoint.\nSavepoint completed. Path: ${stoppedAt}\n`,
    );
    expect(stoppedAt.startsWith(`${uri('stop')}/savepoint-`)).toBe(true);
    expect(existsSync(metadataOf(stoppedAt))).toBe(true);
    expect((await cluster.rest(`/jobs/${jobId}`)).state).toBe('FINISHED');

    // A job that ended takes no savepoint: exit 1 with the JobManager's reason.
    const late = await nimble(['savepoint', '-m', cluster.address, jobId, uri('late')]);
    expect(late.code).toBe(1);
    expect(late.stderr).toContain(`Triggering a savepoint for the job ${jobId} failed`);
    expect(late.stderr).toContain('FINISHED');
    const latePost = await post(
      `/jobs/${jobId}/savepoints`,
      JSON.stringify({ 'target-directory': uri('late') }),
    );
    expect(latePost.status).toBe(409);
  }, 60_000);

  it('nimble run -s resumes from the savepoint; POST /jobs/:id/stop stops it again', async () => {
    const resumed = await submit([
      '-s',
      stoppedAt,
      '--allow-non-restored-state',
      '-D',
      `state.checkpoints.dir=${uri('checkpoints')}`,
      COUNT_JOB,
      '60000',
      '1000',
    ]);
    const stats = await cluster.rest(`/jobs/${resumed}/checkpoints`);
    expect(stats.latest.restored).toMatchObject({ is_savepoint: true, external_path: stoppedAt });
    expect(stats.latest.restored.id).toBeGreaterThan(0);

    const res = await post(
      `/jobs/${resumed}/stop`,
      JSON.stringify({ targetDirectory: uri('rest-stop'), drain: false }),
    );
    expect(res.status).toBe(202);
    const { 'request-id': triggerId } = (await res.json()) as { 'request-id': string };
    const result = await awaitOperation(resumed, triggerId);
    expect(result.status.id).toBe('COMPLETED');
    expect(result.operation.location.startsWith(`${uri('rest-stop')}/savepoint-`)).toBe(true);
    expect(existsSync(metadataOf(result.operation.location))).toBe(true);
    expect((await cluster.rest(`/jobs/${resumed}`)).state).toBe('FINISHED');
  }, 60_000);
});

describe('bad requests: a clear error and exit code', () => {
  it('a savepoint of an unknown job: exit 1 naming the job', async () => {
    const run = await nimble(['savepoint', '-m', cluster.address, UNKNOWN_JOB, uri('x')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `Triggering a savepoint for the job ${UNKNOWN_JOB} failed: Job "${UNKNOWN_JOB}" not found`,
    );
    const stop = await nimble(['stop', '-m', cluster.address, UNKNOWN_JOB, '-p', uri('x')]);
    expect(stop.code).toBe(1);
    expect(stop.stderr).toContain(`Job "${UNKNOWN_JOB}" not found`);
  });

  it('bad arguments: exit 2 before contacting the JobManager', async () => {
    const noJob = await nimble(['savepoint', '-m', cluster.address]);
    expect(noJob.code).toBe(2);
    expect(noJob.stderr).toContain('give the id of the job');
    const relative = await nimble(['savepoint', '-m', cluster.address, UNKNOWN_JOB, 'rel/dir']);
    expect(relative.code).toBe(2);
    expect(relative.stderr).toContain('"rel/dir"');
    const nWithoutS = await nimble(['run', '-m', cluster.address, '-n', COUNT_JOB]);
    expect(nWithoutS.code).toBe(2);
    expect(nWithoutS.stderr).toContain('--fromSavepoint');
  });

  it('GET /jobs/:id/checkpoints/config of a job without checkpointing: 404', async () => {
    const plain = await submit([job('slow-sink-job.ts')]);
    const res = await fetch(`${cluster.restUrl}/jobs/${plain}/checkpoints/config`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      errors: [`Checkpointing is not enabled for this job (${plain}).`],
    });
    const cancel = await nimble(['cancel', plain, '-m', cluster.address]);
    expect(cancel.code).toBe(0);
  }, 60_000);
});
