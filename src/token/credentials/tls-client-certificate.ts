import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Clock } from '../../common/clock.js';
import { AuthConfigError } from '../../common/config-error.js';
import { checkNonEmptyString, checkOptionNames } from '../../common/option-checks.js';
import { UnusablePemFiles, checkPemPair } from '../../common/pem-pair.js';
import { debugLine } from '../lifecycle/debug-log.js';

/**
 * The `tlsClientCertificate` option of a TokenManager: PEM files of the TLS client certificate
 * presented to the token endpoint (RFC 8705 §2), such as a cert-manager Secret volume's.
 */
export interface TlsClientCertificateOptions {
  /** Path of the client certificate (chain), PEM. Required. */
  certFile: string;
  /** Path of its private key, PEM. Required. Never printed. */
  keyFile: string;
  /**
   * Path of the CA certificate(s) that verify the token endpoint's server certificate, PEM; given, they
   * replace Node's trusted roots for token and discovery requests. Default: Node's trusted roots (and
   * `NODE_EXTRA_CA_CERTS`).
   */
  caFile?: string;
}

const optionNames = ['certFile', 'keyFile', 'caFile'] as const satisfies readonly (keyof TlsClientCertificateOptions)[];

/** A usable set read from the files: what undici's TLS options take. */
export interface TlsClientPair {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
  /** base64url SHA-256 of the certificate's DER: the `x5t#S256` bound tokens carry. */
  readonly thumbprint: string;
  /** Identifies the files' bytes; a new value means a new pair. */
  readonly version: string;
}

type FileName = keyof TlsClientCertificateOptions;
type FileBytes = Partial<Record<FileName, Buffer>>;

/**
 * The TLS client certificate of a TokenManager, read from files at construction (a problem then is
 * an AuthConfigError) and read again before each token request, which uses the files' current pair
 * when they changed and the new pair is complete, matching and unexpired. Otherwise the last good
 * pair stays, so a request never goes without a certificate, and the problem is reported once per
 * distinct problem: a process warning (`GRPC_OAUTH2_CERTIFICATE_NOT_RELOADED`) and a
 * `NODE_DEBUG=grpc-oauth2` line. The key lives in private fields only: `util.inspect` and JSON
 * show the paths.
 *
 * Read per token request rather than on a timer: token requests are minutes apart, and a timer would
 * read the files for nothing in between. The pair's check is `src/common/pem-pair.ts`, shared with
 * the gRPC side's certificate provider (`src/token/` knows nothing of gRPC).
 *
 * @internal
 * @example
 * ```ts
 * const certificate = TlsClientCertificate.fromOption({ certFile, keyFile }, clock);
 * const { cert, key } = await certificate.current();
 * ```
 */
