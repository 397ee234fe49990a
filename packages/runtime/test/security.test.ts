import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkBindSecurity,
  ConfigurationError,
  isLoopbackHost,
  loadSecurityMaterial,
  parseClusterConfiguration,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'nimble-security-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('isLoopbackHost', () => {
  it('knows the loopback addresses and nothing else', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'jobmanager', '::ffff:1.2.3.4']) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });
});

describe('checkBindSecurity', () => {
  const bind = (host: string, secured: boolean) => ({
    server: 'REST',
    key: 'rest.bind-address',
    host,
    secured,
    needs: 'TLS and a token',
  });
  const none = loadSecurityMaterial(parseClusterConfiguration({}));

  it('refuses a bare non-loopback bind, naming the key and both ways out', () => {
    expect(() => checkBindSecurity(none, [bind('0.0.0.0', false)])).toThrow(ConfigurationError);
    expect(() => checkBindSecurity(none, [bind('0.0.0.0', false)])).toThrow(
      /"rest\.bind-address".*nimble security init.*security\.insecure: true/,
    );
  });

  it('lets loopback, secured and explicitly insecure binds through', () => {
    checkBindSecurity(none, [bind('127.0.0.1', false), bind('0.0.0.0', true)]);
    const insecure = loadSecurityMaterial(parseClusterConfiguration({ 'security.insecure': true }));
    checkBindSecurity(insecure, [bind('0.0.0.0', false)]);
  });
});

describe('loadSecurityMaterial', () => {
  it('reads the token from its file, and prefers security.rest.token', () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'a-token-of-enough-length\n');
    const fromFile = parseClusterConfiguration({ 'security.rest.token-file': file });
    expect(loadSecurityMaterial(fromFile).token).toBe('a-token-of-enough-length');
    const both = parseClusterConfiguration({
      'security.rest.token-file': file,
      'security.rest.token': 'the-configured-token-wins',
    });
    expect(loadSecurityMaterial(both).token).toBe('the-configured-token-wins');
  });

  it('refuses a short token, an empty token file and a file that is not PEM', () => {
    expect(() =>
      loadSecurityMaterial(parseClusterConfiguration({ 'security.rest.token': 'secret' })),
    ).toThrow(/at least 16/);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(() =>
      loadSecurityMaterial(parseClusterConfiguration({ 'security.rest.token-file': empty })),
    ).toThrow(/is empty/);
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    expect(() =>
      loadSecurityMaterial(
        parseClusterConfiguration({
          'security.ssl.rest.enabled': true,
          'security.ssl.rest.cert': notPem,
          'security.ssl.rest.key': notPem,
        }),
      ),
    ).toThrow(/"security.ssl.rest.cert".*no PEM block/);
  });

  it('asks for the files TLS needs when it is enabled without them', () => {
    expect(() =>
      loadSecurityMaterial(parseClusterConfiguration({ 'security.ssl.internal.enabled': true })),
    ).toThrow(/"security.ssl.internal.cert" is empty/);
  });
});
