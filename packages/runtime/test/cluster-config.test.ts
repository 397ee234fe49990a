import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ClusterOptions,
  ConfigurationError,
  ExecutionOptions,
  loadConfiguration,
  parseClusterConfiguration,
  parseExecutionConfiguration,
} from '../src/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nimble-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(text: string, name = 'config.yaml'): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The error `fn` throws, which must be a ConfigurationError. */
function configurationError(fn: () => unknown): ConfigurationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigurationError);
    return e as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError, nothing was thrown');
}

describe('loadConfiguration', () => {
  it('reads a flat YAML file', () => {
    const file = writeConfig(
      'taskmanager.numberOfTaskSlots: 2\nheartbeat.interval: 5 s\nrest.port: 0\n',
    );
    const loaded = loadConfiguration({ configFile: file, env: {} });
    expect(loaded.entries).toEqual({
      'taskmanager.numberOfTaskSlots': 2,
      'heartbeat.interval': '5 s',
      'rest.port': 0,
    });
    expect(loaded.sourceOf('heartbeat.interval')).toBe(`${file}:2`);
    expect(loaded.sourceOf('slot.request.timeout')).toBe('default');
  });

  it('flattens a nested YAML file (Flink 1.19+ config.yaml) to dotted keys', () => {
    const file = writeConfig(
      [
        'taskmanager:',
        '  numberOfTaskSlots: 4',
        '  bind-host: 0.0.0.0',
        'restart-strategy:',
        '  type: fixed-delay',
        '  fixed-delay:',
        '    attempts: 3',
        'jobmanager.rpc.port: 7000',
        '',
      ].join('\n'),
    );
    const loaded = loadConfiguration({ configFile: file, env: {} });
    expect(loaded.entries).toEqual({
      'taskmanager.numberOfTaskSlots': 4,
      'taskmanager.bind-host': '0.0.0.0',
      'restart-strategy.type': 'fixed-delay',
      'restart-strategy.fixed-delay.attempts': 3,
      'jobmanager.rpc.port': 7000,
    });
    expect(loaded.sourceOf('restart-strategy.fixed-delay.attempts')).toBe(`${file}:7`);
  });

  it('lets NIMBLE_PROPERTIES override the file and -D override both', () => {
    const file = writeConfig(
      'taskmanager.numberOfTaskSlots: 2\nrest.port: 9000\nheartbeat.interval: 1 s\n',
    );
    const loaded = loadConfiguration({
      configFile: file,
      env: { NIMBLE_PROPERTIES: 'rest.port: 9001\nheartbeat.interval: 2 s\n' },
      dynamicProperties: ['heartbeat.interval=3 s', 'taskmanager.resource-id = tm-a=1'],
    });
    expect(loaded.entries).toEqual({
      'taskmanager.numberOfTaskSlots': 2,
      'rest.port': 9001,
      'heartbeat.interval': '3 s',
      'taskmanager.resource-id': 'tm-a=1',
    });
    expect(loaded.sourceOf('taskmanager.numberOfTaskSlots')).toBe(`${file}:1`);
    expect(loaded.sourceOf('rest.port')).toBe('NIMBLE_PROPERTIES');
    expect(loaded.sourceOf('heartbeat.interval')).toBe('-D');

    const config = parseClusterConfiguration(loaded);
    expect(config.numberOfTaskSlots).toBe(2);
    expect(config.restPort).toBe(9001);
    expect(config.heartbeatInterval).toBe(3000);
    expect(config.taskManagerResourceId).toBe('tm-a=1');
  });

  it('reads config.yaml from NIMBLE_CONF_DIR when no file is given', () => {
    writeConfig('rest.port: 8082\n');
    const loaded = loadConfiguration({ env: { NIMBLE_CONF_DIR: dir } });
    expect(loaded.entries).toEqual({ 'rest.port': 8082 });
    expect(loaded.sourceOf('rest.port')).toBe(`${join(dir, 'config.yaml')}:1`);
  });

  it('reads no file when neither a file nor NIMBLE_CONF_DIR is given', () => {
    const loaded = loadConfiguration({ env: {}, dynamicProperties: ['rest.port=1'] });
    expect(loaded.entries).toEqual({ 'rest.port': '1' });
  });

  it('refuses a missing configuration file, naming its path', () => {
    const missing = join(dir, 'nope.yaml');
    const error = configurationError(() => loadConfiguration({ configFile: missing, env: {} }));
    expect(error.message).toContain(`Cannot read the configuration file ${missing}`);
    expect(error.message).toContain('ENOENT');

    const viaDir = configurationError(() => loadConfiguration({ env: { NIMBLE_CONF_DIR: dir } }));
    expect(viaDir.message).toContain(
      `Cannot read the configuration file ${join(dir, 'config.yaml')} (NIMBLE_CONF_DIR=${dir})`,
    );
  });

  it('refuses malformed YAML, naming the file and the line', () => {
    const file = writeConfig('rest.port: 8081\ntaskmanager: [1, 2\nheartbeat.interval: 1 s\n');
    const error = configurationError(() => loadConfiguration({ configFile: file, env: {} }));
    expect(error.message).toContain(`Malformed YAML in ${file}: `);
    expect(error.message).toContain('at line 3, column 1');
    expect(error.source).toBe(file);
  });

  it('refuses malformed NIMBLE_PROPERTIES', () => {
    const error = configurationError(() =>
      loadConfiguration({ env: { NIMBLE_PROPERTIES: 'rest.port: 1\n  bad: : x\n' } }),
    );
    expect(error.message).toMatch(/^Malformed YAML in NIMBLE_PROPERTIES: /);
  });

  it('refuses a value that is not a scalar, naming key, file and line', () => {
    const file = writeConfig('rest.port: 8081\nio.tmp.dirs:\n  - /a\n  - /b\n');
    const error = configurationError(() => loadConfiguration({ configFile: file, env: {} }));
    expect(error.message).toBe(
      `Configuration key "io.tmp.dirs" in ${file} at line 2 has a list; ` +
        'expected a single value (a string, number or boolean).',
    );
    expect(error.key).toBe('io.tmp.dirs');
  });

  it('refuses a key without a value', () => {
    const file = writeConfig('taskmanager:\n  host:\n');
    const error = configurationError(() => loadConfiguration({ configFile: file, env: {} }));
    expect(error.message).toBe(
      `Configuration key "taskmanager.host" in ${file} at line 2 has no value; ` +
        'expected a single value (a string, number or boolean).',
    );
  });

  it('refuses a key set twice through nesting and dots', () => {
    const file = writeConfig('rest.port: 1\nrest:\n  port: 2\n');
    const error = configurationError(() => loadConfiguration({ configFile: file, env: {} }));
    expect(error.message).toBe(
      `Configuration key "rest.port" is set twice in ${file}, at lines 1 and 3.`,
    );
  });

  it('refuses a file that is not a mapping', () => {
    const file = writeConfig('- rest.port\n');
    const error = configurationError(() => loadConfiguration({ configFile: file, env: {} }));
    expect(error.message).toContain(`${file} must be a mapping of configuration keys to values`);
  });

  it('accepts an empty file', () => {
    const file = writeConfig('# nothing configured\n');
    expect(loadConfiguration({ configFile: file, env: {} }).entries).toEqual({});
  });

  it('refuses a -D argument without "="', () => {
    const error = configurationError(() =>
      loadConfiguration({ env: {}, dynamicProperties: ['rest.port=1', 'rest.port'] }),
    );
    expect(error.message).toBe(
      'Dynamic property "-D rest.port" is not of the form key=value ' +
        '(for example -D taskmanager.numberOfTaskSlots=4).',
    );
  });
});

