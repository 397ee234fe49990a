/**
 * The dev overlay of deploy/k8s, run as plain processes: each container's args (with Kubernetes'
 * $(VAR) expansion), its environment (the ConfigMap's NIMBLE_PROPERTIES, the Secret's S3
 * credentials, the pod IP) and its mounted ConfigMap and Secret files, exactly as kustomize
 * rendered them. Only what binds to the cluster is mapped: container paths to a directory per
 * pod, the Service and MinIO names to loopback and the S3 server, fixed ports to free ones. The
 * probes are made as the kubelet makes them, on the ports the manifests name.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfiguration } from '@nimble/runtime';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Daemon } from './fixtures/cluster.js';
import { nimble, startDaemon, stopDaemon } from './fixtures/cluster.js';
import type { Container, K8sObject, Probe } from './fixtures/kubernetes.js';
import {
  CONTAINER_CONF_DIR,
  container,
  containerEnv,
  dynamicProperties,
  expandedArgs,
  find,
  mountedFiles,
  prepareK8sCopy,
  render,
} from './fixtures/kubernetes.js';
import type { S3Server } from './fixtures/s3-server.js';
import { startS3Server } from './fixtures/s3-server.js';

const POD_IP = '127.0.0.1';
const daemons: Daemon[] = [];
let k8s: string;
let work: string;
let objects: K8sObject[];
let s3: S3Server;

beforeAll(async () => {
  k8s = await prepareK8sCopy();
  work = join(k8s, 'pods');
  objects = (await render(k8s, 'overlays/dev')).objects;
  s3 = await startS3Server();
}, 120_000);

afterAll(async () => {
  await Promise.all(daemons.map((d) => stopDaemon(d)));
  await s3?.stop();
  if (k8s) rmSync(k8s, { recursive: true, force: true });
});

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

async function until(what: string, condition: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A pod of a Deployment as a process: its settings, with the cluster's names mapped locally. */
interface Pod {
  readonly c: Container;
  readonly args: string[];
  readonly env: Record<string, string>;
  /** Where the pod's container paths are: `<root><container path>`. */
  readonly root: string;
}

/**
 * Lays out pod `podName` of `deploymentName`: its ConfigMap and Secret files under a directory of
 * its own, its configuration with `local` values (host names, ports, the S3 endpoint) in place of
 * the cluster's, so that the daemon reads the files and settings the manifests give it.
 */
function pod(
  deploymentName: string,
  containerName: string,
  podName: string,
  local: Record<string, string>,
): Pod {
  const deployment = find(objects, 'Deployment', deploymentName);
  const c = container(deployment, containerName);
  const root = join(work, podName);
  const mounts = (c.volumeMounts ?? []).map((m) => m.mountPath);
  for (const mount of mounts) mkdirSync(join(root, mount), { recursive: true });
  for (const [path, content] of mountedFiles(objects, deployment, containerName)) {
    if (content === undefined) throw new Error(`${path}: its Secret or ConfigMap is not rendered`);
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content, { mode: 0o600 });
  }
  // A container path in a value (a mounted file or directory) is under the pod's directory.
  const mapValue = (key: string, value: string): string =>
    local[key] ?? (mounts.some((m) => value.startsWith(`${m}/`)) ? join(root, value) : value);
  const remap = (entries: Record<string, unknown>): string =>
    Object.entries(entries)
      .map(([k, v]) => `${k}: ${JSON.stringify(mapValue(k, String(v)))}\n`)
      .join('');

  const confDir = join(root, CONTAINER_CONF_DIR);
  const configFile = join(confDir, 'config.yaml');
  writeFileSync(configFile, remap(loadConfiguration({ configFile, env: {} }).entries));
  const env = containerEnv(objects, c, { 'status.podIP': POD_IP });
  const properties = env.NIMBLE_PROPERTIES ?? '';
  const args = expandedArgs(c, env);
  return {
    c,
    root,
    // -D values the same way (the container's -Dtaskmanager.host=$(POD_IP) stays as it is).
    args: args.map((a) => {
      const kv = dynamicProperties([a])[0];
      if (kv === undefined) return a;
      const eq = kv.indexOf('=');
      return `-D${kv.slice(0, eq)}=${mapValue(kv.slice(0, eq), kv.slice(eq + 1))}`;
    }),
    env: {
      ...env,
      // The image's ENV (deploy/Dockerfile), under the pod's directory.
      NIMBLE_CONF_DIR: confDir,
      NIMBLE_PROPERTIES: remap(
        loadConfiguration({ env: { NIMBLE_PROPERTIES: properties } }).entries as Record<
          string,
          unknown
        >,
      ),
    },
  };
}

