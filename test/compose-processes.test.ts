import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import type { Daemon } from './fixtures/cluster.js';
import { nimble, startDaemon, stopDaemon } from './fixtures/cluster.js';
import { composeServiceSettings } from './fixtures/compose.js';

// The docker-compose services' commands and settings, run as plain processes: only what binds
// to the compose network (host names, fixed ports, container paths) is mapped to loopback,
// ports from 0 and a temporary directory. The security-init service's volume is a directory the
// same command fills.
const dir = mkdtempSync(join(tmpdir(), 'nimble-compose-'));
const secrets = join(dir, 'secrets');
const CONTAINER_SECRETS = '/opt/nimble/secrets';
const daemons: Daemon[] = [];

/** The service's settings with paths in the secrets volume mapped to the local directory. */
function localSecrets(properties: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(properties).map(([k, v]) => [
      k,
      v.startsWith(`${CONTAINER_SECRETS}/`) ? join(secrets, v.slice(CONTAINER_SECRETS.length)) : v,
    ]),
  );
}

/** GET over HTTPS, trusting the cluster CA (as the healthcheck does with NODE_EXTRA_CA_CERTS). */
function getJson(url: string): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    get(url, { ca: readFileSync(join(secrets, 'ca.pem')) }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve(JSON.parse(text) as Record<string, number>));
      res.on('error', reject);
    }).on('error', reject);
  });
}

function asProcess(service: 'jobmanager' | 'taskmanager', jmPort?: number) {
  const { args, properties } = composeServiceSettings(service);
  const local: Record<string, string> = {
    ...localSecrets(properties),
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
  const init = await nimble(['security', 'init', secrets, '--keep-existing']);
  expect(init.code, init.stderr).toBe(0);
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
  const rest = `https://127.0.0.1:${jobManager.ready.httpPort}`;
  const deadline = Date.now() + 60_000;
  let overview: Record<string, number> = {};
  while (Date.now() < deadline) {
    overview = await getJson(`${rest}/overview`);
    if (overview['taskmanagers'] === 2) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(overview['slots-total']).toBe(2 * slotsPerTm);

  const job = fileURLToPath(new URL('./fixtures/cluster-jobs/count-job.ts', import.meta.url));
  // A client on the host: the cluster's certificate and token from the volume.
  const client = join(dir, 'client.yaml');
  writeFileSync(
    client,
    Object.entries(localSecrets(composeServiceSettings('jobmanager').properties))
      .filter(([k]) => k.startsWith('security.'))
      .map(([k, v]) => `${k}: ${v}\n`)
      .join(''),
  );
  const refused = await nimble(['list', '-m', `127.0.0.1:${jobManager.ready.rpcPort}`]);
  expect(refused.code).toBe(1);
  const run = await nimble([
    'run',
    '-c',
    client,
    '-m',
    `127.0.0.1:${jobManager.ready.rpcPort}`,
    job,
    '10000',
  ]);
  expect(run.code, run.stderr).toBe(0);
  expect(JSON.parse(/RESULT (.*)/.exec(run.stdout)![1]!)).toEqual(
    Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 1000])),
  );
}, 90_000);
