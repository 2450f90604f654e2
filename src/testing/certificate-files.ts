import { mkdir, mkdtemp, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AuthConfigError } from '../common/config-error.js';
import { checkNonEmptyString, checkOptionNames } from '../common/option-checks.js';
import { describeType } from '../common/describe.js';

/** The PEM contents {@link writeCertificateFiles} writes: a certificate (chain), its private key, a CA. */
export interface CertificateFileContents {
  /** The certificate (chain), PEM. */
  cert: string | Buffer;
  /** Its private key, PEM. Written with mode 0600. */
  key: string | Buffer;
  /** The CA certificate(s) that verify the peer, PEM. */
  ca: string | Buffer;
}

const contentNames = ['cert', 'key', 'ca'] as const satisfies readonly (keyof CertificateFileContents)[];

/** The files {@link writeCertificateFiles} made, and how to renew them. */
export interface CertificateFiles {
  /** `<dir>/tls.crt`, a symlink to `..data/tls.crt`. */
  readonly certFile: string;
  /** `<dir>/tls.key`, a symlink to `..data/tls.key`. */
  readonly keyFile: string;
  /** `<dir>/ca.crt`, a symlink to `..data/ca.crt`. */
  readonly caFile: string;
  /**
   * Writes `next` into a new hidden directory, then swaps the `..data` symlink to it with one
   * `rename` (atomic), then removes the previous directory: the three file names never change, and a
   * reader that opens them through one `..data` sees either the old set or the new one, never a mix
   * or a half-written file. Calls are queued: one renewal at a time.
   */
  renew(next: CertificateFileContents): Promise<void>;
}

/**
 * Writes a certificate, its key and a CA into `dir` the way cert-manager's Secret volumes and
 * Kubernetes projected volumes do: `tls.crt`, `tls.key` and `ca.crt` are symlinks into `..data`,
 * itself a symlink to a hidden versioned directory that {@link CertificateFiles.renew} replaces
 * atomically. For testing code that must pick up renewed certificates.
 *
 * Hand-written (about 40 lines): no maintained package writes Kubernetes' atomic layout.
 *
 * @param dir - created if missing; must be empty (an `AuthConfigError` otherwise).
 * @throws AuthConfigError for a bad `dir` or contents (never quoting the key).
 */
export async function writeCertificateFiles(dir: string, contents: CertificateFileContents): Promise<CertificateFiles> {
  checkNonEmptyString(dir, 'writeCertificateFiles: dir');
  checkContents(contents);
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0) throw new AuthConfigError('writeCertificateFiles: dir must be empty or missing');
  const names = { cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' } as const;
  let current = await writeVersion(dir, contents, names);
  await symlink(basename(current), join(dir, '..data'));
  for (const name of Object.values(names)) await symlink(join('..data', name), join(dir, name));
  let queue: Promise<void> = Promise.resolve();
  const renewNow = async (next: CertificateFileContents): Promise<void> => {
    const version = await writeVersion(dir, next, names);
    const temporary = join(dir, '..data_tmp');
    await rm(temporary, { force: true });
    await symlink(basename(version), temporary);
    await rename(temporary, join(dir, '..data'));
    await rm(current, { recursive: true, force: true });
    current = version;
  };
  return {
    certFile: join(dir, names.cert),
    keyFile: join(dir, names.key),
    caFile: join(dir, names.ca),
    renew(next) {
      checkContents(next);
      const run = queue.then(() => renewNow(next));
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

function checkContents(contents: unknown): asserts contents is CertificateFileContents {
  checkOptionNames(contents, contentNames, 'writeCertificateFiles content');
  if (contents === undefined)
    throw new AuthConfigError('writeCertificateFiles: contents { cert, key, ca } are required');
  for (const name of contentNames) {
    const value: unknown = (contents as Record<string, unknown>)[name];
    if (typeof value === 'string' || Buffer.isBuffer(value)) {
      if (value.length > 0) continue;
      throw new AuthConfigError(`writeCertificateFiles: ${name} must not be empty`);
    }
    throw new AuthConfigError(
      `writeCertificateFiles: ${name} must be PEM text or a Buffer, not ${describeType(value)}`,
    );
  }
}

async function writeVersion(
  dir: string,
  contents: CertificateFileContents,
  names: Record<keyof CertificateFileContents, string>,
): Promise<string> {
  const version = await mkdtemp(join(dir, '..version_'));
  for (const name of contentNames)
    await writeFile(join(version, names[name]), contents[name], { mode: name === 'key' ? 0o600 : 0o644 });
  return version;
}
