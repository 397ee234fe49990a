/**
 * The compose stack's storage and monitoring, checked without a Docker engine: the S3 server and
 * its bucket, the settings that send checkpoints there, the job store volume, Prometheus'
 * scrape configuration (deploy/prometheus/prometheus.yml) and Grafana's provisioning and
 * dashboard (deploy/grafana). test/compose-processes.test.ts runs the same settings as processes.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { MetricLabels, MetricNames } from '@nimble/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  composeServiceSettings,
  interpolate,
  loadCompose,
  repoRoot,
  serviceArgs,
} from './fixtures/compose.js';
import type { ComposeFile, ComposeService } from './fixtures/compose.js';

const run = promisify(execFile);

const prometheusFile = join(repoRoot, 'deploy', 'prometheus', 'prometheus.yml');
const grafanaDir = join(repoRoot, 'deploy', 'grafana');
const dashboardFile = join(grafanaDir, 'dashboards', 'nimble.json');
const pendingMetricsFile = join(grafanaDir, 'pending-metrics.txt');

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'nimble-observability-test-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function service(name: string, doc: ComposeFile = loadCompose()): ComposeService {
  const s = doc.services[name];
  if (s === undefined) throw new Error(`docker-compose.yml: no service ${name}`);
  return s;
}

function environment(s: ComposeService): Record<string, string> {
  const env = s.environment;
  if (env === undefined || Array.isArray(env)) throw new Error('expected environment as a map');
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

/** A service's bind mounts and volumes as [source, target, mode]. */
function mounts(s: ComposeService): [string, string, string][] {
  return ((s.volumes as string[] | undefined) ?? []).map((v) => {
    const [source = '', target = '', mode = 'rw'] = v.split(':');
    return [source, target, mode];
  });
}

/** Where `target` (a path in a container of `s`) comes from: [source, path under it]. */
function sourceOf(s: ComposeService, target: string): [string, string] {
  const hit = mounts(s)
    .filter(([, t]) => target === t || target.startsWith(`${t}/`))
    .sort((a, b) => b[1].length - a[1].length)[0];
  if (hit === undefined) throw new Error(`nothing is mounted at ${target}`);
  return [hit[0], posix.relative(hit[1], target)];
}

// ---------------------------------------------------------------------------------------------
// docker-compose.yml: the stack

