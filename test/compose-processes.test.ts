import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Daemon } from './fixtures/cluster.js';
import { nimble, startDaemon, stopDaemon } from './fixtures/cluster.js';
import { composeServiceSettings, loadCompose, repoRoot } from './fixtures/compose.js';
import type { S3Server } from './fixtures/s3-server.js';
import { startS3Server } from './fixtures/s3-server.js';
import { sample } from './fixtures/prometheus.js';

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

function asProcess(
  service: 'jobmanager' | 'taskmanager',
  jmPort?: number,
  overrides: Record<string, string> = {},
) {
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
    ...overrides,
  };
  const text = Object.entries(local)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  return { args, env: { NIMBLE_PROPERTIES: text }, properties };
}

let s3: S3Server | undefined;

afterAll(async () => {
  await Promise.all(daemons.map((d) => stopDaemon(d)));
  await s3?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A GET as Prometheus makes it: HTTPS trusting the cluster CA, or plain HTTP; no token. */
function scrape(url: string, headers: Record<string, string> = {}): Promise<[number, string]> {
  if (url.startsWith('http:')) {
    return fetch(url, { headers }).then(async (r) => [r.status, await r.text()]);
  }
  return new Promise((resolve, reject) => {
    get(url, { ca: readFileSync(join(secrets, 'ca.pem')), headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve([res.statusCode ?? 0, text]));
      res.on('error', reject);
    }).on('error', reject);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function until(what: string, condition: () => Promise<boolean>, ms = 90_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

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

interface ScrapeJob {
  job_name: string;
  scheme: string;
  metrics_path: string;
  static_configs?: { targets: string[] }[];
  dns_sd_configs?: { names: string[]; port: number }[];
}

it('the compose stack as processes: checkpoints in S3, a stopped or killed JobManager recovers its job, Prometheus scrapes every daemon', async () => {
  const init = await nimble(['security', 'init', secrets, '--keep-existing']);
  expect(init.code, init.stderr).toBe(0);
  const token = readFileSync(join(secrets, 'token'), 'utf8').trim();
  // The S3 server stands in for the minio service; the bucket is created as minio-init does.
  const server = await startS3Server();
  s3 = server;
  const jmSettings = composeServiceSettings('jobmanager').properties;
  const checkpointsDir = jmSettings['state.checkpoints.dir']!;
  const bucket = new URL(checkpointsDir).host;
  const prefix = new URL(checkpointsDir).pathname.slice(1);
  expect((await fetch(`${server.endpoint}/${bucket}`, { method: 'PUT' })).ok).toBe(true);

  // The JobManager keeps its ports and its job store (the jobmanager-data volume) across the
  // restart, as a container does.
  const [rpcPort, restPort] = [await freePort(), await freePort()];
  const jmOverrides = {
    's3.endpoint': server.endpoint,
    'rest.port': String(restPort),
    'blob.storage.directory': join(dir, 'jobmanager-data'),
  };
  const jm = asProcess('jobmanager', rpcPort, jmOverrides);
  let jobManager = await startDaemon(jm.args, jm.env);
  daemons.push(jobManager);
  const taskManagers: Daemon[] = [];
  for (let i = 0; i < 2; i++) {
    const tm = asProcess('taskmanager', rpcPort, { 's3.endpoint': server.endpoint });
    taskManagers.push(await startDaemon(tm.args, tm.env));
    daemons.push(taskManagers[i]!);
  }
  const rest = `https://127.0.0.1:${restPort}`;
  const restGet = async (path: string): Promise<any> => {
    const [status, text] = await scrape(`${rest}${path}`, { authorization: `Bearer ${token}` });
    if (status !== 200) throw new Error(`GET ${path}: ${status} ${text}`);
    return JSON.parse(text);
  };
  await until(
    '2 TaskManagers registered',
    async () => (await restGet('/overview')).taskmanagers === 2,
  );

  // A checkpointing job, no checkpoint directory of its own: the cluster's s3:// one applies.
  const client = join(dir, 'client-s3.yaml');
  writeFileSync(
    client,
    Object.entries(localSecrets(jmSettings))
      .filter(([k]) => k.startsWith('security.'))
      .map(([k, v]) => `${k}: ${v}\n`)
      .join(''),
  );
  const master = ['-c', client, '-m', `127.0.0.1:${rpcPort}`];
  const job = fileURLToPath(
    new URL('./fixtures/cluster-jobs/checkpointed-count-job.ts', import.meta.url),
  );
  const submitted = await nimble(['run', '-d', ...master, job, '100000000', '200']);
  expect(submitted.code, submitted.stderr).toBe(0);
  const jobId = /JobID ([0-9a-f]{32})/.exec(submitted.stdout)![1]!;

  // Completed checkpoints land in the bucket: chk-<id>/_metadata under <prefix>/<job id>/.
  const completedInBucket = async (): Promise<number[]> => {
    const listing = await (
      await fetch(`${server.endpoint}/${bucket}?list-type=2&prefix=${prefix}/${jobId}/`)
    ).text();
    return [...listing.matchAll(/<Key>[^<]*\/chk-(\d+)\/_metadata<\/Key>/g)].map((m) =>
      Number(m[1]),
    );
  };
  await until('a checkpoint in the bucket', async () => (await completedInBucket()).length > 0);
  const checkpoints = await restGet(`/jobs/${jobId}/checkpoints`);
  expect(checkpoints.latest.completed.external_path).toMatch(
    new RegExp(`^s3://${bucket}/${prefix}/${jobId}/chk-\\d+$`),
  );

  // Prometheus' view: every target of deploy/prometheus/prometheus.yml, mapped to the local
  // ports (the JobManager's REST port, each TaskManager's metrics port), without the token.
  const prometheus = parse(
    readFileSync(join(repoRoot, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8'),
  ) as { scrape_configs: ScrapeJob[] };
  const jmJob = prometheus.scrape_configs.find((j) => j.static_configs)!;
  const tmJob = prometheus.scrape_configs.find((j) => j.dns_sd_configs)!;
  expect(jmJob.static_configs![0]!.targets).toEqual([`jobmanager:${jmSettings['rest.port']}`]);
  const jmUrl = `${jmJob.scheme}://127.0.0.1:${restPort}${jmJob.metrics_path}`;
  await until('the JobManager exports the checkpoint count', async () => {
    const [status, text] = await scrape(jmUrl);
    return (
      status === 200 &&
      (sample(text, 'nimble_jobmanager_job_numberOfCompletedCheckpoints', { job_id: jobId }) ?? 0) >
        0
    );
  });
  const [, jmText] = await scrape(jmUrl);
  expect(sample(jmText, 'nimble_jobmanager_numRegisteredTaskManagers')).toBe(2);
  expect(sample(jmText, 'nimble_jobmanager_numRunningJobs')).toBe(1);
  expect(
    sample(jmText, 'nimble_jobmanager_job_lastCheckpointDuration', {
      job_id: jobId,
      job_name: 'checkpointed-count',
    }),
  ).toBeGreaterThanOrEqual(0);
  // The token guards the rest of the REST API.
  expect((await scrape(`${rest}/jobs`))[0]).toBe(401);

  expect(tmJob.dns_sd_configs![0]!.port).toBe(
    Number(composeServiceSettings('taskmanager').properties['metrics.reporter.prom.port']),
  );
  const slots = Number(
    composeServiceSettings('taskmanager').properties['taskmanager.numberOfTaskSlots'],
  );
  const tmUrls = taskManagers.map(
    (tm) => `${tmJob.scheme}://127.0.0.1:${tm.ready.httpPort}${tmJob.metrics_path}`,
  );
  await until("the TaskManagers export the job's records", async () => {
    let records = 0;
    for (const url of tmUrls) {
      const [status, text] = await scrape(url);
      if (status !== 200) return false;
      records +=
        sample(text, 'nimble_taskmanager_job_task_operator_numRecordsIn', { job_id: jobId }) ?? 0;
    }
    return records > 0;
  });
  for (const url of tmUrls) {
    const [status, text] = await scrape(url);
    expect(status).toBe(200);
    expect(sample(text, 'nimble_taskmanager_taskSlotsTotal')).toBe(slots);
  }

  // Stopped as `docker compose stop` stops the container (SIGTERM, the compose default), then as
  // a crash (SIGKILL), and started again on the same job store each time.
  expect(loadCompose().services.jobmanager?.stop_signal).toBeUndefined();
  const storedJob = join(jmOverrides['blob.storage.directory'], 'jobs', `${jobId}.json`);
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const before = Math.max(...(await completedInBucket()));
    expect(existsSync(storedJob)).toBe(true);
    await stopDaemon(jobManager, signal);
    if (signal === 'SIGTERM') {
      expect(jobManager.child.exitCode).toBe(0);
      expect(jobManager.stderr()).toContain('suspended');
    }
    expect(existsSync(storedJob)).toBe(true);
    expect(Math.max(...(await completedInBucket()))).toBeGreaterThanOrEqual(before);
    jobManager = await startDaemon(jm.args, jm.env);
    daemons.push(jobManager);
    await until(`the job recovered after ${signal} and checkpointing again`, async () => {
      const details = await restGet(`/jobs/${jobId}`);
      return details.state === 'RUNNING' && Math.max(...(await completedInBucket())) > before;
    });
    expect(jobManager.stderr()).toContain('job recovered');
    const after = await restGet(`/jobs/${jobId}/checkpoints`);
    expect(after.latest.restored.external_path).toMatch(
      new RegExp(`^s3://${bucket}/${prefix}/${jobId}/chk-\\d+$`),
    );
    expect(after.latest.restored.id).toBeGreaterThanOrEqual(before);
  }
}, 240_000);
