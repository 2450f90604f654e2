// The check of a certificate, its private key and an optional CA read from PEM files, shared by the
// gRPC side's watched certificates and the TokenManager's TLS client certificate.
import { X509Certificate, createPrivateKey } from 'node:crypto';

/** Why a set of PEM files cannot be used; `message` names the option and file, never their contents. */
export class UnusablePemFiles extends Error {
  constructor(
    message: string,
    /** The file could not be read (as opposed to read and found unusable). */
    readonly unreadable = false,
  ) {
    super(message);
  }
}

/** The paths of the files, by the option names that name them in messages. */
export interface PemFilePaths {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile?: string | undefined;
}

/**
 * The certificate in `cert` (the first of a chain) when it parses, `key` is its private key and it
 * has not expired at `nowMs`, and `ca` (when given) parses.
 *
 * @throws UnusablePemFiles naming the file that is wrong.
 */
export function checkPemPair(
  paths: PemFilePaths,
  bytes: { readonly cert: Buffer; readonly key: Buffer; readonly ca?: Buffer | undefined },
  nowMs: number,
): X509Certificate {
  const { certFile, keyFile, caFile } = paths;
  const certificate = parseCertificate(bytes.cert, `certFile ${certFile} holds no valid PEM certificate`);
  if (bytes.ca !== undefined) parseCertificate(bytes.ca, `caFile ${caFile ?? ''} holds no valid PEM certificate`);
  let key;
  try {
    key = createPrivateKey(bytes.key);
  } catch {
    throw new UnusablePemFiles(`keyFile ${keyFile} holds no valid PEM private key`);
  }
  if (!certificate.checkPrivateKey(key))
    throw new UnusablePemFiles(`keyFile ${keyFile} does not match the certificate in certFile ${certFile}`);
  if (Date.parse(certificate.validTo) <= nowMs)
    throw new UnusablePemFiles(`the certificate in certFile ${certFile} expired on ${certificate.validTo}`);
  return certificate;
}

function parseCertificate(pem: Buffer, problem: string): X509Certificate {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new UnusablePemFiles(problem);
  try {
    return new X509Certificate(pem);
  } catch {
    throw new UnusablePemFiles(problem);
  }
}
