// Authentication and encryption against real daemons: mutual TLS on gRPC, HTTPS and the token on
// REST, the token on the client-facing gRPC service, and the refusal to bind the network bare.
import * as grpc from '@grpc/grpc-js';
import { nimbleServices } from '@nimble/proto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from './fixtures/cluster.js';
import { nimble, startDaemon, stopDaemon } from './fixtures/cluster.js';

const countJob = fileURLToPath(new URL('./fixtures/cluster-jobs/count-job.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nimble-security-'));
const secrets = join(dir, 'cluster');
const otherSecrets = join(dir, 'other');
const daemons: Daemon[] = [];
let initOutput = '';
let token = '';
let ca: Buffer;
let jobManager: Daemon;
let taskManagers: Daemon[] = [];

/** The configuration lines `nimble security init` printed. */
function printedConfig(output: string): string[] {
  return output.split('\n').filter((l) => l.startsWith('security.'));
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An HTTPS request to the JobManager's REST API, trusting only the cluster CA. */
function rest(
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port: jobManager.ready.httpPort,
        method,
        path,
        ca,
        headers: {
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('error', reject);
        res.on('end', () => {
          const json = res.headers['content-type']?.startsWith('application/json');
          resolve({ status: res.statusCode ?? 0, body: json ? JSON.parse(text) : text });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}

async function taskManagerCount(): Promise<number> {
  return (await rest('GET', '/overview')).body.taskmanagers as number;
}

beforeAll(async () => {
  const init = await nimble(['security', 'init', secrets, '--host', 'jobmanager.example']);
  expect(init.code, init.stderr).toBe(0);
  initOutput = init.stdout;
  expect((await nimble(['security', 'init', otherSecrets])).code).toBe(0);
  token = readFileSync(join(secrets, 'token'), 'utf8').trim();
  ca = readFileSync(join(secrets, 'ca.pem'));

  const security = printedConfig(initOutput);
  const blobs = join(dir, 'blobs');
  jobManager = await startDaemon(['jobmanager'], {
    NIMBLE_PROPERTIES: [
      ...security,
      'jobmanager.rpc.port: 0',
      'rest.port: 0',
      `blob.storage.directory: ${blobs}`,
    ].join('\n'),
  });
  daemons.push(jobManager);
  writeFileSync(
    join(dir, 'cluster.yaml'),
    [...security, `jobmanager.rpc.port: ${jobManager.ready.rpcPort}`].join('\n') + '\n',
  );
  // A client's configuration: the cluster's TLS files, but the token only from NIMBLE_TOKEN.
  writeFileSync(
    join(dir, 'client.yaml'),
    [
      ...security.filter((l) => !l.startsWith('security.rest.token')),
      `jobmanager.rpc.port: ${jobManager.ready.rpcPort}`,
    ].join('\n') + '\n',
  );
  taskManagers = await Promise.all(
    [0, 1].map(() =>
      startDaemon([
        'taskmanager',
        '-c',
        join(dir, 'cluster.yaml'),
        '-D',
        'taskmanager.rpc.port=0',
        '-D',
        'metrics.reporter.prom.port=0',
      ]),
    ),
  );
  daemons.push(...taskManagers);
  await until(async () => (await taskManagerCount()) === 2, 'two TaskManagers to register');
}, 90_000);

afterAll(async () => {
  await Promise.all(daemons.map((d) => stopDaemon(d)));
  rmSync(dir, { recursive: true, force: true });
});

describe('nimble security init', () => {
  it('writes a CA, a daemon certificate and a token, keys and token for the owner only', () => {
    for (const file of ['ca-key.pem', 'node-key.pem', 'token']) {
      expect(statSync(join(secrets, file)).mode & 0o777, file).toBe(0o600);
    }
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(readFileSync(join(secrets, 'node.pem'), 'utf8')).toContain('BEGIN CERTIFICATE');
    expect(initOutput).toContain('DNS:jobmanager.example');
    expect(printedConfig(initOutput)).toEqual([
      'security.ssl.internal.enabled: true',
      `security.ssl.internal.cert: ${join(secrets, 'node.pem')}`,
      `security.ssl.internal.key: ${join(secrets, 'node-key.pem')}`,
      `security.ssl.internal.trust-cert: ${join(secrets, 'ca.pem')}`,
      'security.ssl.rest.enabled: true',
      `security.ssl.rest.cert: ${join(secrets, 'node.pem')}`,
      `security.ssl.rest.key: ${join(secrets, 'node-key.pem')}`,
      `security.rest.token-file: ${join(secrets, 'token')}`,
    ]);
  });

  it('refuses to replace the material of an existing cluster', async () => {
    const again = await nimble(['security', 'init', secrets]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('refusing to replace');
    expect(readFileSync(join(secrets, 'token'), 'utf8').trim()).toBe(token);
  });
});

describe('a cluster with TLS and a token', () => {
  it('runs a job submitted by the CLI with the token, over mutual TLS between all daemons', async () => {
    // Parallelism 2 on two TaskManagers of one slot: the keyed exchange crosses TaskManagers.
    const run = await nimble(['run', '-c', join(dir, 'client.yaml'), countJob, '10000', '0', '2'], {
      NIMBLE_TOKEN: token,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(/RESULT (.*)/.exec(run.stdout)![1]!)).toEqual(
      Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 1000])),
    );
    // The token from the configuration (security.rest.token-file) works as well.
    const list = await nimble(['list', '-a', '-c', join(dir, 'cluster.yaml')]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('count-job (FINISHED)');
  });

  it('refuses CLI calls without the token or with a wrong one', async () => {
    const client = join(dir, 'client.yaml');
    const none = await nimble(['run', '-c', client, countJob, '100'], { NIMBLE_TOKEN: '' });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('UNAUTHENTICATED');
    expect(none.stderr).toContain('NIMBLE_TOKEN');
    const wrong = await nimble(['list', '-c', client], { NIMBLE_TOKEN: 'x'.repeat(43) });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('UNAUTHENTICATED');
    const jobs = await rest('GET', '/jobs', { token });
    expect(jobs.body.jobs.every((j: { status: string }) => j.status === 'FINISHED')).toBe(true);
  });

  it('REST answers 401 without the token for every call but /overview and /metrics', async () => {
    // With the token, the endpoints answer.
    expect((await rest('GET', '/jobmanager/config', { token })).status).toBe(200);
    // A job that runs until it is cancelled (1 event/s), submitted with the token.
    const run = await nimble(
      ['run', '-d', '-c', join(dir, 'client.yaml'), countJob, '1000000', '1', '1'],
      { NIMBLE_TOKEN: token },
    );
    expect(run.code, run.stderr).toBe(0);
    const jobId = /JobID ([0-9a-f]+)/.exec(run.stdout)![1]!;
    await until(
      async () => (await rest('GET', `/jobs/${jobId}`, { token })).body.state === 'RUNNING',
      'the job to run',
    );

    const taskManagerIds = (await rest('GET', '/taskmanagers', { token })).body.taskmanagers.map(
      (t: { id: string }) => t.id,
    ) as string[];
    const refused: [string, string, unknown?][] = [
      ['GET', '/jobs'],
      ['GET', '/jobs/overview'],
      ['GET', `/jobs/${jobId}`],
      ['GET', `/jobs/${jobId}/checkpoints/config`],
      ['GET', `/jobs/${jobId}/exceptions`],
      ['GET', '/taskmanagers'],
      ['PATCH', `/jobs/${jobId}?mode=cancel`],
      ['POST', `/jobs/${jobId}/savepoints`, { 'target-directory': join(dir, 'sp') }],
      ['POST', `/jobs/${jobId}/stop`, { targetDirectory: join(dir, 'sp') }],
      ['GET', '/config'],
      ['GET', '/jobmanager/config'],
      ['GET', '/jobmanager/metrics'],
      ['GET', '/jobmanager/logs'],
      ['GET', '/jobmanager/log'],
      ['GET', `/taskmanagers/${taskManagerIds[0]}`],
      ['GET', `/taskmanagers/${taskManagerIds[0]}/metrics`],
      ['GET', `/taskmanagers/${taskManagerIds[0]}/logs`],
      ['GET', `/taskmanagers/${taskManagerIds[0]}/log`],
      ['GET', `/taskmanagers/${taskManagerIds[0]}/logs/taskmanager.log`],
      ['GET', `/jobs/${jobId}/plan`],
      ['GET', `/jobs/${jobId}/config`],
      ['GET', `/jobs/${jobId}/vertices/0`],
      ['GET', `/jobs/${jobId}/vertices/0/backpressure`],
      ['GET', `/jobs/${jobId}/vertices/0/watermarks`],
      ['GET', `/jobs/${jobId}/vertices/0/subtasks/metrics`],
      ['GET', `/jobs/${jobId}/checkpoints/details/1`],
      ['POST', `/jobs/${jobId}/checkpoints`, {}],
      ['GET', '/jars'],
      ['POST', '/jars/upload', {}],
      ['POST', '/jars/00000000-0000-0000-0000-000000000000_x.mjs/run', {}],
      ['DELETE', '/jars/00000000-0000-0000-0000-000000000000_x.mjs'],
      ['POST', '/savepoint-disposal', { 'savepoint-path': join(dir, 'sp') }],
      ['GET', '/nothing-here'],
    ];
    for (const [method, path, body] of refused) {
      for (const presented of [undefined, 'not-the-token', `${token}x`]) {
        const res = await rest(method, path, { token: presented, body });
        expect(res.status, `${method} ${path} with ${presented}`).toBe(401);
        expect(res.body.errors[0]).toContain('Authorization: Bearer');
      }
    }
    expect((await rest('GET', '/overview')).status).toBe(200);
    expect((await rest('GET', '/metrics')).status).toBe(200);
    // Nothing the refused calls asked for happened, and the daemons still serve.
    expect((await rest('GET', `/jobs/${jobId}`, { token })).body.state).toBe('RUNNING');
    expect(await taskManagerCount()).toBe(2);
    // With the token, a TaskManager's log comes from it over mutual TLS; its plain metrics port
    // does not serve it.
    const tmLog = await rest('GET', `/taskmanagers/${taskManagerIds[0]}/log`, { token });
    expect(tmLog.status).toBe(200);
    expect(tmLog.body).toContain('registered at the JobManager');
    const tmPort = taskManagers.find((t) => t.ready.resourceId === taskManagerIds[0])!.ready
      .httpPort;
    for (const path of ['/log', '/logs', '/logs/taskmanager.log']) {
      expect((await fetch(`http://127.0.0.1:${tmPort}${path}`)).status, path).toBe(404);
    }

    expect((await rest('PATCH', `/jobs/${jobId}?mode=cancel`, { token })).status).toBe(202);
    await until(
      async () => (await rest('GET', `/jobs/${jobId}`, { token })).body.state === 'CANCELED',
      'the job to be cancelled',
    );
  });

  it('the Dispatcher refuses a member of the cluster without the token, streams included', async () => {
    // A client with the cluster's own certificate gets through TLS, but not past the token.
    const member = grpc.credentials.createSsl(
      ca,
      readFileSync(join(secrets, 'node-key.pem')),
      readFileSync(join(secrets, 'node.pem')),
      { checkServerIdentity: () => undefined },
    );
    const options = { 'grpc.ssl_target_name_override': 'nimble-cluster' };
    const dispatcher = new (nimbleServices().Dispatcher)(
      `127.0.0.1:${jobManager.ready.rpcPort}`,
      member,
      options,
    );
    const withToken = (value: string | undefined): grpc.Metadata => {
      const md = new grpc.Metadata();
      if (value !== undefined) md.set('authorization', `Bearer ${value}`);
      return md;
    };
    const submit = (md: grpc.Metadata) =>
      new Promise<grpc.ServiceError | null>((resolve) =>
        dispatcher.SubmitJob(
          { jobName: 'intruder', bundle: Buffer.from('x'), planJson: '{}' },
          md,
          (e) => resolve(e),
        ),
      );
    for (const presented of [undefined, 'not-the-token', token.toUpperCase()]) {
      expect((await submit(withToken(presented)))?.code, presented).toBe(
        grpc.status.UNAUTHENTICATED,
      );
      const watch = dispatcher.WatchJob({ jobId: 'any' }, withToken(presented));
      const failure = await new Promise<grpc.ServiceError>((resolve) => watch.on('error', resolve));
      expect(failure.code, presented).toBe(grpc.status.UNAUTHENTICATED);
    }
    // With the token the same call reaches the handler, which judges the request itself.
    expect((await submit(withToken(token)))?.code).toBe(grpc.status.INVALID_ARGUMENT);
    dispatcher.close();
    const jobs = (await rest('GET', '/jobs', { token })).body.jobs as { status: string }[];
    expect(jobs.every((j) => j.status !== 'RUNNING')).toBe(true);
  });

  it('REST does not answer plain HTTP', async () => {
    await expect(fetch(`http://127.0.0.1:${jobManager.ready.httpPort}/overview`)).rejects.toThrow();
    expect((await rest('GET', '/overview')).status).toBe(200);
  });

  it('refuses gRPC peers without a certificate of the cluster CA', async () => {
    const other = {
      cert: readFileSync(join(otherSecrets, 'node.pem')),
      key: readFileSync(join(otherSecrets, 'node-key.pem')),
    };
    const skipHostName = { checkServerIdentity: () => undefined };
    const credentials: [string, grpc.ChannelCredentials][] = [
      ['plaintext', grpc.credentials.createInsecure()],
      [
        'TLS without a client certificate',
        grpc.credentials.createSsl(ca, null, null, skipHostName),
      ],
      [
        'a certificate of another CA',
        grpc.credentials.createSsl(ca, other.key, other.cert, skipHostName),
      ],
    ];
    const services = nimbleServices();
    const jm = `127.0.0.1:${jobManager.ready.rpcPort}`;
    for (const [what, creds] of credentials) {
      // Registering as a TaskManager (that would receive jobs' code and data).
      const rm = new services.ResourceManager(jm, creds);
      const registered = await new Promise<grpc.ServiceError | null>((resolve) =>
        rm.RegisterTaskManager(
          { resourceId: 'intruder', address: '127.0.0.1:1', numberOfSlots: 4 },
          { deadline: Date.now() + 20_000 },
          (e) => resolve(e),
        ),
      );
      expect(registered?.code, what).toBe(grpc.status.UNAVAILABLE);
      rm.close();

      // Reading a TaskManager's log (it can hold job data).
      const executor = new services.TaskExecutor(
        `127.0.0.1:${taskManagers[0]!.ready.rpcPort}`,
        creds,
      );
      const logRead = await new Promise<grpc.ServiceError | null>((resolve) =>
        executor.GetLog({}, { deadline: Date.now() + 20_000 }, (e) => resolve(e)),
      );
      expect(logRead?.code, what).toBe(grpc.status.UNAVAILABLE);
      executor.close();

      // Opening a data-exchange stream to a TaskManager, claiming to be the other one.
      const exchange = new services.Exchange(`127.0.0.1:${taskManagers[0]!.ready.rpcPort}`, creds);
      const metadata = new grpc.Metadata();
      metadata.set('nimble-resource-id', taskManagers[1]!.ready.resourceId!);
      const stream = exchange.Connect(metadata, { deadline: Date.now() + 20_000 });
      const failure = await new Promise<grpc.ServiceError>((resolve) =>
        stream.on('error', resolve),
      );
      expect(failure.code, what).toBe(grpc.status.UNAVAILABLE);
      exchange.close();
    }
    // No intruder got in, and the cluster still serves.
    const tms = (await rest('GET', '/taskmanagers', { token })).body.taskmanagers as {
      id: string;
    }[];
    expect(tms.map((t) => t.id).sort()).toEqual(
      taskManagers.map((t) => t.ready.resourceId!).sort(),
    );
    const list = await nimble(['list', '-c', join(dir, 'cluster.yaml')]);
    expect(list.code, list.stderr).toBe(0);
  });
});

describe('secure by default', () => {
  it('a daemon refuses to bind a non-loopback address without TLS and a token', async () => {
    const jm = await nimble([
      'jobmanager',
      '-D',
      'jobmanager.bind-host=0.0.0.0',
      '-D',
      'jobmanager.rpc.port=0',
      '-D',
      'rest.port=0',
    ]);
    expect(jm.code).toBe(2);
    expect(jm.stderr).toContain('Refusing to start');
    expect(jm.stderr).toContain('"jobmanager.bind-host"');
    expect(jm.stderr).toContain('nimble security init');
    expect(jm.stderr).toContain('security.insecure: true');

    // TLS without a token is not enough for REST on the network.
    const rest = await nimble([
      'jobmanager',
      '-D',
      'rest.bind-address=0.0.0.0',
      '-D',
      'jobmanager.rpc.port=0',
      '-D',
      'rest.port=0',
      '-D',
      'security.ssl.rest.enabled=true',
      '-D',
      `security.ssl.rest.cert=${join(secrets, 'node.pem')}`,
      '-D',
      `security.ssl.rest.key=${join(secrets, 'node-key.pem')}`,
    ]);
    expect(rest.code).toBe(2);
    expect(rest.stderr).toContain('"rest.bind-address"');

    const tm = await nimble([
      'taskmanager',
      '-D',
      'taskmanager.bind-host=0.0.0.0',
      '-D',
      'taskmanager.rpc.port=0',
      '-D',
      'metrics.reporter.prom.port=0',
    ]);
    expect(tm.code).toBe(2);
    expect(tm.stderr).toContain('"taskmanager.bind-host"');
    expect(tm.stderr).toContain('security.insecure: true');
  });

  it('starts on a non-loopback address with security.insecure: true', async () => {
    const jm = await startDaemon([
      'jobmanager',
      '-D',
      'jobmanager.bind-host=0.0.0.0',
      '-D',
      'rest.bind-address=0.0.0.0',
      '-D',
      'jobmanager.rpc.port=0',
      '-D',
      'rest.port=0',
      '-D',
      `blob.storage.directory=${join(dir, 'insecure-blobs')}`,
      '-D',
      'security.insecure=true',
    ]);
    daemons.push(jm);
    const res = await fetch(`http://127.0.0.1:${jm.ready.httpPort}/overview`);
    expect(res.status).toBe(200);
    await stopDaemon(jm);
  });

  it('names the key of a security file that cannot be read', async () => {
    const jm = await nimble([
      'jobmanager',
      '-D',
      'jobmanager.rpc.port=0',
      '-D',
      'rest.port=0',
      '-D',
      'security.ssl.internal.enabled=true',
      '-D',
      `security.ssl.internal.cert=${join(dir, 'missing.pem')}`,
    ]);
    expect(jm.code).toBe(2);
    expect(jm.stderr).toContain('"security.ssl.internal.cert"');
    expect(jm.stderr).toContain('missing.pem');
  });
});
