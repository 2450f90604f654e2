import { readFile, writeFile } from 'node:fs/promises';
import { AuthConfigError } from '../common/config-error.js';
import { checkOptionNames } from '../common/option-checks.js';
import { thumbprintOf } from './mock-token-server/mtls-client-auth.js';
import { ecKeyArgs, inTempDir, issueSigned, openssl } from './openssl.js';

/** Options of {@link TestCertificates.issueClientCertificate}. */
export interface ClientCertificateOptions {
  /** A SPIFFE ID (`spiffe://trust-domain/path`), put in the certificate as a URI SAN. Default: none. */
  spiffeId?: string;
  /** Host names put in the certificate as DNS SANs. Default: none. */
  dnsNames?: readonly string[];
  /** Common name of the subject. Default `'test client'`. */
  commonName?: string;
  /** Validity in days, from now. Default 2. */
  validityDays?: number;
}

const optionNames: readonly (keyof ClientCertificateOptions)[] = ['spiffeId', 'dnsNames', 'commonName', 'validityDays'];

/** A client certificate (extendedKeyUsage clientAuth) signed by the test CA, and its key. */
export interface ClientCertificate {
  readonly cert: string;
  /** PKCS#8 PEM. Generated now; never commit it. */
  readonly key: string;
  readonly certBuffer: Buffer;
  readonly keyBuffer: Buffer;
  /** base64url SHA-256 of the certificate's DER: RFC 8705's `x5t#S256` thumbprint. */
  readonly sha256: string;
  /**
   * A renewal of this certificate, as cert-manager makes one: the same subject, SANs (SPIFFE ID
   * included), validity length and issuer (the same test CA, or self-signed), a new key pair, valid
   * from now. Write it over the old one with `writeCertificateFiles(...).renew`. Runs `openssl`.
   */
  renew(): Promise<ClientCertificate>;
}

/** The test CA, kept inside the testing kit: its key is never part of a returned object. */
export interface TestCa {
  readonly cert: string;
  readonly key: string;
}

// Only characters that cannot end an openssl config value or subject field (`,` `/` `=` newline).
const spiffePattern = /^spiffe:\/\/[a-z0-9.-]{1,255}(\/[A-Za-z0-9._~%-]+)*$/;
const dnsPattern = /^(\*\.)?[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*$/;
const commonNamePattern = /^[\w .-]{1,64}$/;

/** The checked options as openssl reads them: the subject's common name, the SANs, the days. */
interface CheckedOptions {
  readonly commonName: string;
  readonly sans: readonly string[];
  readonly days: string;
}

/** Makes one certificate from checked options; `renew()` runs it again. */
type Issue = (checked: CheckedOptions) => Promise<Omit<ClientCertificate, 'renew'>>;

function checkOptions(options: ClientCertificateOptions, where: string): CheckedOptions {
  checkOptionNames(options, optionNames, `${where} option`);
  const { spiffeId, dnsNames = [], commonName = 'test client', validityDays = 2 } = options as Record<string, unknown>;
  if (spiffeId !== undefined && (typeof spiffeId !== 'string' || !spiffePattern.test(spiffeId)))
    throw new AuthConfigError(`${where}: spiffeId must be spiffe://trust-domain/path (letters, digits, . _ ~ % -)`);
  if (!Array.isArray(dnsNames) || !dnsNames.every((name) => typeof name === 'string' && dnsPattern.test(name)))
    throw new AuthConfigError(`${where}: dnsNames must be an array of host names`);
  if (typeof commonName !== 'string' || !commonNamePattern.test(commonName))
    throw new AuthConfigError(`${where}: commonName must be 1 to 64 letters, digits, spaces, . _ -`);
  if (!Number.isInteger(validityDays) || (validityDays as number) < 1 || (validityDays as number) > 36_500)
    throw new AuthConfigError(`${where}: validityDays must be a whole number of days from 1 to 36500`);
  const sans = [
    ...(spiffeId === undefined ? [] : [`URI:${spiffeId}`]),
    ...(dnsNames as string[]).map((name) => `DNS:${name}`),
  ];
  return Object.freeze({ commonName, sans: Object.freeze(sans), days: String(validityDays) });
}

/** The extensions of a client certificate with `sans`, one per line as openssl's `-extfile` and `-addext` take them. */
function clientExtensions(sans: readonly string[]): string[] {
  return [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=clientAuth',
    ...(sans.length === 0 ? [] : [`subjectAltName=${sans.join(',')}`]),
  ];
}

/** Checks the options and issues the certificate; see {@link TestCertificates.issueClientCertificate}. */
export async function issueClientCertificate(
  ca: TestCa,
  options: ClientCertificateOptions = {},
): Promise<ClientCertificate> {
  const where = 'issueClientCertificate';
  return withRenew(checkOptions(options, where), ({ commonName, sans, days }) =>
    inTempDir(async (path) => {
      await Promise.all([
        writeFile(path('ca.pem'), ca.cert),
        writeFile(path('ca.key'), ca.key, { mode: 0o600 }),
        writeFile(path('client.ext'), clientExtensions(sans).join('\n')),
      ]);
      await issueSigned(path, 'client', commonName, days, where);
      return readCertificate(path);
    }),
  );
}

/**
 * Makes a self-signed client certificate (ECDSA P-256, extendedKeyUsage clientAuth), signed by its own
 * key and no CA: what a client registers with an authorization server for RFC 8705's
 * `self_signed_tls_client_auth`. Same options and result as {@link TestCertificates.issueClientCertificate};
 * runs `openssl`, and each call makes a new key pair.
 *
 * @throws AuthConfigError for an unknown or malformed option, before running openssl.
 */
export async function createSelfSignedClientCertificate(
  options: ClientCertificateOptions = {},
): Promise<ClientCertificate> {
  const where = 'createSelfSignedClientCertificate';
  return withRenew(checkOptions(options, where), ({ commonName, sans, days }) =>
    inTempDir(async (path) => {
      const out = ['-keyout', path('client.key'), '-out', path('client.pem'), '-days', days];
      const extensions = clientExtensions(sans).flatMap((extension) => ['-addext', extension]);
      await openssl(['req', '-x509', ...ecKeyArgs, ...out, '-subj', `/CN=${commonName}`, ...extensions], where);
      return readCertificate(path);
    }),
  );
}

/** Issues a certificate with `issue`, its `renew()` issuing the next one from the same options. */
async function withRenew(checked: CheckedOptions, issue: Issue): Promise<ClientCertificate> {
  const certificate = await issue(checked);
  return { ...certificate, renew: () => withRenew(checked, issue) };
}

/** The `client.pem` and `client.key` that openssl wrote, with the certificate's thumbprint. */
async function readCertificate(path: (name: string) => string): Promise<Omit<ClientCertificate, 'renew'>> {
  const [cert, key] = await Promise.all([readFile(path('client.pem'), 'utf8'), readFile(path('client.key'), 'utf8')]);
  return { cert, key, certBuffer: Buffer.from(cert), keyBuffer: Buffer.from(key), sha256: thumbprintOf(cert) };
}
