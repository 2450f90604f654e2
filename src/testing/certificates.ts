import { readFile, writeFile } from 'node:fs/promises';
import { AuthConfigError } from '../common/config-error.js';
import { checkOptionNames } from '../common/option-checks.js';
import {
  issueClientCertificate,
  type ClientCertificate,
  type ClientCertificateOptions,
} from './client-certificates.js';
import { ecKeyArgs, inTempDir, issueSigned, openssl } from './openssl.js';

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
  /**
   * Issues a client certificate signed by this CA (ECDSA P-256, extendedKeyUsage clientAuth), for
   * mutual TLS in tests: a grpc-js server made with `ServerCredentials.createSsl(caCertBuffer, [...], true)`
   * accepts it. The CA's private key stays inside the testing kit. Runs `openssl`; each call makes a
   * new key pair (what a renewal needs).
   */
  issueClientCertificate(options?: ClientCertificateOptions): Promise<ClientCertificate>;
}

/**
 * Makes a throwaway CA and a server certificate for `localhost` and `127.0.0.1` (ECDSA P-256), for
 * TLS in tests; nothing is written anywhere lasting, so no private key ends up committed.
 *
 * It runs the `openssl` command (1.1.1 or 3.x) rather than a JavaScript X.509 library (why: see
 * openssl.ts). Where it is missing, the error says so. The result's `issueClientCertificate` makes
 * client certificates signed by the same CA, for mutual TLS.
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
  return inTempDir(async (path) => {
    await writeFile(
      path('server.ext'),
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        `subjectAltName=DNS:${commonName},DNS:localhost,IP:127.0.0.1`,
      ].join('\n'),
    );
    await openssl([
      'req',
      '-x509',
      ...ecKeyArgs,
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
    await issueSigned(path, 'server', commonName, days);
    const [caCert, caKey, serverCert, serverKey] = await Promise.all(
      ['ca.pem', 'ca.key', 'server.pem', 'server.key'].map((name) => readFile(path(name), 'utf8')),
    );
    // The CA key lives only in this closure: never a property, so never in util.inspect or JSON.
    const ca = { cert: caCert!, key: caKey! };
    return {
      caCert: caCert!,
      serverCert: serverCert!,
      serverKey: serverKey!,
      caCertBuffer: Buffer.from(caCert!),
      serverCertBuffer: Buffer.from(serverCert!),
      serverKeyBuffer: Buffer.from(serverKey!),
      issueClientCertificate: (clientOptions?: ClientCertificateOptions) => issueClientCertificate(ca, clientOptions),
    };
  });
}