describe('parseClusterConfiguration', () => {
  it("returns Flink's defaults for an empty configuration", () => {
    const config = parseClusterConfiguration({});
    expect(config).toEqual({
      jobManagerRpcAddress: '127.0.0.1',
      jobManagerRpcPort: 6123,
      jobManagerBindHost: '127.0.0.1',
      restAddress: '127.0.0.1',
      restPort: 8081,
      restBindAddress: '127.0.0.1',
      numberOfTaskSlots: 1,
      taskManagerHost: '',
      taskManagerBindHost: '127.0.0.1',
      taskManagerRpcPort: 6122,
      taskManagerResourceId: '',
      prometheusPort: 9249,
      metricsFetcherUpdateInterval: 10_000,
      heartbeatInterval: 10_000,
      heartbeatTimeout: 50_000,
      slotRequestTimeout: 300_000,
      blobStorageDirectory: '',
      highAvailabilityType: 'none',
      highAvailabilityStorageDir: '',
      highAvailabilityClusterId: 'default',
      leaseDuration: 6000,
      renewDeadline: 4000,
      leaseRetryPeriod: 1000,
      restServerMaxContentLength: 104_857_600,
      rpcFrameSize: 10_485_760,
      taskManagerRegistrationTimeout: 300_000,
      restartStrategy: undefined,
      fixedDelayAttempts: 1,
      fixedDelayDelay: 1000,
      failureRateMaxFailuresPerInterval: 1,
      failureRateInterval: 60_000,
      failureRateDelay: 1000,
      exponentialDelayInitialBackoff: 1000,
      exponentialDelayMaxBackoff: 60_000,
      exponentialDelayBackoffMultiplier: 1.5,
      exponentialDelayResetBackoffThreshold: 3_600_000,
      exponentialDelayJitterFactor: 0.1,
      exponentialDelayAttemptsBeforeResetBackoff: Number.POSITIVE_INFINITY,
      s3Endpoint: '',
      s3Region: 'us-east-1',
      s3AccessKey: '',
      s3SecretKey: '',
      s3PathStyleAccess: false,
      internalSslEnabled: false,
      internalSslCert: '',
      internalSslKey: '',
      internalSslTrustCert: '',
      restSslEnabled: false,
      restSslCert: '',
      restSslKey: '',
      restToken: '',
      restTokenFile: '',
      insecure: false,
    });
  });

  it('parses typed values from strings, numbers and Flink duration units', () => {
    const config = parseClusterConfiguration({
      'jobmanager.rpc.port': '0',
      'heartbeat.timeout': '2 min',
      'slot.request.timeout': '1h',
      'taskmanager.registration.timeout': 1500,
      'restart-strategy.exponential-delay.backoff-multiplier': '2',
      'restart-strategy.exponential-delay.jitter-factor': 0,
      'restart-strategy.exponential-delay.attempts-before-reset-backoff': 5,
    });
    expect(config.jobManagerRpcPort).toBe(0);
    expect(config.heartbeatTimeout).toBe(120_000);
    expect(config.slotRequestTimeout).toBe(3_600_000);
    expect(config.taskManagerRegistrationTimeout).toBe(1500);
    expect(config.exponentialDelayBackoffMultiplier).toBe(2);
    expect(config.exponentialDelayJitterFactor).toBe(0);
    expect(config.exponentialDelayAttemptsBeforeResetBackoff).toBe(5);
  });

  it('normalises restart-strategy.type and its Flink aliases, case-insensitively', () => {
    const typeOf = (value: string) =>
      parseClusterConfiguration({ 'restart-strategy.type': value }).restartStrategy;
    expect(typeOf('none')).toBe('none');
    expect(typeOf('off')).toBe('none');
    expect(typeOf('Disable')).toBe('none');
    expect(typeOf('fixed-delay')).toBe('fixed-delay');
    expect(typeOf('FixedDelay')).toBe('fixed-delay');
    expect(typeOf('failure-rate')).toBe('failure-rate');
    expect(typeOf('failurerate')).toBe('failure-rate');
    expect(typeOf('exponential-delay')).toBe('exponential-delay');
    expect(typeOf('EXPONENTIALDELAY')).toBe('exponential-delay');
    const error = configurationError(() => typeOf('sometimes'));
    expect(error.message).toBe(
      'Bad value "sometimes" for configuration key "restart-strategy.type" (from configuration): ' +
        'must be one of none, fixed-delay, failure-rate, exponential-delay ' +
        '(or off, disable, fixeddelay, failurerate, exponentialdelay).',
    );
  });

  it('names key, value, source and suggestion for an unknown key', () => {
    const file = writeConfig('rest.port: 8081\ntaskmanager.numberOfTaskSlot: 4\n');
    const loaded = loadConfiguration({ configFile: file, env: {} });
    const error = configurationError(() => parseClusterConfiguration(loaded));
    expect(error.message).toBe(
      `Unknown configuration key "taskmanager.numberOfTaskSlot" (value 4, from ${file}:2). ` +
        'Did you mean "taskmanager.numberOfTaskSlots"? docs/configuration.md lists the known keys.',
    );
    expect(error.key).toBe('taskmanager.numberOfTaskSlot');
    expect(error.source).toBe(`${file}:2`);
    expect(error.domain).toBe('user');
    expect(error.name).toBe('ConfigurationError');
  });

  it('suggests across execution and cluster keys, and from -D and NIMBLE_PROPERTIES', () => {
    const fromD = configurationError(() =>
      parseClusterConfiguration(
        loadConfiguration({ env: {}, dynamicProperties: ['parallelism.defualt=4'] }),
      ),
    );
    expect(fromD.message).toBe(
      'Unknown configuration key "parallelism.defualt" (value "4", from -D). ' +
        'Did you mean "parallelism.default"? docs/configuration.md lists the known keys.',
    );
    const fromEnv = configurationError(() =>
      parseClusterConfiguration(
        loadConfiguration({
          env: { NIMBLE_PROPERTIES: 'restart-strategy.failure-rate.failure-interval: 5 min' },
        }),
      ),
    );
    expect(fromEnv.message).toBe(
      'Unknown configuration key "restart-strategy.failure-rate.failure-interval" ' +
        '(value "5 min", from NIMBLE_PROPERTIES). ' +
        'Did you mean "restart-strategy.failure-rate.failure-rate-interval"? ' +
        'docs/configuration.md lists the known keys.',
    );
  });

  it('makes no suggestion when no known key is close', () => {
    const error = configurationError(() => parseClusterConfiguration({ 'kafka.brokers': 'x' }));
    expect(error.message).toBe(
      'Unknown configuration key "kafka.brokers" (value "x", from configuration). ' +
        'docs/configuration.md lists the known keys.',
    );
  });

  it('names key, value, source and expectation for a bad value', () => {
    const loaded = loadConfiguration({
      env: { NIMBLE_PROPERTIES: 'taskmanager.numberOfTaskSlots: 0' },
    });
    const error = configurationError(() => parseClusterConfiguration(loaded));
    expect(error.message).toBe(
      'Bad value 0 for configuration key "taskmanager.numberOfTaskSlots" (from NIMBLE_PROPERTIES): ' +
        'must be an integer >= 1.',
    );
    expect(
      configurationError(() => parseClusterConfiguration({ 'rest.port': 70000 })).message,
    ).toBe(
      'Bad value 70000 for configuration key "rest.port" (from configuration): ' +
        'must be an integer >= 0 and <= 65535.',
    );
    expect(
      configurationError(() =>
        parseClusterConfiguration(
          loadConfiguration({ env: {}, dynamicProperties: ['heartbeat.interval=often'] }),
        ),
      ).message,
    ).toBe(
      'Bad value "often" for configuration key "heartbeat.interval" (from -D): must be a duration ' +
        'such as 100, "100 ms", "5 s", "1 min" or "1 h" of at least 1 ms.',
    );
    expect(
      configurationError(() =>
        parseClusterConfiguration({ 'restart-strategy.exponential-delay.backoff-multiplier': 1 }),
      ).message,
    ).toContain('must be a number > 1.');
    expect(
      configurationError(() => parseClusterConfiguration({ 'jobmanager.rpc.address': ' ' }))
        .message,
    ).toContain('must not be empty.');
  });

  it('checks execution options too, so a bad job default stops the daemon', () => {
    const file = writeConfig('parallelism.default: 4\nstate.backend.type: rocksdb\n');
    const error = configurationError(() =>
      parseClusterConfiguration(loadConfiguration({ configFile: file, env: {} })),
    );
    expect(error.message).toBe(
      `Bad value "rocksdb" for configuration key "state.backend.type" (from ${file}:2): ` +
        'must be one of hashmap, level.',
    );
  });

  it('checks options against each other', () => {
    const loaded = loadConfiguration({
      env: {},
      dynamicProperties: ['heartbeat.interval=60 s'],
    });
    expect(configurationError(() => parseClusterConfiguration(loaded)).message).toBe(
      'Configuration key "heartbeat.timeout" (50000 ms, from default) must be at least ' +
        '"heartbeat.interval" (60000 ms, from -D).',
    );
    expect(
      configurationError(() =>
        parseClusterConfiguration({
          'restart-strategy.exponential-delay.initial-backoff': '2 min',
        }),
      ).message,
    ).toBe(
      'Configuration key "restart-strategy.exponential-delay.max-backoff" (60000 ms, from ' +
        'configuration) must be at least "restart-strategy.exponential-delay.initial-backoff" ' +
        '(120000 ms, from configuration).',
    );
  });
});

