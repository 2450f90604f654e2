import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

// The testing kit's certificates come from the `openssl` command rather than a JavaScript X.509
// library: the pure-JS generators need a global Reflect polyfill or a large ASN.1 stack as a
// dependency of every user, while `openssl` is present on Linux and macOS CI images.

const run = promisify(execFile);

/** The ECDSA P-256 key options of `openssl req`, unencrypted. */
export const ecKeyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'] as const;

/** Runs `openssl` with `args`; the error names the subcommand and openssl's first line of stderr. */
export async function openssl(args: readonly string[], where = 'createTestCertificates'): Promise<void> {
  try {
    await run('openssl', args, { timeout: 30_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`${where} needs the openssl command on the PATH (OpenSSL 1.1.1 or 3.x)`);
    throw new Error(`${where}: openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim().split('\n')[0]}`);
  }
}

/** Calls `work` with a fresh private temporary directory, removed afterwards (keys never outlive the call). */
export async function inTempDir<T>(work: (path: (name: string) => string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'grpc-oauth2-certs-'));
  try {
    return await work((name) => join(dir, name));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Makes `<name>.key` (a new P-256 key) and `<name>.pem`, signed by `ca.pem` / `ca.key` in the same
 * directory, with the extensions of `<name>.ext`, valid for `days`.
 */
export async function issueSigned(
  path: (name: string) => string,
  name: string,
  commonName: string,
  days: string,
  where?: string,
): Promise<void> {
  const csr = path(`${name}.csr`);
  await openssl(
    ['req', ...ecKeyArgs, '-keyout', path(`${name}.key`), '-out', csr, '-subj', `/CN=${commonName}`],
    where,
  );
  await openssl(
    ['x509', '-req', '-in', csr, '-CA', path('ca.pem'), '-CAkey', path('ca.key'), '-CAcreateserial'].concat([
      '-out',
      path(`${name}.pem`),
      '-days',
      days,
      '-extfile',
      path(`${name}.ext`),
    ]),
    where,
  );
}
