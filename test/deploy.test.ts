/**
 * The deployment files, checked without a Docker engine: docker-compose.yml against the Compose
 * specification's JSON schema and dclint's rules, deploy/Dockerfile with the Dockerfile
 * validator of the Docker language server (dockerfile-utils), the entrypoint's dispatch by
 * running it, and the configuration the services start with.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfiguration, parseClusterConfiguration } from '@nimble/runtime';
import { DCLinter } from 'dclint';
import { DockerfileParser } from 'dockerfile-ast';
import type { Copy, Env, Instruction } from 'dockerfile-ast';
import { validate as validateDockerfile } from 'dockerfile-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  composeFile,
  composeServiceSettings,
  imageConfigFile,
  loadCompose,
  parseProperties,
  readConfigFile,
  repoRoot,
  serviceArgs,
  servicePropertiesText,
} from './fixtures/compose.js';
import type { ComposeFile } from './fixtures/compose.js';
import { NIMBLE_BIN } from './fixtures/cluster.js';

const run = promisify(execFile);

/** The configuration keys the deployment files may use (the daemons' keys, Flink's names). */
const KNOWN_KEYS = new Set([
  'jobmanager.rpc.address',
  'jobmanager.rpc.port',
  'jobmanager.bind-host',
  'rest.address',
  'rest.port',
  'rest.bind-address',
  'taskmanager.numberOfTaskSlots',
  'taskmanager.host',
  'taskmanager.bind-host',
  'taskmanager.rpc.port',
  'metrics.reporter.prom.port',
  'heartbeat.interval',
  'heartbeat.timeout',
  'slot.request.timeout',
  'blob.storage.directory',
  'io.tmp.dirs',
  'parallelism.default',
  'state.backend.type',
  'restart-strategy.type',
  'restart-strategy.fixed-delay.attempts',
  'restart-strategy.fixed-delay.delay',
  'restart-strategy.failure-rate.max-failures-per-interval',
  'restart-strategy.failure-rate.failure-rate-interval',
  'restart-strategy.failure-rate.delay',
  'restart-strategy.exponential-delay.initial-backoff',
  'restart-strategy.exponential-delay.max-backoff',
  'restart-strategy.exponential-delay.backoff-multiplier',
  'restart-strategy.exponential-delay.reset-backoff-threshold',
  'restart-strategy.exponential-delay.jitter-factor',
  'restart-strategy.exponential-delay.attempts-before-reset-backoff',
  'security.ssl.internal.enabled',
  'security.ssl.internal.cert',
  'security.ssl.internal.key',
  'security.ssl.internal.trust-cert',
  'security.ssl.rest.enabled',
  'security.ssl.rest.cert',
  'security.ssl.rest.key',
  'security.rest.token-file',
  'state.checkpoints.dir',
  'state.savepoints.dir',
  's3.endpoint',
  's3.region',
  's3.access-key',
  's3.secret-key',
  's3.path.style.access',
]);

const dockerfilePath = join(repoRoot, 'deploy', 'Dockerfile');
const entrypointPath = join(repoRoot, 'deploy', 'docker-entrypoint.sh');

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'nimble-deploy-test-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// docker-compose.yml: Compose specification schema + dclint's rules

interface LintMessage {
  rule: string;
  type: 'error' | 'warning';
  message: string;
  line: number;
}

/**
 * Lints a compose file with dclint: first the Compose specification's JSON schema (the copy
 * dclint ships, validated with ajv), then dclint's rules. Every rule is on except
 * service-image-require-explicit-tag: the image is built locally and named nimble:latest on
 * purpose, there is no registry tag to pin.
 */
function lintCompose(file: string): LintMessage[] {
  const linter = new DCLinter({
    rules: { 'service-image-require-explicit-tag': 0 },
    quiet: true,
    debug: false,
    exclude: [],
  });
  const results = linter.lintFiles([file], false) as { messages: LintMessage[] }[];
  return results.flatMap((r) => r.messages);
}

function writeVariant(name: string, edit: (doc: ComposeFile) => void): string {
  const doc = loadCompose();
  edit(doc);
  const file = join(scratch, name);
  writeFileSync(file, stringify(doc));
  return file;
}

