import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createChannelCredentials, createMtlsChannelCredentials } from '../../src/index.js';
import type { ClientCertificate, TestCertificates } from '../../src/testing/index.js';
import { createTestCertificates, writeCertificateFiles } from '../../src/testing/index.js';
import { echoService, type Reply, type Request } from '../helpers/grpc-fixture.js';
import { answerOf } from '../helpers/peer-echo.js';
import { createClock, createManager, createTempDir, startTokenServer, until } from '../helpers/token-fixtures.js';
import { invalidOption } from '../helpers/config-error.js';
import { assertNoKeyText, captureWarnings, paths, writeStartupFiles } from '../helpers/mtls-files.js';

/** What the server saw: the client certificate's base64url SHA-256 and whether a bearer token came. */
interface Seen {
  readonly certificateSha256: string | undefined;
  readonly bearer: boolean;
}

/** A grpc-js server requiring a client certificate signed by the test CA; answers with what it saw. */
async function startMtlsServer(t: TestContext, certs: TestCertificates): Promise<number> {
  const server = new grpc.Server();
  server.addService(
    { Unary: echoService.Unary },
    {
      Unary: (call: grpc.ServerUnaryCall<Request, Reply>, callback: grpc.sendUnaryData<Reply>) => {
        const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
        const seen: Seen = {
          certificateSha256: Buffer.isBuffer(raw) ? createHash('sha256').update(raw).digest('base64url') : undefined,
          bearer: /^Bearer \S+$/.test(String(call.metadata.get('authorization')[0])),
        };
        callback(null, seen as unknown as Reply);
      },
    },
  );
  const credentials = grpc.ServerCredentials.createSsl(
    certs.caCertBuffer,
    [{ cert_chain: certs.serverCertBuffer, private_key: certs.serverKeyBuffer }],
    true,
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  t.after(() => server.forceShutdown());
  return port;
}

/** A client with its own subchannel pool: its first call opens a new connection. */
function open(port: number, credentials: grpc.ChannelCredentials): grpc.Client {
  return new grpc.Client(`127.0.0.1:${port}`, credentials, {
    'grpc.ssl_target_name_override': 'localhost',
    'grpc.use_local_subchannel_pool': 1,
  });
}

/** One call on a new connection. */
async function call(port: number, credentials: grpc.ChannelCredentials): Promise<Seen> {
  const client = open(port, credentials);
  try {
    return await callOn(client);
  } finally {
    client.close();
  }
}

async function callOn(client: grpc.Client): Promise<Seen> {
  return (await answerOf(client)) as unknown as Seen;
}

/**
 * Calls on new connections until the server sees the certificate with `sha256`: the clock has fired
 * the refresh, whose file reads finish on their own (at most 50 calls).
 */
async function untilPresented(port: number, credentials: grpc.ChannelCredentials, sha256: string): Promise<void> {
  let seen: string | undefined;
  for (let attempt = 0; attempt < 50 && seen !== sha256; attempt++)
    seen = (await call(port, credentials)).certificateSha256;
  assert.equal(seen, sha256);
}

describe('createMtlsChannelCredentials', () => {
  let certs: TestCertificates;
  let first: ClientCertificate;
  let second: ClientCertificate;
  before(async () => {
    certs = await createTestCertificates();
    [first, second] = await Promise.all([
      certs.issueClientCertificate({ spiffeId: 'spiffe://example.org/first' }),
      certs.issueClientCertificate({ spiffeId: 'spiffe://example.org/second' }),
    ]);
  });

  async function scene(t: TestContext) {
    const files = await writeCertificateFiles(join(await createTempDir(t), 'tls'), {
      cert: first.cert,
      key: first.key,
      ca: certs.caCert,
    });
    const clock = createClock();
    const refreshIntervalMs = 60_000;
    const mtls = createMtlsChannelCredentials({ ...paths(files), refreshIntervalMs, clock });
    const tokens = createManager(t, await startTokenServer(t));
    const port = await startMtlsServer(t, certs);
    return { files, clock, refreshIntervalMs, credentials: createChannelCredentials(mtls, tokens), port };
  }

  test('calls over a server that requires a client certificate succeed, with the certificate and a token', async (t) => {
    const { credentials, port } = await scene(t);
    assert.deepEqual(await call(port, credentials), { certificateSha256: first.sha256, bearer: true });
  });

  test('renewed files (..data symlink swap): new connections present the new certificate after refreshIntervalMs', async (t) => {
    const { files, clock, refreshIntervalMs, credentials, port } = await scene(t);
    // A channel open throughout: grpc-js keeps the credentials' providers subscribed while it lives, so
    // the renewal must reach it through the listeners, not only when a new channel subscribes.
    const longLived = open(port, credentials);
    t.after(() => longLived.close());
    assert.equal((await callOn(longLived)).certificateSha256, first.sha256);
    await files.renew({ cert: second.cert, key: second.key, ca: certs.caCert });
    await clock.advance(refreshIntervalMs - 1);
    assert.equal((await call(port, credentials)).certificateSha256, first.sha256, 'not re-read before the interval');
    await clock.advance(1);
    await untilPresented(port, credentials, second.sha256);
  });

  test('a mismatched pair is never loaded: the last good one stays, calls work, one warning without key text', async (t) => {
    const { files, clock, refreshIntervalMs, credentials, port } = await scene(t);
    const warnings = captureWarnings(t);
    await files.renew({ cert: second.cert, key: first.key, ca: certs.caCert });
    for (let round = 0; round < 3; round++) {
      await clock.advance(refreshIntervalMs);
      await until(() => warnings.length > 0);
      assert.deepEqual(await call(port, credentials), { certificateSha256: first.sha256, bearer: true });
    }
    assert.equal(warnings.length, 1);
    const [warning] = warnings;
    assert.equal((warning as NodeJS.ErrnoException).code, 'GRPC_OAUTH2_CERTIFICATE_NOT_RELOADED');
    assert.match(warning?.message ?? '', /keyFile .*tls\.key does not match the certificate in certFile/);
    assertNoKeyText(`${warning?.message} ${warning?.stack}`, [first.key, second.key]);

    // Repaired: the matching pair is loaded on the next refresh.
    await files.renew({ cert: second.cert, key: second.key, ca: certs.caCert });
    await clock.advance(refreshIntervalMs);
    await untilPresented(port, credentials, second.sha256);
  });

  test('a file missing at one refresh (a renewal under the reader) is not reported; missing at the next, once', async (t) => {
    const { files, clock, refreshIntervalMs, credentials, port } = await scene(t);
    const warnings = captureWarnings(t);
    await rm(files.keyFile);
    await clock.advance(refreshIntervalMs);
    assert.deepEqual(await call(port, credentials), { certificateSha256: first.sha256, bearer: true });
    assert.equal(warnings.length, 0);
    for (let round = 0; round < 3; round++) {
      await clock.advance(refreshIntervalMs);
      await until(() => warnings.length > 0);
    }
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]?.message ?? '', /keyFile .*tls\.key does not exist/);
    assert.deepEqual(await call(port, credentials), { certificateSha256: first.sha256, bearer: true });
  });

  test('renewed files holding an expired certificate are not loaded: the last good one stays, one warning', async (t) => {
    const { files, clock, refreshIntervalMs, credentials, port } = await scene(t);
    const warnings = captureWarnings(t);
    clock.stepWallClock(3 * 86_400_000); // past both certificates' 2 days; TLS itself reads the real time
    await files.renew({ cert: second.cert, key: second.key, ca: certs.caCert });
    await clock.advance(refreshIntervalMs);
    await until(() => warnings.length > 0);
    assert.match(warnings[0]?.message ?? '', /the certificate in certFile .*tls\.crt expired on /);
    assert.deepEqual(await call(port, credentials), { certificateSha256: first.sha256, bearer: true });
  });

  test('a missing, empty or unusable file at start is an AuthConfigError naming the file, never the key', async (t) => {
    const { good, path } = await writeStartupFiles(t, {
      cert: first.cert,
      key: first.key,
      otherKey: second.key,
      ca: certs.caCert,
    });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...good, certFile: path('missing.pem') }, /certFile .*missing\.pem does not exist/],
      [{ ...good, keyFile: path('empty.pem') }, /keyFile .*empty\.pem is empty/],
      [{ ...good, caFile: path('not-a-cert.pem') }, /caFile .*not-a-cert\.pem holds no valid PEM certificate/],
      [{ ...good, keyFile: path('ca.pem') }, /keyFile .*ca\.pem holds no valid PEM private key/],
      [{ ...good, keyFile: path('other-key.pem') }, /keyFile .*other-key\.pem does not match the certificate/],
      [{ ...good, keyFlie: 'x' }, /unknown createMtlsChannelCredentials option "keyFlie"; did you mean "keyFile"\?/],
      [{ ...good, refreshIntervalMs: '60000' }, /refreshIntervalMs must be a whole number/],
      [{ certFile: good.certFile, keyFile: good.keyFile }, /caFile must be a non-empty string/],
    ];
    for (const [options, message] of cases) {
      const error = assertConfigError(() => createMtlsChannelCredentials(options as never), message);
      assertNoKeyText(`${error.message} ${error.stack}`, [first.key, second.key]);
    }
  });

  test('an expired certificate at start is an AuthConfigError naming certFile', async (t) => {
    const dir = await createTempDir(t);
    const files = await writeCertificateFiles(join(dir, 'tls'), { cert: first.cert, key: first.key, ca: certs.caCert });
    const clock = createClock();
    clock.stepWallClock(3 * 86_400_000); // the certificate is valid for 2 days
    assertConfigError(
      () => createMtlsChannelCredentials({ ...paths(files), clock }),
      /certificate in certFile .*tls\.crt expired/,
    );
  });
});

/** The AuthConfigError `create` throws, checked against `message`. */
function assertConfigError(create: () => unknown, message: RegExp): Error {
  let thrown: unknown;
  assert.throws(() => {
    try {
      create();
    } catch (error) {
      thrown = error;
      throw error;
    }
  }, invalidOption(message));
  return thrown as Error;
}
