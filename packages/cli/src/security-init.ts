// `nimble security init <dir>`: a cluster CA, a daemon certificate and a client token, made by
// the openssl command (no cryptography of our own), with keys and token readable by the owner only.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { CommandError } from './commands.js';
import { ExitCode } from './exit-codes.js';

/** The files `nimble security init` writes, by role. */
export const SECURITY_FILES = {
  caCert: 'ca.pem',
  caKey: 'ca-key.pem',
  cert: 'node.pem',
  key: 'node-key.pem',
  token: 'token',
} as const;

export interface SecurityInitFlags {
  /** Host names and addresses the daemon certificate is valid for, besides localhost. */
  readonly host?: readonly string[];
  /** Validity of the certificates in days. */
  readonly days?: string;
  /** When `dir` already holds all the files, keep them and succeed (an init step run each start). */
  readonly keepExisting?: boolean;
}

/** Creates `path` empty with mode 0600, so a secret is never readable by others, not even briefly. */
function privateFile(path: string): void {
  closeSync(openSync(path, 'w', 0o600));
  chmodSync(path, 0o600);
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { code?: string; stderr?: Buffer; message: string };
    if (err.code === 'ENOENT') {
      throw new CommandError(
        'security init needs the openssl command: install it (Debian: apt-get install openssl)',
      );
    }
    throw new CommandError(
      `openssl ${args[0]} failed: ${err.stderr?.toString().trim() || err.message}`,
    );
  }
}

function subjectAltNames(hosts: readonly string[]): string {
  const names = ['localhost', '127.0.0.1', '::1', ...hosts];
  return [...new Set(names)]
    .map((h) => {
      if (!/^[A-Za-z0-9.:*-]+$/.test(h))
        throw new CommandError(`--host ${JSON.stringify(h)}: not a host name or IP address`, 2);
      return isIP(h) ? `IP:${h}` : `DNS:${h}`;
    })
    .join(',');
}

/** The configuration lines that use what `init` wrote in `dir`. */
export function securityConfigLines(dir: string): string[] {
  const f = (name: string) => join(dir, name);
  return [
    'security.ssl.internal.enabled: true',
    `security.ssl.internal.cert: ${f(SECURITY_FILES.cert)}`,
    `security.ssl.internal.key: ${f(SECURITY_FILES.key)}`,
    `security.ssl.internal.trust-cert: ${f(SECURITY_FILES.caCert)}`,
    'security.ssl.rest.enabled: true',
    `security.ssl.rest.cert: ${f(SECURITY_FILES.cert)}`,
    `security.ssl.rest.key: ${f(SECURITY_FILES.key)}`,
    `security.rest.token-file: ${f(SECURITY_FILES.token)}`,
  ];
}

/** `nimble security init <dir>`; returns the exit code. */
export function securityInit(
  target: string,
  flags: SecurityInitFlags,
  write: (text: string) => void,
): number {
  const dir = resolve(target);
  const days = Number(flags.days ?? '825');
  if (!Number.isInteger(days) || days < 1)
    throw new CommandError(`--days ${flags.days}: expected an integer >= 1`, ExitCode.USAGE);
  const sans = subjectAltNames(flags.host ?? []);
  const path = (name: string) => join(dir, name);
  const existing = Object.values(SECURITY_FILES).filter((name) => existsSync(path(name)));
  if (flags.keepExisting && existing.length === Object.keys(SECURITY_FILES).length) {
    write(`${dir} already holds the security material of a cluster: kept as it is.\n`);
    return ExitCode.OK;
  }
  if (existing.length > 0) {
    throw new CommandError(
      `${dir} already holds ${existing.join(', ')}: refusing to replace a cluster's CA or ` +
        'token. Choose an empty directory, or remove the files first.',
    );
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const work = mkdtempSync(join(dir, '.init-'));
  try {
    const clusterId = randomBytes(4).toString('hex');
    const curve = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    const caConfig = join(work, 'ca.cnf');
    writeFileSync(
      caConfig,
      [
        '[req]',
        'distinguished_name = dn',
        'x509_extensions = ca',
        'prompt = no',
        '[dn]',
        `CN = Nimble cluster CA ${clusterId}`,
        '[ca]',
        'basicConstraints = critical, CA:TRUE, pathlen:0',
        'keyUsage = critical, keyCertSign, cRLSign',
        'subjectKeyIdentifier = hash',
        '',
      ].join('\n'),
    );
    privateFile(path(SECURITY_FILES.caKey));
    openssl([
      'req',
      '-x509',
      ...curve,
      '-config',
      caConfig,
      '-keyout',
      path(SECURITY_FILES.caKey),
      '-out',
      path(SECURITY_FILES.caCert),
      '-days',
      String(days),
    ]);

    const nodeConfig = join(work, 'node.cnf');
    writeFileSync(
      nodeConfig,
      [
        '[req]',
        'distinguished_name = dn',
        'prompt = no',
        '[dn]',
        `CN = nimble-daemon-${clusterId}`,
        '[node]',
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature, keyAgreement',
        // Daemons are servers and clients of each other (mutual TLS).
        'extendedKeyUsage = serverAuth, clientAuth',
        `subjectAltName = ${sans}`,
        'authorityKeyIdentifier = keyid',
        '',
      ].join('\n'),
    );
    const csr = join(work, 'node.csr');
    privateFile(path(SECURITY_FILES.key));
    openssl([
      'req',
      '-new',
      ...curve,
      '-config',
      nodeConfig,
      '-keyout',
      path(SECURITY_FILES.key),
      '-out',
      csr,
    ]);
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      path(SECURITY_FILES.caCert),
      '-CAkey',
      path(SECURITY_FILES.caKey),
      '-set_serial',
      `0x${randomBytes(16).toString('hex')}`,
      '-days',
      String(days),
      '-extfile',
      nodeConfig,
      '-extensions',
      'node',
      '-out',
      path(SECURITY_FILES.cert),
    ]);

    privateFile(path(SECURITY_FILES.token));
    // 256 bits from the system's CSPRNG, URL-safe so it fits a header and an environment value.
    writeFileSync(path(SECURITY_FILES.token), `${randomBytes(32).toString('base64url')}\n`);
    for (const name of [SECURITY_FILES.caKey, SECURITY_FILES.key, SECURITY_FILES.token])
      chmodSync(path(name), 0o600);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  write(
    `Wrote the security material of a Nimble cluster to ${dir}:\n` +
      `  ${SECURITY_FILES.caCert.padEnd(12)} cluster CA certificate (trusted by daemons and clients)\n` +
      `  ${SECURITY_FILES.caKey.padEnd(12)} CA private key (0600): keep it offline; it signs new certificates\n` +
      `  ${SECURITY_FILES.cert.padEnd(12)} daemon certificate, valid for ${sans.replaceAll(',', ', ')}\n` +
      `  ${SECURITY_FILES.key.padEnd(12)} daemon private key (0600)\n` +
      `  ${SECURITY_FILES.token.padEnd(12)} client token (0600): clients send it as NIMBLE_TOKEN or a Bearer header\n` +
      '\nAdd these lines to the configuration of every daemon and client (docs/security.md):\n\n' +
      securityConfigLines(dir).join('\n') +
      '\n',
  );
  return ExitCode.OK;
}
