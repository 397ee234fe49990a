/**
 * A TaskManager's log over the JobManager's REST API, in Flink's shapes (LogListInfo, the log
 * as text): the JobManager asks the TaskManager for its latest lines over gRPC, and a
 * TaskManager that does not answer costs a request a few seconds, never the JobManager.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { createServer } from 'node:net';
import { nimbleServices } from '@nimble/proto';
import { TestCluster } from './fixtures/cluster.js';

let cluster: TestCluster;
let tmId = '';
let started = 0;

beforeAll(async () => {
  started = Date.now();
  cluster = await TestCluster.start({ taskManagers: 1 });
  tmId = cluster.taskManagers[0]!.ready.resourceId!;
}, 60_000);

afterAll(async () => {
  const tm = cluster?.taskManagers[0];
  if (tm && tm.child.exitCode === null) tm.child.kill('SIGCONT');
  await cluster?.stop();
});

const get = async (path: string, init?: RequestInit) => {
  const res = await fetch(cluster.restUrl + path, init);
  const text = await res.text();
  const json = res.headers.get('content-type')?.startsWith('application/json');
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    body: json ? JSON.parse(text) : text,
  };
};

describe('a TaskManager’s log over REST', () => {
  it('GET /taskmanagers/:id/logs: Flink’s LogListInfo with the one file of kept lines', async () => {
    // The list and the text agree once the TaskManager logs nothing between the two reads.
    let list: any;
    let text = '';
    await cluster.waitFor(async () => {
      const before = await get(`/taskmanagers/${tmId}/logs`);
      text = (await get(`/taskmanagers/${tmId}/log`)).body as string;
      list = (await get(`/taskmanagers/${tmId}/logs`)).body;
      return before.body.logs[0].size === list.logs[0].size;
    });
    expect(Object.keys(list)).toEqual(['logs']);
    expect(list.logs).toHaveLength(1);
    expect(Object.keys(list.logs[0]).sort()).toEqual(['mtime', 'name', 'size']);
    expect(list.logs[0].name).toBe('taskmanager.log');
    expect(list.logs[0].size).toBe(Buffer.byteLength(text));
    expect(list.logs[0].mtime).toBeGreaterThanOrEqual(started);
    expect(list.logs[0].mtime).toBeLessThanOrEqual(Date.now());
  });

  it('GET /taskmanagers/:id/log and .../logs/taskmanager.log: the lines it logged, as text', async () => {
    const log = await get(`/taskmanagers/${tmId}/log`);
    expect(log.status).toBe(200);
    expect(log.type).toBe('text/plain; charset=utf-8');
    const text = log.body as string;
    expect(text).toContain('TaskManager started');
    expect(text).toContain('registered at the JobManager');
    expect(text).toContain(`tm_id=${tmId}`);
    // Lines for people, whatever the format on the TaskManager's stderr.
    expect(text.split('\n')[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}taskmanager {2}/);
    const file = await get(`/taskmanagers/${encodeURIComponent(tmId)}/logs/taskmanager.log`);
    expect([file.status, file.type]).toEqual([200, 'text/plain; charset=utf-8']);
    expect((file.body as string).startsWith(text)).toBe(true);
  });

  it('404 naming an unknown TaskManager or log file; 405 for another method', async () => {
    for (const path of ['logs', 'log', 'logs/taskmanager.log']) {
      const missing = await get(`/taskmanagers/no-such-tm/${path}`);
      expect([missing.status, missing.body], path).toEqual([
        404,
        { errors: ['TaskManager no-such-tm is not registered'] },
      ]);
    }
    for (const name of ['jobmanager.log', '../taskmanager.log']) {
      const other = await get(`/taskmanagers/${tmId}/logs/${encodeURIComponent(name)}`);
      expect([other.status, other.body], name).toEqual([
        404,
        {
          errors: [
            `TaskManager ${tmId} has no log file ${JSON.stringify(name)}; its log is taskmanager.log`,
          ],
        },
      ]);
    }
    for (const path of ['logs', 'log', 'logs/taskmanager.log']) {
      const res = await fetch(`${cluster.restUrl}/taskmanagers/${tmId}/${path}`, {
        method: 'POST',
      });
      expect([res.status, res.headers.get('allow')], path).toEqual([405, 'GET']);
    }
  });

  it('a TaskManager that does not answer: 504 naming it within seconds; the JobManager serves on', async () => {
    const tm = cluster.taskManagers[0]!;
    tm.child.kill('SIGSTOP');
    try {
      const pending = get(`/taskmanagers/${tmId}/log`);
      // Meanwhile the JobManager answers other requests.
      expect((await get('/overview')).status).toBe(200);
      const stalled = await pending;
      expect([stalled.status, stalled.body]).toEqual([
        504,
        { errors: [`TaskManager ${tmId} did not send its log within 5000 ms`] },
      ]);
      const list = await get(`/taskmanagers/${tmId}/logs`);
      expect(list.status).toBe(504);
    } finally {
      tm.child.kill('SIGCONT');
    }
    await cluster.waitFor(async () => (await get(`/taskmanagers/${tmId}/log`)).status === 200);
    expect((await get('/overview')).body.taskmanagers).toBe(1);
  }, 60_000);

  it('a TaskManager that cannot be reached: 502 naming it and the cause', async () => {
    // A TaskManager registers at an address where nothing listens any more.
    const probe = createServer();
    const port = await new Promise<number>((resolve) =>
      probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port)),
    );
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const rm = new (nimbleServices().ResourceManager)(
      cluster.address,
      grpc.credentials.createInsecure(),
    );
    try {
      await new Promise<void>((resolve, reject) =>
        rm.RegisterTaskManager(
          { resourceId: 'gone-tm', address: `127.0.0.1:${port}`, numberOfSlots: 1 },
          (e) => (e ? reject(e) : resolve()),
        ),
      );
      const gone = await get('/taskmanagers/gone-tm/log');
      expect(gone.status).toBe(502);
      expect(gone.body.errors[0]).toMatch(
        new RegExp(
          `^TaskManager gone-tm could not send its log: GetLog on 127\\.0\\.0\\.1:${port} failed: UNAVAILABLE: `,
        ),
      );
      expect((await get('/overview')).status).toBe(200);
    } finally {
      rm.close();
    }
  });
});
