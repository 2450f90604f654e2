// Pins, against the installed @grpc/grpc-js, the facts docs/grpc-js-facts.md lists and src/grpc
// relies on. A failure here means grpc-js changed under us: read the fact's section before "fixing"
// the test. Two facts are pinned where the behaviour built on them is tested: plaintext per-call
// credentials in insecure-channel.test.ts, the dropped connection in duplicate-authorization.test.ts.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { TestContext } from 'node:test';
import {
  createTestCertificates,
  writeCertificateFiles,
  type CertificateFiles,
  type ClientCertificate,
  type TestCertificates,
} from '../../src/testing/index.js';
import { bidi, openBidi, startGrpcFixture, unary, type GrpcFixture } from '../helpers/grpc-fixture.js';
import { runScript } from '../helpers/run-script.js';
import { until, untilResolves } from '../helpers/token-fixtures.js';
import { askPeer, servedCertificateSha256, startPeerEcho } from '../helpers/peer-echo.js';
import { askOn, certificateSha256, openPeerClient } from '../helpers/peer-echo.js';

async function fixture(t: TestContext, tls = true): Promise<GrpcFixture> {
  const server = await startGrpcFixture({ tls });
  t.after(() => server.close());
  return server;
}

type GeneratorCallback = Parameters<Parameters<typeof grpc.credentials.createFromMetadataGenerator>[0]>[1];

/** Per-call credentials from a generator, recording what grpc-js passed it. */
function generator(answer: (callback: GeneratorCallback) => void): {
  credentials: grpc.CallCredentials;
  params: Record<string, unknown>[];
} {
  const params: Record<string, unknown>[] = [];
  const credentials = grpc.credentials.createFromMetadataGenerator((options, callback) => {
    params.push({ ...options });
    answer(callback);
  });
  return { credentials, params };
}

const withHeader = (callback: GeneratorCallback): void => {
  const metadata = new grpc.Metadata();
  metadata.set('x-from-generator', 'yes');
  callback(null, metadata);
};

test('compose() refuses insecure channel credentials: the only gate grpc-js has', () => {
  const callCredentials = grpc.credentials.createFromMetadataGenerator((_params, callback) =>
    callback(null, new grpc.Metadata()),
  );
  assert.throws(
    () => grpc.credentials.createInsecure().compose(callCredentials),
    /Cannot compose insecure credentials/,
  );
  assert.throws(
    () => grpc.credentials.combineChannelCredentials(grpc.credentials.createInsecure(), callCredentials),
    /Cannot compose insecure credentials/,
  );
});

