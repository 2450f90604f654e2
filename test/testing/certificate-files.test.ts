import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { lstat, mkdtemp, readFile, readdir, readlink, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import {
  createTestCertificates,
  writeCertificateFiles,
  type CertificateFileContents,
  type TestCertificates,
} from '../../src/testing/index.js';
import { invalidOption } from '../helpers/config-error.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cert-files-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('writeCertificateFiles', () => {
  let certs: TestCertificates;
  let first: CertificateFileContents;
  before(async () => {
    certs = await createTestCertificates();
    const client = await certs.issueClientCertificate();
    first = { cert: client.cert, key: client.key, ca: certs.caCert };
  });

  test('lays the files out as Kubernetes does: symlinks into ..data, itself a symlink to a hidden directory', async (t) => {
    const dir = join(await tempDir(t), 'tls');
    const files = await writeCertificateFiles(dir, first);
    assert.deepEqual(
      [files.certFile, files.keyFile, files.caFile],
      ['tls.crt', 'tls.key', 'ca.crt'].map((n) => join(dir, n)),
    );
    for (const [file, name] of [
      [files.certFile, 'tls.crt'],
      [files.keyFile, 'tls.key'],
      [files.caFile, 'ca.crt'],
    ] as const) {
      assert.equal((await lstat(file)).isSymbolicLink(), true);
      assert.equal(await readlink(file), join('..data', name));
    }
    assert.match(await readlink(join(dir, '..data')), /^\.\.version_/);
    assert.equal(await readFile(files.certFile, 'utf8'), first.cert);
    assert.equal(await readFile(files.keyFile, 'utf8'), first.key);
    assert.equal(await readFile(files.caFile, 'utf8'), first.ca);
    assert.equal((await stat(files.keyFile)).mode & 0o777, 0o600);
  });

  test('renew swaps ..data to the new pair and removes the old directory; the file names stay', async (t) => {
    const dir = await tempDir(t);
    const files = await writeCertificateFiles(dir, first);
    const before = await realpath(join(dir, '..data'));
    const next = await certs.issueClientCertificate();
    await files.renew({ cert: next.certBuffer, key: next.keyBuffer, ca: certs.caCertBuffer });
    assert.equal(await readFile(files.certFile, 'utf8'), next.cert);
    assert.equal(await readFile(files.keyFile, 'utf8'), next.key);
    assert.notEqual(await realpath(join(dir, '..data')), before);
    assert.deepEqual(
      (await readdir(dir)).filter((name) => name.startsWith('..version_')).length,
      1,
      'the old one removed',
    );
    assert.equal(await readlink(files.certFile), join('..data', 'tls.crt'));
  });

  test('a reader never sees a half-written file or a mixed pair while renewals run', async (t) => {
    const dir = await tempDir(t);
    const files = await writeCertificateFiles(dir, first);
    const pairs = await Promise.all(Array.from({ length: 6 }, () => certs.issueClientCertificate()));
    let renewing = true;
    const renewals = (async () => {
      for (const pair of pairs) await files.renew({ cert: pair.cert, key: pair.key, ca: certs.caCert });
      renewing = false;
    })();
    let reads = 0;
    let gone = 0;
    while (renewing) {
      // Each file read whole, by its stable name: a complete PEM every time.
      const [cert, key] = await Promise.all([readFile(files.certFile, 'utf8'), readFile(files.keyFile, 'utf8')]);
      new X509Certificate(cert);
      createPrivateKey(key);
      // The pair read through one resolution of ..data: always matching.
      try {
        const version = await realpath(join(dir, '..data'));
        const [c, k] = await Promise.all([
          readFile(join(version, 'tls.crt'), 'utf8'),
          readFile(join(version, 'tls.key'), 'utf8'),
        ]);
        assert.equal(new X509Certificate(c).checkPrivateKey(createPrivateKey(k)), true, 'a mixed pair');
        reads++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        gone++; // the version this reader resolved was removed after the swap: it reads again, as kubelet's readers do
      }
    }
    await renewals;
    assert.ok(reads > 0, `${reads} pairs read, ${gone} retried`);
    assert.equal(await readFile(files.certFile, 'utf8'), pairs.at(-1)!.cert);
  });

  test('refuses bad arguments with AuthConfigError, never quoting the key', async (t) => {
    const dir = await tempDir(t);
    await assert.rejects(
      writeCertificateFiles('', first),
      invalidOption(/^writeCertificateFiles: dir must be a non-empty string/),
    );
    await assert.rejects(
      writeCertificateFiles(dir, { ...first, key: '' }),
      invalidOption('writeCertificateFiles: key must not be empty'),
    );
    await assert.rejects(
      writeCertificateFiles(dir, { ...first, ca: 42 } as unknown as CertificateFileContents),
      invalidOption('writeCertificateFiles: ca must be PEM text or a Buffer, not number'),
    );
    await assert.rejects(
      writeCertificateFiles(dir, { ...first, crt: 'x' } as unknown as CertificateFileContents),
      invalidOption('unknown writeCertificateFiles content "crt"; did you mean "cert"?'),
    );
    await writeFile(join(dir, 'other'), 'x');
    await assert.rejects(
      writeCertificateFiles(dir, first),
      invalidOption('writeCertificateFiles: dir must be empty or missing'),
    );
    const fresh = await writeCertificateFiles(join(dir, 'fresh'), first);
    assert.throws(
      () => void fresh.renew({ cert: first.cert, key: first.key } as CertificateFileContents),
      (err: Error) => {
        invalidOption('writeCertificateFiles: ca must be PEM text or a Buffer, not undefined')(err);
        assert.doesNotMatch(err.message, /PRIVATE KEY/);
        return true;
      },
    );
  });
});