describe('the compose stack', () => {
  it('has the cluster, Kafka, the S3 server and its bucket, Prometheus and Grafana', () => {
    expect(Object.keys(loadCompose().services)).toEqual([
      'ca-export',
      'grafana',
      'jobmanager',
      'kafka',
      'minio',
      'minio-init',
      'prometheus',
      'security-init',
      'taskmanager',
    ]);
    const images = Object.fromEntries(
      Object.entries(loadCompose().services).map(([name, s]) => [name, s.image?.split(':')[0]]),
    );
    expect(images).toEqual({
      'ca-export': 'nimble',
      grafana: 'grafana/grafana',
      jobmanager: 'nimble',
      kafka: 'apache/kafka',
      minio: 'minio/minio',
      'minio-init': 'minio/mc',
      prometheus: 'prom/prometheus',
      'security-init': 'nimble',
      taskmanager: 'nimble',
    });
    // Images from a registry are pinned to a version.
    for (const [name, s] of Object.entries(loadCompose().services)) {
      if (s.image?.startsWith('nimble:')) continue;
      expect(s.image, name).toMatch(/:(v?\d|RELEASE\.)/);
    }
  });

  it('publishes ports on the loopback interface only, and none of the TaskManagers', () => {
    const published: Record<string, string[]> = {};
    for (const [name, s] of Object.entries(loadCompose().services)) {
      for (const p of (s.ports as string[] | undefined) ?? []) {
        expect(p, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
        (published[name] ??= []).push(p.split(':')[1]!);
      }
    }
    expect(published).toEqual({
      grafana: ['3000'],
      jobmanager: ['6123', '8081'],
      kafka: ['29092'],
      minio: ['9000', '9001'],
      prometheus: ['9090'],
    });
  });

  it('sends checkpoints and savepoints to the bucket minio-init creates, on the minio service', () => {
    const jm = composeServiceSettings('jobmanager').properties;
    const tm = composeServiceSettings('taskmanager').properties;
    const s3Keys = [
      'state.checkpoints.dir',
      'state.savepoints.dir',
      's3.endpoint',
      's3.path.style.access',
      's3.access-key',
      's3.secret-key',
    ];
    const pick = (p: Record<string, string>) => Object.fromEntries(s3Keys.map((k) => [k, p[k]]));
    // The JobManager and every TaskManager must reach the same storage with the same settings.
    expect(pick(tm)).toEqual(pick(jm));
    expect(pick(jm)).toEqual({
      'state.checkpoints.dir': 's3://nimble/checkpoints',
      'state.savepoints.dir': 's3://nimble/savepoints',
      's3.endpoint': 'http://minio:9000',
      's3.path.style.access': 'true',
      's3.access-key': 'nimble',
      's3.secret-key': 'nimble-s3-secret',
    });

    const minio = service('minio');
    expect(serviceArgs(minio)).toEqual(['server', '/data', '--console-address', ':9001']);
    expect(environment(minio)).toEqual({
      MINIO_ROOT_USER: jm['s3.access-key'],
      MINIO_ROOT_PASSWORD: jm['s3.secret-key'],
    });
    expect(mounts(minio)).toEqual([['minio-data', '/data', 'rw']]);
    expect(minio.healthcheck?.test).toEqual(['CMD', 'mc', 'ready', 'local']);

    // minio-init: `mc mb --ignore-existing <alias>/<bucket>`, the alias from MC_HOST_<alias>.
    const init = service('minio-init');
    const [mb, ignoreExisting, target] = serviceArgs(init);
    expect([mb, ignoreExisting]).toEqual(['mb', '--ignore-existing']);
    const [alias, bucket] = target!.split('/');
    const hostUrl = new URL(environment(init)[`MC_HOST_${alias}`]!);
    const endpoint = new URL(jm['s3.endpoint']!);
    expect(`${hostUrl.protocol}//${hostUrl.host}`).toBe(`${endpoint.protocol}//${endpoint.host}`);
    expect([hostUrl.username, hostUrl.password]).toEqual([
      jm['s3.access-key'],
      jm['s3.secret-key'],
    ]);
    expect(endpoint.hostname).toBe('minio');
    expect(new URL(jm['state.checkpoints.dir']!).host).toBe(bucket);
    expect(new URL(jm['state.savepoints.dir']!).host).toBe(bucket);
    expect(init.depends_on).toEqual({ minio: { condition: 'service_healthy' } });
    expect(init.restart).toBeUndefined();
  });

  it('takes the S3 credentials from NIMBLE_S3_ACCESS_KEY and NIMBLE_S3_SECRET_KEY when set', () => {
    const doc = loadCompose(undefined, {
      NIMBLE_S3_ACCESS_KEY: 'ops-user',
      NIMBLE_S3_SECRET_KEY: 'a-long-secret_42',
    });
    expect(environment(service('minio', doc))).toMatchObject({
      MINIO_ROOT_USER: 'ops-user',
      MINIO_ROOT_PASSWORD: 'a-long-secret_42',
    });
    expect(environment(service('minio-init', doc))['MC_HOST_nimble']).toBe(
      'http://ops-user:a-long-secret_42@minio:9000',
    );
    for (const name of ['jobmanager', 'taskmanager']) {
      const text = environment(service(name, doc))['NIMBLE_PROPERTIES']!;
      expect(text).toContain('s3.access-key: ops-user\n');
      expect(text).toContain('s3.secret-key: a-long-secret_42\n');
    }
  });

  it('interpolates as Compose does', () => {
    expect(interpolate('a ${X:-d} ${Y-e} ${Z} $$1', { X: '', Y: '', Z: 'z' })).toBe('a d  z $1');
    expect(interpolate('${X:-d}/${X-e}', {})).toBe('d/e');
    expect(() => interpolate('cost $5', {})).toThrow(/\$\{NAME\}/);
  });

  it('keeps the job store on a volume and starts the JobManager after the bucket exists', () => {
    const jm = service('jobmanager');
    const blobDir = composeServiceSettings('jobmanager').properties['blob.storage.directory']!;
    // The job store is the jobs/ directory of the blob store (docs/configuration.md).
    expect(sourceOf(jm, join(blobDir, 'jobs'))).toEqual(['jobmanager-data', 'jobs']);
    expect(jm.restart).toBe('unless-stopped');
    expect(jm.depends_on).toMatchObject({
      'minio-init': { condition: 'service_completed_successfully' },
    });
    const volumes = Object.keys(loadCompose().volumes as Record<string, unknown>);
    const used = new Set(
      Object.values(loadCompose().services).flatMap((s) =>
        mounts(s)
          .map(([source]) => source)
          .filter((source) => !source.startsWith('.')),
      ),
    );
    expect(volumes.sort()).toEqual([...used].sort());
  });

  it('ca-export copies the CA certificate, readable by all, where Prometheus reads it', async () => {
    const exporter = service('ca-export');
    const args = serviceArgs(exporter);
    expect(args.slice(0, 3)).toEqual(['install', '-m', '0644']);
    const [from, to] = args.slice(3);
    const trust =
      composeServiceSettings('jobmanager').properties['security.ssl.internal.trust-cert']!;
    expect(from).toBe(trust);
    expect(sourceOf(exporter, from!)[0]).toBe('nimble-secrets');
    const [caVolume, caPath] = sourceOf(exporter, to!);
    expect(caVolume).toBe('nimble-ca');
    expect(exporter.depends_on).toEqual({
      'security-init': { condition: 'service_completed_successfully' },
    });

    // Prometheus verifies the JobManager with the file from that volume.
    const prometheus = service('prometheus');
    const config = parse(readFileSync(prometheusFile, 'utf8')) as PrometheusConfig;
    const jmJob = config.scrape_configs.find((j) => j.job_name === 'nimble-jobmanager')!;
    expect(sourceOf(prometheus, jmJob.tls_config!.ca_file!)).toEqual([caVolume, caPath]);
    expect(prometheus.depends_on).toEqual({
      'ca-export': { condition: 'service_completed_successfully' },
    });

    // The command itself, run here on a file made like security-init's (mode 0600 in a 0700
    // directory): the copy is readable by others.
    const secrets = join(scratch, 'secrets');
    mkdirSync(secrets, { mode: 0o700 });
    writeFileSync(join(secrets, 'ca.pem'), 'certificate\n', { mode: 0o600 });
    const ca = join(scratch, 'ca');
    mkdirSync(ca);
    await run(args[0]!, [...args.slice(1, 3), join(secrets, 'ca.pem'), join(ca, 'ca.pem')]);
    expect(statSync(join(ca, 'ca.pem')).mode & 0o777).toBe(0o644);
    expect(readFileSync(join(ca, 'ca.pem'), 'utf8')).toBe('certificate\n');
  });
});

// ---------------------------------------------------------------------------------------------
// deploy/prometheus/prometheus.yml

interface ScrapeConfig {
  job_name: string;
  scheme?: string;
  metrics_path?: string;
  tls_config?: { ca_file?: string; insecure_skip_verify?: boolean };
  static_configs?: { targets: string[] }[];
  dns_sd_configs?: { names: string[]; type?: string; port?: number; refresh_interval?: string }[];
  [key: string]: unknown;
}

interface PrometheusConfig {
  global?: Record<string, string>;
  scrape_configs: ScrapeConfig[];
  [key: string]: unknown;
}

/** Prometheus' duration format ("10s", "1m30s"). */
const DURATION = /^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$/;

describe('deploy/prometheus/prometheus.yml', () => {
  const config = (): PrometheusConfig =>
    parse(readFileSync(prometheusFile, 'utf8')) as PrometheusConfig;

  it('has only the sections and keys Prometheus knows, with valid durations', () => {
    const c = config();
    expect(Object.keys(c).sort()).toEqual(['global', 'scrape_configs']);
    expect(Object.keys(c.global!).sort()).toEqual([
      'evaluation_interval',
      'scrape_interval',
      'scrape_timeout',
    ]);
    for (const v of Object.values(c.global!)) expect(v).toMatch(DURATION);
    const known = new Set([
      'job_name',
      'scheme',
      'metrics_path',
      'tls_config',
      'static_configs',
      'dns_sd_configs',
    ]);
    const names = c.scrape_configs.map((j) => j.job_name);
    expect(new Set(names).size).toBe(names.length);
    for (const job of c.scrape_configs) {
      expect(Object.keys(job).filter((k) => !known.has(k))).toEqual([]);
      expect(['http', 'https']).toContain(job.scheme);
      for (const sd of job.dns_sd_configs ?? []) {
        expect(Object.keys(sd).sort()).toEqual(['names', 'port', 'refresh_interval', 'type']);
        expect(sd.refresh_interval).toMatch(DURATION);
      }
    }
  });

  it('scrapes the JobManager over HTTPS, verified, on its REST port', () => {
    const jm = config().scrape_configs.find((j) => j.job_name === 'nimble-jobmanager')!;
    const p = composeServiceSettings('jobmanager').properties;
    expect(p['security.ssl.rest.enabled']).toBe('true');
    expect(jm).toEqual({
      job_name: 'nimble-jobmanager',
      scheme: 'https',
      metrics_path: '/metrics',
      tls_config: { ca_file: '/etc/prometheus/nimble/ca.pem' },
      static_configs: [{ targets: [`jobmanager:${p['rest.port']}`] }],
    });
  });

  it('finds every TaskManager replica by the service name, on its metrics port', () => {
    const tm = config().scrape_configs.find((j) => j.job_name === 'nimble-taskmanager')!;
    const p = composeServiceSettings('taskmanager').properties;
    expect(tm).toEqual({
      job_name: 'nimble-taskmanager',
      scheme: 'http',
      metrics_path: '/metrics',
      dns_sd_configs: [
        {
          names: ['taskmanager'],
          type: 'A',
          port: Number(p['metrics.reporter.prom.port']),
          refresh_interval: '15s',
        },
      ],
    });
  });

  it('every target names a compose service', () => {
    const services = new Set(Object.keys(loadCompose().services));
    const hosts = config().scrape_configs.flatMap((job) => [
      ...(job.static_configs ?? []).flatMap((s) => s.targets.map((t) => t.split(':')[0])),
      ...(job.dns_sd_configs ?? []).flatMap((s) => s.names),
    ]);
    expect(hosts).toEqual(['jobmanager', 'taskmanager']);
    for (const h of hosts) expect(services.has(h!), h).toBe(true);
  });

  it('is the file the prometheus service mounts', () => {
    expect(sourceOf(service('prometheus'), '/etc/prometheus/prometheus.yml')).toEqual([
      './deploy/prometheus/prometheus.yml',
      '',
    ]);
    // The image's default command reads /etc/prometheus/prometheus.yml and keeps its data in
    // /prometheus.
    expect(service('prometheus').command).toBeUndefined();
    expect(sourceOf(service('prometheus'), '/prometheus')).toEqual(['prometheus-data', '']);
  });
});

// ---------------------------------------------------------------------------------------------
// deploy/grafana

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets: { refId: string; expr: string; datasource: { type: string; uid: string } }[];
}

interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; query: { query: string }; datasource: { uid: string } }[] };
}

const dashboard = (): Dashboard => JSON.parse(readFileSync(dashboardFile, 'utf8')) as Dashboard;

/** The metrics a PromQL expression reads (every Nimble metric begins with nimble_). */
function metricsOf(expr: string): string[] {
  return [...expr.matchAll(/\b(nimble_[A-Za-z0-9_]+)\b/g)].map((m) => m[1]!);
}

/** The label names a PromQL expression groups by or matches on. */
function labelsOf(expr: string): string[] {
  const grouped = [...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((m) =>
    m[1]!.split(',').map((l) => l.trim()),
  );
  const matched = [...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) =>
    m[1]!.split(',').map((l) => l.split(/=~|!=|!~|=/)[0]!.trim()),
  );
  return [...grouped, ...matched].filter((l) => l !== '');
}

/** Brackets of an expression balance, outside of strings. */
function balanced(expr: string): boolean {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  let quoted = false;
  for (const ch of expr) {
    if (ch === '"') quoted = !quoted;
    if (quoted) continue;
    if ('([{'.includes(ch)) stack.push(ch);
    if (ch in pairs && stack.pop() !== pairs[ch]) return false;
  }
  return stack.length === 0 && !quoted;
}

describe('deploy/grafana', () => {
  const datasources = () =>
    parse(
      readFileSync(join(grafanaDir, 'provisioning', 'datasources', 'prometheus.yml'), 'utf8'),
    ) as {
      apiVersion: number;
      datasources: { name: string; uid: string; type: string; url: string; access: string }[];
    };

  it('provisions the Prometheus of the stack as a data source', () => {
    const { apiVersion, datasources: list } = datasources();
    expect(apiVersion).toBe(1);
    expect(list).toHaveLength(1);
    const ds = list[0]!;
    expect([ds.type, ds.access]).toEqual(['prometheus', 'proxy']);
    const url = new URL(ds.url);
    expect(url.hostname).toBe('prometheus');
    expect(Object.keys(loadCompose().services)).toContain(url.hostname);
    // The container port Prometheus serves on (the one the service publishes).
    expect(service('prometheus').ports).toEqual([`127.0.0.1:9090:${url.port}`]);
  });

  it('provisions the dashboards from the directory the grafana service mounts', () => {
    const grafana = service('grafana');
    const provisioning = parse(
      readFileSync(join(grafanaDir, 'provisioning', 'dashboards', 'nimble.yml'), 'utf8'),
    ) as { apiVersion: number; providers: { type: string; options: { path: string } }[] };
    expect(provisioning.apiVersion).toBe(1);
    expect(provisioning.providers.map((p) => p.type)).toEqual(['file']);
    const path = provisioning.providers[0]!.options.path;
    expect(sourceOf(grafana, path)).toEqual(['./deploy/grafana/dashboards', '']);
    expect(sourceOf(grafana, '/etc/grafana/provisioning')).toEqual([
      './deploy/grafana/provisioning',
      '',
    ]);
    const home = environment(grafana)['GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH']!;
    expect(sourceOf(grafana, home)).toEqual(['./deploy/grafana/dashboards', 'nimble.json']);
    // No anonymous access, no sign-up: Grafana is reached with its admin login only.
    expect(environment(grafana)).toMatchObject({
      GF_USERS_ALLOW_SIGN_UP: 'false',
      GF_AUTH_ANONYMOUS_ENABLED: 'false',
    });
  });

  it('every panel queries the provisioned data source', () => {
    const uid = datasources().datasources[0]!.uid;
    const d = dashboard();
    expect(d.panels.length).toBeGreaterThan(0);
    for (const p of d.panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid });
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets) expect(t.datasource, p.title).toEqual({ type: 'prometheus', uid });
    }
    for (const v of d.templating.list) expect(v.datasource.uid).toBe(uid);
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("every query reads metrics Nimble exports, by Nimble's labels", () => {
    const known = new Set<string>(Object.values(MetricNames));
    const pending = readFileSync(pendingMetricsFile, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    // A pending metric that metric-names.ts has since gained is listed here no longer.
    expect(pending.filter((m) => known.has(m))).toEqual([]);
    const allowed = new Set([...known, ...pending]);
    const labels = new Set<string>(Object.values(MetricLabels));
    const d = dashboard();
    const queries = [
      ...d.panels.flatMap((p) => p.targets.map((t) => [p.title, t.expr] as const)),
      ...d.templating.list.map((v) => [`variable ${v.name}`, v.query.query] as const),
    ];
    for (const [title, expr] of queries) {
      expect(balanced(expr), `${title}: ${expr}`).toBe(true);
      const metrics = metricsOf(expr);
      expect(metrics.length, title).toBeGreaterThan(0);
      expect(
        metrics.filter((m) => !allowed.has(m)),
        title,
      ).toEqual([]);
      expect(
        labelsOf(expr).filter((l) => !labels.has(l)),
        title,
      ).toEqual([]);
    }
    // Every pending metric is used, or it would not need to be listed.
    const used = new Set(queries.flatMap(([, expr]) => metricsOf(expr)));
    expect(pending.filter((m) => !used.has(m))).toEqual([]);
  });

  it("shows the key metrics of Flink's monitoring guides as panels", () => {
    const byMetric = Object.fromEntries(
      dashboard().panels.map((p) => [metricsOf(p.targets[0]!.expr)[0], p.title]),
    );
    expect(byMetric).toEqual({
      nimble_taskmanager_job_task_operator_pendingRecords: 'Kafka lag (pending records)',
      nimble_taskmanager_job_task_operator_numRecordsInPerSecond: 'Records in per second',
      nimble_taskmanager_job_task_operator_currentOutputWatermark: 'Watermark per operator',
      nimble_taskmanager_job_task_operator_watermarkLag: 'Watermark lag per operator',
      nimble_taskmanager_job_task_operator_numLateRecordsDropped: 'Late records dropped per second',
      nimble_jobmanager_job_lastCheckpointDuration: 'Checkpoint duration',
      nimble_jobmanager_job_numberOfFailedCheckpoints: 'Failed checkpoints',
      nimble_taskmanager_job_task_backPressuredTimeMsPerSecond: 'Backpressured time',
      nimble_taskmanager_job_task_busyTimeMsPerSecond: 'Busy time',
      nimble_taskmanager_job_task_operator_stateSize: 'State size',
      nimble_taskmanager_job_task_operator_level_cacheMissRate: 'Cache miss rate (level backend)',
    });
  });

  it('lays the panels out on the 24-column grid without overlaps', () => {
    const boxes = dashboard().panels.map((p) => p.gridPos);
    for (const b of boxes) expect(b.x + b.w).toBeLessThanOrEqual(24);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i]!, boxes[j]!];
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `panels ${i + 1} and ${j + 1}`).toBe(false);
      }
    }
  });
});