/** A probe as the kubelet makes it: HTTP(S) GET without verifying the certificate, or a connect. */
async function probe(
  c: Container,
  p: Probe | undefined,
  ports: Record<string, number>,
): Promise<{ ok: boolean; status?: number; body?: string }> {
  const portOf = (port: string | number): number => {
    const name =
      typeof port === 'number' ? c.ports?.find((x) => x.containerPort === port)?.name : port;
    const local = name === undefined ? undefined : ports[name];
    if (local === undefined) throw new Error(`no local port for ${c.name}'s ${String(port)}`);
    return local;
  };
  if (p?.tcpSocket) {
    const port = portOf(p.tcpSocket.port);
    return new Promise((resolve) => {
      const socket = connect(port, POD_IP, () => {
        socket.destroy();
        resolve({ ok: true });
      });
      socket.once('error', () => resolve({ ok: false }));
    });
  }
  const get = p?.httpGet;
  if (get === undefined) throw new Error(`${c.name}: no httpGet or tcpSocket probe`);
  const url = `${(get.scheme ?? 'HTTP').toLowerCase()}://${POD_IP}:${portOf(get.port)}${get.path}`;
  const answer = (status: number, body: string) => ({
    ok: status >= 200 && status < 400,
    status,
    body,
  });
  try {
    if (get.scheme === 'HTTPS') {
      return await new Promise((resolve, reject) => {
        httpsRequest(url, { rejectUnauthorized: false }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(answer(res.statusCode ?? 0, body)));
        })
          .on('error', reject)
          .end();
      });
    }
    const res = await fetch(url);
    return answer(res.status, await res.text());
  } catch {
    return { ok: false };
  }
}

