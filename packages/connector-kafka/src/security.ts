/**
 * Kafka's client security properties (`security.protocol`, `sasl.mechanism`, `sasl.jaas.config`,
 * `ssl.truststore.*`, `ssl.keystore.*`, `ssl.endpoint.identification.algorithm`), as a Flink job
 * sets them with `setProperty` or SQL's `'properties.*'`, mapped onto kafkajs' `ssl` and `sasl`
 * options. Source, sink and admin clients all get theirs from {@link securityOptions}.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import type { KafkaProperties } from './client.js';

/** Kafka's `security.protocol` values. */
export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];

/** The SASL mechanisms this client speaks. */
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** The login module `sasl.jaas.config` must name for each mechanism. */
const LOGIN_MODULES: Record<SaslMechanism, string> = {
  PLAIN: 'org.apache.kafka.common.security.plain.PlainLoginModule',
  'SCRAM-SHA-256': 'org.apache.kafka.common.security.scram.ScramLoginModule',
  'SCRAM-SHA-512': 'org.apache.kafka.common.security.scram.ScramLoginModule',
};

/** What kafkajs is given, and what error messages name. */
export interface SecurityOptions {
  readonly protocol: SecurityProtocol;
  readonly mechanism: SaslMechanism | undefined;
  readonly ssl: ConnectionOptions | undefined;
  readonly sasl: SASLOptions | undefined;
}

/** A JAAS login module entry: `<class> <flag> key="value" ...;`. */
export interface JaasConfig {
  readonly loginModule: string;
  readonly flag: string;
  readonly options: Readonly<Record<string, string>>;
}

/**
 * Parses `sasl.jaas.config` (one login module entry, as Kafka's client takes it):
 * `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`.
 * Values may be quoted (with `\"` and `\\` escapes) or bare.
 */
export function parseJaasConfig(text: string, owner: string): JaasConfig {
  const fail = (why: string): never => {
    throw new TypeError(
      `${owner}: sasl.jaas.config is not a JAAS login module entry (${why}); expected e.g. ` +
        `org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="secret";`,
    );
  };
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const word = (): string => {
    skipSpace();
    const start = i;
    while (i < text.length && /[^\s=;"]/.test(text[i]!)) i++;
    return text.slice(start, i);
  };
  const loginModule = word();
  if (loginModule === '') fail('no login module class');
  const flag = word();
  if (!['required', 'requisite', 'sufficient', 'optional'].includes(flag)) {
    fail(`the control flag must be required, requisite, sufficient or optional; got "${flag}"`);
  }
  const options: Record<string, string> = {};
  for (;;) {
    skipSpace();
    if (i >= text.length) fail('it must end with ";"');
    if (text[i] === ';') {
      i++;
      skipSpace();
      if (i < text.length) fail('only one login module entry is allowed');
      break;
    }
    const key = word();
    skipSpace();
    if (key === '' || text[i] !== '=') fail(`expected key="value" at character ${i + 1}`);
    i++;
    skipSpace();
    let value = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) fail(`the value of ${key} has no closing quote`);
        const c = text[i++]!;
        if (c === '"') break;
        if (c === '\\' && i < text.length) value += text[i++];
        else value += c;
      }
    } else {
      value = word();
      if (value === '') fail(`${key} has no value`);
    }
    options[key] = value;
  }
  return { loginModule, flag, options };
}

function oneOf<T extends string>(
  values: readonly T[],
  raw: string,
  key: string,
  owner: string,
  hint = '',
): T {
  const upper = raw.trim().toUpperCase();
  const found = values.find((v) => v === upper);
  if (found === undefined) {
    throw new TypeError(
      `${owner}: ${key} must be one of ${values.join(', ')}; got "${raw}"${hint}`,
    );
  }
  return found;
}

/** A PEM file's text, naming the property and the file when it cannot be read or is not PEM. */
function readPem(path: string, key: string, owner: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${owner}: cannot read ${key} ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (!text.includes('-----BEGIN ')) {
    throw new TypeError(
      `${owner}: ${key} ${path} is not a PEM file; only PEM stores are supported (convert a JKS or PKCS12 store with keytool -exportcert -rfc / openssl pkcs12 -nodes, and set the store type to PEM)`,
    );
  }
  return text;
}

/** Checks `ssl.<store>.type`: PEM only (a PEM file is also taken when the type is not set). */
function checkStoreType(properties: KafkaProperties, store: string, owner: string): void {
  const key = `ssl.${store}.type`;
  const type = properties[key];
  if (type !== undefined && type.trim().toUpperCase() !== 'PEM') {
    throw new TypeError(
      `${owner}: ${key}=${type} is not supported; only PEM is. Convert the ${store} to PEM ` +
        `(keytool -importkeystore -deststoretype PKCS12, then openssl pkcs12 -nodes) and set ${key}=PEM`,
    );
  }
}

