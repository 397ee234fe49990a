/**
 * deploy/k8s, checked without a Kubernetes cluster: every overlay rendered by real kustomize,
 * every rendered object validated against the Kubernetes schemas (kubernetes-validate, strict),
 * and the invariants between the manifests and Nimble: probes on real paths and ports, CPU
 * requests matching the slots, a configuration the daemons accept, Secrets holding the files the
 * configuration names.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ClusterConfiguration } from '@nimble/runtime';
import { parseClusterConfiguration } from '@nimble/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Container, K8sObject, Overlay } from './fixtures/kubernetes.js';
import { repoRoot } from './fixtures/compose.js';
import {
  container,
  containerConfig,
  containerEnv,
  expandedArgs,
  find,
  KUBERNETES_VERSIONS,
  mountedFiles,
  CONTAINER_CONF_DIR,
  OVERLAYS,
  portNumber,
  prepareK8sCopy,
  render,
  validate,
} from './fixtures/kubernetes.js';

/** The daemons' check of a configuration: every key known, every value valid. */
function checkConfiguration(entries: Record<string, string>): ClusterConfiguration {
  return parseClusterConfiguration(entries);
}

let dir: string;
const rendered = new Map<Overlay, { text: string; objects: K8sObject[] }>();

beforeAll(async () => {
  dir = await prepareK8sCopy();
  for (const overlay of OVERLAYS) rendered.set(overlay, await render(dir, overlay));
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function objects(overlay: Overlay): K8sObject[] {
  const r = rendered.get(overlay);
  if (r === undefined) throw new Error(`${overlay} was not rendered`);
  return r.objects;
}

const JM = 'nimble-jobmanager';
const TM = 'nimble-taskmanager';

function jobManager(overlay: Overlay): { deployment: K8sObject; c: Container } {
  const deployment = find(objects(overlay), 'Deployment', JM);
  return { deployment, c: container(deployment, 'jobmanager') };
}

function taskManager(overlay: Overlay): { deployment: K8sObject; c: Container } {
  const deployment = find(objects(overlay), 'Deployment', TM);
  return { deployment, c: container(deployment, 'taskmanager') };
}

describe.each(OVERLAYS)('%s', (overlay) => {
  it.each(KUBERNETES_VERSIONS)(
    'validates against the Kubernetes %s schemas (strict)',
    async (version) => {
      const file = join(dir, `${overlay.replace('/', '-')}.yaml`);
      writeFileSync(file, rendered.get(overlay)!.text);
      const result = await validate(file, version);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      // One line per object, each passed: nothing was skipped for an unknown kind.
      const passed = result.stdout.split('\n').filter((l) => / passed for resource /.test(l));
      expect(passed).toHaveLength(objects(overlay).length);
    },
    60_000,
  );

  it("the daemons' configuration loader accepts both containers' configuration", () => {
    for (const [deployment, name] of [
      [JM, 'jobmanager'],
      [TM, 'taskmanager'],
    ] as const) {
      const config = containerConfig(
        objects(overlay),
        find(objects(overlay), 'Deployment', deployment),
        name,
      );
      expect(() => checkConfiguration(config)).not.toThrow();
    }
  });

  it('the TaskManager requests one CPU per slot', () => {
    const { deployment, c } = taskManager(overlay);
    const config = checkConfiguration(containerConfig(objects(overlay), deployment, 'taskmanager'));
    expect(Number(c.resources?.requests?.cpu)).toBe(config.numberOfTaskSlots);
    // No CPU limit: a slot's thread is never throttled below its core.
    expect(c.resources?.limits?.cpu).toBeUndefined();
    expect(c.resources?.limits?.memory).toBe(c.resources?.requests?.memory);
  });

  it('probes the ports and paths the daemons serve', () => {
    const jm = jobManager(overlay);
    const jmEntries = containerConfig(objects(overlay), jm.deployment, 'jobmanager');
    const jmConfig = checkConfiguration(jmEntries);
    const readiness = jm.c.readinessProbe?.httpGet;
    expect(readiness?.path).toBe('/overview');
    expect(portNumber(jm.c, readiness!.port)).toBe(jmConfig.restPort);
    expect(readiness?.scheme).toBe(
      jmEntries['security.ssl.rest.enabled'] === 'true' ? 'HTTPS' : 'HTTP',
    );
    expect(portNumber(jm.c, jm.c.livenessProbe!.tcpSocket!.port)).toBe(jmConfig.restPort);
    expect(portNumber(jm.c, 'rpc')).toBe(jmConfig.jobManagerRpcPort);

    const tm = taskManager(overlay);
    const tmConfig = checkConfiguration(
      containerConfig(objects(overlay), tm.deployment, 'taskmanager'),
    );
    const tmReadiness = tm.c.readinessProbe?.httpGet;
    expect(tmReadiness?.path).toBe('/health');
    expect(tmReadiness?.scheme ?? 'HTTP').toBe('HTTP');
    expect(portNumber(tm.c, tmReadiness!.port)).toBe(tmConfig.prometheusPort);
    expect(portNumber(tm.c, tm.c.livenessProbe!.tcpSocket!.port)).toBe(tmConfig.taskManagerRpcPort);
  });

  it('the Service leads to the JobManager ports the TaskManagers and clients are configured with', () => {
    const service = find(objects(overlay), 'Service', JM);
    const jm = jobManager(overlay);
    expect(jm.deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    const tmConfig = containerConfig(
      objects(overlay),
      taskManager(overlay).deployment,
      'taskmanager',
    );
    // A TaskManager dials the Service (with high availability: before any leader is known).
    expect(tmConfig['jobmanager.rpc.address']).toBe(JM);
    const ports = service.spec.ports as { name: string; port: number; targetPort: string }[];
    expect(ports.map((p) => [p.name, p.port, portNumber(jm.c, p.targetPort)])).toEqual([
      ['rpc', Number(tmConfig['jobmanager.rpc.port']), Number(tmConfig['jobmanager.rpc.port'])],
      ['rest', Number(tmConfig['rest.port']), Number(tmConfig['rest.port'])],
    ]);
  });

  it('mounts the Secret files the configuration names, and never the CA key', () => {
    for (const [deployment, name] of [
      [JM, 'jobmanager'],
      [TM, 'taskmanager'],
    ] as const) {
      const d = find(objects(overlay), 'Deployment', deployment);
      const files = mountedFiles(objects(overlay), d, name);
      const config = containerConfig(objects(overlay), d, name);
      const named = Object.entries(config)
        .filter(([k]) => /^security\..*(cert|key|file)$/.test(k))
        .map(([, v]) => v);
      expect(named.length).toBe(6);
      for (const path of named) expect([...files.keys()]).toContain(path);
      expect([...files.keys()].some((p) => p.endsWith('ca-key.pem'))).toBe(false);
      expect(config['security.ssl.internal.enabled']).toBe('true');
      expect(config['security.ssl.rest.enabled']).toBe('true');
    }
  });

  it('runs as the non-root image user on a read-only root file system, with no API token', () => {
    for (const d of [jobManager(overlay), taskManager(overlay)]) {
      const pod = d.deployment.spec.template.spec;
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.serviceAccountName).toBe('nimble');
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 9999 });
      expect(d.c.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      // What the daemons write: their data directory (blobs, io.tmp.dirs) and /tmp.
      const mounts = (d.c.volumeMounts ?? []).map((m) => m.mountPath);
      expect(mounts).toEqual(expect.arrayContaining(['/opt/nimble/data', '/tmp']));
      const config = containerConfig(objects(overlay), d.deployment, d.c.name);
      for (const key of ['blob.storage.directory', 'io.tmp.dirs']) {
        expect(config[key]).toMatch(/^\/opt\/nimble\/data\//);
      }
    }
    expect(find(objects(overlay), 'ServiceAccount', 'nimble').automountServiceAccountToken).toBe(
      false,
    );
  });

  it('advertises each TaskManager at its pod IP', () => {
    const { deployment, c } = taskManager(overlay);
    const env = containerEnv(objects(overlay), c, { 'status.podIP': '10.1.2.3' });
    expect(expandedArgs(c, env)[0]).toBe('taskmanager');
    expect(containerConfig(objects(overlay), deployment, 'taskmanager')['taskmanager.host']).toBe(
      '10.1.2.3',
    );
  });

  it("the image's entrypoint passes the containers' args and configuration on unchanged", async () => {
    // The entrypoint adds container defaults (bind hosts, taskmanager.host) only for keys nobody
    // set: the manifests set them all, so what the tests compute is what the daemons get. A
    // stand-in `nimble` on PATH prints what it was given.
    const scratch = mkdtempSync(join(dir, 'entrypoint-'));
    const bin = join(scratch, 'bin');
    mkdirSync(bin);
    writeFileSync(
      join(bin, 'nimble'),
      '#!/bin/sh\nfor a in "$@"; do printf "<%s>" "$a"; done\nprintf "\\n%s" "$NIMBLE_PROPERTIES"\n',
    );
    chmodSync(join(bin, 'nimble'), 0o755);
    for (const { deployment, c } of [jobManager(overlay), taskManager(overlay)]) {
      const conf = join(scratch, c.name);
      mkdirSync(conf);
      const files = mountedFiles(objects(overlay), deployment, c.name);
      writeFileSync(join(conf, 'config.yaml'), files.get(`${CONTAINER_CONF_DIR}/config.yaml`)!);
      const env = containerEnv(objects(overlay), c, { 'status.podIP': '10.1.2.3' });
      const args = expandedArgs(c, env);
      const { stdout } = await promisify(execFile)(
        'sh',
        [join(repoRoot, 'deploy', 'docker-entrypoint.sh'), ...args],
        {
          env: {
            PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
            HOSTNAME: 'nimble-taskmanager-7d9f8-abcde',
            NIMBLE_CONF_DIR: conf,
            NIMBLE_PROPERTIES: env.NIMBLE_PROPERTIES ?? '',
          },
        },
      );
      const newline = stdout.indexOf('\n');
      expect(stdout.slice(0, newline)).toBe(args.map((a) => `<${a}>`).join(''));
      expect(stdout.slice(newline + 1)).toBe(env.NIMBLE_PROPERTIES ?? '');
    }
  });

  it('a PodDisruptionBudget lets one TaskManager go at a time', () => {
    const pdb = find(objects(overlay), 'PodDisruptionBudget', TM);
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(taskManager(overlay).deployment.spec.template.metadata.labels).toMatchObject(
      pdb.spec.selector.matchLabels,
    );
  });
});

describe('overlays', () => {
  it('base: one JobManager, replaced with Recreate, on its claim; a scalable TaskManager Deployment', () => {
    const jm = jobManager('base').deployment;
    expect(jm.spec.replicas).toBe(1);
    expect(jm.spec.strategy).toEqual({ type: 'Recreate' });
    expect(find(objects('base'), 'PersistentVolumeClaim', 'nimble-jobmanager-data')).toBeDefined();
    expect(taskManager('base').deployment.spec.replicas).toBe(2);
    // The Secrets are created outside the render (docs/kubernetes.md).
    expect(objects('base').filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  it('dev: generated Secrets with the four files and MinIO as the S3 store', () => {
    const o = objects('overlays/dev');
    const security = find(o, 'Secret', 'nimble-security');
    expect(Object.keys(security.data as object).sort()).toEqual([
      'ca.pem',
      'node-key.pem',
      'node.pem',
      'token',
    ]);
    const config = containerConfig(o, jobManager('overlays/dev').deployment, 'jobmanager');
    expect(config['s3.endpoint']).toBe('http://nimble-minio:9000');
    const minio = find(o, 'Service', 'nimble-minio');
    expect(minio.spec.ports[0].port).toBe(9000);
    // The JobManager's S3 credentials are MinIO's root user.
    const env = containerEnv(o, jobManager('overlays/dev').c, { 'status.podIP': '10.1.2.3' });
    const minioEnv = containerEnv(o, container(find(o, 'Deployment', 'nimble-minio'), 'minio'), {});
    expect(env.AWS_ACCESS_KEY_ID).toBe(minioEnv.MINIO_ROOT_USER);
    expect(env.AWS_SECRET_ACCESS_KEY).toBe(minioEnv.MINIO_ROOT_PASSWORD);
    expect(new URL(config['state.checkpoints.dir']!).host).toBe('nimble');
    const bucketJob = container(find(o, 'Job', 'nimble-minio-bucket'), 'mc');
    expect(bucketJob.args).toEqual(['mb', '--ignore-existing', 'nimble/nimble']);
  });

  it('ha-reactive: two JobManagers at their pod IPs, HA and reactive keys everywhere, an HPA', () => {
    const o = objects('overlays/ha-reactive');
    const jm = jobManager('overlays/ha-reactive');
    expect(jm.deployment.spec.replicas).toBe(2);
    expect(jm.deployment.spec.strategy.type).toBe('RollingUpdate');
    expect(o.filter((x) => x.kind === 'PersistentVolumeClaim')).toEqual([]);
    const jmConfig = containerConfig(o, jm.deployment, 'jobmanager', {
      'status.podIP': '10.9.8.7',
    });
    expect(jmConfig['jobmanager.rpc.address']).toBe('10.9.8.7');
    expect(jmConfig['rest.address']).toBe('10.9.8.7');
    const tmConfig = containerConfig(
      o,
      taskManager('overlays/ha-reactive').deployment,
      'taskmanager',
    );
    for (const config of [jmConfig, tmConfig]) {
      expect(config).toMatchObject({
        'high-availability.type': 'storage',
        'high-availability.storageDir': 's3://nimble/ha',
        'scheduler-mode': 'reactive',
      });
    }
    expect(find(o, 'PodDisruptionBudget', JM).spec.maxUnavailable).toBe(1);
    const hpa = find(o, 'HorizontalPodAutoscaler', TM);
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: TM,
    });
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
  });
});

describe('the checks can fail', () => {
  it('the validator rejects an unknown field and a wrong type', async () => {
    const broken = rendered
      .get('base')!
      .objects.map((o) => structuredClone(o))
      .map((o) => {
        // The validator reports the first error of each object: one per Deployment.
        if (o.kind === 'Deployment' && o.metadata.name === JM) {
          o.spec.template.spec.containers[0].readinessProbe.httpGet.paht = '/overview';
        }
        if (o.kind === 'Deployment' && o.metadata.name === TM) o.spec.replicas = 'one';
        return o;
      });
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, broken.map((o) => stringify(o)).join('---\n'));
    const result = await validate(file, KUBERNETES_VERSIONS[0]);
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/paht/);
    expect(result.stdout + result.stderr).toMatch(/'one' is not of type 'integer'/);
  }, 60_000);

  it('the configuration check refuses an unknown key', () => {
    const config = containerConfig(objects('base'), jobManager('base').deployment, 'jobmanager');
    expect(() => checkConfiguration({ ...config, 'taskmanager.numberOfTaskSlot': '2' })).toThrow(
      /Unknown configuration key "taskmanager.numberOfTaskSlot"/,
    );
  });

  it('kustomize refuses an overlay whose patch names a missing Deployment', async () => {
    const kustomization = join(dir, 'overlays', 'dev', 'kustomization.yaml');
    const original = readFileSync(kustomization, 'utf8');
    const patch = join(dir, 'overlays', 'dev', 'taskmanager-one-slot.yaml');
    const patchText = readFileSync(patch, 'utf8');
    writeFileSync(patch, patchText.replace('name: nimble-taskmanager', 'name: nimble-tm'));
    try {
      await expect(render(dir, 'overlays/dev')).rejects.toThrow(/nimble-tm/);
    } finally {
      writeFileSync(patch, patchText);
      writeFileSync(kustomization, original);
    }
  });
});
