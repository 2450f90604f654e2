import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AuthConfigError } from '../common/config-error.js';
import { checkOptionNames } from '../common/option-checks.js';

const run = promisify(execFile);

/** Options of {@link createTestCertificates}. */
export interface TestCertificateOptions {
  /** Common name of the server certificate. Default `'localhost'`. */
  commonName?: string;
  /** Validity of both certificates, in days. Default 2. */
  validityDays?: number;
}

const optionNames = ['commonName', 'validityDays'] as const satisfies readonly (keyof TestCertificateOptions)[];

/** A CA and a server certificate it signed, as PEM text and as the Buffers grpc-js takes. */
export interface TestCertificates {
  readonly caCert: string;
  readonly serverCert: string;
  /** PKCS#8 PEM. Generated now; never commit it. */
  readonly serverKey: string;
  readonly caCertBuffer: Buffer;
  readonly serverCertBuffer: Buffer;
  readonly serverKeyBuffer: Buffer;
}

/**
 * Makes a throwaway CA and a server certificate for `localhost` and `127.0.0.1` (ECDSA P-256), for
 * TLS in tests; nothing is written anywhere lasting, so no private key ends up committed.
 *
 * It runs the `openssl` command (1.1.1 or 3.x) rather than a JavaScript X.509 library: the pure-JS
 * generators need a global Reflect polyfill or a large ASN.1 stack as a dependency of every user,
 * while `openssl` is present on Linux and macOS CI images. Where it is missing, the error says so.
 *
 * @example
 * ```ts
 * const certs = await createTestCertificates();
 * server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createSsl(null, [
 *   { cert_chain: certs.serverCertBuffer, private_key: certs.serverKeyBuffer },
 * ]), callback);
 * const client = new EchoClient(`localhost:${port}`, grpc.credentials.createSsl(certs.caCertBuffer));
 * ```
 */
export async function createTestCertificates(options: TestCertificateOptions = {}): Promise<TestCertificates> {
  checkOptionNames(options, optionNames, 'createTestCertificates option');
  const commonName: unknown = options.commonName ?? 'localhost';
  const validityDays: unknown = options.validityDays ?? 2;
  if (typeof commonName !== 'string' || !/^[\w.-]{1,64}$/.test(commonName))
    throw new AuthConfigError('createTestCertificates: commonName must be a host name');
  if (!Number.isInteger(validityDays) || (validityDays as number) < 1 || (validityDays as number) > 36_500)
    throw new AuthConfigError('createTestCertificates: validityDays must be a whole number of days from 1 to 36500');
  const days = String(validityDays);
  const dir = await mkdtemp(join(tmpdir(), 'grpc-oauth2-certs-'));
  const path = (name: string): string => join(dir, name);
  try {
    await writeFile(
      path('server.ext'),
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        `subjectAltName=DNS:${commonName},DNS:localhost,IP:127.0.0.1`,
      ].join('\n'),
    );
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    await openssl([
      'req',
      '-x509',
      ...ec,
      '-keyout',
      path('ca.key'),
      '-out',
      path('ca.pem'),
      '-days',
      days,
      '-subj',
      '/CN=grpc-oauth2-credentials test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await openssl([
      'req',
      ...ec,
      '-keyout',
      path('server.key'),
      '-out',
      path('server.csr'),
      '-subj',
      `/CN=${commonName}`,
    ]);
    await openssl([
      'x509',
      '-req',
      '-in',
      path('server.csr'),
      '-CA',
      path('ca.pem'),
      '-CAkey',
      path('ca.key'),
      '-CAcreateserial',
      '-out',
      path('server.pem'),
      '-days',
      days,
      '-extfile',
      path('server.ext'),
    ]);
    const [caCert, serverCert, serverKey] = await Promise.all(
      ['ca.pem', 'server.pem', 'server.key'].map((name) => readFile(path(name), 'utf8')),
    );
    return {
      caCert: caCert!,
      serverCert: serverCert!,
      serverKey: serverKey!,
      caCertBuffer: Buffer.from(caCert!),
      serverCertBuffer: Buffer.from(serverCert!),
      serverKeyBuffer: Buffer.from(serverKey!),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 30_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new Error('createTestCertificates needs the openssl command on the PATH (OpenSSL 1.1.1 or 3.x)');
    throw new Error(
      `createTestCertificates: openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim().split('\n')[0]}`,
    );
  }
}
