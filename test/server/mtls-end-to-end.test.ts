// One client certificate for the token endpoint and the gRPC channel, end to end (RFC 8705): the
// TokenManager authenticates to an HTTPS MockTokenServer with tls_client_auth and gets a token bound
// to the certificate; the channel presents the same certificate; the server accepts bound tokens
// only, from that certificate. After cert-manager renews the files, the first call on a new connection
// is refused certificate_mismatch, and the interceptor's replay with a fresh token (bound to the new
// certificate) passes.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Agent, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { TokenManager, createAuthInterceptor, createMtlsChannelCredentials } from '../../src/index.js';
import {
  createMtlsServerCredentials,
  createServerAuthInterceptor,
  getAuthClaims,
  getPeerIdentity,
  type AuthDecision,
} from '../../src/server/index.js';
import {
  ManualClock,
  MockTokenServer,
  createTestCertificates,
  writeCertificateFiles,
} from '../../src/testing/index.js';
import { echoService, methodPaths, unary } from '../helpers/grpc-fixture.js';
import { healthCheckPath, healthService } from './fixture.js';

const spiffeId = 'spiffe://example.test/ns/shop/sa/orders';

/** The resource server fetches the issuer's keys with Node's fetch: it trusts the test CA for that. */
function trustForFetch(t: TestContext, caCert: string): void {
  const previous = getGlobalDispatcher();
  const agent = new Agent({ connect: { ca: caCert } });
  setGlobalDispatcher(agent);
  t.after(async () => {
    setGlobalDispatcher(previous);
    await agent.close();
  });
}

test('one certificate for token endpoint and channel: bound tokens pass, and a renewal is recovered by one replay', async (t) => {
  const certs = await createTestCertificates();
  trustForFetch(t, certs.caCert);
  const dir = await mkdtemp(join(tmpdir(), 'mtls-e2e-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const first = await certs.issueClientCertificate({ spiffeId });
  const files = await writeCertificateFiles(join(dir, 'tls'), { cert: first.cert, key: first.key, ca: certs.caCert });

  const tokenServer = await MockTokenServer.start({ tls: certs });
  t.after(() => tokenServer.close());
  tokenServer.addClient({ clientId: 'orders-svc', tlsClientAuthSanUri: spiffeId, allowedScopes: ['orders.read'] });
  const tokens = new TokenManager({
    issuer: tokenServer.issuer,
    clientId: 'orders-svc',
    clientAuthMethod: 'tls_client_auth',
    tlsClientCertificate: { certFile: files.certFile, keyFile: files.keyFile, caFile: files.caFile },
    scopes: ['orders.read'],
  });
  t.after(() => tokens.close());

  const decisions: AuthDecision[] = [];
  const seen: { spiffeId: string | undefined; cnf: unknown }[] = [];
  const auth = createServerAuthInterceptor({
    issuer: tokenServer.issuer,
    audience: 'https://api.example.test',
    methods: { '/test.v1.Echo/*': ['orders.read'] },
    requireBoundTokens: true,
    onDecision: (decision) => decisions.push(decision),
  });
  await auth.ready();
  const server = new grpc.Server({ interceptors: [auth] });
  server.addService(
    { Unary: echoService.Unary },
    {
      Unary(call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) {
        seen.push({ spiffeId: getPeerIdentity(call)?.spiffeId, cnf: getAuthClaims(call)?.cnf });
        callback(null, { method: methodPaths.unary, authorization: [], metadata: {}, text: 'ok' });
      },
    },
  );
  // A public method (no token) that answers with the thumbprint of the certificate the caller presented.
  server.addService(healthService, {
    Check(call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) {
      callback(null, {
        method: healthCheckPath,
        authorization: [],
        metadata: {},
        text: getPeerIdentity(call)?.certificateSha256,
      });
    },
  });
  const serverFiles = await writeCertificateFiles(join(dir, 'server'), {
    cert: certs.serverCert,
    key: certs.serverKey,
    ca: certs.caCert,
  });
  const credentials = createMtlsServerCredentials({
    certFile: serverFiles.certFile,
    keyFile: serverFiles.keyFile,
    caFile: serverFiles.caFile,
    requireClientCertificate: true,
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  t.after(() => server.forceShutdown());

  const clock = new ManualClock();
  const mtls = createMtlsChannelCredentials({
    certFile: files.certFile,
    keyFile: files.keyFile,
    caFile: files.caFile,
    refreshIntervalMs: 1000,
    clock,
  });
  const client = (): grpc.Client => {
    const channel = new grpc.Client(`127.0.0.1:${port}`, mtls, {
      'grpc.ssl_target_name_override': 'localhost',
      'grpc.use_local_subchannel_pool': 1, // a connection of its own
      interceptors: [createAuthInterceptor(tokens, { channelCredentials: mtls })],
    });
    t.after(() => channel.close());
    return channel;
  };

  assert.equal((await unary(client())).error, undefined);
  assert.deepEqual(seen, [{ spiffeId, cnf: { 'x5t#S256': first.sha256 } }]);

  // cert-manager renews the certificate (same identity, new key); the channel re-reads its files.
  const second = await first.renew();
  await files.renew({ cert: second.cert, key: second.key, ca: certs.caCert });
  await clock.advance(1000);
  await untilPresented(port, mtls, second.sha256);
  const afterRenewal = await unary(client());
  assert.equal(afterRenewal.error, undefined, afterRenewal.error?.message);
  assert.deepEqual(seen.at(-1), { spiffeId, cnf: { 'x5t#S256': second.sha256 } });
  assert.deepEqual(
    decisions.map((decision) => decision.reason).filter((reason) => reason !== 'public'),
    ['granted', 'certificate_mismatch', 'granted'],
    'the token bound to the old certificate was refused once, then replaced',
  );
  assert.equal(tokenServer.tokenRequestCount, 2);
});

/** Asks the public health method on new connections until one presents the certificate `sha256`. */
async function untilPresented(port: number, credentials: grpc.ChannelCredentials, sha256: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const channel = new grpc.Client(`127.0.0.1:${port}`, credentials, {
      'grpc.ssl_target_name_override': 'localhost',
      'grpc.use_local_subchannel_pool': 1,
    });
    const { requestSerialize, responseDeserialize } = healthService.Check;
    const presented = await new Promise<string | undefined>((resolve) =>
      channel.makeUnaryRequest(healthCheckPath, requestSerialize, responseDeserialize, { text: '' }, (err, reply) =>
        resolve(err ? undefined : reply?.text),
      ),
    );
    channel.close();
    if (presented === sha256) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error('the renewed certificate was never presented');
}
