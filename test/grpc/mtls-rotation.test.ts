// The rotation figure of mutual TLS: one server on createMtlsServerCredentials and one client on
// createMtlsChannelCredentials, both sides' certificates rotated 20 times (even rotations by renaming
// new files over the old ones, one file at a time; odd ones by cert-manager's `..data` symlink swap)
// while calls flow at 50 per second of the test's ManualClock. Every rotation brings a new CA as well:
// each side trusts the previous, the current and the next CA, as a CA rotation would have it.
import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { before, test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { createMtlsChannelCredentials } from '../../src/index.js';
import { createMtlsServerCredentials } from '../../src/server/index.js';
import {
  createTestCertificates,
  writeCertificateFiles,
  type CertificateFileContents,
  type CertificateFiles,
  type ClientCertificate,
  type TestCertificates,
} from '../../src/testing/index.js';
import { captureWarnings, paths } from '../helpers/mtls-files.js';
import { answerOf, askOn, askPeer, certificateSha256, openPeerClient } from '../helpers/peer-echo.js';
import { servedCertificateSha256, startPeerEcho } from '../helpers/peer-echo.js';
import { createClock, createTempDir, until } from '../helpers/token-fixtures.js';

const rotations = 20;
const callsPerSecond = 50;
const refreshIntervalMs = 1_000;
/** The simulated second is cut in ticks; each tick makes its calls, then moves the clock. */
const ticksPerSecond = 10;
/** Of each tick's calls, this many on a fresh channel (a new connection); the rest on the long-lived one. */
const freshPerTick = 1;

/** Generation `i`: a CA, the server certificate and a client certificate it issued. */
interface Generation {
  readonly certs: TestCertificates;
  readonly client: ClientCertificate;
}

let generations: Generation[];
before(async () => {
  generations = [];
  // Two at a time: the machine has two cores.
  for (let i = 0; i <= rotations; i += 2) {
    const pair = await Promise.all(
      [i, i + 1]
        .filter((n) => n <= rotations)
        .map(async () => {
          const certs = await createTestCertificates();
          return { certs, client: await certs.issueClientCertificate({ spiffeId: 'spiffe://example.org/client' }) };
        }),
    );
    generations.push(...pair);
  }
});

/** The CAs both sides trust at generation `i`: the previous, the current and the next one. */
function trustAt(i: number): string {
  return [i - 1, i, i + 1]
    .filter((n) => n >= 0 && n <= rotations)
    .map((n) => generations[n]!.certs.caCert)
    .join('');
}

function serverContents(i: number): CertificateFileContents {
  const { certs } = generations[i]!;
  return { cert: certs.serverCert, key: certs.serverKey, ca: trustAt(i) };
}

function clientContents(i: number): CertificateFileContents {
  const { client } = generations[i]!;
  return { cert: client.cert, key: client.key, ca: trustAt(i) };
}

test('20 rotations of both sides under 50 calls/s: no call fails, and new connections use the new certificates within refreshIntervalMs', async (t) => {
  const dir = await createTempDir(t);
  const serverFiles = await writeCertificateFiles(join(dir, 'server'), serverContents(0));
  const clientFiles = await writeCertificateFiles(join(dir, 'client'), clientContents(0));
  const clock = createClock();
  const warnings = captureWarnings(t);
  const port = await startPeerEcho(
    t,
    createMtlsServerCredentials({ ...paths(serverFiles), refreshIntervalMs, clock, requireClientCertificate: true }),
  );
  const channel = createMtlsChannelCredentials({ ...paths(clientFiles), refreshIntervalMs, clock });
  const longLived = openPeerClient(port, channel);
  t.after(() => longLived.close());

  let made = 0;
  const failures: string[] = [];
  const callOn = async (client: grpc.Client): Promise<void> => {
    made++;
    try {
      await answerOf(client);
    } catch (error) {
      failures.push((error as grpc.ServiceError).details ?? String(error));
    }
  };
  /**
   * `ms` of the manual clock at 50 calls per second, in ticks. After each tick the test waits until
   * both providers' refreshes have finished (both timers set again): time never moves on under a
   * refresh still reading files.
   */
  const flow = async (ms: number): Promise<void> => {
    const tickMs = 1_000 / ticksPerSecond;
    const perTick = callsPerSecond / ticksPerSecond;
    for (let elapsed = 0; elapsed < ms; elapsed += tickMs) {
      const calls = Array.from({ length: perTick }, (_, n) => (n < freshPerTick ? callFresh() : callOn(longLived)));
      await Promise.all(calls);
      await clock.advance(tickMs);
      await until(() => clock.pendingTimers === 2);
    }
  };
  const callFresh = async (): Promise<void> => {
    const client = openPeerClient(port, channel);
    try {
      await callOn(client);
    } finally {
      client.close();
    }
  };

  await flow(1_000);
  const midwayReports: number[] = [];
  for (let i = 1; i <= rotations; i++) {
    if (i % 2 === 0) {
      // One file at a time: a refresh between the certificate and its key sees a mismatched pair.
      await renameOver(serverFiles, serverContents(i), ['cert']);
      await renameOver(clientFiles, clientContents(i), ['cert']);
      const before = warnings.length;
      await flow(refreshIntervalMs);
      // Checked at the end, after the failed calls: the half-renamed set is to be reported, once per side.
      midwayReports.push(warnings.length - before);
      await renameOver(serverFiles, serverContents(i), ['key', 'ca']);
      await renameOver(clientFiles, clientContents(i), ['key', 'ca']);
    } else {
      await Promise.all([serverFiles.renew(serverContents(i)), clientFiles.renew(clientContents(i))]);
    }
    await flow(refreshIntervalMs);
    // The clock has moved exactly refreshIntervalMs since the rotation ended: a new connection presents
    // the new client certificate, and is served the new server certificate.
    const { client, certs } = generations[i]!;
    assert.equal(
      (await askPeer(t, port, channel)).rawSha256,
      client.sha256,
      `rotation ${i}: the server sees the new client certificate`,
    );
    assert.equal(
      await servedCertificateSha256(port, { ca: trustAt(i), cert: client.cert, key: client.key }),
      certificateSha256(certs.serverCert),
      `rotation ${i}: a new connection is served the new server certificate`,
    );
    assert.equal((await askOn(longLived)).rawIsX509, true, 'the long-lived channel');
  }

  t.diagnostic(
    `calls made: ${made}, failed: ${failures.length}; rotations: ${rotations} (${rotations / 2} by rename, ` +
      `${rotations / 2} by ..data swap), each seen by new connections within refreshIntervalMs ${refreshIntervalMs} ms; ` +
      `half-renamed sets: ${midwayReports.length}, reports per set: ${midwayReports.join(' ')}`,
  );
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${made} calls failed`);
  assert.deepEqual(midwayReports, Array<number>(rotations / 2).fill(2), 'each half-renamed set reported once per side');
  assert.equal(warnings.length, rotations, 'and nothing else reported');
});

/** Writes each of `names` of `contents` beside its file in the current `..data` directory and renames it over the file. */
async function renameOver(
  files: CertificateFiles,
  contents: CertificateFileContents,
  names: readonly (keyof CertificateFileContents)[],
): Promise<void> {
  const target = { cert: files.certFile, key: files.keyFile, ca: files.caFile };
  for (const name of names) {
    // Through `..data`: the symlinked name resolves to the file in the current version directory.
    const file = join(dirname(target[name]), '..data', basename(target[name]));
    await writeFile(`${file}.new`, contents[name], { mode: name === 'key' ? 0o600 : 0o644 });
    await rename(`${file}.new`, file);
  }
}
