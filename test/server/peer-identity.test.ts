// getPeerIdentity on a real grpc-js server over TLS: the verified client certificate's SPIFFE ID,
// SANs, subject and thumbprint; nothing on plaintext or without a client certificate; and, through
// this package's server credentials, one identity per connection that never outlives it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { createTestCertificates, type ClientCertificate, type TestCertificates } from '../../src/testing/index.js';
import { getPeerIdentity, type PeerIdentity } from '../../src/server/index.js';
import { identityOf } from '../../src/server/peer-identity.js';
import { withConnectionPeers } from '../../src/server/connection-peers.js';
import { openssl, inTempDir, ecKeyArgs } from '../../src/testing/openssl.js';
import { readFile } from 'node:fs/promises';
import { answerOf } from '../helpers/peer-echo.js';
import { echoService } from '../helpers/grpc-fixture.js';

interface Seen {
  readonly identity: PeerIdentity | undefined;
  readonly context: ReturnType<grpc.ServerUnaryCall<unknown, unknown>['getAuthContext']>;
}

let certificates: Promise<TestCertificates> | undefined;
const certs = (): Promise<TestCertificates> => (certificates ??= createTestCertificates());

/** A server whose Unary handler records what getPeerIdentity and getAuthContext gave it. */
async function startServer(
  t: TestContext,
  credentials: grpc.ServerCredentials,
): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = new grpc.Server();
  server.addService(
    { Unary: echoService.Unary },
    {
      Unary(call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) {
        seen.push({ identity: getPeerIdentity(call), context: call.getAuthContext() });
        callback(null, { text: 'ok' });
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  t.after(() => server.forceShutdown());
  return { port, seen };
}

async function serverCredentials(requireClientCertificate: boolean): Promise<grpc.ServerCredentials> {
  const { caCertBuffer, serverCertBuffer, serverKeyBuffer } = await certs();
  const pair = { cert_chain: serverCertBuffer, private_key: serverKeyBuffer };
  return grpc.ServerCredentials.createSsl(caCertBuffer, [pair], requireClientCertificate);
}

/** `calls` unary calls on one new client (one connection), presenting `client` when given. */
async function callFrom(t: TestContext, port: number, client: ClientCertificate | undefined, calls = 1) {
  const { caCertBuffer } = await certs();
  const credentials = grpc.credentials.createSsl(caCertBuffer, client?.keyBuffer, client?.certBuffer);
  const channel = new grpc.Client(`127.0.0.1:${port}`, credentials, { 'grpc.ssl_target_name_override': 'localhost' });
  t.after(() => channel.close());
  for (let i = 0; i < calls; i++) await answerOf(channel);
  channel.close();
}

const spiffeId = 'spiffe://example.test/ns/orders/sa/orders-client';

test('getPeerIdentity reads the verified client certificate: SPIFFE ID, SANs, subject and its x5t#S256', async (t) => {
  const client = await (
    await certs()
  ).issueClientCertificate({
    spiffeId,
    dnsNames: ['orders.example.test', 'orders-2.example.test'],
    commonName: 'orders client',
  });
  const { port, seen } = await startServer(t, await serverCredentials(true));
  await callFrom(t, port, client);
  assert.deepEqual(seen[0]!.identity, {
    spiffeId,
    uriSans: [spiffeId],
    dnsSans: ['orders.example.test', 'orders-2.example.test'],
    subject: 'CN=orders client',
    certificateSha256: client.sha256,
  });
  assert.ok(Object.isFrozen(seen[0]!.identity) && Object.isFrozen(seen[0]!.identity.uriSans));
});

test('getPeerIdentity is undefined on plaintext, on TLS without a client certificate, and for a non-call', async (t) => {
  const plaintext = await startServer(t, grpc.ServerCredentials.createInsecure());
  const channel = new grpc.Client(`127.0.0.1:${plaintext.port}`, grpc.credentials.createInsecure());
  t.after(() => channel.close());
  await answerOf(channel);
  const tls = await startServer(t, await serverCredentials(false));
  await callFrom(t, tls.port, await (await certs()).issueClientCertificate({ spiffeId }));
  assert.equal(plaintext.seen[0]!.identity, undefined);
  assert.equal(tls.seen[0]!.identity, undefined);
  assert.equal(getPeerIdentity({} as never), undefined);
  assert.equal(getPeerIdentity(null as never), undefined);
});

test("the package's credentials read a connection's certificate once, and tell TLS without a certificate from plaintext", async (t) => {
  const { port, seen } = await startServer(t, withConnectionPeers(await serverCredentials(true)));
  const client = await (await certs()).issueClientCertificate({ spiffeId });
  await callFrom(t, port, client, 3);
  await callFrom(t, port, client, 2);
  const [first, second, third, fourth, fifth] = seen.map((sighting) => sighting.identity);
  assert.equal(first?.certificateSha256, client.sha256);
  assert.ok(first === second && second === third, 'one identity object for the calls of one connection');
  assert.notEqual(third, fourth, 'a new connection is read anew');
  assert.equal(fourth, fifth);
  assert.equal(seen[0]!.context, seen[2]!.context, 'one auth context per connection');

  const optional = await startServer(t, withConnectionPeers(await serverCredentials(false)));
  await callFrom(t, optional.port, undefined);
  assert.deepEqual(optional.seen[0]!.context, { transportSecurityType: 'ssl' });
  assert.equal(optional.seen[0]!.identity, undefined);
});

test('a connection never inherits the identity of one before it, whatever the order of clients', async (t) => {
  const { port, seen } = await startServer(t, withConnectionPeers(await serverCredentials(true)));
  const issuer = await certs();
  const clients = await Promise.all(
    ['a', 'b', 'c'].map((name) => issuer.issueClientCertificate({ spiffeId: `spiffe://example.test/${name}` })),
  );
  const order = [0, 1, 0, 2, 2, 1, 0, 1, 2, 0];
  for (const index of order) await callFrom(t, port, clients[index], 2);
  await Promise.all(order.map((index) => callFrom(t, port, clients[index], 2)));
  const expected = [...order, ...order].flatMap((index) => [clients[index]!.sha256, clients[index]!.sha256]);
  assert.deepEqual(seen.map((sighting) => sighting.identity?.certificateSha256).sort(), expected.sort());
  for (let i = 0; i < order.length * 2; i += 2) assert.equal(seen[i]!.identity, seen[i + 1]!.identity);
});

test('the SPIFFE ID needs exactly one URI SAN; quoted SAN values and multi-attribute subjects are read whole', async () => {
  const pem = await inTempDir(async (path) => {
    await openssl([
      'req',
      '-x509',
      ...ecKeyArgs,
      '-keyout',
      path('k.pem'),
      '-out',
      path('c.pem'),
      '-days',
      '1',
      '-subj',
      '/C=US/O=Example, Inc./CN=orders',
      '-addext',
      'subjectAltName=URI:spiffe://example.test/a,URI:https://example.test/p?x=1,DNS:a.example.test,IP:127.0.0.1',
    ]);
    return readFile(path('c.pem'), 'utf8');
  });
  const raw = new X509Certificate(pem).raw;
  const identity = identityOf({ transportSecurityType: 'ssl', sslPeerCertificate: { raw } as never });
  assert.equal(identity?.spiffeId, undefined);
  assert.deepEqual(identity?.uriSans, ['spiffe://example.test/a', 'https://example.test/p?x=1']);
  assert.deepEqual(identity?.dnsSans, ['a.example.test']);
  assert.equal(identity?.subject, 'CN=orders,O=Example\\, Inc.,C=US');
  assert.equal(identityOf({ sslPeerCertificate: { raw: Buffer.from('not a certificate') } as never }), undefined);
});