test('a metadata generator is told only service_url and method_name, and service_url says https on a plaintext channel', async (t) => {
  const server = await fixture(t, false);
  const { credentials, params } = generator(withHeader);

  const result = await unary(server.client(grpc.credentials.createInsecure()), {
    options: { credentials, deadline: Date.now() + 5000 },
  });

  assert.equal(result.error, undefined);
  assert.deepEqual(Object.keys(params[0] ?? {}).sort(), ['method_name', 'service_url']);
  assert.match(String(params[0]?.service_url), /^https:\/\//);
});

test("service_url drops the port of the authority the channel dialled (and the method), and interceptors are not told the channel's target", async (t) => {
  const server = await fixture(t, false);
  const { credentials, params } = generator(withHeader);
  const seenByInterceptor: string[][] = [];
  const recordOptions: grpc.Interceptor = (options, nextCall) => {
    seenByInterceptor.push(Object.keys(options).sort());
    return new grpc.InterceptingCall(nextCall(options));
  };
  const port = server.address.split(':').at(-1);
  const plain = server.client(grpc.credentials.createInsecure(), { interceptors: [recordOptions] });
  const renamed = server.client(grpc.credentials.createInsecure(), {
    'grpc.default_authority': 'orders.example.test:8443',
  });
  for (const client of [plain, renamed])
    assert.equal((await unary(client, { options: { credentials, deadline: Date.now() + 5000 } })).error, undefined);

  assert.deepEqual(
    params.map((param) => param.service_url),
    ['https://127.0.0.1/test.v1.Echo', 'https://orders.example.test/test.v1.Echo'],
    `neither has the port (${port}, 8443) nor the method`,
  );
  assert.equal(params[0]?.method_name, '/test.v1.Echo/Unary', 'the method comes apart, as its full path');
  assert.equal(seenByInterceptor.length, 1);
  assert.ok(
    !seenByInterceptor[0]!.some((key) => /target|authority|address|port/i.test(key)),
    'no target among the options',
  );
});

test('a generator that calls back with neither metadata nor an error crashes the process', async () => {
  const crashed = await runScript('test/grpc/scripts/generator-callback.ts', ['undefined']);
  const control = await runScript('test/grpc/scripts/generator-callback.ts', ['metadata']);

  assert.notEqual(crashed.code, 0);
  assert.doesNotMatch(crashed.stdout, /call (ended|succeeded)/, 'the call never reported back');
  assert.equal(control.code, 0);
  assert.match(control.stdout, /call succeeded/);
});

for (const [error, expected] of [
  [Object.assign(new Error('plain'), {}), grpc.status.UNKNOWN],
  [Object.assign(new Error('unavailable'), { code: grpc.status.UNAVAILABLE }), grpc.status.UNAVAILABLE],
  [Object.assign(new Error('unauthenticated'), { code: grpc.status.UNAUTHENTICATED }), grpc.status.UNAUTHENTICATED],
  [Object.assign(new Error('internal'), { code: grpc.status.INTERNAL }), grpc.status.INTERNAL],
  [Object.assign(new Error('not found'), { code: grpc.status.NOT_FOUND }), grpc.status.INTERNAL],
  [Object.assign(new Error('permission'), { code: grpc.status.PERMISSION_DENIED }), grpc.status.PERMISSION_DENIED],
  [Object.assign(new Error('precondition'), { code: grpc.status.FAILED_PRECONDITION }), grpc.status.INTERNAL],
] as const) {
  test(`a generator error ${'code' in error ? `with code ${grpc.status[error.code]}` : 'without a code'} ends the call ${grpc.status[expected]}`, async (t) => {
    const server = await fixture(t);
    const { credentials } = generator((callback) => callback(error));

    const result = await unary(server.client(server.channelCredentials()), { options: { credentials } });

    assert.equal(result.error?.code, expected);
    assert.match(result.error.details, new RegExp(`Getting metadata from plugin failed with error: ${error.message}`));
    assert.equal(server.received.length, 0);
  });
}

test('a generator that never answers does not hold the call past its deadline', async (t) => {
  const server = await fixture(t);
  const { credentials } = generator(() => undefined);

  const started = performance.now();
  const result = await unary(server.client(server.channelCredentials()), {
    options: { credentials, deadline: Date.now() + 300 },
  });

  assert.equal(result.error?.code, grpc.status.DEADLINE_EXCEEDED);
  assert.ok(performance.now() - started < 1000);
  assert.equal(server.received.length, 0);
});

test('metadata is generated once per call: a stream of many messages carries the header it started with', async (t) => {
  const server = await fixture(t);
  const { credentials, params } = generator(withHeader);
  const stream = openBidi(server.client(server.channelCredentials()), { options: { credentials } });

  for (const text of ['a', 'b', 'c']) {
    stream.stream.write({ text });
    await stream.nextReply();
  }
  stream.stream.end();

  assert.equal((await stream.ended).error, undefined);
  assert.equal(params.length, 1);
  assert.equal(server.received.length, 1);
});

test("call-level interceptors replace the client's interceptors", async (t) => {
  const server = await fixture(t);
  const ran: string[] = [];
  const named =
    (name: string): grpc.Interceptor =>
    (options, nextCall) => {
      ran.push(name);
      return new grpc.InterceptingCall(nextCall(options));
    };
  const client = server.client(server.channelCredentials(), { interceptors: [named('client-level')] });

  await unary(client);
  await unary(client, { options: { interceptors: [named('call-level')] } });

  assert.deepEqual(ran, ['client-level', 'call-level']);
});

test('grpc-js leaves the Metadata object a call was started with unchanged', async (t) => {
  const server = await fixture(t);
  const { credentials } = generator(withHeader);
  const metadata = new grpc.Metadata();
  metadata.set('x-request-id', 'req-42');

  const result = await bidi(server.client(server.channelCredentials(), { 'grpc.default_compression_algorithm': 2 }), {
    metadata,
    options: { credentials },
  });

  assert.equal(result.error, undefined);
  assert.deepEqual(result.replies[0]?.metadata['x-from-generator'], ['yes']);
  assert.deepEqual(metadata.toJSON(), { 'x-request-id': ['req-42'] });
});

test('a unary call that gets no response message reports a null message just before its status', async (t) => {
  const server = await fixture(t);
  server.rejectIf = () => true;
  const events: string[] = [];
  const recorder: grpc.Interceptor = (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, _listener, next) {
        next(metadata, {
          onReceiveMessage(message, nextMessage) {
            events.push(message === null ? 'message null' : 'message');
            nextMessage(message);
          },
          onReceiveStatus(status, nextStatus) {
            events.push(`status ${status.code}`);
            nextStatus(status);
          },
        });
      },
    });

  await unary(server.client(server.channelCredentials(), { interceptors: [recorder] }));

  assert.deepEqual(events, ['message null', `status ${grpc.status.UNAUTHENTICATED}`]);
});