/** `-----BEGIN ... PRIVATE KEY-----` blocks of a PEM text, and the rest (certificates). */
function splitKeyAndCertificates(pem: string): { key: string; certificates: string } {
  const blocks = pem.match(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g) ?? [];
  const key = blocks.filter((b) => /PRIVATE KEY-----/.test(b.split('\n')[0]!)).join('\n');
  const certificates = blocks.filter((b) => b.startsWith('-----BEGIN CERTIFICATE-----'));
  return { key, certificates: certificates.join('\n') };
}

/**
 * The kafkajs `ssl` and `sasl` options of `properties`. Throws a TypeError naming the property
 * for a value this client does not support (GSSAPI or OAUTHBEARER, JKS stores, a JAAS entry of
 * the wrong login module).
 */
export function securityOptions(
  properties: KafkaProperties,
  owner: string,
  options: {
    /** False: check the properties only, without reading the PEM files (a planner's check). */
    readFiles?: boolean;
  } = {},
): SecurityOptions {
  const readFiles = options.readFiles ?? true;
  const protocol = oneOf(
    SECURITY_PROTOCOLS,
    properties['security.protocol'] ?? 'PLAINTEXT',
    'security.protocol',
    owner,
  );
  const tlsOn = protocol === 'SSL' || protocol === 'SASL_SSL';
  const saslOn = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';

  let mechanism: SaslMechanism | undefined;
  let sasl: SASLOptions | undefined;
  if (saslOn) {
    const raw = properties['sasl.mechanism'];
    if (raw === undefined) {
      throw new TypeError(
        `${owner}: security.protocol=${protocol} needs sasl.mechanism (${SASL_MECHANISMS.join(', ')}); Kafka's default GSSAPI (Kerberos) is not supported`,
      );
    }
    mechanism = oneOf(
      SASL_MECHANISMS,
      raw,
      'sasl.mechanism',
      owner,
      ' (GSSAPI and OAUTHBEARER are not supported)',
    );
    const jaasText = properties['sasl.jaas.config'];
    if (jaasText === undefined) {
      throw new TypeError(
        `${owner}: sasl.mechanism=${mechanism} needs sasl.jaas.config, e.g. ${LOGIN_MODULES[mechanism]} required username="alice" password="secret";`,
      );
    }
    const jaas = parseJaasConfig(jaasText, owner);
    if (jaas.loginModule !== LOGIN_MODULES[mechanism]) {
      throw new TypeError(
        `${owner}: sasl.mechanism=${mechanism} needs the login module ${LOGIN_MODULES[mechanism]} in sasl.jaas.config; got ${jaas.loginModule}`,
      );
    }
    const { username, password } = jaas.options;
    if (username === undefined || password === undefined) {
      throw new TypeError(
        `${owner}: sasl.jaas.config must set username="..." and password="..." for ${mechanism}`,
      );
    }
    sasl =
      mechanism === 'PLAIN'
        ? { mechanism: 'plain', username, password }
        : mechanism === 'SCRAM-SHA-256'
          ? { mechanism: 'scram-sha-256', username, password }
          : { mechanism: 'scram-sha-512', username, password };
  } else if (properties['sasl.jaas.config'] !== undefined) {
    throw new TypeError(
      `${owner}: sasl.jaas.config is set but security.protocol is ${protocol}; set security.protocol to SASL_SSL or SASL_PLAINTEXT`,
    );
  }

  let ssl: ConnectionOptions | undefined;
  if (tlsOn) {
    const tls: ConnectionOptions = { rejectUnauthorized: true };
    checkStoreType(properties, 'truststore', owner);
    const cas: string[] = [];
    const inlineCas = properties['ssl.truststore.certificates'];
    if (inlineCas !== undefined) {
      if (!inlineCas.includes('-----BEGIN CERTIFICATE-----')) {
        throw new TypeError(
          `${owner}: ssl.truststore.certificates must hold PEM certificates (-----BEGIN CERTIFICATE-----)`,
        );
      }
      cas.push(inlineCas);
    }
    const truststore = properties['ssl.truststore.location'];
    if (truststore !== undefined && readFiles) {
      cas.push(readPem(truststore, 'ssl.truststore.location', owner));
    }
    // Without a truststore, Node's bundled CAs (Kafka's client uses the JVM's).
    if (cas.length > 0) tls.ca = cas;

    checkStoreType(properties, 'keystore', owner);
    let key = properties['ssl.keystore.key'];
    let chain = properties['ssl.keystore.certificate.chain'];
    const keystore = properties['ssl.keystore.location'];
    if (keystore !== undefined && !readFiles) {
      key = '';
      chain = '';
    } else if (keystore !== undefined) {
      const parts = splitKeyAndCertificates(readPem(keystore, 'ssl.keystore.location', owner));
      if (parts.key === '' || parts.certificates === '') {
        throw new TypeError(
          `${owner}: ssl.keystore.location ${keystore} must hold a private key and its certificate chain in PEM`,
        );
      }
      key = parts.key;
      chain = parts.certificates;
    }
    if ((key === undefined) !== (chain === undefined)) {
      throw new TypeError(
        `${owner}: ssl.keystore.key and ssl.keystore.certificate.chain go together (the client's private key and its certificate chain, PEM)`,
      );
    }
    if (key !== undefined) {
      tls.key = key;
      tls.cert = chain;
      const password = properties['ssl.key.password'];
      if (password !== undefined) tls.passphrase = password;
    }

    const identification = (properties['ssl.endpoint.identification.algorithm'] ?? 'https')
      .trim()
      .toLowerCase();
    if (identification === '') tls.checkServerIdentity = () => undefined;
    else if (identification !== 'https') {
      throw new TypeError(
        `${owner}: ssl.endpoint.identification.algorithm must be https (verify the broker's host name, the default) or empty (do not); got "${properties['ssl.endpoint.identification.algorithm']}"`,
      );
    }
    ssl = tls;
  } else {
    for (const k of Object.keys(properties)) {
      if (k.startsWith('ssl.truststore.') || k.startsWith('ssl.keystore.')) {
        throw new TypeError(
          `${owner}: ${k} is set but security.protocol is ${protocol}; set security.protocol to SSL or SASL_SSL`,
        );
      }
    }
  }
  return { protocol, mechanism, ssl, sasl };
}

