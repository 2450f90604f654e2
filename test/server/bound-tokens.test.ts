// Certificate-bound tokens (RFC 8705 §3) on a real grpc-js server over mutual TLS: a token whose
// cnf names a certificate thumbprint passes only from that certificate, on all four call kinds;
// requireBoundTokens refuses unbound tokens where it says; the caller's identity reaches onDecision
// and authorize.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import type { AuthDecision, AuthorizeRequest, ServerAuthOptions } from '../../src/server/index.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import {
  MockTokenServer,
  createTestCertificates,
  writeCertificateFiles,
  type ClientCertificate,
  type TestCertificates,
} from '../../src/testing/index.js';
import { bidi, clientStream, methodPaths, serverStream, unary } from '../helpers/grpc-fixture.js';
import { invalidOption } from '../helpers/config-error.js';
import { createMtlsServerCredentials, createServerAuthInterceptor } from '../../src/server/index.js';
import { bearer, reasonOf, startAuthServer, startKeyServer, trusting, type AuthServer } from './fixture.js';

const spiffeId = 'spiffe://example.test/ns/orders/sa/caller';

/** This package's mutual TLS server credentials, from files holding `certs`' server certificate and CA. */
async function mutualTls(t: TestContext, certs: TestCertificates, requireClientCertificate: boolean) {
  const dir = await mkdtemp(join(tmpdir(), 'bound-tokens-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const files = await writeCertificateFiles(dir, { cert: certs.serverCert, key: certs.serverKey, ca: certs.caCert });
  const credentials = createMtlsServerCredentials({
    certFile: files.certFile,
    keyFile: files.keyFile,
    caFile: files.caFile,
    requireClientCertificate,
  });
  return (): grpc.ServerCredentials => credentials;
}

interface Scene {
  readonly server: AuthServer;
  readonly keys: Awaited<ReturnType<typeof startKeyServer>>;
  readonly mine: ClientCertificate;
  readonly other: ClientCertificate;
  /** A client presenting `certificate` (none: TLS without a client certificate). */
  client(certificate?: ClientCertificate): grpc.Client;
}

let shared: Promise<{ certs: TestCertificates; mine: ClientCertificate; other: ClientCertificate }> | undefined;
async function certificates() {
  return (shared ??= (async () => {
    const certs = await createTestCertificates();
    const [mine, other] = await Promise.all([
      certs.issueClientCertificate({ spiffeId }),
      certs.issueClientCertificate({ spiffeId: 'spiffe://example.test/ns/other/sa/thief' }),
    ]);
    return { certs, mine, other };
  })());
}

async function startScene(
  t: TestContext,
  options: Partial<ServerAuthOptions> = {},
  requireClientCertificate = true,
): Promise<Scene> {
  const keys = await startKeyServer(t);
  const { certs, mine, other } = await certificates();
  const server = await startAuthServer(
    t,
    { ...trusting(keys), ...options },
    { credentials: await mutualTls(t, certs, requireClientCertificate) },
  );
  const ca = certs.caCertBuffer;
  return {
    server,
    keys,
    mine,
    other,
    client: (certificate) =>
      server.client(grpc.credentials.createSsl(ca, certificate?.keyBuffer, certificate?.certBuffer)),
  };
}

const kinds = { unary, clientStream, serverStream, bidi };
const boundTo = (certificate: ClientCertificate) => ({ cnf: { 'x5t#S256': certificate.sha256 } });

test('a bound token passes from its certificate and is refused certificate_mismatch from another, on all four call kinds', async (t) => {
  const scene = await startScene(t);
  const token = await scene.keys.sign({ ...boundTo(scene.mine), scope: 'orders.read orders.write' });
  for (const [kind, call] of Object.entries(kinds)) {
    const own = await call(scene.client(scene.mine), { metadata: bearer(token) });
    assert.equal(own.error, undefined, `${kind} from the bound certificate`);
    const before = scene.server.sightings.length;
    const stolen = await call(scene.client(scene.other), { metadata: bearer(token) });
    assert.equal(stolen.error?.code, grpc.status.UNAUTHENTICATED, kind);
    assert.equal(reasonOf(stolen.error), 'certificate_mismatch', kind);
    assert.equal(scene.server.sightings.length, before, `${kind}: the handler never ran`);
    assert.doesNotMatch(stolen.error?.details ?? '', new RegExp(scene.mine.sha256));
  }
});

test('a bound token from a TLS connection without a client certificate is refused certificate_mismatch', async (t) => {
  const scene = await startScene(t, {}, false);
  const token = await scene.keys.sign(boundTo(scene.mine));
  const anonymous = await unary(scene.client(), { metadata: bearer(token) });
  assert.equal(reasonOf(anonymous.error), 'certificate_mismatch');
  assert.equal((await unary(scene.client(scene.mine), { metadata: bearer(token) })).error, undefined);
  const unbound = await unary(scene.client(), { metadata: bearer(await scene.keys.sign()) });
  assert.equal(unbound.error, undefined, 'an unbound token needs no certificate by default');
});

test('requireBoundTokens refuses unbound tokens (token_not_bound) on every method, or on the methods it names', async (t) => {
  const everywhere = await startScene(t, { requireBoundTokens: true });
  const unboundToken = await everywhere.keys.sign();
  const refused = await serverStream(everywhere.client(everywhere.mine), { metadata: bearer(unboundToken) });
  assert.equal(refused.error?.code, grpc.status.UNAUTHENTICATED);
  assert.equal(reasonOf(refused.error), 'token_not_bound');
  const bound = await everywhere.keys.sign(boundTo(everywhere.mine));
  assert.equal((await serverStream(everywhere.client(everywhere.mine), { metadata: bearer(bound) })).error, undefined);

  const named = await startScene(t, { requireBoundTokens: [methodPaths.unary] });
  // A DPoP key's thumbprint does not bind a token to a certificate; and a DPoP-bound token is never
  // taken under the Bearer scheme (RFC 9449 §7.1; test/server/dpop.test.ts has the DPoP side).
  const token = await named.keys.sign({ cnf: { jkt: 'A'.repeat(43) } });
  assert.equal(reasonOf((await unary(named.client(named.mine), { metadata: bearer(token) })).error), 'token_not_bound');
  assert.equal(
    reasonOf((await serverStream(named.client(named.mine), { metadata: bearer(token) })).error),
    'dpop_missing',
  );

  const service = await startScene(t, { requireBoundTokens: ['/test.v1.Echo/*'] });
  const plain = await service.keys.sign();
  assert.equal(
    reasonOf((await bidi(service.client(service.mine), { metadata: bearer(plain) })).error),
    'token_not_bound',
  );
});

test('a malformed cnf is refused invalid_claims', async (t) => {
  const scene = await startScene(t);
  for (const cnf of ['x', ['x'], { 'x5t#S256': 42 }, { 'x5t#S256': 'too-short' }, null]) {
    const token = await scene.keys.sign({ cnf });
    const result = await unary(scene.client(scene.mine), { metadata: bearer(token) });
    assert.equal(reasonOf(result.error), 'invalid_claims', JSON.stringify(cnf));
  }
});

test("onDecision and authorize get the caller's identity; without TLS client certificates they get undefined", async (t) => {
  const decisions: AuthDecision[] = [];
  const asked: AuthorizeRequest[] = [];
  const scene = await startScene(
    t,
    {
      onDecision: (decision) => decisions.push(decision),
      authorize: (request) => {
        asked.push(request);
        return request.peer?.spiffeId === spiffeId;
      },
    },
    false,
  );
  const token = await scene.keys.sign();
  assert.equal((await unary(scene.client(scene.mine), { metadata: bearer(token) })).error, undefined);
  const other = await unary(scene.client(scene.other), { metadata: bearer(token) });
  assert.equal(reasonOf(other.error), 'authorize_denied');
  const none = await unary(scene.client(), { metadata: bearer(token) });
  assert.equal(reasonOf(none.error), 'authorize_denied');
  assert.deepEqual(
    asked.map((request) => request.peer?.spiffeId),
    [spiffeId, 'spiffe://example.test/ns/other/sa/thief', undefined],
  );
  assert.deepEqual(
    decisions.map((decision) => [decision.reason, decision.peer?.certificateSha256]),
    [
      ['granted', scene.mine.sha256],
      ['authorize_denied', scene.other.sha256],
      ['authorize_denied', undefined],
    ],
  );
});

test("grpc-js's own mutual TLS credentials: a call's certificate is read once for the binding check, authorize and onDecision", async (t) => {
  const keys = await startKeyServer(t);
  const { certs, mine } = await certificates();
  const decisions: AuthDecision[] = [];
  const asked: AuthorizeRequest[] = [];
  const credentials = grpc.ServerCredentials.createSsl(
    certs.caCertBuffer,
    [{ private_key: Buffer.from(certs.serverKey), cert_chain: Buffer.from(certs.serverCert) }],
    true,
  );
  const server = await startAuthServer(
    t,
    {
      ...trusting(keys),
      onDecision: (decision) => decisions.push(decision),
      authorize: (request) => asked.push(request) > 0,
    },
    { credentials: () => credentials },
  );
  const token = await keys.sign(boundTo(mine));
  const client = server.client(grpc.credentials.createSsl(certs.caCertBuffer, mine.keyBuffer, mine.certBuffer));
  assert.equal((await unary(client, { metadata: bearer(token) })).error, undefined);
  assert.equal(asked[0]?.peer?.certificateSha256, mine.sha256);
  // grpc-js builds a certificate object per ask: one identity object means one read.
  assert.equal(decisions[0]?.peer, asked[0]?.peer);
});

test('requireBoundTokens: bad values are configuration errors naming the option', () => {
  const base = { issuer: 'https://auth.example.test', audience: 'a', methods: { '/a.B/C': [] } };
  for (const value of ['yes', 1, ['/not a path'], [42]]) {
    assert.throws(
      () => createServerAuthInterceptor({ ...base, requireBoundTokens: value as never }),
      invalidOption(/requireBoundTokens/),
    );
  }
});

test("an opaque token is bound by its introspection answer's cnf: it passes from its certificate only", async (t) => {
  const { certs, mine, other } = await certificates();
  const previous = getGlobalDispatcher(); // the server introspects over HTTPS signed by the test CA
  const trusting = new Agent({ connect: { ca: certs.caCert } });
  setGlobalDispatcher(trusting);
  t.after(async () => {
    setGlobalDispatcher(previous);
    await trusting.close();
  });
  const tokenServer = await MockTokenServer.start({ tls: certs, accessTokenFormat: 'opaque' });
  t.after(() => tokenServer.close());
  const resourceServer = { clientId: 'orders-api', clientSecret: 'orders-api-secret' };
  tokenServer.addClient(resourceServer);
  tokenServer.addClient({ clientId: 'caller', clientSecret: 'caller-secret', allowedScopes: ['orders.read'] });
  // A secret client asking at the mutual-TLS alias with its certificate gets a token bound to it.
  const dispatcher = new Agent({ connect: { ca: certs.caCert, cert: mine.cert, key: mine.key } });
  t.after(() => dispatcher.close());
  const answer = await fetch(tokenServer.mtlsEndpointAliases!.token_endpoint, {
    method: 'POST',
    dispatcher,
    headers: { authorization: `Basic ${Buffer.from('caller:caller-secret').toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders.read' }),
  });
  const { access_token: token } = (await answer.json()) as { access_token: string };
  const server = await startAuthServer(
    t,
    {
      issuers: [{ issuer: tokenServer.issuer, audience: 'https://api.example.test', introspection: resourceServer }],
      methods: { '/test.v1.Echo/*': ['orders.read'] },
    },
    { credentials: await mutualTls(t, certs, true) },
  );
  const client = (certificate: ClientCertificate): grpc.Client =>
    server.client(grpc.credentials.createSsl(certs.caCertBuffer, certificate.keyBuffer, certificate.certBuffer));
  assert.equal((await unary(client(mine), { metadata: bearer(token) })).error, undefined);
  assert.equal(reasonOf((await unary(client(other), { metadata: bearer(token) })).error), 'certificate_mismatch');
  assert.equal(tokenServer.introspectionRequestCount, 1);
});
