// Small helpers the mutual TLS tests share: the paths of a certificate file set, process warnings
// captured during a test, and the check that no key material reached a message.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { CertificateFiles } from '../../src/testing/index.js';
import { createTempDir } from './token-fixtures.js';

/** The three paths of `files`, as the credentials factories take them. */
export function paths({ certFile, keyFile, caFile }: CertificateFiles): {
  certFile: string;
  keyFile: string;
  caFile: string;
} {
  return { certFile, keyFile, caFile };
}

/** Process warnings emitted during the test. */
export function captureWarnings(t: TestContext): Error[] {
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => void warnings.push(warning);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  return warnings;
}

/** Fails when `text` holds a line of any of the PEM `keys`, or a PEM key header. */
export function assertNoKeyText(text: string, keys: readonly string[]): void {
  for (const key of keys) {
    const body = key.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
    for (const line of body) assert.ok(!text.includes(line), 'key material in an error or warning');
  }
  assert.doesNotMatch(text, /PRIVATE KEY/);
}

/**
 * Writes into a new temporary directory (removed after the test) the files the start-up checks are tried with: `cert.pem`, `key.pem` and `ca.pem`
 * (a good set), `other-key.pem` (a key of another certificate), `empty.pem` and `not-a-cert.pem`.
 * Resolves with the good set's paths and a function giving the path of any name in that directory.
 */
export async function writeStartupFiles(
  t: TestContext,
  contents: { cert: string; key: string; otherKey: string; ca: string },
): Promise<{ good: { certFile: string; keyFile: string; caFile: string }; path: (name: string) => string }> {
  const dir = await createTempDir(t);
  const path = (name: string): string => join(dir, name);
  await Promise.all([
    writeFile(path('cert.pem'), contents.cert),
    writeFile(path('key.pem'), contents.key),
    writeFile(path('other-key.pem'), contents.otherKey),
    writeFile(path('ca.pem'), contents.ca),
    writeFile(path('empty.pem'), ''),
    writeFile(path('not-a-cert.pem'), 'hello\n'),
  ]);
  return { good: { certFile: path('cert.pem'), keyFile: path('key.pem'), caFile: path('ca.pem') }, path };
}
