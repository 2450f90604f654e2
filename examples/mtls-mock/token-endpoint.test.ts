import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Agent, fetch } from 'undici';
import {
  MockTokenServer,
  createSelfSignedClientCertificate,
  createTestCertificates,
  type ClientCertificate,
} from 'grpc-oauth2-credentials/testing';

const certs = await createTestCertificates(); // the CA, the mock's HTTPS certificate, and client certificates

/** What an mTLS client does (RFC 8705): discovery, then the token endpoint's mTLS alias, with its certificate. */
async function requestToken(server: MockTokenServer, client: ClientCertificate): Promise<Record<string, unknown>> {
  const dispatcher = new Agent({ connect: { ca: certs.caCert, cert: client.cert, key: client.key } });
  try {
    const discovery = await fetch(`${server.issuer}/.well-known/oauth-authorization-server`, { dispatcher });
    const { mtls_endpoint_aliases } = (await discovery.json()) as { mtls_endpoint_aliases: { token_endpoint: string } };
    const res = await fetch(mtls_endpoint_aliases.token_endpoint, {
      method: 'POST',
      dispatcher,
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'orders-svc' }),
    });
    return { status: res.status, ...((await res.json()) as Record<string, unknown>) };
  } finally {
    await dispatcher.close();
  }
}

test('tls_client_auth: the SPIFFE ID authenticates, and the token is bound to the certificate', async (t) => {
  const server = await MockTokenServer.start({ tls: certs }); // https://127.0.0.1:<port>, trusted through caCert
  t.after(() => server.close());
  const spiffeId = 'spiffe://example.org/ns/shop/sa/orders';
  server.addClient({ clientId: 'orders-svc', tlsClientAuthSanUri: spiffeId, allowedScopes: ['orders.read'] });

  const orders = await certs.issueClientCertificate({ spiffeId });
  const answer = await requestToken(server, orders);
  assert.equal(answer.status, 200);
  const claims = await server.verifyAccessToken(String(answer.access_token));
  assert.deepEqual(claims.cnf, { 'x5t#S256': orders.sha256 }); // RFC 8705 §3: bound to this certificate
  assert.equal(server.requests.at(-1)?.authMethod, 'tls_client_auth');

  const billing = await certs.issueClientCertificate({ spiffeId: 'spiffe://example.org/ns/shop/sa/billing' });
  assert.equal((await requestToken(server, billing)).error, 'invalid_client'); // another identity: 401
});

test('self_signed_tls_client_auth: a renewed certificate works once it is registered', async (t) => {
  const server = await MockTokenServer.start({ tls: certs });
  t.after(() => server.close());
  const first = await createSelfSignedClientCertificate({ commonName: 'orders' });
  server.addClient({ clientId: 'orders-svc', selfSignedCertificates: [first.cert] });
  assert.equal((await requestToken(server, first)).status, 200);

  const next = await first.renew(); // same subject, new key pair
  assert.equal((await requestToken(server, next)).status, 401); // not registered yet
  server.addClient({ clientId: 'orders-svc', selfSignedCertificates: [first.cert, next.cert] }); // the rollover
  const answer = await requestToken(server, next);
  assert.equal(answer.status, 200);
  assert.deepEqual((await server.verifyAccessToken(String(answer.access_token))).cnf, { 'x5t#S256': next.sha256 });
});
