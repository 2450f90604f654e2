// A grpc-js certificate provider over cert/key/CA files that re-reads them when they change and never
// loads a pair that does not work. Hand-written rather than grpc-js's FileWatcherCertificateProvider:
// that one loads a mismatched cert/key pair, keeps no last good pair and reports missing files nowhere
// (docs/grpc-js-facts.md, "mutual TLS"). It implements grpc-js's public CertificateProvider interface.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { experimental } from '@grpc/grpc-js';
import { AuthConfigError } from '../common/config-error.js';
import type { Clock, TimerHandle } from '../common/clock.js';
import { UnusablePemFiles, checkPemPair } from '../common/pem-pair.js';
import { debugLine } from '../token/lifecycle/debug-log.js';

type CertificateProvider = experimental.CertificateProvider;
type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

/** The three files, by the option names that name them in messages. */
export interface CertificateFilePaths {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

/** A loaded set: checked certificate and key, the CA, and the hash of the three files' bytes. */
interface LoadedSet {
  readonly certificate: Buffer;
  readonly privateKey: Buffer;
  readonly caCertificate: Buffer;
  readonly hash: string;
}

/**
 * Serves a certificate, its key and a CA read from files to grpc-js, and re-reads them every
 * `refreshIntervalMs` on `clock`. A new set is loaded only when the files changed (SHA-256 of their
 * bytes, read through the path, so a `..data` symlink swap is seen) and the set is complete, the key
 * matches the certificate and the certificate has not expired; otherwise the last good set stays and
 * the problem is reported once (a process warning and a `NODE_DEBUG=grpc-oauth2` line).
 *
 * @internal
 * @example
 * ```ts
 * const provider = new WatchedCertificates({ certFile, keyFile, caFile }, 60_000, systemClock, 'createMtlsChannelCredentials');
 * grpc.experimental.createCertificateProviderChannelCredentials(provider, provider);
 * ```
 */
export class WatchedCertificates implements CertificateProvider {
  private current: LoadedSet;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly reported = new Set<string>();
  private lastSeenHash: string;
  /** The read failure the last refresh met, reported if the next one meets it too. */
  private unreadableOnce: string | undefined;
  private timer: TimerHandle | undefined;

  /** @throws AuthConfigError when a file is missing, unreadable, empty or unusable (naming it). */
  constructor(
    private readonly files: CertificateFilePaths,
    private readonly refreshIntervalMs: number,
    private readonly clock: Clock,
    private readonly caller: string,
  ) {
    try {
      this.current = this.check(this.readNow());
    } catch (error) {
      if (error instanceof UnusablePemFiles) throw new AuthConfigError(`${caller}: ${error.message}`);
      throw error;
    }
    this.lastSeenHash = this.current.hash;
    this.schedule();
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    const { caCertificate } = this.current;
    process.nextTick(() => listener({ caCertificate }));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    const { certificate, privateKey } = this.current;
    process.nextTick(() => listener({ certificate, privateKey }));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }

  /** Stops re-reading the files (the timer is unref'd, so this is only needed to stop early). */
  close(): void {
    this.timer?.clear();
    this.timer = undefined;
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      // Nothing a refresh meets may end the process: an unexpected failure is a debug line, and the
      // last good set stays.
      void this.refresh()
        .catch((error: unknown) =>
          debugLine(`${this.caller}: re-reading the certificate files failed (${(error as Error)?.name ?? 'error'})`),
        )
        .finally(() => {
          if (this.timer !== undefined) this.schedule();
        });
    }, this.refreshIntervalMs);
  }

  /** Re-reads the files; loads them when they changed and are usable, else reports why once. */
  private async refresh(): Promise<void> {
    let candidate: LoadedSet;
    try {
      const contents = await this.readLater();
      const hash = hashOf(contents);
      this.unreadableOnce = undefined;
      if (hash === this.lastSeenHash) return;
      // Read across a renewal (the old cert, the new key), the set would look mismatched: it is used,
      // or reported, only when a second read agrees. Otherwise the next refresh sees the settled files.
      if (hashOf(await this.readLater()) !== hash) return;
      this.lastSeenHash = hash;
      candidate = this.check(contents);
    } catch (error) {
      if (!(error instanceof UnusablePemFiles)) throw error;
      // A file missing for one read is usually a renewal removing the old version under the reader:
      // reported when the next refresh finds it the same.
      if (error.unreadable && this.unreadableOnce !== error.message) {
        this.unreadableOnce = error.message;
        return;
      }
      this.reportOnce(error.message);
      return;
    }
    this.current = candidate;
    this.reported.clear();
    debugLine(`${this.caller}: loaded renewed certificate from ${this.files.certFile}`);
    const { certificate, privateKey, caCertificate } = candidate;
    for (const listener of this.caListeners) listener({ caCertificate });
    for (const listener of this.identityListeners) listener({ certificate, privateKey });
  }

  private reportOnce(problem: string): void {
    // Once per distinct problem: a file left half-written for hours is one warning, not one per refresh.
    if (this.reported.has(problem)) return;
    this.reported.add(problem);
    const message = `${this.caller}: kept the last good certificate: ${problem}`;
    debugLine(message);
    process.emitWarning(message, { type: 'CertificateReloadWarning', code: 'GRPC_OAUTH2_CERTIFICATE_NOT_RELOADED' });
  }

  private readNow(): FileContents {
    const read = (name: keyof CertificateFilePaths): Buffer => readChecked(this.files[name], name, readFileSync);
    return { cert: read('certFile'), key: read('keyFile'), ca: read('caFile') };
  }

  private async readLater(): Promise<FileContents> {
    const read = async (name: keyof CertificateFilePaths): Promise<Buffer> => {
      try {
        return checkNotEmpty(await readFile(this.files[name]), this.files[name], name);
      } catch (error) {
        throw unreadable(error, this.files[name], name);
      }
    };
    const [cert, key, ca] = await Promise.all([read('certFile'), read('keyFile'), read('caFile')]);
    return { cert, key, ca };
  }

  /** The set, when the certificate parses, has not expired and matches the key, and the CA parses. */
  private check(contents: FileContents): LoadedSet {
    checkPemPair(this.files, contents, this.clock.now());
    return { certificate: contents.cert, privateKey: contents.key, caCertificate: contents.ca, hash: hashOf(contents) };
  }
}

interface FileContents {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
}

function hashOf(contents: FileContents): string {
  const hash = createHash('sha256');
  for (const part of [contents.cert, contents.key, contents.ca])
    hash.update(String(part.length)).update(':').update(part);
  return hash.digest('hex');
}

function readChecked(path: string, name: string, read: (path: string) => Buffer): Buffer {
  try {
    return checkNotEmpty(read(path), path, name);
  } catch (error) {
    throw unreadable(error, path, name);
  }
}

function checkNotEmpty(bytes: Buffer, path: string, name: string): Buffer {
  if (bytes.toString('utf8').trim() === '') throw new UnusablePemFiles(`${name} ${path} is empty`);
  return bytes;
}

/** The error for a file that could not be read: its name and the system's code, never its bytes. */
function unreadable(error: unknown, path: string, name: string): Error {
  if (error instanceof UnusablePemFiles) return error;
  const code = (error as { code?: unknown }).code;
  const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${typeof code === 'string' ? code : 'error'})`;
  return new UnusablePemFiles(`${name} ${path} ${why}`, true);
}