it("the dev overlay's containers start a cluster: probes as the manifests expect, a job checkpointing to S3", async () => {
  const [jmRpc, jmRest] = [await freePort(), await freePort()];
  const cluster = {
    // The Service nimble-jobmanager and its ports.
    'jobmanager.rpc.address': POD_IP,
    'rest.address': POD_IP,
    'jobmanager.rpc.port': String(jmRpc),
    'rest.port': String(jmRest),
    'jobmanager.bind-host': POD_IP,
    'rest.bind-address': POD_IP,
    'taskmanager.bind-host': POD_IP,
    'taskmanager.rpc.port': '0',
    'metrics.reporter.prom.port': '0',
    // The Service nimble-minio.
    's3.endpoint': s3.endpoint,
  };
  const jmPod = pod('nimble-jobmanager', 'jobmanager', 'jobmanager-0', cluster);
  const config = readFileSync(join(jmPod.root, CONTAINER_CONF_DIR, 'config.yaml'), 'utf8');
  const checkpoints = new URL(/^state\.checkpoints\.dir: "(.*)"$/m.exec(config)![1]!);
  // The bucket the dev overlay's Job creates in MinIO.
  expect((await fetch(`${s3.endpoint}/${checkpoints.host}`, { method: 'PUT' })).ok).toBe(true);
  expect(jmPod.env.AWS_ACCESS_KEY_ID).toBe('nimble');

  // A TaskManager before its JobManager: alive, not ready.
  const tmPods = [0, 1].map((i) =>
    pod('nimble-taskmanager', 'taskmanager', `taskmanager-${i}`, cluster),
  );
  expect(tmPods[0]!.args).toEqual(['taskmanager', `-Dtaskmanager.host=${POD_IP}`]);
  const first = await startDaemon(tmPods[0]!.args, tmPods[0]!.env);
  daemons.push(first);
  const tmPorts = (d: Daemon) => ({ rpc: d.ready.rpcPort, metrics: d.ready.httpPort });
  const tm = tmPods[0]!.c;
  expect(await probe(tm, tm.livenessProbe, tmPorts(first))).toEqual({ ok: true });
  const waiting = await probe(tm, tm.readinessProbe, tmPorts(first));
  expect(waiting.status).toBe(503);
  expect(JSON.parse(waiting.body!)).toMatchObject({
    status: 'REGISTERING',
    jobmanager: `${POD_IP}:${jmRpc}`,
  });

  // The JobManager: ready once it serves /overview; the TaskManager then registers and is ready.
  expect(jmPod.args).toEqual(['jobmanager']);
  let jobManager = await startDaemon(jmPod.args, jmPod.env);
  daemons.push(jobManager);
  const jmPorts = { rpc: jmRpc, rest: jmRest };
  const jm = jmPod.c;
  await until(
    'the JobManager is ready',
    async () => (await probe(jm, jm.readinessProbe, jmPorts)).ok,
  );
  expect(await probe(jm, jm.livenessProbe, jmPorts)).toEqual({ ok: true });
  await until(
    'the TaskManager is ready',
    async () => (await probe(tm, tm.readinessProbe, tmPorts(first))).ok,
  );
  const ready = await probe(tm, tm.readinessProbe, tmPorts(first));
  expect(ready.status).toBe(200);
  expect(JSON.parse(ready.body!)).toMatchObject({ status: 'REGISTERED' });

  // kubectl scale deployment/nimble-taskmanager --replicas=2
  const second = await startDaemon(tmPods[1]!.args, tmPods[1]!.env);
  daemons.push(second);
  await until(
    'the second TaskManager is ready',
    async () => (await probe(tm, tm.readinessProbe, tmPorts(second))).ok,
  );
  const overview = JSON.parse((await probe(jm, jm.readinessProbe, jmPorts)).body!) as Record<
    string,
    number
  >;
  expect(overview.taskmanagers).toBe(2);
  expect(overview['slots-total']).toBe(2);

  // A client with the Secret's files (what docs/kubernetes.md has users copy out of it).
  const secrets = join(jmPod.root, '/opt/nimble/secrets');
  const client = join(work, 'client.yaml');
  writeFileSync(
    client,
    [
      'security.ssl.internal.enabled: true',
      `security.ssl.internal.cert: ${join(secrets, 'node.pem')}`,
      `security.ssl.internal.key: ${join(secrets, 'node-key.pem')}`,
      `security.ssl.internal.trust-cert: ${join(secrets, 'ca.pem')}`,
      `security.rest.token-file: ${join(secrets, 'token')}`,
      '',
    ].join('\n'),
  );
  const master = ['-c', client, '-m', `${POD_IP}:${jmRpc}`];
  const job = (name: string) =>
    fileURLToPath(new URL(`./fixtures/cluster-jobs/${name}`, import.meta.url));
  const counted = await nimble(['run', ...master, job('count-job.ts'), '10000']);
  expect(counted.code, counted.stderr).toBe(0);
  expect(JSON.parse(/RESULT (.*)/.exec(counted.stdout)![1]!)).toEqual(
    Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 1000])),
  );

  // Checkpoints go to the overlay's s3:// directory, with the Secret's credentials.
  const submitted = await nimble([
    'run',
    '-d',
    ...master,
    job('checkpointed-count-job.ts'),
    '100000000',
    '200',
  ]);
  expect(submitted.code, submitted.stderr).toBe(0);
  const jobId = /JobID ([0-9a-f]{32})/.exec(submitted.stdout)![1]!;
  const prefix = `${checkpoints.pathname.slice(1)}/${jobId}/`;
  await until('a checkpoint in the bucket', async () => {
    const listing = await (
      await fetch(`${s3.endpoint}/${checkpoints.host}?list-type=2&prefix=${prefix}`)
    ).text();
    return /\/chk-\d+\/_metadata<\/Key>/.test(listing);
  });

  // The JobManager stops (a rollout or an eviction): not ready, and its TaskManagers say why.
  await stopDaemon(jobManager);
  expect(jobManager.child.exitCode).toBe(0);
  expect((await probe(jm, jm.readinessProbe, jmPorts)).ok).toBe(false);
  await until('the TaskManagers are not ready', async () => {
    const answers = await Promise.all(
      [first, second].map((d) => probe(tm, tm.readinessProbe, tmPorts(d))),
    );
    return answers.every((a) => a.status === 503);
  });
  const lost = JSON.parse((await probe(tm, tm.readinessProbe, tmPorts(first))).body!) as {
    reason: string;
  };
  expect(lost.reason).toMatch(/^lost the JobManager: /);
  // Still alive: a liveness failure would restart them for nothing.
  expect(await probe(tm, tm.livenessProbe, tmPorts(first))).toEqual({ ok: true });

  // Its replacement, on the same claim (the data directory), recovers the job from S3.
  jobManager = await startDaemon(jmPod.args, jmPod.env);
  daemons.push(jobManager);
  await until('the TaskManagers are ready again', async () => {
    const answers = await Promise.all(
      [first, second].map((d) => probe(tm, tm.readinessProbe, tmPorts(d))),
    );
    return answers.every((a) => a.ok);
  });
  const cancelled = await nimble(['cancel', ...master, jobId]);
  expect(cancelled.code, cancelled.stderr).toBe(0);
  expect(jobManager.stderr()).toContain('job recovered');
}, 120_000);
