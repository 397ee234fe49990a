/**
 * The feature-server example on a real cluster: the user-features job takes a bounded input and
 * keeps running; the feature server reads each user's features from its queryable state through
 * @nimble/client and must answer exactly the features computed here from the same purchases,
 * 404 for an unknown user, 503 while the job waits to restart, and the same features after the
 * job recovered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { JobManagerClient } from '@nimble/client';
import type * as FeatureServerModule from '@nimble/examples/feature-server';
import { FAST_RESTARTS, nimble, stopDaemon, TestCluster } from './fixtures/cluster.js';
import { expectedFeatures } from './fixtures/user-features.js';

const JOB = fileURLToPath(new URL('../packages/examples/src/user-features.ts', import.meta.url));
const SERVER = fileURLToPath(
  new URL('../packages/examples/src/feature-server.ts', import.meta.url),
);
const TSX = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
const EVENTS = 2000;
const STREAM = { users: 5, msPerEvent: 1000, maxDelayMs: 3000 };

let cluster: TestCluster;
let client: JobManagerClient;
let server: Server | undefined;
let featureServer: typeof FeatureServerModule;

beforeAll(async () => {
  cluster = await TestCluster.start({
    taskManagers: 2,
    slots: 1,
    jm: [
      ...FAST_RESTARTS,
      '-D',
      'heartbeat.interval=300 ms',
      '-D',
      'heartbeat.timeout=2 s',
      '-D',
      'metrics.fetcher.update-interval=200',
    ],
    tm: [
      '-D',
      'heartbeat.interval=300 ms',
      '-D',
      'heartbeat.timeout=2 s',
      '-D',
      'metrics.fetcher.update-interval=200',
    ],
  });
  // Import the server's functions without running it; the daemons above run the job module in
  // full, so the switch is set only around the import.
  const before = process.env['NIMBLE_EXAMPLE_IMPORT'];
  process.env['NIMBLE_EXAMPLE_IMPORT'] = '1';
  featureServer = await import('@nimble/examples/feature-server');
  if (before === undefined) delete process.env['NIMBLE_EXAMPLE_IMPORT'];
  else process.env['NIMBLE_EXAMPLE_IMPORT'] = before;
  client = new JobManagerClient(cluster.address);
}, 120_000);

afterAll(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  client?.close();
  await cluster?.stop();
});

/** Records the user-features operator has read, over its subtasks. */
async function featureRecordsIn(jobId: string): Promise<number> {
  const job = await cluster.rest(`/jobs/${jobId}`);
  const v = (job.vertices as { name: string; metrics?: Record<string, number> }[]).find((x) =>
    x.name.includes('User features'),
  );
  return v?.metrics?.['read-records'] ?? 0;
}

describe('feature-server example', () => {
  it.each(['hashmap', 'level'])(
    'serves exact features from the running job, 404 for strangers, 503 while it restarts (%s)',
    async (backend) => {
      const run = await nimble(
        [
          'run',
          '-d',
          '-m',
          cluster.address,
          JOB,
          '--users',
          String(STREAM.users),
          '--events',
          String(EVENTS),
          '--rate',
          '0',
          '--ms-per-event',
          String(STREAM.msPerEvent),
          '--backend',
          backend,
        ],
        { NIMBLE_EXAMPLE_IMPORT: '0' },
      );
      expect(run.code, run.stderr).toBe(0);
      const jobId = /JobID ([0-9a-f]{32})/.exec(run.stdout)![1]!;
      // The server finds the job by its name, as the program does without --job.
      expect(await featureServer.findRunningJob(client, 'user-features')).toBe(jobId);
      await expect(featureServer.findRunningJob(client, 'no-such-job')).rejects.toThrow(
        /No running job named "no-such-job" .*running jobs: user-features/,
      );

      server = featureServer.createFeatureServer({ client, jobId });
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const get = async (path: string) => {
        const res = await fetch(base + path);
        return {
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
          body: (await res.json()) as any,
        };
      };

      // Every purchase reached the features operator; the job goes on running (idle).
      await cluster.waitFor(async () => (await featureRecordsIn(jobId)) === EVENTS, 60_000);
      expect((await cluster.rest(`/jobs/${jobId}`)).state).toBe('RUNNING');

      const expected = expectedFeatures(EVENTS, STREAM);
      expect([...expected.keys()].sort()).toEqual([
        'user-0',
        'user-1',
        'user-2',
        'user-3',
        'user-4',
      ]);
      for (const [user, features] of expected) {
        expect(await get(`/features/${user}`)).toEqual({
          status: 200,
          retryAfter: null,
          body: features,
        });
      }
      // A rolling window that dropped purchases: the feature differs from the total.
      const user3 = expected.get('user-3')!;
      expect(user3.spend_5min_usd).toBeGreaterThan(0);
      expect(user3.spend_5min_usd).toBeLessThan(user3.spend_usd);

      const stranger = await get('/features/user-99');
      expect(stranger.status).toBe(404);
      expect(stranger.body.error).toBe('No features for user "user-99": no purchase seen');

      // Several users: one batched lookup per state; an unknown user is null in its place.
      expect(await get('/features?user=user-1&user=user-99&user=user-4')).toEqual({
        status: 200,
        retryAfter: null,
        body: { features: [expected.get('user-1'), null, expected.get('user-4')] },
      });
      expect((await get('/features')).status).toBe(400);
      expect((await get('/nothing-here')).status).toBe(404);

      // A TaskManager dies: the job cannot get its two slots back until another one registers,
      // and meanwhile the server answers 503 with Retry-After.
      const [lost] = cluster.taskManagers.splice(1, 1);
      await stopDaemon(lost!, 'SIGKILL');
      await expect
        .poll(async () => (await get('/features/user-3')).status, {
          timeout: 60_000,
          interval: 200,
        })
        .toBe(503);
      const restarting = await get('/features/user-3');
      expect(restarting.retryAfter).toBe('1');
      expect(restarting.body.error).toMatch(/^The feature job is restarting; retry: /);

      // Back with a new TaskManager: the job replays its input and serves the same features.
      await cluster.addTaskManager();
      await cluster.waitFor(
        async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'RUNNING',
        60_000,
      );
      // (The replay takes a moment: each user's features grow back to the same values.)
      for (const [user, features] of expected) {
        await expect
          .poll(async () => (await get(`/features/${user}`)).body, {
            timeout: 60_000,
            interval: 200,
          })
          .toEqual(features);
      }
      // Counted once: the restarted attempt read the input again from its start.
      await expect
        .poll(() => featureRecordsIn(jobId), { timeout: 30_000, interval: 200 })
        .toBe(EVENTS);
      // As a program: it finds the job by name and prints where it serves.
      const program = spawn(TSX, [SERVER, '--jobmanager', cluster.address, '--port', '0'], {
        env: { ...process.env, NIMBLE_EXAMPLE_IMPORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        let printed = '';
        program.stdout.on('data', (d: Buffer) => (printed += d.toString()));
        await cluster.waitFor(() => printed.includes('\n'), 60_000);
        expect(printed).toMatch(
          new RegExp(
            `^Serving the features of job ${jobId} on http://localhost:\\d+/features/:userId\n$`,
          ),
        );
        const port = /localhost:(\d+)/.exec(printed)![1]!;
        const res = await fetch(`http://127.0.0.1:${port}/features/user-0`);
        expect(await res.json()).toEqual(expected.get('user-0'));
      } finally {
        program.kill();
      }
      await client.cancelJob(jobId);
      await cluster.waitFor(
        async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'CANCELED',
      );
      await new Promise((r) => server!.close(r));
      server = undefined;
    },
    240_000,
  );
});
