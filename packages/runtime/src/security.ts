// Authentication and encryption settings of a cluster: Flink's `security.ssl.*` keys, taking PEM
// files where Flink takes Java keystores, and a bearer token for clients (docs/security.md).
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { boolOption, stringOption } from './config-option.js';
import { ConfigurationError } from './errors.js';

/** The security options, with Flink's key names where Flink has the concept. */
export const SecurityOptions = {
  internalSslEnabled: boolOption(
    'security.ssl.internal.enabled',
    false,
    'Mutual TLS on every connection between daemons (control RPC, blob transfer, data exchange) ' +
      'and from clients to the JobManager gRPC port.',
  ),
  internalSslCert: stringOption(
    'security.ssl.internal.cert',
    '',
    "PEM file with this process's certificate (chain), signed by the cluster CA. Flink: the " +
      'certificate in security.ssl.internal.keystore.',
  ),
  internalSslKey: stringOption(
    'security.ssl.internal.key',
    '',
    'PEM file with the private key of security.ssl.internal.cert. Flink: the key in ' +
      'security.ssl.internal.keystore.',
  ),
  internalSslTrustCert: stringOption(
    'security.ssl.internal.trust-cert',
    '',
    'PEM file with the cluster CA certificate(s) a peer must be signed by. Flink: ' +
      'security.ssl.internal.truststore.',
  ),
  restSslEnabled: boolOption(
    'security.ssl.rest.enabled',
    false,
    'HTTPS for the REST API (and /metrics) of the JobManager.',
  ),
  restSslCert: stringOption(
    'security.ssl.rest.cert',
    '',
    "PEM file with the REST server's certificate (chain). Flink: security.ssl.rest.keystore.",
  ),
  restSslKey: stringOption(
    'security.ssl.rest.key',
    '',
    'PEM file with the private key of security.ssl.rest.cert.',
  ),
  restToken: stringOption(
    'security.rest.token',
    '',
    'Bearer token that clients must present (REST Authorization header, gRPC metadata) to ' +
      'submit, control or read jobs. Prefer security.rest.token-file.',
  ),
  restTokenFile: stringOption(
    'security.rest.token-file',
    '',
    'File holding the bearer token (first line); used when security.rest.token is empty.',
  ),
  insecure: boolOption(
    'security.insecure',
    false,
    'Lets a daemon bind a non-loopback address without TLS and a token. Only for networks where ' +
      'every host that can reach the ports is trusted.',
  ),
} as const;

/** A certificate, its key and the CA certificates a peer must chain to (all PEM). */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
}

/** The security settings of a process, with the PEM files read. */
export interface SecurityMaterial {
  /** Mutual TLS between daemons (and for clients of the gRPC port); undefined: plaintext. */
  readonly internal: TlsMaterial | undefined;
  /** The REST server's certificate and key; undefined: plain HTTP. */
  readonly rest: { readonly cert: Buffer; readonly key: Buffer } | undefined;
  /** The bearer token clients present; undefined: none required. */
  readonly token: string | undefined;
  readonly insecure: boolean;
}

type SecurityValues = {
  readonly [K in keyof typeof SecurityOptions]: (typeof SecurityOptions)[K]['defaultValue'];
};

function readPem(option: { key: string }, path: string, what: string): Buffer {
  if (path === '') {
    throw new ConfigurationError(
      `Configuration key "${option.key}" is empty: set it to the PEM file with ${what}. ` +
        '`nimble security init <dir>` writes one for a cluster.',
      { key: option.key },
    );
  }
  try {
    const content = readFileSync(path);
    if (!content.includes('-----BEGIN ')) throw new Error('it holds no PEM block');
    return content;
  } catch (e) {
    throw new ConfigurationError(
      `Cannot read ${what} from ${path} (configuration key "${option.key}"): ` +
        `${(e as Error).message}. Point the key at a readable PEM file.`,
      { key: option.key, cause: e },
    );
  }
}

/** Reads the files the security options name; a missing or unreadable file names its key. */
export function loadSecurityMaterial(c: SecurityValues): SecurityMaterial {
  const o = SecurityOptions;
  const internal = c.internalSslEnabled
    ? {
        cert: readPem(o.internalSslCert, c.internalSslCert, 'the certificate of this process'),
        key: readPem(o.internalSslKey, c.internalSslKey, 'the private key of this process'),
        ca: readPem(o.internalSslTrustCert, c.internalSslTrustCert, 'the cluster CA certificate'),
      }
    : undefined;
  const rest = c.restSslEnabled
    ? {
        cert: readPem(o.restSslCert, c.restSslCert, 'the REST server certificate'),
        key: readPem(o.restSslKey, c.restSslKey, 'the REST server private key'),
      }
    : undefined;
  let token: string | undefined = c.restToken === '' ? undefined : c.restToken;
  if (token === undefined && c.restTokenFile !== '') {
    try {
      token = readFileSync(c.restTokenFile, 'utf8').split('\n')[0]!.trim();
    } catch (e) {
      throw new ConfigurationError(
        `Cannot read the token file ${c.restTokenFile} (configuration key ` +
          `"${o.restTokenFile.key}"): ${(e as Error).message}.`,
        { key: o.restTokenFile.key, cause: e },
      );
    }
    if (token === '') {
      throw new ConfigurationError(
        `The token file ${c.restTokenFile} (configuration key "${o.restTokenFile.key}") is empty.`,
        { key: o.restTokenFile.key },
      );
    }
  }
  if (token !== undefined && token.length < 16) {
    throw new ConfigurationError(
      `The token of "${o.restToken.key}"/"${o.restTokenFile.key}" has ${token.length} ` +
        'characters: use at least 16 random ones (`nimble security init` writes 43).',
      { key: o.restToken.key },
    );
  }
  return { internal, rest, token, insecure: c.insecure };
}

/** Whether `host` (a bind address) accepts connections from this host only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1';
  return false;
}

/** One server a daemon is about to bind, for {@link checkBindSecurity}. */
export interface BindCheck {
  /** What listens, e.g. "JobManager gRPC" (for the message). */
  readonly server: string;
  /** The configuration key of the bind address. */
  readonly key: string;
  readonly host: string;
  /** Whether the server has TLS and the token it needs (internal TLS; REST TLS and a token). */
  readonly secured: boolean;
  /** What setting up security for this server takes (for the message). */
  readonly needs: string;
}

/**
 * Secure by default: a server that binds a non-loopback address without TLS and a token would
 * let anyone on the network run code on the cluster. Refuses unless `security.insecure: true`.
 */
export function checkBindSecurity(material: SecurityMaterial, binds: readonly BindCheck[]): void {
  if (material.insecure) return;
  for (const b of binds) {
    if (b.secured || isLoopbackHost(b.host)) continue;
    throw new ConfigurationError(
      `Refusing to start: the ${b.server} server would listen on ${b.host} ("${b.key}"), ` +
        `reachable from other hosts, without ${b.needs}. Anyone who reaches that port could ` +
        'run code on the cluster. Run `nimble security init <dir>` and add the configuration ' +
        'it prints (docs/security.md), bind to 127.0.0.1, or set "security.insecure: true" to ' +
        'accept the risk on a trusted network.',
      { key: b.key },
    );
  }
}
