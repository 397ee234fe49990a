import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeSecurityError, isSecurityError } from '../src/security.js';
import { parseJaasConfig, securityOptions } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'nimble-kafka-security-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
const SCRAM = 'org.apache.kafka.common.security.scram.ScramLoginModule';
const PLAIN = 'org.apache.kafka.common.security.plain.PlainLoginModule';

describe('parseJaasConfig', () => {
  it('reads the login module, its flag and quoted or bare options', () => {
    expect(
      parseJaasConfig(
        `${PLAIN} required username="alice" password="p;a \\"q\\" \\\\ s" tokenauth=true;`,
        'T',
      ),
    ).toEqual({
      loginModule: PLAIN,
      flag: 'required',
      options: { username: 'alice', password: 'p;a "q" \\ s', tokenauth: 'true' },
    });
    expect(parseJaasConfig(`  ${SCRAM}   required\n username = "u"  password="p" ; `, 'T')).toEqual(
      { loginModule: SCRAM, flag: 'required', options: { username: 'u', password: 'p' } },
    );
  });

  it('names what is wrong', () => {
    expect(() => parseJaasConfig(`${PLAIN} required username="a"`, 'KafkaSource')).toThrow(
      'KafkaSource: sasl.jaas.config is not a JAAS login module entry (it must end with ";")',
    );
    expect(() => parseJaasConfig(`${PLAIN} needed username="a";`, 'T')).toThrow(
      'the control flag must be required, requisite, sufficient or optional; got "needed"',
    );
    expect(() => parseJaasConfig(`${PLAIN} required username="a;`, 'T')).toThrow(
      'the value of username has no closing quote',
    );
    expect(() => parseJaasConfig(`${PLAIN} required a="1"; ${PLAIN} required b="2";`, 'T')).toThrow(
      'only one login module entry is allowed',
    );
  });
});

describe('securityOptions', () => {
  const servers = { 'bootstrap.servers': 'b:9093' };

  it('PLAINTEXT by default: no TLS, no SASL', () => {
    expect(securityOptions(servers, 'T')).toEqual({
      protocol: 'PLAINTEXT',
      mechanism: undefined,
      ssl: undefined,
      sasl: undefined,
    });
  });

  it('maps SASL mechanisms and the JAAS credentials onto kafkajs', () => {
    for (const [mechanism, module, kafkajs] of [
      ['PLAIN', PLAIN, 'plain'],
      ['SCRAM-SHA-256', SCRAM, 'scram-sha-256'],
      ['scram-sha-512', SCRAM, 'scram-sha-512'],
    ] as const) {
      const o = securityOptions(
        {
          ...servers,
          'security.protocol': 'sasl_plaintext',
          'sasl.mechanism': mechanism,
          'sasl.jaas.config': `${module} required username="u" password="p";`,
        },
        'T',
      );
      expect(o.protocol).toBe('SASL_PLAINTEXT');
      expect(o.ssl).toBeUndefined();
      expect(o.sasl).toEqual({ mechanism: kafkajs, username: 'u', password: 'p' });
    }
  });

  it('reads PEM truststores and keystores from files or inline, and the host name check', () => {
    const ca = join(dir, 'ca.pem');
    const client = join(dir, 'client.pem');
    writeFileSync(ca, CERT);
    writeFileSync(client, KEY + CERT);
    const o = securityOptions(
      {
        ...servers,
        'security.protocol': 'SSL',
        'ssl.truststore.location': ca,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.certificates': CERT,
        'ssl.keystore.location': client,
        'ssl.keystore.type': 'pem',
        'ssl.key.password': 'k',
      },
      'T',
    );
    expect(o.ssl).toMatchObject({
      rejectUnauthorized: true,
      ca: [CERT, CERT],
      key: KEY.trim(),
      cert: CERT.trim(),
      passphrase: 'k',
    });
    expect(o.ssl!.checkServerIdentity).toBeUndefined();
    const inline = securityOptions(
      {
        ...servers,
        'security.protocol': 'SASL_SSL',
        'sasl.mechanism': 'PLAIN',
        'sasl.jaas.config': `${PLAIN} required username="u" password="p";`,
        'ssl.keystore.key': KEY,
        'ssl.keystore.certificate.chain': CERT,
        'ssl.endpoint.identification.algorithm': '',
      },
      'T',
    );
    expect(inline.ssl).toMatchObject({ rejectUnauthorized: true, key: KEY, cert: CERT });
    expect(inline.ssl!.ca).toBeUndefined();
    expect(inline.ssl!.checkServerIdentity!('b', {} as never)).toBeUndefined();
  });

  it('refuses what it does not support, naming the property and what to do', () => {
    const check = (props: Record<string, string>, message: string) =>
      expect(() => securityOptions({ ...servers, ...props }, 'KafkaSink')).toThrow(message);
    check(
      { 'security.protocol': 'TLS' },
      'KafkaSink: security.protocol must be one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL; got "TLS"',
    );
    check(
      { 'security.protocol': 'SASL_SSL' },
      "KafkaSink: security.protocol=SASL_SSL needs sasl.mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512); Kafka's default GSSAPI (Kerberos) is not supported",
    );
    check(
      { 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'GSSAPI' },
      'KafkaSink: sasl.mechanism must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; got "GSSAPI" (GSSAPI and OAUTHBEARER are not supported)',
    );
    check(
      { 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'PLAIN' },
      `KafkaSink: sasl.mechanism=PLAIN needs sasl.jaas.config, e.g. ${PLAIN} required username="alice" password="secret";`,
    );
    check(
      {
        'security.protocol': 'SASL_SSL',
        'sasl.mechanism': 'SCRAM-SHA-256',
        'sasl.jaas.config': `${PLAIN} required username="u" password="p";`,
      },
      `KafkaSink: sasl.mechanism=SCRAM-SHA-256 needs the login module ${SCRAM} in sasl.jaas.config; got ${PLAIN}`,
    );
    check(
      {
        'security.protocol': 'SASL_SSL',
        'sasl.mechanism': 'PLAIN',
        'sasl.jaas.config': `${PLAIN} required username="u";`,
      },
      'KafkaSink: sasl.jaas.config must set username="..." and password="..." for PLAIN',
    );
    check(
      { 'security.protocol': 'SSL', 'ssl.truststore.type': 'JKS', 'ssl.truststore.location': 'x' },
      'KafkaSink: ssl.truststore.type=JKS is not supported; only PEM is. Convert the truststore to PEM',
    );
    check(
      { 'security.protocol': 'SSL', 'ssl.truststore.location': join(dir, 'missing.pem') },
      `KafkaSink: cannot read ssl.truststore.location ${join(dir, 'missing.pem')}: ENOENT`,
    );
    const jks = join(dir, 'store.jks');
    writeFileSync(jks, Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]));
    check(
      { 'security.protocol': 'SSL', 'ssl.truststore.location': jks },
      `KafkaSink: ssl.truststore.location ${jks} is not a PEM file; only PEM stores are supported`,
    );
    check(
      { 'security.protocol': 'SSL', 'ssl.keystore.key': KEY },
      'KafkaSink: ssl.keystore.key and ssl.keystore.certificate.chain go together',
    );
    check(
      { 'security.protocol': 'SSL', 'ssl.endpoint.identification.algorithm': 'dns' },
      'KafkaSink: ssl.endpoint.identification.algorithm must be https',
    );
    check(
      { 'ssl.truststore.location': 'ca.pem' },
      'KafkaSink: ssl.truststore.location is set but security.protocol is PLAINTEXT; set security.protocol to SSL or SASL_SSL',
    );
    check(
      { 'security.protocol': 'SSL', 'sasl.jaas.config': `${PLAIN} required;` },
      'KafkaSink: sasl.jaas.config is set but security.protocol is SSL; set security.protocol to SASL_SSL or SASL_PLAINTEXT',
    );
  });
});