function service(doc: ComposeFile, name: string): Record<string, unknown> {
  const s = doc.services[name];
  if (s === undefined) throw new Error(`no service ${name}`);
  return s;
}

describe('docker-compose.yml', () => {
  it('conforms to the Compose specification and passes dclint', () => {
    expect(lintCompose(composeFile)).toEqual([]);
  });

  it.each([
    [
      'an unknown service key',
      (doc: ComposeFile) => {
        service(doc, 'taskmanager').comand = ['taskmanager'];
      },
    ],
    [
      'a depends_on condition Compose does not know',
      (doc: ComposeFile) => {
        service(doc, 'taskmanager').depends_on = { jobmanager: { condition: 'service_ready' } };
      },
    ],
    [
      'ports as a string instead of a list',
      (doc: ComposeFile) => {
        service(doc, 'jobmanager').ports = '127.0.0.1:8081:8081';
      },
    ],
  ])('the schema rejects a copy with %s', (_what, edit) => {
    const messages = lintCompose(writeVariant('broken.yml', edit));
    expect(messages.map((m) => m.rule)).toContain('invalid-schema');
  });

  it('the rules reject a port published on every interface', () => {
    const file = writeVariant('unbound.yml', (doc) => {
      service(doc, 'jobmanager').ports = ['8081:8081'];
    });
    expect(lintCompose(file).map((m) => m.rule)).toContain('no-unbound-port-interfaces');
  });

  it('runs one image: built by jobmanager, reused (never pulled) by taskmanager', () => {
    const { jobmanager, taskmanager } = loadCompose().services;
    expect(jobmanager?.image).toBe('nimble:latest');
    expect(jobmanager?.build).toEqual({ context: '.', dockerfile: 'deploy/Dockerfile' });
    expect(taskmanager?.image).toBe('nimble:latest');
    expect(taskmanager?.pull_policy).toBe('never');
    expect(taskmanager?.build).toBeUndefined();
  });

  it('publishes the JobManager on the configured ports and nothing fixed for TaskManagers', () => {
    const { jobmanager, taskmanager } = loadCompose().services;
    const jm = composeServiceSettings('jobmanager').properties;
    expect(jobmanager?.ports).toEqual([
      `127.0.0.1:${jm['jobmanager.rpc.port']}:${jm['jobmanager.rpc.port']}`,
      `127.0.0.1:${jm['rest.port']}:${jm['rest.port']}`,
    ]);
    // Fixed host ports or a fixed hostname would break `--scale taskmanager=N`.
    expect(taskmanager?.ports).toBeUndefined();
    expect(taskmanager?.hostname).toBeUndefined();
    expect(taskmanager?.container_name).toBeUndefined();
    expect(taskmanager?.depends_on).toEqual({ jobmanager: { condition: 'service_healthy' } });
  });

  it('security-init writes the files the configuration names into the volume the daemons mount', () => {
    const services = loadCompose().services;
    const init = services['security-init'];
    const command = init === undefined ? [] : serviceArgs(init);
    expect(command.slice(0, 3)).toEqual(['security', 'init', '/opt/nimble/secrets']);
    expect(command).toContain('--keep-existing');
    expect(init?.volumes).toEqual(['nimble-secrets:/opt/nimble/secrets']);
    expect(services.jobmanager?.depends_on).toEqual({
      'minio-init': { condition: 'service_completed_successfully' },
      'security-init': { condition: 'service_completed_successfully' },
    });
    expect(services.jobmanager?.volumes).toEqual([
      'nimble-secrets:/opt/nimble/secrets:ro',
      'jobmanager-data:/opt/nimble/data/blobs',
    ]);
    expect(services.taskmanager?.volumes).toEqual(['nimble-secrets:/opt/nimble/secrets:ro']);
    for (const name of ['jobmanager', 'taskmanager'] as const) {
      const p = composeServiceSettings(name).properties;
      expect(p).toMatchObject({
        'security.ssl.internal.enabled': 'true',
        'security.ssl.internal.cert': '/opt/nimble/secrets/node.pem',
        'security.ssl.internal.key': '/opt/nimble/secrets/node-key.pem',
        'security.ssl.internal.trust-cert': '/opt/nimble/secrets/ca.pem',
        'security.ssl.rest.enabled': 'true',
        'security.rest.token-file': '/opt/nimble/secrets/token',
      });
    }
  });

  it("the JobManager's healthcheck passes on a 200 from /overview over HTTPS and fails otherwise", async () => {
    const jobmanager = loadCompose().services.jobmanager;
    const test = jobmanager?.healthcheck?.test;
    expect(Array.isArray(test) && test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    const script = String((test as string[])[3]);
    const properties = composeServiceSettings('jobmanager').properties;
    const restPort = properties['rest.port'];
    expect(script).toContain(`https://127.0.0.1:${restPort}/overview`);
    // The probe trusts the CA of the REST certificate through NODE_EXTRA_CA_CERTS.
    const environment = jobmanager?.environment as Record<string, string>;
    expect(environment['NODE_EXTRA_CA_CERTS']).toBe(properties['security.ssl.internal.trust-cert']);

    const secrets = join(scratch, 'healthcheck-secrets');
    await run(process.execPath, [NIMBLE_BIN, 'security', 'init', secrets]);
    let status = 200;
    const paths: string[] = [];
    const tls = {
      cert: readFileSync(join(secrets, 'node.pem')),
      key: readFileSync(join(secrets, 'node-key.pem')),
    };
    const server = createServer(tls, (req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const probe = async (): Promise<number> => {
      const local = script.replace(`:${restPort}/`, `:${port}/`);
      try {
        await run(process.execPath, ['-e', local], {
          timeout: 30_000,
          env: { ...process.env, NODE_EXTRA_CA_CERTS: join(secrets, 'ca.pem') },
        });
        return 0;
      } catch (e) {
        return (e as { code?: number }).code ?? -1;
      }
    };
    try {
      expect(await probe()).toBe(0);
      status = 503;
      expect(await probe()).toBe(1);
      expect(paths).toEqual(['/overview', '/overview']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    // Nothing listening: unhealthy, not a crash with another exit code.
    expect(await probe()).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Configuration: config.yaml and the services' NIMBLE_PROPERTIES

describe('configuration', () => {
  it('deploy/conf/config.yaml uses only known keys, with container values', () => {
    const config = readConfigFile(imageConfigFile);
    expect(Object.keys(config).filter((k) => !KNOWN_KEYS.has(k))).toEqual([]);
    expect(config).toMatchObject({
      'jobmanager.rpc.address': 'jobmanager',
      'jobmanager.bind-host': '0.0.0.0',
      'rest.bind-address': '0.0.0.0',
      'taskmanager.bind-host': '0.0.0.0',
      'restart-strategy.type': 'fixed-delay',
    });
    // Per container, set by the entrypoint: one value here would be wrong for every replica.
    expect(config['taskmanager.host']).toBeUndefined();
  });

  it.each(['jobmanager', 'taskmanager'] as const)(
    "%s: the command is the role and NIMBLE_PROPERTIES is 'key: value' lines of known keys",
    (name) => {
      const definition = loadCompose().services[name];
      if (definition === undefined) throw new Error(`no service ${name}`);
      expect(serviceArgs(definition)).toEqual([name]);
      const text = servicePropertiesText(definition);
      const lines = text.split('\n').filter((l) => l.trim() !== '');
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*: \S.*$/);
      const properties = parseProperties(text);
      expect(Object.keys(properties)).toHaveLength(lines.length);
      expect(Object.keys(properties).filter((k) => !KNOWN_KEYS.has(k))).toEqual([]);
    },
  );

  it('parseProperties rejects what is not a key: value line', () => {
    expect(() => parseProperties('taskmanager.numberOfTaskSlots=2')).toThrow(/key: value/);
    expect(() => parseProperties('a.b: 1\na.b: 2')).toThrow();
  });

  it('composeServiceSettings overlays the service on the image configuration', () => {
    const jm = composeServiceSettings('jobmanager');
    const tm = composeServiceSettings('taskmanager');
    expect(jm.args).toEqual(['jobmanager']);
    expect(tm.args).toEqual(['taskmanager']);
    expect(tm.properties['taskmanager.numberOfTaskSlots']).toBe('2');
    expect(readConfigFile()['taskmanager.numberOfTaskSlots']).toBe('1');
    for (const settings of [jm, tm]) {
      expect(settings.properties).toMatchObject({
        'jobmanager.rpc.address': 'jobmanager',
        'jobmanager.rpc.port': '6123',
        'rest.port': '8081',
      });
      expect(Object.keys(settings.properties).filter((k) => !KNOWN_KEYS.has(k))).toEqual([]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// deploy/Dockerfile

function instructions(keyword: string): Instruction[] {
  const dockerfile = DockerfileParser.parse(readFileSync(dockerfilePath, 'utf8'));
  return dockerfile.getInstructions().filter((i) => i.getKeyword() === keyword);
}

function args(instruction: Instruction | undefined): string[] {
  return (instruction?.getArguments() ?? []).map((a) => a.getValue());
}

/** A COPY as written, flags first (dockerfile-ast keeps flags apart from the arguments). */
function copies(): string[] {
  return instructions('COPY').map((i) => {
    const flags = (i as Copy).getFlags().map((f) => `--${f.getName()}=${f.getValue() ?? ''}`);
    return [...flags, ...args(i)].join(' ');
  });
}

describe('deploy/Dockerfile', () => {
  it('passes the Dockerfile validator with no diagnostics', () => {
    expect(validateDockerfile(readFileSync(dockerfilePath, 'utf8'))).toEqual([]);
  });

  it('the validator rejects a broken copy', () => {
    const broken = readFileSync(dockerfilePath, 'utf8')
      .replace(/^EXPOSE .*$/m, 'EXPOSE 8081/htp')
      .replace(/^USER .*$/m, 'USR nimble');
    const messages = validateDockerfile(broken).map((d) => d.message);
    expect(messages.length).toBeGreaterThanOrEqual(2);
  });

  it('builds on node:20-bookworm-slim with the pinned pnpm and a frozen lockfile', () => {
    expect(instructions('FROM').map((i) => args(i)[0])).toEqual([
      'node:20-bookworm-slim',
      'node:20-bookworm-slim',
    ]);
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      packageManager: string;
    };
    const pnpmArg = instructions('ARG')
      .flatMap((i) => args(i))
      .find((a) => a.startsWith('PNPM_VERSION='));
    expect(`pnpm@${pnpmArg?.split('=')[1]}`).toBe(pkg.packageManager);
    const runs = instructions('RUN').map((i) => i.getArgumentsContent() ?? '');
    expect(runs.some((r) => /pnpm install .*--frozen-lockfile/.test(r))).toBe(true);
  });

  it('packs the packages in the build stage and installs the tarballs with npm to run', () => {
    const runs = instructions('RUN').map((i) => i.getArgumentsContent() ?? '');
    expect(runs).toContain('pnpm pack:packages --out /opt/nimble/packages');
    expect(copies()).toContain('--from=build /opt/nimble/packages /tmp/nimble-packages');
    // Only the tarballs reach the runtime stage: not the workspace, its sources or its store.
    expect(copies().filter((c) => c.startsWith('--from='))).toHaveLength(1);
    const install = runs.find((r) => r.includes('/tmp/nimble-packages/'));
    expect(install).toContain(
      'npm install --omit=dev --no-audit --no-fund /tmp/nimble-packages/*.tgz',
    );
    // /usr/local/bin/nimble runs the bin that @nimble/cli declares and ships (its "files").
    const cli = JSON.parse(
      readFileSync(join(repoRoot, 'packages', 'cli', 'package.json'), 'utf8'),
    ) as {
      bin: Record<string, string>;
      files: string[];
    };
    const bin = cli.bin.nimble?.replace(/^\.\//, '');
    expect(cli.files).toContain(bin?.split('/')[0]);
    expect(
      runs.some((r) =>
        r.includes(`exec node /opt/nimble/lib/node_modules/@nimble/cli/${bin} "$@"`),
      ),
    ).toBe(true);
  });

  it('exposes the four ports and enters through tini and deploy/docker-entrypoint.sh', () => {
    expect(instructions('EXPOSE').flatMap((i) => args(i))).toEqual([
      '6123',
      '8081',
      '6122',
      '9249',
    ]);
    const entrypoints = instructions('ENTRYPOINT');
    expect(entrypoints).toHaveLength(1);
    const exec = JSON.parse(entrypoints[0]?.getArgumentsContent() ?? '') as string[];
    expect(exec).toEqual(['/usr/bin/tini', '-g', '--', '/usr/local/bin/docker-entrypoint.sh']);
    expect(copies()).toContain('deploy/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh');
  });

  it('configures NIMBLE_CONF_DIR with deploy/conf/config.yaml and runs as a non-root user', () => {
    const env = Object.fromEntries(
      instructions('ENV').flatMap((i) =>
        (i as Env).getProperties().map((p) => [p.getName(), p.getValue()]),
      ),
    );
    expect(env.NIMBLE_CONF_DIR).toBe('/opt/nimble/conf');
    expect(copies()).toContain('deploy/conf/config.yaml /opt/nimble/conf/config.yaml');
    const users = instructions('USER').map((i) => args(i)[0]);
    expect(users).toHaveLength(1);
    expect(users[0]).not.toMatch(/^(root|0)(:|$)/);
  });

  it('.dockerignore keeps installed and generated files out of the build context', () => {
    const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(ignored).toEqual(
      expect.arrayContaining(['.git', '**/node_modules', '**/dist', 'build', 'coverage']),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// deploy/docker-entrypoint.sh, run with sh and a fake `nimble` that reports what it was given

describe('deploy/docker-entrypoint.sh', () => {
  let fakeBin: string;
  let emptyConf: string;

  beforeAll(() => {
    fakeBin = join(scratch, 'bin');
    mkdirSync(fakeBin);
    const fake = join(fakeBin, 'nimble');
    writeFileSync(
      fake,
      [
        '#!/bin/sh',
        'printf "argv:"',
        'for a in "$@"; do printf " <%s>" "$a"; done',
        'printf "\\n"',
        'printf "%s" "${NIMBLE_PROPERTIES-(unset)}"',
        '',
      ].join('\n'),
    );
    chmodSync(fake, 0o755);
    emptyConf = join(scratch, 'empty-conf');
    mkdirSync(emptyConf);
    writeFileSync(join(emptyConf, 'config.yaml'), '# nothing set\n');
  });

  /** Runs the entrypoint; returns what the fake nimble printed: its argv and NIMBLE_PROPERTIES. */
  async function entrypoint(
    argv: string[],
    env: Record<string, string> = {},
  ): Promise<{ argv: string; properties: string; stdout: string }> {
    const { stdout } = await run('sh', [entrypointPath, ...argv], {
      env: {
        PATH: `${fakeBin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        HOSTNAME: '3f9c1d2e4b5a',
        NIMBLE_CONF_DIR: emptyConf,
        ...env,
      },
    });
    const newline = stdout.indexOf('\n');
    return {
      argv: stdout.slice(0, newline),
      properties: stdout.slice(newline + 1),
      stdout,
    };
  }

  it('jobmanager: execs nimble, binding to 0.0.0.0 when nothing else is configured', async () => {
    const out = await entrypoint(['jobmanager']);
    expect(out.argv).toBe('argv: <jobmanager>');
    expect(parseProperties(out.properties)).toEqual({
      'jobmanager.bind-host': '0.0.0.0',
      'rest.bind-address': '0.0.0.0',
    });
  });

  it('taskmanager: also advertises the container hostname, after the user properties', async () => {
    const out = await entrypoint(['taskmanager'], {
      NIMBLE_PROPERTIES: 'taskmanager.numberOfTaskSlots: 2\n',
    });
    expect(out.argv).toBe('argv: <taskmanager>');
    const lines = out.properties.split('\n').filter((l) => l !== '');
    expect(lines).toEqual([
      'taskmanager.numberOfTaskSlots: 2',
      'taskmanager.bind-host: "0.0.0.0"',
      'taskmanager.host: "3f9c1d2e4b5a"',
    ]);
    const keys = Object.keys(parseProperties(out.properties));
    expect(keys.filter((k) => !KNOWN_KEYS.has(k))).toEqual([]);
  });

  it('keeps a container id that looks like a number a string', async () => {
    for (const id of ['123456789e12', '000000000042']) {
      const out = await entrypoint(['taskmanager'], { HOSTNAME: id });
      expect(parseProperties(out.properties)['taskmanager.host']).toBe(id);
    }
  });

  it('adds nothing the compose services and the image config already set', async () => {
    for (const name of ['jobmanager', 'taskmanager'] as const) {
      const definition = loadCompose().services[name];
      if (definition === undefined) throw new Error(`no service ${name}`);
      const text = servicePropertiesText(definition);
      const out = await entrypoint(serviceArgs(definition), {
        NIMBLE_CONF_DIR: join(repoRoot, 'deploy', 'conf'),
        NIMBLE_PROPERTIES: text,
      });
      expect(out.argv).toBe(`argv: <${name}>`);
      const expected = { ...parseProperties(text) };
      if (name === 'taskmanager') expected['taskmanager.host'] = '3f9c1d2e4b5a';
      expect(parseProperties(out.properties)).toEqual(expected);
    }
  });

  it('keeps what the user set in NIMBLE_PROPERTIES, -D or the config file', async () => {
    const userConf = join(scratch, 'user-config.yaml');
    writeFileSync(userConf, 'rest.bind-address: 10.0.0.5\n');
    const jm = await entrypoint(['jobmanager', '-c', userConf, '-Djobmanager.bind-host=10.0.0.4']);
    expect(jm.argv).toBe(`argv: <jobmanager> <-c> <${userConf}> <-Djobmanager.bind-host=10.0.0.4>`);
    expect(jm.properties).toBe('(unset)');

    const tm = await entrypoint(['taskmanager', '-D', 'taskmanager.host=tm-1.example'], {
      NIMBLE_PROPERTIES: 'taskmanager.bind-host: 10.0.0.7',
    });
    expect(tm.argv).toBe('argv: <taskmanager> <-D> <taskmanager.host=tm-1.example>');
    expect(parseProperties(tm.properties)).toEqual({ 'taskmanager.bind-host': '10.0.0.7' });
  });

  it('passes other nimble commands through untouched', async () => {
    const out = await entrypoint(['run', '/jobs/my job.ts', '-p', '2', '-m', 'jobmanager:6123']);
    expect(out.argv).toBe('argv: <run> </jobs/my job.ts> <-p> <2> <-m> <jobmanager:6123>');
    expect(out.properties).toBe('(unset)');
    expect((await entrypoint(['list'])).argv).toBe('argv: <list>');
    expect((await entrypoint(['--version'])).argv).toBe('argv: <--version>');
    expect((await entrypoint([])).argv).toBe('argv: <--help>');
  });

  it('runs any other command itself, not through nimble', async () => {
    const out = await entrypoint(['echo', 'hello', 'from', 'the', 'image']);
    expect(out.stdout).toBe('hello from the image\n');
  });

  it("what each service's container starts with passes the daemons' configuration loader", async () => {
    const imageConfDir = join(repoRoot, 'deploy', 'conf');
    const started = async (name: 'jobmanager' | 'taskmanager') => {
      const definition = loadCompose().services[name];
      if (definition === undefined) throw new Error(`no service ${name}`);
      const out = await entrypoint(serviceArgs(definition), {
        NIMBLE_CONF_DIR: imageConfDir,
        NIMBLE_PROPERTIES: servicePropertiesText(definition),
      });
      // The same loading a daemon does: file, then NIMBLE_PROPERTIES, then -D; every key and
      // value checked.
      return parseClusterConfiguration(
        loadConfiguration({
          env: { NIMBLE_CONF_DIR: imageConfDir, NIMBLE_PROPERTIES: out.properties },
          dynamicProperties: [],
        }),
      );
    };
    const jm = await started('jobmanager');
    expect(jm).toMatchObject({
      jobManagerRpcAddress: 'jobmanager',
      jobManagerRpcPort: 6123,
      jobManagerBindHost: '0.0.0.0',
      restPort: 8081,
      restBindAddress: '0.0.0.0',
      restartStrategy: 'fixed-delay',
      fixedDelayAttempts: 3,
      fixedDelayDelay: 10_000,
    });
    const tm = await started('taskmanager');
    expect(tm).toMatchObject({
      jobManagerRpcAddress: 'jobmanager',
      numberOfTaskSlots: 2,
      taskManagerBindHost: '0.0.0.0',
      taskManagerHost: '3f9c1d2e4b5a',
      taskManagerRpcPort: 6122,
      prometheusPort: 9249,
    });
  });
});
