import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import type { Daemon } from './fixtures/cluster.js';
import { nimble, startDaemon, stopDaemon } from './fixtures/cluster.js';
import { composeServiceSettings } from './fixtures/compose.js';

// The docker-compose services' commands and settings, run as plain processes: only what binds
// to the compose network (host names, fixed ports, container paths) is mapped to loopback,
// ports from 0 and a temporary directory.
const dir = mkdtempSync(join(tmpdir(), 'nimble-compose-'));
const daemons: Daemon[] = [];

function asProcess(service: 'jobmanager' | 'taskmanager', jmPort?: number) {
  const { args, properties } = composeServiceSettings(service);
  const local: Record<string, string> = {
    ...properties,
    'jobmanager.rpc.address': '127.0.0.1',
    'jobmanager.bind-host': '127.0.0.1',
    'rest.address': '127.0.0.1',
    'rest.bind-address': '127.0.0.1',
    'taskmanager.bind-host': '127.0.0.1',
    'rest.port': '0',
    'jobmanager.rpc.port': String(jmPort ?? 0),
    'taskmanager.rpc.port': '0',
    'metrics.reporter.prom.port': '0',
    'blob.storage.directory': join(dir, `${service}-${daemons.length}-blobs`),
    'io.tmp.dirs': dir,
  };
  const text = Object.entries(local)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  return { args, env: { NIMBLE_PROPERTIES: text }, properties };
}

afterAll(async () => {
  await Promise.all(daemons.map((d) => stopDaemon(d)));
  rmSync(dir, { recursive: true, force: true });
});

it("the compose services' settings start a working cluster", async () => {
  const jm = asProcess('jobmanager');
  expect(jm.args).toEqual(['jobmanager']);
  const jobManager = await startDaemon(jm.args, jm.env);
  daemons.push(jobManager);
  for (let i = 0; i < 2; i++) {
    const tm = asProcess('taskmanager', jobManager.ready.rpcPort);
    expect(tm.args).toEqual(['taskmanager']);
    daemons.push(await startDaemon(tm.args, tm.env));
  }
  const slotsPerTm = Number(
    composeServiceSettings('taskmanager').properties['taskmanager.numberOfTaskSlots'],
  );
  const rest = `http://127.0.0.1:${jobManager.ready.httpPort}`;
  const deadline = Date.now() + 20_000;
  let overview: Record<string, number> = {};
  while (Date.now() < deadline) {
    overview = (await (await fetch(`${rest}/overview`)).json()) as Record<string, number>;
    if (overview['taskmanagers'] === 2) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(overview['slots-total']).toBe(2 * slotsPerTm);

  const job = fileURLToPath(new URL('./fixtures/cluster-jobs/count-job.ts', import.meta.url));
  const run = await nimble(['run', '-m', `127.0.0.1:${jobManager.ready.rpcPort}`, job, '10000']);
  expect(run.code).toBe(0);
  expect(JSON.parse(/RESULT (.*)/.exec(run.stdout)![1]!)).toEqual(
    Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 1000])),
  );
}, 90_000);