describe('describeSecurityError', () => {
  const props = {
    'bootstrap.servers': 'k1:9094',
    'security.protocol': 'SASL_SSL',
    'sasl.mechanism': 'SCRAM-SHA-512',
  };

  it('names the broker, protocol and mechanism of a failed authentication, also under retries', () => {
    const sasl = Object.assign(new Error('SASL SCRAM SHA512 authentication failed: bad'), {
      name: 'KafkaJSSASLAuthenticationError',
    });
    const wrapped = Object.assign(new Error('retries exceeded'), { originalError: sasl });
    expect(describeSecurityError(wrapped, props, 'KafkaSource')).toBe(
      'KafkaSource: SASL authentication with mechanism SCRAM-SHA-512 failed at broker k1:9094 (security.protocol=SASL_SSL): SASL SCRAM SHA512 authentication failed: bad. Check the username and password in sasl.jaas.config and that the broker has these credentials for this mechanism.',
    );
    expect(isSecurityError(wrapped)).toBe(true);
  });

  it('names the broker whose certificate is not trusted', () => {
    const tls = Object.assign(new Error('Connection error: self-signed certificate in chain'), {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
      broker: 'k2:9094',
    });
    expect(describeSecurityError(tls, props, 'KafkaSink')).toBe(
      'KafkaSink: the TLS certificate of broker k2:9094 is not trusted (SELF_SIGNED_CERT_IN_CHAIN: Connection error: self-signed certificate in chain; security.protocol=SASL_SSL). Set ssl.truststore.location (PEM, ssl.truststore.type=PEM) or ssl.truststore.certificates to the CA that signed it.',
    );
  });

  it('leaves other errors alone', () => {
    const refused = Object.assign(new Error('Connection error: ECONNREFUSED'), {
      code: 'ECONNREFUSED',
    });
    expect(describeSecurityError(refused, props, 'T')).toBeUndefined();
    expect(isSecurityError(refused)).toBe(false);
  });
});
