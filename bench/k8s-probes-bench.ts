/**
 * Probe timings of deploy/k8s: the dev overlay's JobManager and TaskManager containers run as
 * processes (as test/kubernetes-processes.test.ts does, moto for MinIO), probed as the kubelet
 * probes them, every 50 ms. Per round, the time from spawning a process to its probe passing,
 * and how long a TaskManager's readiness takes to follow its JobManager going and coming back.
 * These are what the probes' initialDelaySeconds, periods and failure thresholds must cover.
 *
 *   pnpm bench:k8s [-- --rounds 3]
 */
import { rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Daemon } from '../test/fixtures/cluster.js';
import { startDaemon, stopDaemon } from '../test/fixtures/cluster.js';
import type { Container, K8sObject, Probe } from '../test/fixtures/kubernetes.js';
import {
  freePort,
  podProcess,
  prepareK8sCopy,
  probe,
  render,
} from '../test/fixtures/kubernetes.js';
import { startS3Server } from '../test/fixtures/s3-server.js';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: { rounds: { type: 'string', default: '3' } },
});
const rounds = Number(args.rounds);

/** Milliseconds from `start` until `probe` of `c` gives `ok` (polled every 50 ms). */
async function timeUntil(
  start: number,
  c: Container,
  p: Probe | undefined,
  ports: () => Record<string, number>,
  ok: boolean,
): Promise<number> {
  const deadline = start + 120_000;
  while ((await probe(c, p, ports())).ok !== ok) {
    if (Date.now() > deadline) throw new Error(`${c.name}: probe still not ${ok} after 120 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - start;
}

const k8s = await prepareK8sCopy();
const s3 = await startS3Server();
const daemons: Daemon[] = [];
const rows: Record<string, number[]> = {};
const record = (what: string, ms: number): void => {
  (rows[what] ??= []).push(ms);
};
try {
  const objects: K8sObject[] = (await render(k8s, 'overlays/dev')).objects;
  for (let round = 0; round < rounds; round++) {
    const work = join(k8s, `round-${round}`);
    const [jmRpc, jmRest] = [await freePort(), await freePort()];
    const local = {
      'jobmanager.rpc.address': '127.0.0.1',
      'rest.address': '127.0.0.1',
      'jobmanager.rpc.port': String(jmRpc),
      'rest.port': String(jmRest),
      'jobmanager.bind-host': '127.0.0.1',
      'rest.bind-address': '127.0.0.1',
      'taskmanager.bind-host': '127.0.0.1',
      'taskmanager.rpc.port': '0',
      'metrics.reporter.prom.port': '0',
      's3.endpoint': s3.endpoint,
    };
    const jmPod = podProcess(objects, work, 'nimble-jobmanager', 'jobmanager', 'jm', local);
    const tmPod = podProcess(objects, work, 'nimble-taskmanager', 'taskmanager', 'tm', local);
    const jmPorts = () => ({ rpc: jmRpc, rest: jmRest });

    let start = Date.now();
    const tm = await startDaemon(tmPod.args, tmPod.env);
    daemons.push(tm);
    const tmPorts = () => ({ rpc: tm.ready.rpcPort, metrics: tm.ready.httpPort });
    record(
      'TaskManager spawned -> liveness (tcp rpc) passes',
      await timeUntil(start, tmPod.c, tmPod.c.livenessProbe, tmPorts, true),
    );

    start = Date.now();
    let jm = await startDaemon(jmPod.args, jmPod.env);
    daemons.push(jm);
    record(
      'JobManager spawned -> readiness (/overview) passes',
      await timeUntil(start, jmPod.c, jmPod.c.readinessProbe, jmPorts, true),
    );
    start = Date.now();
    record(
      'JobManager ready -> TaskManager readiness (/health) passes',
      await timeUntil(start, tmPod.c, tmPod.c.readinessProbe, tmPorts, true),
    );

    start = Date.now();
    await stopDaemon(jm);
    record(
      'JobManager SIGTERM -> TaskManager readiness fails',
      await timeUntil(start, tmPod.c, tmPod.c.readinessProbe, tmPorts, false),
    );
    start = Date.now();
    jm = await startDaemon(jmPod.args, jmPod.env);
    daemons.push(jm);
    record(
      'JobManager respawned -> TaskManager readiness passes',
      await timeUntil(start, tmPod.c, tmPod.c.readinessProbe, tmPorts, true),
    );
    await Promise.all([stopDaemon(jm), stopDaemon(tm)]);
  }
} finally {
  await Promise.all(daemons.map((d) => stopDaemon(d)));
  await s3.stop();
  rmSync(k8s, { recursive: true, force: true });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
console.log(
  `deploy/k8s probe timings, overlays/dev as processes: ${rounds} rounds, ${cpus().length} cores, ` +
    `load ${loadavg()[0]!.toFixed(2)}`,
);
const width = Math.max(...Object.keys(rows).map((k) => k.length));
console.log(`${'step'.padEnd(width)}  median ms  min ms  max ms`);
for (const [what, xs] of Object.entries(rows)) {
  console.log(
    `${what.padEnd(width)}  ${String(median(xs)).padStart(9)}  ${String(Math.min(...xs)).padStart(6)}  ${String(Math.max(...xs)).padStart(6)}`,
  );
}
