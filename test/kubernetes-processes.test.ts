/**
 * The dev overlay of deploy/k8s, run as plain processes: each container's args (with Kubernetes'
 * $(VAR) expansion), its environment (the ConfigMap's NIMBLE_PROPERTIES, the Secret's S3
 * credentials, the pod IP) and its mounted ConfigMap and Secret files, exactly as kustomize
 * rendered them. Only what binds to the cluster is mapped: container paths to a directory per
 * pod, the Service and MinIO names to loopback and the S3 server, fixed ports to free ones. The
 * probes are made as the kubelet makes them, on the ports the manifests name.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Daemon } from './fixtures/cluster.js';
import { nimble, startDaemon, stopDaemon } from './fixtures/cluster.js';
import type { K8sObject, Pod } from './fixtures/kubernetes.js';
import {
  CONTAINER_CONF_DIR,
  freePort,
  POD_IP,
  podProcess,
  prepareK8sCopy,
  probe,
  render,
  until,
} from './fixtures/kubernetes.js';
import type { S3Server } from './fixtures/s3-server.js';
import { startS3Server } from './fixtures/s3-server.js';

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
  const jmPod = podProcess(
    objects,
    work,
    'nimble-jobmanager',
    'jobmanager',
    'jobmanager-0',
    cluster,
  );
  const config = readFileSync(join(jmPod.root, CONTAINER_CONF_DIR, 'config.yaml'), 'utf8');
  const checkpoints = new URL(/^state\.checkpoints\.dir: "(.*)"$/m.exec(config)![1]!);
  // The bucket the dev overlay's Job creates in MinIO.
  expect((await fetch(`${s3.endpoint}/${checkpoints.host}`, { method: 'PUT' })).ok).toBe(true);
  expect(jmPod.env.AWS_ACCESS_KEY_ID).toBe('nimble');

  // A TaskManager before its JobManager: alive, not ready.
  const tmPods = [0, 1].map((i) =>
    podProcess(objects, work, 'nimble-taskmanager', 'taskmanager', `taskmanager-${i}`, cluster),
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

it('the ha-reactive overlay as processes: only the leader is ready, a standby takes over a SIGKILL', async () => {
  // The two Secrets docs/kubernetes.md has users create with kubectl, as the API stores them.
  const secretsDir = join(k8s, 'overlays', 'dev', 'secrets');
  const secret = (name: string, data: Record<string, string>): K8sObject => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    data: Object.fromEntries(
      Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
  });
  const ha = [
    ...(await render(k8s, 'overlays/ha-reactive')).objects,
    secret(
      'nimble-security',
      Object.fromEntries(
        ['ca.pem', 'node.pem', 'node-key.pem', 'token'].map((f) => [
          f,
          readFileSync(join(secretsDir, f), 'utf8'),
        ]),
      ),
    ),
    secret('nimble-s3', { AWS_ACCESS_KEY_ID: 'ha-user', AWS_SECRET_ACCESS_KEY: 'ha-secret' }),
  ];
  const haWork = join(k8s, 'ha-pods');
  const bucket = 'nimble';
  await fetch(`${s3.endpoint}/${bucket}`, { method: 'PUT' });
  const jmPorts = [
    { rpc: await freePort(), rest: await freePort() },
    { rpc: await freePort(), rest: await freePort() },
  ];
  const local = (i: number) => ({
    // Each JobManager at its own ports of the one loopback "pod IP".
    'jobmanager.rpc.port': String(jmPorts[i]!.rpc),
    'rest.port': String(jmPorts[i]!.rest),
    'rest.address': POD_IP,
    'jobmanager.rpc.address': POD_IP,
    'jobmanager.bind-host': POD_IP,
    'rest.bind-address': POD_IP,
    'taskmanager.bind-host': POD_IP,
    'taskmanager.rpc.port': '0',
    'metrics.reporter.prom.port': '0',
  });
  // S3 is not AWS here: the lines docs/kubernetes.md has an overlay add for such a store.
  const withEndpoint = (p: Pod): Pod => ({
    ...p,
    env: {
      ...p.env,
      NIMBLE_PROPERTIES: `${p.env.NIMBLE_PROPERTIES}s3.endpoint: ${s3.endpoint}\ns3.path.style.access: true\n`,
    },
  });
  const jmPods = [0, 1].map((i) =>
    withEndpoint(
      podProcess(ha, haWork, 'nimble-jobmanager', 'jobmanager', `jobmanager-${i}`, local(i)),
    ),
  );
  expect(jmPods[0]!.args).toEqual([
    'jobmanager',
    `-Djobmanager.rpc.address=${POD_IP}`,
    `-Drest.address=${POD_IP}`,
  ]);
  const jms = await Promise.all(jmPods.map((p) => startDaemon(p.args, p.env)));
  daemons.push(...jms);
  const jm = jmPods[0]!.c;
  const readiness = () => Promise.all(jmPorts.map((ports) => probe(jm, jm.readinessProbe, ports)));
  await until('one JobManager leads', async () => (await readiness()).some((r) => r.ok));
  const leader = (await readiness()).findIndex((r) => r.ok);
  const standby = 1 - leader;
  // The standby: alive, not ready (so not in the Service), pointing to the leader once it has
  // read the leader's lease.
  await until('the standby names the leader', async () => {
    const r = await probe(jm, jm.readinessProbe, jmPorts[standby]!);
    return r.status === 503 && r.body!.includes(`${POD_IP}:${jmPorts[leader]!.rpc}`);
  });
  expect((await readiness())[leader]!.ok).toBe(true);
  expect(await probe(jm, jm.livenessProbe, jmPorts[standby]!)).toEqual({ ok: true });

  // A TaskManager finds the leader through the store, whatever its Service address says.
  const tmPod = withEndpoint(
    podProcess(ha, haWork, 'nimble-taskmanager', 'taskmanager', 'taskmanager-0', local(standby)),
  );
  const tmDaemon = await startDaemon(tmPod.args, tmPod.env);
  daemons.push(tmDaemon);
  const tm = tmPod.c;
  const tmPorts = { rpc: tmDaemon.ready.rpcPort, metrics: tmDaemon.ready.httpPort };
  await until(
    'the TaskManager is ready',
    async () => (await probe(tm, tm.readinessProbe, tmPorts)).ok,
  );
  expect(JSON.parse((await probe(tm, tm.readinessProbe, tmPorts)).body!)).toMatchObject({
    status: 'REGISTERED',
    jobmanager: `${POD_IP}:${jmPorts[leader]!.rpc}`,
  });

  // The leader's pod dies: the standby becomes ready, and the TaskManager registers there.
  await stopDaemon(jms[leader]!, 'SIGKILL');
  await until(
    'the standby leads',
    async () => (await probe(jm, jm.readinessProbe, jmPorts[standby]!)).ok,
  );
  await until('the TaskManager is ready at the new leader', async () => {
    const r = await probe(tm, tm.readinessProbe, tmPorts);
    return (
      r.ok &&
      (JSON.parse(r.body!) as { jobmanager: string }).jobmanager ===
        `${POD_IP}:${jmPorts[standby]!.rpc}`
    );
  });
}, 120_000);