/** An HTTP/2 frame: length, type, flags, stream id, payload (RFC 9113 §4.1). */
function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt8(flags, 4);
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** An HPACK integer with a 7-bit prefix (RFC 7541 §5.1). */
function hpackLength(value: number): number[] {
  if (value < 127) return [value];
  const bytes = [127];
  for (value -= 127; value >= 128; value = Math.floor(value / 128)) bytes.push((value % 128) + 128);
  return [...bytes, value];
}

/** A header block of literal fields without indexing, new names, no Huffman (RFC 7541 §6.2.2). */
function headerBlock(fields: readonly (readonly [string, string])[]): Buffer {
  return Buffer.concat(
    fields.map(([name, value]) =>
      Buffer.from([
        0,
        ...hpackLength(name.length),
        ...Buffer.from(name),
        ...hpackLength(value.length),
        ...Buffer.from(value),
      ]),
    ),
  );
}

test("Node's HTTP/2 server keeps only the first of two authorization values: grpc-js and its interceptors never see the second", async (t) => {
  // Node's own HTTP/2 client refuses to send two (ERR_HTTP2_HEADER_SINGLE_VALUE), and so does grpc-js's:
  // the frames are written by hand, as a client that wanted to smuggle a second token would.
  const server = await fixture(t);
  const [host, port] = server.address.split(':') as [string, string];
  const socket = tls.connect({
    host,
    port: Number(port),
    ca: server.caCert,
    servername: 'localhost',
    ALPNProtocols: ['h2'],
  });
  t.after(() => socket.destroy());
  await once(socket, 'secureConnect');
  let received = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    // Acknowledge the server's SETTINGS frames, as RFC 9113 §6.5.3 requires.
    for (received = Buffer.concat([received, chunk]); received.length >= 9;) {
      const length = received.readUIntBE(0, 3);
      if (received.length < 9 + length) break;
      if (received.readUInt8(3) === 0x4 && (received.readUInt8(4) & 0x1) === 0) socket.write(frame(0x4, 0x1, 0));
      received = received.subarray(9 + length);
    }
  });
  const message = Buffer.from(JSON.stringify({ text: 'smuggled' }));
  const grpcMessage = Buffer.concat([Buffer.from([0]), Buffer.alloc(4), message]);
  grpcMessage.writeUInt32BE(message.length, 1);
  socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  socket.write(frame(0x4, 0, 0));
  const fields = [
    [':method', 'POST'],
    [':scheme', 'https'],
    [':path', '/test.v1.Echo/Unary'],
    [':authority', 'localhost'],
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
    ['authorization', 'Bearer first'],
    ['authorization', 'Bearer second'],
    // The control: two values of an ordinary header both arrive, so the frames do carry two.
    ['x-twice', 'one'],
    ['x-twice', 'two'],
  ] as const;
  socket.write(frame(0x1, 0x4, 1, headerBlock(fields)));
  socket.write(frame(0x0, 0x1, 1, grpcMessage));

  await until(() => server.received.length === 1);
  assert.deepEqual(server.received[0]?.authorization, ['Bearer first']);
  assert.deepEqual(server.received[0]?.metadata['x-twice'], ['one, two'], 'Node joins the values of other headers');
  assert.equal(server.received[0]?.text, 'smuggled');
});

// Mutual TLS. The server answers with what `call.getAuthContext()` gave it (test/helpers/peer-echo.ts).