/** Node's TLS error codes for a certificate the client does not trust or that does not match. */
const TLS_CERTIFICATE_ERRORS = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

interface ErrorChain {
  name?: string;
  message?: string;
  code?: string;
  broker?: string;
  originalError?: unknown;
  cause?: unknown;
}

/** The errors of `e`'s chain (kafkajs' retries wrap the last attempt's error). */
function* chain(e: unknown): Generator<ErrorChain> {
  const seen = new Set<unknown>();
  for (let x = e as ErrorChain | undefined; x && typeof x === 'object' && !seen.has(x);) {
    seen.add(x);
    yield x;
    x = (x.originalError ?? x.cause) as ErrorChain | undefined;
  }
}

/**
 * A failed authentication or TLS handshake in `e`'s chain, described with the broker, the
 * protocol and mechanism, and what to check; undefined for other errors.
 */
export function describeSecurityError(
  e: unknown,
  properties: KafkaProperties,
  owner: string,
): string | undefined {
  const servers = properties['bootstrap.servers'] ?? '?';
  const protocol = (properties['security.protocol'] ?? 'PLAINTEXT').toUpperCase();
  for (const x of chain(e)) {
    if (x.name === 'KafkaJSSASLAuthenticationError') {
      const mechanism = (properties['sasl.mechanism'] ?? '?').toUpperCase();
      return (
        `${owner}: SASL authentication with mechanism ${mechanism} failed at broker ${servers} ` +
        `(security.protocol=${protocol}): ${x.message}. Check the username and password in sasl.jaas.config ` +
        'and that the broker has these credentials for this mechanism.'
      );
    }
    if (x.code !== undefined && TLS_CERTIFICATE_ERRORS.has(x.code)) {
      const broker = x.broker ?? servers;
      return (
        `${owner}: the TLS certificate of broker ${broker} is not trusted (${x.code}: ${x.message}; ` +
        `security.protocol=${protocol}). Set ssl.truststore.location (PEM, ssl.truststore.type=PEM) or ` +
        'ssl.truststore.certificates to the CA that signed it' +
        (x.code === 'ERR_TLS_CERT_ALTNAME_INVALID'
          ? ", or make the broker's certificate name the address clients use (ssl.endpoint.identification.algorithm= turns the check off)."
          : '.')
      );
    }
  }
  return undefined;
}

/** Whether `e` is a failed authentication or TLS handshake, which no retry fixes. */
export function isSecurityError(e: unknown): boolean {
  for (const x of chain(e)) {
    if (x.name === 'KafkaJSSASLAuthenticationError') return true;
    if (x.code !== undefined && TLS_CERTIFICATE_ERRORS.has(x.code)) return true;
  }
  return false;
}

/** `e` with the security description as its message when it is a security error, else `e`. */
export function withSecurityContext(
  e: unknown,
  properties: KafkaProperties,
  owner: string,
): unknown {
  const described = describeSecurityError(e, properties, owner);
  return described === undefined ? e : new Error(described, { cause: e });
}