export class TlsClientCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string | undefined;
  readonly #clock: Clock;
  #current: TlsClientPair;
  /** The version last read, good or not, so an unusable set is not checked again until it changes. */
  #lastSeen: string;
  readonly #reported = new Set<string>();
  /** A read failure seen once: reported when the next read meets it too (a renewal swapping files). */
  #unreadableOnce: string | undefined;

  private constructor(files: TlsClientCertificateOptions, clock: Clock) {
    this.certFile = files.certFile;
    this.keyFile = files.keyFile;
    this.caFile = files.caFile;
    this.#clock = clock;
    let bytes: FileBytes;
    try {
      bytes = this.#readSync();
      this.#current = this.#check(bytes);
    } catch (error) {
      if (error instanceof UnusablePemFiles) throw new AuthConfigError(`tlsClientCertificate: ${error.message}`);
      throw error;
    }
    this.#lastSeen = this.#current.version;
  }

  /**
   * Checks the option's names and values and reads the files now.
   *
   * @throws AuthConfigError naming the option or file: an unknown name, a missing path, a file that
   *   is missing, unreadable or empty, a key that does not match the certificate, an expired certificate.
   */
  static fromOption(value: unknown, clock: Clock): TlsClientCertificate {
    const where = 'tlsClientCertificate';
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new AuthConfigError(`${where} must be an object { certFile, keyFile }`);
    checkOptionNames(value, optionNames, `${where} option`);
    const given = value as Record<string, unknown>;
    return new TlsClientCertificate(
      {
        certFile: checkNonEmptyString(given.certFile, `${where}.certFile`),
        keyFile: checkNonEmptyString(given.keyFile, `${where}.keyFile`),
        caFile: given.caFile === undefined ? undefined : checkNonEmptyString(given.caFile, `${where}.caFile`),
      },
      clock,
    );
  }

  /** The pair to present now: the files' when they changed and are usable, else the last good one. */
  async current(): Promise<TlsClientPair> {
    let bytes: FileBytes;
    try {
      bytes = await this.#read();
      this.#unreadableOnce = undefined;
      const version = versionOf(bytes);
      if (version === this.#lastSeen) return this.#current;
      // Read across a renewal, the old certificate and the new key look mismatched: a set is used or
      // reported only when a second read finds the same bytes.
      if (versionOf(await this.#read()) !== version) return this.#current;
      this.#lastSeen = version;
      const pair = this.#check(bytes);
      this.#current = pair;
      this.#reported.clear();
      debugLine(`tlsClientCertificate: loaded the renewed certificate ${this.certFile} (x5t#S256 ${pair.thumbprint})`);
    } catch (error) {
      if (!(error instanceof UnusablePemFiles)) throw error;
      this.#reportOnce(error);
    }
    return this.#current;
  }

  #reportOnce(error: UnusablePemFiles): void {
    if (error.unreadable && this.#unreadableOnce !== error.message) {
      this.#unreadableOnce = error.message;
      return;
    }
    if (this.#reported.has(error.message)) return;
    this.#reported.add(error.message);
    const message = `tlsClientCertificate: kept the last good certificate: ${error.message}`;
    debugLine(message);
    process.emitWarning(message, { type: 'CertificateReloadWarning', code: 'GRPC_OAUTH2_CERTIFICATE_NOT_RELOADED' });
  }

  #files(): [FileName, string][] {
    const files: [FileName, string | undefined][] = [
      ['certFile', this.certFile],
      ['keyFile', this.keyFile],
      ['caFile', this.caFile],
    ];
    return files.filter((entry): entry is [FileName, string] => entry[1] !== undefined);
  }

  #readSync(): FileBytes {
    return Object.fromEntries(
      this.#files().map(([name, path]) => [name, checkedBytes(name, path, () => readFileSync(path))]),
    );
  }

  async #read(): Promise<FileBytes> {
    const read = async ([name, path]: [FileName, string]): Promise<[FileName, Buffer]> => {
      const outcome = await readFile(path).then(
        (bytes) => () => bytes,
        (error: unknown) => () => {
          throw error;
        },
      );
      return [name, checkedBytes(name, path, outcome)];
    };
    return Object.fromEntries(await Promise.all(this.#files().map(read)));
  }

  /** The pair, when the certificate parses, matches the key and has not expired, and the CA parses. */
  #check(bytes: FileBytes): TlsClientPair {
    const certificate = checkPemPair(
      this,
      { cert: bytes.certFile!, key: bytes.keyFile!, ca: bytes.caFile },
      this.#clock.now(),
    );
    return {
      cert: bytes.certFile!,
      key: bytes.keyFile!,
      ca: bytes.caFile,
      thumbprint: createHash('sha256').update(certificate.raw).digest('base64url'),
      version: versionOf(bytes),
    };
  }
}

function versionOf(bytes: FileBytes): string {
  const hash = createHash('sha256');
  for (const part of [bytes.certFile, bytes.keyFile, bytes.caFile])
    hash.update(`${part?.length ?? -1};`).update(part ?? '');
  return hash.digest('base64url');
}

/**
 * The bytes `read` gives, when there are any: a file that cannot be read or is blank is an
 * UnusablePemFiles naming the option, the path and the system's code, never the bytes.
 */
function checkedBytes(name: FileName, path: string, read: () => Buffer): Buffer {
  let bytes: Buffer;
  try {
    bytes = read();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    const why = code === 'ENOENT' ? 'does not exist' : `could not be read (${code})`;
    throw new UnusablePemFiles(`${name} ${path} ${why}`, true);
  }
  if (bytes.toString('utf8').trim() === '') throw new UnusablePemFiles(`${name} ${path} is empty`);
  return bytes;
}
