// Mutual TLS on a connect-node server: connectPeerContextValues reads the verified client certificate
// once per connection, certificate-bound tokens (RFC 8705) pass only from their certificate on both
// protocols and all four call kinds, and onDecision, authorize and handlers see the caller.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { Code, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { connectPeerContextValues, getConnectPeerIdentity } from '../../src/connect/index.js';
import type { ClientCertificate } from '../../src/testing/index.js';
import { callKinds, protocols, testCertificates, type Protocol } from './connect-fixture.js';
import { EchoService } from './echo-service.js';
import { startKeyServerScene } from './server-fixture.js';

const spiffeId = 'spiffe://example.test/ns/orders/sa/caller';

async function clientCertificates(): Promise<{ mine: ClientCertificate; other: ClientCertificate }> {
  const certs = await testCertificates();
  const [mine, other] = await Promise.all([
    certs.issueClientCertificate({ spiffeId }),
    certs.issueClientCertificate({ spiffeId: 'spiffe://example.test/ns/other/sa/thief' }),
  ]);
  return { mine, other };
}

/** An Echo client over `protocol` presenting `certificate` (none: TLS without a client certificate). */
async function clientOf(protocol: Protocol, baseUrl: string, certificate: ClientCertificate | undefined) {
  const { caCert } = await testCertificates();
  const nodeOptions = { ca: caCert, ...(certificate ? { cert: certificate.cert, key: certificate.key } : {}) };
  const options = { baseUrl, httpVersion: '2' as const, nodeOptions };
  return createClient(
    EchoService,
    protocol === 'connect' ? createConnectTransport(options) : createGrpcTransport(options),
  );
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

for (const protocol of protocols) {
  describe(`Connect server with mutual TLS (${protocol} protocol)`, () => {
    it('a bound token passes from its certificate, certificate_mismatch from another or none, on all four call kinds', async (t) => {
      const { mine, other } = await clientCertificates();
      const { keys, server } = await startKeyServerScene(t, {}, { mutualTls: true });
      const token = await keys.sign({ scope: 'orders.read orders.write', cnf: { 'x5t#S256': mine.sha256 } });
      const [own, foreign, anonymous] = await Promise.all(
        [mine, other, undefined].map((certificate) => clientOf(protocol, server.baseUrl, certificate)),
      );
      for (const [kind, call] of Object.entries(callKinds)) {
        assert.equal((await call(own!, bearer(token))).error, undefined, kind);
        for (const client of [foreign!, anonymous!]) {
          const { error } = await call(client, bearer(token));
          assert.equal(error?.code, Code.Unauthenticated, kind);
          assert.equal(error?.metadata.get('grpc-oauth2-reason'), 'certificate_mismatch', kind);
        }
      }
      assert.ok(server.sightings.every((sighting) => sighting.peerSha256 === mine.sha256));
    });

    it('onDecision, authorize and handlers get the identity; requireBoundTokens refuses unbound tokens', async (t) => {
      const { mine, other } = await clientCertificates();
      const { keys, server } = await startKeyServerScene(
        t,
        { authorize: ({ peer }) => peer?.spiffeId === spiffeId, requireBoundTokens: ['/test.v1.Echo/Bidi'] },
        { mutualTls: true },
      );
      const token = await keys.sign();
      const own = await clientOf(protocol, server.baseUrl, mine);
      assert.equal((await callKinds.unary(own, bearer(token))).error, undefined);
      const refused = await callKinds.unary(await clientOf(protocol, server.baseUrl, other), bearer(token));
      assert.equal(refused.error?.metadata.get('grpc-oauth2-reason'), 'authorize_denied');
      const unbound = await callKinds.bidi(own, bearer(token));
      assert.equal(unbound.error?.metadata.get('grpc-oauth2-reason'), 'token_not_bound');
      assert.deepEqual(
        server.decisions.map((decision) => [decision.reason, decision.peer?.spiffeId]),
        [
          ['granted', spiffeId],
          ['authorize_denied', 'spiffe://example.test/ns/other/sa/thief'],
          ['token_not_bound', spiffeId],
        ],
      );
      assert.deepEqual(
        server.sightings.map((sighting) => sighting.peerSha256),
        [mine.sha256],
      );
    });
  });
}

describe('connectPeerContextValues', () => {
  it('reads nothing from a request without a verified TLS socket, and getConnectPeerIdentity nothing from a foreign context', () => {
    for (const request of [{}, { socket: null }, { socket: { authorized: false } }, { socket: { authorized: true } }])
      assert.equal(getConnectPeerIdentity({ values: connectPeerContextValues(request) }), undefined);
    assert.equal(getConnectPeerIdentity({} as never), undefined);
    assert.equal(getConnectPeerIdentity(null as never), undefined);
  });

  it("reads an HTTP/2 connection's certificate once, whatever the request's own socket proxy", async () => {
    const { mine } = await clientCertificates();
    let reads = 0;
    const socket = {
      authorized: true,
      getPeerCertificate: () => (reads++, { raw: new X509Certificate(mine.cert).raw }),
    };
    const session = { socket };
    const identities = [1, 2, 3].map(() =>
      getConnectPeerIdentity({ values: connectPeerContextValues({ socket: { ...socket }, stream: { session } }) }),
    );
    assert.equal(reads, 1);
    assert.equal(identities[0]?.certificateSha256, mine.sha256);
    assert.ok(identities.every((identity) => identity === identities[0]));
  });
});
