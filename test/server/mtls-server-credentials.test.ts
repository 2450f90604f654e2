import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';
import { before, describe, test, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createMtlsServerCredentials } from '../../src/server/index.js';
import type { CertificateFiles, ClientCertificate, TestCertificates } from '../../src/testing/index.js';
import { createTestCertificates, writeCertificateFiles } from '../../src/testing/index.js';
import { invalidOption } from '../helpers/config-error.js';
import { askOn, askPeer, certificateSha256, openPeerClient, type PeerSeen } from '../helpers/peer-echo.js';
import { servedCertificateSha256, startPeerEcho } from '../helpers/peer-echo.js';
import { assertNoKeyText, captureWarnings, paths, writeStartupFiles } from '../helpers/mtls-files.js';
import { startChild } from '../helpers/child-process.js';
import { createClock, createTempDir, until, untilResolves } from '../helpers/token-fixtures.js';

describe('createMtlsServerCredentials', () => {
  let certs: TestCertificates;
  /** A second CA, with its own server certificate: what a renewal that changes the CA brings. */
  let nextCerts: TestCertificates;
  let client: ClientCertificate;
  let nextClient: ClientCertificate;
  before(async () => {
    [certs, nextCerts] = await Promise.all([createTestCertificates(), createTestCertificates()]);
    [client, nextClient] = await Promise.all([
      certs.issueClientCertificate({ spiffeId: 'spiffe://example.org/client' }),
      nextCerts.issueClientCertificate({ spiffeId: 'spiffe://example.org/next' }),
    ]);
  });

  /** Channel credentials trusting both CAs, presenting `certificate` (or none). */
  const channel = (certificate?: ClientCertificate): grpc.ChannelCredentials =>
    grpc.credentials.createSsl(
      Buffer.from(certs.caCert + nextCerts.caCert),
      certificate?.keyBuffer ?? null,
      certificate?.certBuffer ?? null,
    );
  const keys = (): string[] => [certs.serverKey, nextCerts.serverKey, client.key];
  /** A TLS call without a (trusted) client certificate: TLS, and no certificate (grpc-js's own credentials say `{}`). */
  const noContext: Partial<PeerSeen> = {
    keys: ['transportSecurityType'],
    transportSecurityType: 'ssl',
    rawIsX509: false,
  };

  async function serverFiles(t: TestContext): Promise<CertificateFiles> {
    return writeCertificateFiles(join(await createTempDir(t), 'tls'), {
      cert: certs.serverCert,
      key: certs.serverKey,
      ca: certs.caCert,
    });
  }

  /** A server on createMtlsServerCredentials over files in the ..data layout; `wrap` may wrap the credentials. */
  async function scene(
    t: TestContext,
    options: { requireClientCertificate?: boolean; wrap?: (c: grpc.ServerCredentials) => grpc.ServerCredentials } = {},
  ) {
    const files = await serverFiles(t);
    const clock = createClock();
    const refreshIntervalMs = 60_000;
    const credentials = createMtlsServerCredentials({
      ...paths(files),
      refreshIntervalMs,
      clock,
      ...(options.requireClientCertificate === undefined
        ? {}
        : { requireClientCertificate: options.requireClientCertificate }),
    });
    const port = await startPeerEcho(t, options.wrap ? options.wrap(credentials) : credentials);
    return { files, clock, refreshIntervalMs, port };
  }

  test('by default a client certificate is required: served with it from the first connection, refused without', async (t) => {
    const { port } = await scene(t);
    // The first connection right after bindAsync: our provider answers before grpc-js accepts one.
    assert.equal((await askPeer(t, port, channel(client))).rawSha256, client.sha256);
    await assert.rejects(askPeer(t, port, channel()), { code: grpc.status.UNAVAILABLE });
    await assert.rejects(askPeer(t, port, channel(nextClient)), { code: grpc.status.UNAVAILABLE }, 'another CA');
  });

  test('requireClientCertificate false: a certificate is still asked for and seen; a client without one is served', async (t) => {
    const { port } = await scene(t, { requireClientCertificate: false });
    assert.equal((await askPeer(t, port, channel(client))).rawSha256, client.sha256);
    assert.deepEqual(await askPeer(t, port, channel()), noContext);
    // One from a CA caFile does not hold is not refused but not trusted either: served as no certificate.
    assert.deepEqual(await askPeer(t, port, channel(nextClient)), noContext);
  });

  test('renewed files (..data swap): new connections get the new server certificate and CA after refreshIntervalMs; open ones go on', async (t) => {
    const { files, clock, refreshIntervalMs, port } = await scene(t);
    await renewedScenario(t, { files, clock, refreshIntervalMs, port });
  });

  test('wrapped by createServerCredentialsWithInterceptors, the credentials still renew and the interceptor runs', async (t) => {
    let intercepted = 0;
    const passThrough: grpc.ServerInterceptor = (_descriptor, call) => {
      intercepted++;
      return new grpc.ServerInterceptingCall(call);
    };
    const { files, clock, refreshIntervalMs, port } = await scene(t, {
      wrap: (credentials) => grpc.experimental.createServerCredentialsWithInterceptors(credentials, [passThrough]),
    });
    await renewedScenario(t, { files, clock, refreshIntervalMs, port });
    assert.equal(intercepted, 3, 'the calls that were served (not the refused one)');
  });

  /**
   * The server's files renewed to another CA's server certificate and that CA: new connections are
   * served the new certificate and accept only the new CA's clients; a connection open before goes on.
   */
  async function renewedScenario(
    t: TestContext,
    { files, clock, refreshIntervalMs, port }: Awaited<ReturnType<typeof scene>>,
  ): Promise<void> {
    const longLived = openPeerClient(port, channel(client));
    t.after(() => longLived.close());
    assert.equal((await askOn(longLived)).rawSha256, client.sha256);
    const served = (): Promise<string> =>
      servedCertificateSha256(port, { ca: certs.caCert + nextCerts.caCert, cert: client.cert, key: client.key });
    assert.equal(await served(), certificateSha256(certs.serverCert));

    await files.renew({ cert: nextCerts.serverCert, key: nextCerts.serverKey, ca: nextCerts.caCert });
    await clock.advance(refreshIntervalMs - 1);
    assert.equal(await served(), certificateSha256(certs.serverCert), 'not re-read before the interval');
    await clock.advance(1);
    await untilResolves(async () => {
      if ((await served()) !== certificateSha256(nextCerts.serverCert)) throw new Error('the old certificate');
    });

    assert.equal((await askPeer(t, port, channel(nextClient))).rawSha256, nextClient.sha256, 'the new CA decides');
    await assert.rejects(askPeer(t, port, channel(client)), { code: grpc.status.UNAVAILABLE }, 'the old CA is gone');
    // The connection opened before the renewal goes on, with the certificate the old CA verified.
    assert.equal((await askOn(longLived)).rawSha256, client.sha256);
  }

  test('a mismatched set is never loaded: the last good one stays, one warning naming the files, no key text', async (t) => {
    const { files, clock, refreshIntervalMs, port } = await scene(t);
    const warnings = captureWarnings(t);
    await files.renew({ cert: nextCerts.serverCert, key: certs.serverKey, ca: certs.caCert });
    for (let round = 0; round < 3; round++) {
      await clock.advance(refreshIntervalMs);
      await until(() => warnings.length > 0);
      assert.equal((await askPeer(t, port, channel(client))).rawSha256, client.sha256);
      assert.equal(await servedCertificateSha256(port, { ca: certs.caCert }), certificateSha256(certs.serverCert));
    }
    assert.equal(warnings.length, 1);
    assert.equal((warnings[0] as NodeJS.ErrnoException).code, 'GRPC_OAUTH2_CERTIFICATE_NOT_RELOADED');
    assert.match(warnings[0]?.message ?? '', /^createMtlsServerCredentials: .*keyFile .*tls\.key does not match/);
    assertNoKeyText(`${warnings[0]?.message} ${warnings[0]?.stack}`, keys());
  });

  test('bad options and unusable files at start are AuthConfigErrors naming the option or the file, never the key', async (t) => {
    const contents = { cert: certs.serverCert, key: certs.serverKey, otherKey: nextCerts.serverKey, ca: certs.caCert };
    const { good, path } = await writeStartupFiles(t, contents);
    const cases: [Record<string, unknown> | undefined, RegExp][] = [
      [{ ...good, certFile: path('missing.pem') }, /certFile .*missing\.pem does not exist/],
      [{ ...good, certFile: path('empty.pem') }, /certFile .*empty\.pem is empty/],
      [{ ...good, keyFile: path('empty.pem') }, /keyFile .*empty\.pem is empty/],
      [{ ...good, keyFile: path('.') }, /keyFile .* cannot be read \(EISDIR\)/],
      [{ ...good, caFile: path('not-a-cert.pem') }, /caFile .*not-a-cert\.pem holds no valid PEM certificate/],
      [{ ...good, keyFile: path('other-key.pem') }, /keyFile .*other-key\.pem does not match the certificate/],
      [
        { ...good, requireClientCertficate: false },
        /unknown createMtlsServerCredentials option "requireClientCertficate"; did you mean "requireClientCertificate"\?/,
      ],
      [{ ...good, requireClientCertificate: 'false' }, /requireClientCertificate must be true or false, not a string/],
      [{ ...good, refreshIntervalMs: 50 }, /refreshIntervalMs must be a whole number from 100 to 86400000/],
      [{ ...good, refreshIntervalMs: Number.NaN }, /refreshIntervalMs must be a whole number/],
      [{ ...good, clock: {} }, /clock must have now\(\) and setTimeout\(\)/],
      [{ certFile: good.certFile, keyFile: good.keyFile }, /caFile must be a non-empty string/],
      [undefined, /options \{ certFile, keyFile, caFile \} are required/],
    ];
    for (const [options, message] of cases) {
      let thrown: unknown;
      assert.throws(
        () => {
          try {
            createMtlsServerCredentials(options as never);
          } catch (error) {
            thrown = error;
            throw error;
          }
        },
        invalidOption(new RegExp(`^createMtlsServerCredentials|^unknown createMtlsServerCredentials`)),
      );
      assert.match((thrown as Error).message, message);
      assertNoKeyText(`${(thrown as Error).message} ${(thrown as Error).stack}`, keys());
    }
  });

  test('an expired server certificate at start is an AuthConfigError naming certFile', async (t) => {
    const files = await serverFiles(t);
    const clock = createClock();
    clock.stepWallClock(3 * 86_400_000); // the certificate is valid for 2 days
    assert.throws(
      () => createMtlsServerCredentials({ ...paths(files), clock }),
      invalidOption(/^createMtlsServerCredentials: the certificate in certFile .*tls\.crt expired on /),
    );
  });

  test('the re-read timer does not keep the process alive: a server shut down lets the process end', async (t) => {
    const files = await serverFiles(t);
    // The default interval is a minute, and the timer re-arms itself: the script must end long before.
    const child = startChild(t, 'test/server/scripts/mtls-server-exit.ts', [
      files.certFile,
      files.keyFile,
      files.caFile,
    ]);
    const limit = new AbortController();
    const result = await Promise.race([
      child.result,
      delay(10_000, 'still running', { signal: limit.signal }).catch(() => 'aborted'),
    ]).finally(() => limit.abort());
    assert.notEqual(result, 'still running', 'the process did not end within 10 s');
    assert.ok(typeof result === 'object');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'served and shut down');
  });
});
