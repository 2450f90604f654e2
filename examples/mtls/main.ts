// Mutual TLS with a certificate that renews itself, plus OAuth2 tokens on every call: the client's
// certificate lives in files laid out as cert-manager writes them (a `..data` symlink swapped on
// renewal), and new connections present the renewed certificate without a restart.
// Run it with `npx tsx examples/mtls/main.ts`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { TokenManager, createChannelCredentials, createMtlsChannelCredentials } from 'grpc-oauth2-credentials';
import { MockTokenServer, createTestCertificates, writeCertificateFiles } from 'grpc-oauth2-credentials/testing';

// The reply is the text `<client SPIFFE ID> <whether a bearer token came>`, so the example needs no .proto.
const whoAmI = {
  path: '/example.v1.Peer/WhoAmI',
  requestStream: false,
  responseStream: false,
  requestSerialize: (text: string) => Buffer.from(text),
  requestDeserialize: (bytes: Buffer) => bytes.toString('utf8'),
  responseSerialize: (text: string) => Buffer.from(text),
  responseDeserialize: (bytes: Buffer) => bytes.toString('utf8'),
} satisfies grpc.MethodDefinition<string, string>;
const log = (line: string): void => console.log(line);

async function main(): Promise<void> {
  const certs = await createTestCertificates();
  const tokenServer = await MockTokenServer.start();
  tokenServer.addClient({ clientId: 'orders-svc', clientSecret: 'orders-secret', allowedScopes: ['orders.read'] });
  const dir = await mkdtemp(join(tmpdir(), 'mtls-example-'));

  // A server that requires a client certificate from the CA and answers with the one it saw.
  const server = new grpc.Server();
  server.addService(
    { WhoAmI: whoAmI },
    {
      WhoAmI(call: grpc.ServerUnaryCall<string, string>, callback: grpc.sendUnaryData<string>) {
        const peer = call.getAuthContext()?.sslPeerCertificate;
        const spiffeId = /URI:(spiffe:\S+?)(,|$)/.exec(peer?.subjectaltname ?? '')?.[1] ?? 'none';
        callback(null, `${spiffeId} ${String(call.metadata.get('authorization')[0]).startsWith('Bearer ')}`);
      },
    },
  );
  const serverCredentials = grpc.ServerCredentials.createSsl(
    certs.caCertBuffer,
    [{ cert_chain: certs.serverCertBuffer, private_key: certs.serverKeyBuffer }],
    true, // client certificate required
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', serverCredentials, (err, bound) => (err ? reject(err) : resolve(bound))),
  );

  const first = await certs.issueClientCertificate({ spiffeId: 'spiffe://example.org/orders/v1' });
  const mounted = await writeCertificateFiles(join(dir, 'tls'), { cert: first.cert, key: first.key, ca: certs.caCert });
  const { certFile, keyFile, caFile } = mounted;
  const tokens = new TokenManager({
    tokenEndpoint: tokenServer.tokenEndpoint,
    clientId: 'orders-svc',
    clientSecret: 'orders-secret',
    allowInsecureRequests: true, // the mock token server speaks http on loopback
    scopes: ['orders.read'],
  });
  const clients: grpc.Client[] = [];
  const ask = async (): Promise<{ spiffeId: string; bearer: string }> => {
    // A new client per question, so each one opens a new connection.
    const client = new grpc.Client(`127.0.0.1:${port}`, credentials, {
      'grpc.ssl_target_name_override': 'localhost',
      'grpc.use_local_subchannel_pool': 1,
    });
    clients.push(client);
    const { requestSerialize, responseDeserialize } = whoAmI;
    const reply = await new Promise<string>((resolve, reject) =>
      client.makeUnaryRequest(whoAmI.path, requestSerialize, responseDeserialize, 'who am I?', (err, text) =>
        err ? reject(err) : resolve(text!),
      ),
    );
    const [spiffeId = '', bearer = ''] = reply.split(' ');
    return { spiffeId, bearer };
  };

  const mtls = createMtlsChannelCredentials({ certFile, keyFile, caFile, refreshIntervalMs: 100 });
  const credentials = createChannelCredentials(mtls, tokens);
  try {
    const before = await ask();
    log(`first call     client ${before.spiffeId}, token attached: ${before.bearer}`);

    // cert-manager renews the certificate: the `..data` symlink now points at the new pair.
    const renewed = await certs.issueClientCertificate({ spiffeId: 'spiffe://example.org/orders/v2' });
    await mounted.renew({ cert: renewed.cert, key: renewed.key, ca: certs.caCert });
    let after = await ask();
    for (let tries = 0; after.spiffeId !== 'spiffe://example.org/orders/v2' && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100)); // the files are re-read every 100 ms here
      after = await ask();
    }
    log(`after renewal  client ${after.spiffeId}, token attached: ${after.bearer}`);
  } finally {
    for (const client of clients) client.close();
    tokens.close();
    server.forceShutdown();
    await tokenServer.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