describe('mutual TLS', () => {
  let certs: TestCertificates;
  let client: ClientCertificate;
  before(async () => {
    certs = await createTestCertificates();
    client = await certs.issueClientCertificate({ spiffeId: 'spiffe://example.org/client', dnsNames: ['client.test'] });
  });
  const serverIdentity = (): grpc.KeyCertPair[] => [
    { cert_chain: certs.serverCertBuffer, private_key: certs.serverKeyBuffer },
  ];
  const withCertificate = (): grpc.ChannelCredentials =>
    grpc.credentials.createSsl(certs.caCertBuffer, client.keyBuffer, client.certBuffer);
  const noContext = { keys: [], rawIsX509: false };

  test('getAuthContext() is {} on plaintext and on TLS without a client certificate: the two look the same', async (t) => {
    const plaintext = await startPeerEcho(t, grpc.ServerCredentials.createInsecure());
    const tlsOnly = await startPeerEcho(
      t,
      grpc.ServerCredentials.createSsl(certs.caCertBuffer, serverIdentity(), false),
    );
    const requiring = await startPeerEcho(
      t,
      grpc.ServerCredentials.createSsl(certs.caCertBuffer, serverIdentity(), true),
    );

    assert.deepEqual(await askPeer(t, plaintext, grpc.credentials.createInsecure()), noContext);
    assert.deepEqual(await askPeer(t, tlsOnly, grpc.credentials.createSsl(certs.caCertBuffer)), noContext);
    assert.notDeepEqual(await askPeer(t, requiring, withCertificate()), noContext, 'control: a certificate shows');
  });

  test('createSsl(..., false) never asks for a client certificate: one the client offers is not seen', async (t) => {
    const tlsOnly = await startPeerEcho(
      t,
      grpc.ServerCredentials.createSsl(certs.caCertBuffer, serverIdentity(), false),
    );
    assert.deepEqual(await askPeer(t, tlsOnly, withCertificate()), noContext);
  });

  test('with a verified client certificate, getAuthContext() gives ssl and a PeerCertificate with raw DER and subjectaltname', async (t) => {
    const port = await startPeerEcho(t, grpc.ServerCredentials.createSsl(certs.caCertBuffer, serverIdentity(), true));
    assert.deepEqual(await askPeer(t, port, withCertificate()), {
      keys: ['sslPeerCertificate', 'transportSecurityType'],
      transportSecurityType: 'ssl',
      certificateEmpty: false,
      subjectaltname: 'URI:spiffe://example.org/client, DNS:client.test',
      subjectCN: 'test client',
      rawSha256: client.sha256,
      rawIsX509: true,
    });
  });

  test('experimental certificate providers exist; the server factory takes the identity provider first, whatever its parameter names say', async (t) => {
    assert.equal(typeof grpc.experimental.FileWatcherCertificateProvider, 'function');
    assert.equal(typeof grpc.experimental.createCertificateProviderChannelCredentials, 'function');
    assert.equal(typeof grpc.experimental.createCertificateProviderServerCredentials, 'function');
    const dir = await tempDir(t);
    const files = await writeCertificateFiles(dir, { cert: certs.serverCert, key: certs.serverKey, ca: certs.caCert });
    const provider = watch(files, 60_000);
    const clientProvider = watch(await clientFiles(t), 60_000);
    const channel = grpc.experimental.createCertificateProviderChannelCredentials(clientProvider, clientProvider);

    // Identity first: a client certificate is verified and seen; none is not required (requireClientCertificate false).
    const identityFirst = await startPeerEcho(
      t,
      grpc.experimental.createCertificateProviderServerCredentials(provider, provider, false),
    );
    assert.equal((await askPeer(t, identityFirst, channel)).rawSha256, client.sha256);
    assert.deepEqual(await askPeer(t, identityFirst, grpc.credentials.createSsl(certs.caCertBuffer)), noContext);

    // A CA-only provider first, as the parameter name caCertificateProvider asks: the server has no certificate.
    const caOnly = new grpc.experimental.FileWatcherCertificateProvider({
      caCertificateFile: files.caFile,
      refreshIntervalMs: 60_000,
    });
    const caFirst = await startPeerEcho(
      t,
      grpc.experimental.createCertificateProviderServerCredentials(caOnly, provider, false),
    );
    await assert.rejects(askPeer(t, caFirst, channel), { code: grpc.status.UNAVAILABLE });
  });

  test('FileWatcherCertificateProvider: new connections use files renewed by a ..data swap, once the refresh interval has passed', async (t) => {
    const refreshIntervalMs = 200;
    const { serverFiles, clientSide, port, channel } = await watchedScene(t, refreshIntervalMs);
    assert.equal((await askPeer(t, port, channel)).rawSha256, client.sha256);

    // The client's certificate renewed: the server sees the new one on a new connection.
    const next = await certs.issueClientCertificate({ spiffeId: 'spiffe://example.org/client' });
    const renewedAt = performance.now();
    await clientSide.renew({ cert: next.cert, key: next.key, ca: certs.caCert });
    await untilResolves(async () => {
      const seen = await askPeer(t, port, channel);
      if (seen.rawSha256 !== next.sha256) throw new Error('old certificate');
    });
    const clientMs = performance.now() - renewedAt;

    // The server's certificate renewed: a new TLS connection is served the new one.
    const nextServer = await createTestCertificates();
    await assert.rejects(
      servedCertificateSha256(port, { ca: nextServer.caCert }),
      { code: 'SELF_SIGNED_CERT_IN_CHAIN' },
      'control',
    );
    const serverRenewedAt = performance.now();
    await serverFiles.renew({ cert: nextServer.serverCert, key: nextServer.serverKey, ca: certs.caCert });
    const { value: served } = await untilResolves(() => servedCertificateSha256(port, { ca: nextServer.caCert }));
    assert.equal(
      served,
      createHash('sha256').update(new X509Certificate(nextServer.serverCert).raw).digest('base64url'),
    );

    const serverMs = performance.now() - serverRenewedAt;
    // Measured, not asserted beyond untilResolves's 5 s: the provider reads the files every interval.
    t.diagnostic(
      `renewal seen after ${Math.round(clientMs)} ms (client), ${Math.round(serverMs)} ms (server); interval ${refreshIntervalMs} ms`,
    );
  });

  test('FileWatcherCertificateProvider: a mismatched cert/key pair is loaded, not skipped: new connections fail until good files return', async (t) => {
    const { serverFiles, clientSide, port, channel } = await watchedScene(t, 100);
    assert.equal((await askPeer(t, port, channel)).rawSha256, client.sha256);
    // grpc-js logs the failure at ERROR on each connection attempt (and throws nothing): collected here.
    const logged: string[] = [];
    grpc.setLogger({ error: (...args: unknown[]) => logged.push(args.join(' ')) });
    t.after(() => grpc.setLogger(console));
    const refused = (attempt: () => Promise<unknown>) => () =>
      attempt().then(
        () => Promise.reject(new Error('still served')),
        (err: unknown) => err,
      );

    // The server's key replaced by another one (a rotation that renamed the two files one at a time).
    const other = await certs.issueClientCertificate();
    await serverFiles.renew({ cert: certs.serverCert, key: other.key, ca: certs.caCert });
    await untilResolves(refused(() => servedCertificateSha256(port, { ca: certs.caCert })));
    await serverFiles.renew({ cert: certs.serverCert, key: certs.serverKey, ca: certs.caCert });
    await untilResolves(() => servedCertificateSha256(port, { ca: certs.caCert }));

    // The same on the client side: its calls fail UNAVAILABLE, not with the last good certificate.
    await clientSide.renew({ cert: client.cert, key: other.key, ca: certs.caCert });
    const { value: failure } = await untilResolves(refused(() => askPeer(t, port, channel)));
    assert.equal((failure as grpc.ServiceError).code, grpc.status.UNAVAILABLE);
    await clientSide.renew({ cert: client.cert, key: client.key, ca: certs.caCert });
    await untilResolves(() => askPeer(t, port, channel));
    assert.ok(logged.some((line) => /Failed to set secure context .*key values mismatch/.test(line)));
    assert.ok(logged.some((line) => /Failed to createSecureContext .*key values mismatch/.test(line)));
  });

  test('FileWatcherCertificateProvider: a missing file is no error at construction or bind; new connections just fail', async (t) => {
    const dir = await tempDir(t);
    const missing = new grpc.experimental.FileWatcherCertificateProvider({
      certificateFile: join(dir, 'absent.crt'),
      privateKeyFile: join(dir, 'absent.key'),
      caCertificateFile: join(dir, 'absent-ca.crt'),
      refreshIntervalMs: 60_000,
    });
    const logged: string[] = [];
    grpc.setLogger({ error: (...args: unknown[]) => logged.push(args.join(' ')) });
    t.after(() => grpc.setLogger(console));

    const port = await startPeerEcho(
      t,
      grpc.experimental.createCertificateProviderServerCredentials(missing, missing, true),
    );
    await assert.rejects(servedCertificateSha256(port, { ca: certs.caCert }));
    const channel = grpc.experimental.createCertificateProviderChannelCredentials(missing, missing);
    const working = await startPeerEcho(
      t,
      grpc.ServerCredentials.createSsl(certs.caCertBuffer, serverIdentity(), false),
    );
    await assert.rejects(askPeer(t, working, channel), { code: grpc.status.UNAVAILABLE });
    assert.deepEqual(logged, [], 'and nothing names the file');
  });

  test('provider server credentials: with a CA provider a certificate is always asked for; requireClientCertificate false serves none and an untrusted one alike, as {}', async (t) => {
    const other = await (await createTestCertificates()).issueClientCertificate();
    const provider = handFed(certs.serverCert, certs.serverKey, certs.caCert);
    const credentials = grpc.experimental.createCertificateProviderServerCredentials(provider, provider, false);
    const port = await startPeerEcho(t, credentials);
    assert.equal((await askPeer(t, port, withCertificate())).rawSha256, client.sha256, 'asked for, verified, seen');
    assert.deepEqual(await askPeer(t, port, grpc.credentials.createSsl(certs.caCertBuffer)), noContext, 'none');
    const untrusted = grpc.credentials.createSsl(certs.caCertBuffer, other.keyBuffer, other.certBuffer);
    assert.deepEqual(await askPeer(t, port, untrusted), noContext, 'another CA: served, without an identity');

    // Without a CA provider no certificate is asked for: one the client offers is not seen.
    const noCa = grpc.experimental.createCertificateProviderServerCredentials(provider, null, false);
    assert.deepEqual(await askPeer(t, await startPeerEcho(t, noCa), withCertificate()), noContext);
  });

  test('provider server credentials drop connections until the providers have given both a certificate and a CA', async (t) => {
    const provider = handFed();
    const port = await startPeerEcho(
      t,
      grpc.experimental.createCertificateProviderServerCredentials(provider, provider, true),
    );
    await assert.rejects(askPeer(t, port, withCertificate()), { code: grpc.status.UNAVAILABLE }, 'nothing given yet');
    provider.give({ caCertificate: certs.caCertBuffer });
    await assert.rejects(askPeer(t, port, withCertificate()), { code: grpc.status.UNAVAILABLE }, 'only the CA');
    provider.give({ certificate: certs.serverCertBuffer, privateKey: certs.serverKeyBuffer });
    assert.equal((await askPeer(t, port, withCertificate())).rawSha256, client.sha256);
  });

  test('provider server credentials miss a first value handed over synchronously inside add...Listener: the server stays without credentials', async (t) => {
    // grpc-js subscribes to the providers before it adds the bound server's watcher, so an update
    // given during the subscription reaches no server; one given on the next tick does.
    const synchronous = handFed(certs.serverCert, certs.serverKey, certs.caCert, true);
    const port = await startPeerEcho(
      t,
      grpc.experimental.createCertificateProviderServerCredentials(synchronous, synchronous, true),
    );
    await assert.rejects(askPeer(t, port, withCertificate()), { code: grpc.status.UNAVAILABLE });
    const nextTick = handFed(certs.serverCert, certs.serverKey, certs.caCert);
    const control = await startPeerEcho(
      t,
      grpc.experimental.createCertificateProviderServerCredentials(nextTick, nextTick, true),
    );
    assert.equal((await askPeer(t, control, withCertificate())).rawSha256, client.sha256, 'control');
  });

  for (const wrapped of [false, true])
    test(`a provider update reaches new connections of a bound server while open ones go on${wrapped ? ' (credentials wrapped by createServerCredentialsWithInterceptors)' : ''}`, async (t) => {
      const next = await createTestCertificates();
      const provider = handFed(certs.serverCert, certs.serverKey, certs.caCert);
      let intercepted = 0;
      const passThrough: grpc.ServerInterceptor = (_descriptor, call) => {
        intercepted++;
        return new grpc.ServerInterceptingCall(call);
      };
      const credentials = grpc.experimental.createCertificateProviderServerCredentials(provider, provider, true);
      const port = await startPeerEcho(
        t,
        wrapped ? grpc.experimental.createServerCredentialsWithInterceptors(credentials, [passThrough]) : credentials,
      );
      // Trusts only the first CA: were its connection made again after the update, it would fail.
      const open = openPeerClient(port, withCertificate());
      t.after(() => open.close());
      assert.equal((await askOn(open)).rawSha256, client.sha256);

      provider.give({ certificate: next.serverCertBuffer, privateKey: next.serverKeyBuffer });
      const served = await servedCertificateSha256(port, { ca: next.caCert, cert: client.cert, key: client.key });
      assert.equal(served, certificateSha256(next.serverCert), 'a new connection: the new certificate, at once');
      assert.equal((await askOn(open)).rawSha256, client.sha256, 'the open one goes on');
      assert.equal(intercepted, wrapped ? 2 : 0);
    });

  /**
   * A server and a channel on FileWatcherCertificateProvider credentials (client certificates required),
   * over the server's and the client's files in the ..data layout.
   */
  async function watchedScene(t: TestContext, refreshIntervalMs: number) {
    const serverFiles = await writeCertificateFiles(await tempDir(t), {
      cert: certs.serverCert,
      key: certs.serverKey,
      ca: certs.caCert,
    });
    const clientSide = await clientFiles(t);
    const serverProvider = watch(serverFiles, refreshIntervalMs);
    const clientProvider = watch(clientSide, refreshIntervalMs);
    const port = await startPeerEcho(
      t,
      grpc.experimental.createCertificateProviderServerCredentials(serverProvider, serverProvider, true),
    );
    const channel = grpc.experimental.createCertificateProviderChannelCredentials(clientProvider, clientProvider);
    return { serverFiles, clientSide, port, channel };
  }

  /** A client certificate's files, in the ..data layout. */
  async function clientFiles(t: TestContext): Promise<CertificateFiles> {
    return writeCertificateFiles(await tempDir(t), { cert: client.cert, key: client.key, ca: certs.caCert });
  }
});