describe('cluster keys in a job configuration', () => {
  it('are accepted and ignored by the execution parser', () => {
    const config = parseExecutionConfiguration({
      'parallelism.default': 3,
      'taskmanager.numberOfTaskSlots': 8,
      'restart-strategy.type': 'fixed-delay',
    });
    expect(config.parallelism).toBe(3);
  });

  it('an execution-key typo gets a suggestion', () => {
    expect(() => parseExecutionConfiguration({ 'pipeline.max-parallelsim': 8 })).toThrow(
      'Unknown configuration key "pipeline.max-parallelsim"; did you mean "pipeline.max-parallelism"?',
    );
  });
});

describe('docs/configuration.md', () => {
  it('has a table row for every execution and cluster key', () => {
    const page = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    const documented = new Set([...page.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]));
    const keys = [...Object.values(ExecutionOptions), ...Object.values(ClusterOptions)].map(
      (option) => option.key,
    );
    expect(keys.filter((key) => !documented.has(key))).toEqual([]);
  });
});

describe('high-availability keys', () => {
  it('needs a storage directory and a lease a leader gives up before a standby takes it', () => {
    expect(() => parseClusterConfiguration({ 'high-availability.type': 'storage' })).toThrow(
      /"high-availability.storageDir" is not set/,
    );
    expect(() =>
      parseClusterConfiguration({
        'high-availability.type': 'storage',
        'high-availability.storageDir': 's3://b/ha',
        'high-availability.storage.leader-election.renew-deadline': '6 s',
      }),
    ).toThrow(
      /"high-availability.storage.leader-election.renew-deadline" \(6000 ms, from configuration\) must be less than "high-availability.storage.leader-election.lease-duration" \(6000 ms/,
    );
    const c = parseClusterConfiguration({
      'high-availability.type': 'STORAGE',
      'high-availability.storageDir': 's3://b/ha',
    });
    expect(c.highAvailabilityType).toBe('storage');
  });
});