function watch(files: CertificateFiles, refreshIntervalMs: number): grpc.experimental.FileWatcherCertificateProvider {
  const provider = new grpc.experimental.FileWatcherCertificateProvider({
    certificateFile: files.certFile,
    privateKeyFile: files.keyFile,
    caCertificateFile: files.caFile,
    refreshIntervalMs,
  });
  return provider;
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'grpc-js-facts-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A certificate provider fed by hand, to see what grpc-js does with each update: `give` passes an
 * update to the listeners registered and keeps it for those that register later, who get it on the
 * next tick (as this package's provider does), or at once inside `add...Listener` with `synchronous`.
 */
function handFed(
  cert?: string,
  key?: string,
  ca?: string,
  synchronous = false,
): grpc.experimental.CertificateProvider & {
  give(update: Partial<grpc.experimental.IdentityCertificateUpdate & grpc.experimental.CaCertificateUpdate>): void;
} {
  let identity: grpc.experimental.IdentityCertificateUpdate | undefined =
    cert && key ? { certificate: Buffer.from(cert), privateKey: Buffer.from(key) } : undefined;
  let caUpdate: grpc.experimental.CaCertificateUpdate | undefined = ca ? { caCertificate: Buffer.from(ca) } : undefined;
  const later = (fn: () => void): void => (synchronous ? fn() : process.nextTick(fn));
  const caListeners = new Set<grpc.experimental.CaCertificateUpdateListener>();
  const identityListeners = new Set<grpc.experimental.IdentityCertificateUpdateListener>();
  return {
    addCaCertificateListener(listener) {
      caListeners.add(listener);
      const update = caUpdate;
      if (update) later(() => listener(update));
    },
    removeCaCertificateListener: (listener) => void caListeners.delete(listener),
    addIdentityCertificateListener(listener) {
      identityListeners.add(listener);
      const update = identity;
      if (update) later(() => listener(update));
    },
    removeIdentityCertificateListener: (listener) => void identityListeners.delete(listener),
    give({ certificate, privateKey, caCertificate }) {
      if (caCertificate) {
        caUpdate = { caCertificate };
        for (const listener of caListeners) listener(caUpdate);
      }
      if (certificate && privateKey) {
        identity = { certificate, privateKey };
        for (const listener of identityListeners) listener(identity);
      }
    },
  };
}
