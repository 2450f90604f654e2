// Mutual TLS end to end, with one certificate per service that renews itself:
// - the client's certificate lives in files laid out as cert-manager writes them (a `..data` symlink
//   swapped on renewal); the channel presents it, and the token endpoint authenticates the client by it
//   (RFC 8705 tls_client_auth) and binds its tokens to it (cnf x5t#S256);
// - the server's certificate renews itself the same way; handlers read the caller's identity, and the
//   server accepts only tokens bound to the certificate of the connection they come on, so a stolen
//   token is useless elsewhere;
// - after a renewal, the first call on a new connection carries a token bound to the old certificate:
//   refused certificate_mismatch, and made once more with a token bound to the new one.
// Run it with `npx tsx examples/mtls/main.ts`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Agent, setGlobalDispatcher } from 'undici';
import { TokenManager, createAuthInterceptor, createMtlsChannelCredentials } from 'grpc-oauth2-credentials';
import {
  createMtlsServerCredentials,
  createServerAuthInterceptor,
  getAuthClaims,
  getPeerIdentity,
} from 'grpc-oauth2-credentials/server';
import { MockTokenServer, createTestCertificates, writeCertificateFiles } from 'grpc-oauth2-credentials/testing';

// The reply is a line of text, so the example needs no .proto.
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
const spiffeId = 'spiffe://example.org/ns/shop/sa/orders';

async function main(): Promise<void> {
  const certs = await createTestCertificates();
  // The resource server fetches the issuer's keys with Node's fetch; the example's issuer has a test CA.
  // In production the IdP's certificate is publicly trusted (or give Node NODE_EXTRA_CA_CERTS).
  setGlobalDispatcher(new Agent({ connect: { ca: certs.caCert } }));
  const tokenServer = await MockTokenServer.start({ tls: certs }); // https, RFC 8705 at its mtls_endpoint_aliases
  tokenServer.addClient({ clientId: 'orders-svc', tlsClientAuthSanUri: spiffeId, allowedScopes: ['orders.read'] });
  const dir = await mkdtemp(join(tmpdir(), 'mtls-example-'));
  const first = await certs.issueClientCertificate({ spiffeId });
  const mounted = await writeCertificateFiles(join(dir, 'client'), {
    cert: first.cert,
    key: first.key,
    ca: certs.caCert,
  });
  const { certFile, keyFile, caFile } = mounted;
  const serverTls = await writeCertificateFiles(join(dir, 'server'), {
    cert: certs.serverCert,
    key: certs.serverKey,
    ca: certs.caCert,
  });

  // The server: mutual TLS that renews itself, bound tokens only, and the caller's identity in handlers.
  const auth = createServerAuthInterceptor({
    issuer: tokenServer.issuer,
    audience: 'https://api.example.test',
    methods: { '/example.v1.Peer/WhoAmI': ['orders.read'] },
    requireBoundTokens: true,
    onDecision: (decision) => {
      if (!decision.allowed) log(`server refused  ${decision.reason} (caller ${decision.peer?.spiffeId})`);
    },
  });
  const server = new grpc.Server({ interceptors: [auth] });
  server.addService(
    { WhoAmI: whoAmI },
    {
      WhoAmI(call: grpc.ServerUnaryCall<string, string>, callback: grpc.sendUnaryData<string>) {
        const peer = getPeerIdentity(call); // { spiffeId, uriSans, dnsSans, subject, certificateSha256 }
        const cnf = getAuthClaims(call)?.cnf as { 'x5t#S256'?: string } | undefined;
        callback(null, `${peer?.spiffeId} ${cnf?.['x5t#S256'] === peer?.certificateSha256} ${peer?.certificateSha256}`);
      },
    },
  );
  const serverCredentials = createMtlsServerCredentials({
    certFile: serverTls.certFile,
    keyFile: serverTls.keyFile,
    caFile: serverTls.caFile,
    requireClientCertificate: true,
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', serverCredentials, (err, bound) => (err ? reject(err) : resolve(bound))),
  );

  // The client: one certificate for the token endpoint and the channel.
  const tokens = new TokenManager({
    issuer: tokenServer.issuer,
    clientId: 'orders-svc',
    clientAuthMethod: 'tls_client_auth',
    tlsClientCertificate: { certFile, keyFile, caFile }, // caFile: the test CA also signed the token server's certificate
    scopes: ['orders.read'],
  });
  const mtls = createMtlsChannelCredentials({ certFile, keyFile, caFile, refreshIntervalMs: 100 });
  const clients: grpc.Client[] = [];
  const ask = async (interceptors: grpc.Interceptor[]): Promise<string[]> => {
    // A new client per question, so each one opens a new connection.
    const client = new grpc.Client(`127.0.0.1:${port}`, mtls, {
      'grpc.ssl_target_name_override': 'localhost',
      'grpc.use_local_subchannel_pool': 1,
      interceptors,
    });
    clients.push(client);
    const { requestSerialize, responseDeserialize } = whoAmI;
    const reply = await new Promise<string>((resolve) =>
      client.makeUnaryRequest(whoAmI.path, requestSerialize, responseDeserialize, 'who am I?', (err, text) =>
        resolve(err ? `${grpc.status[err.code]} ${err.details}` : text!),
      ),
    );
    return reply.split(' ');
  };
  const interceptor = createAuthInterceptor(tokens, { channelCredentials: mtls });
  try {
    const [caller, bound] = await ask([interceptor]);
    log(`first call      caller ${caller}, token bound to its certificate: ${bound}`);

    // cert-manager renews the certificate (same identity, new key): the `..data` symlink now points at it.
    const renewed = await first.renew();
    await mounted.renew({ cert: renewed.cert, key: renewed.key, ca: certs.caCert });
    let [renewedCaller, renewedBound, presented] = await ask([interceptor]);
    for (let tries = 0; presented !== renewed.sha256 && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100)); // the channel re-reads its files every 100 ms here
      [renewedCaller, renewedBound, presented] = await ask([interceptor]);
    }
    log(`after renewal   caller ${renewedCaller}, token bound to its certificate: ${renewedBound}`);

    // A token that leaked from this service, replayed by another one with its own certificate.
    const stolen = (await tokens.getToken()).accessToken;
    const thief = await certs.issueClientCertificate({ spiffeId: 'spiffe://example.org/ns/shop/sa/thief' });
    const thiefCredentials = grpc.credentials.createSsl(certs.caCertBuffer, thief.keyBuffer, thief.certBuffer);
    const replayed = new grpc.Client(`127.0.0.1:${port}`, thiefCredentials, {
      'grpc.ssl_target_name_override': 'localhost',
    });
    clients.push(replayed);
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${stolen}`);
    const answer = await new Promise<string>((resolve) =>
      replayed.makeUnaryRequest(whoAmI.path, whoAmI.requestSerialize, whoAmI.responseDeserialize, '', metadata, (err) =>
        resolve(err ? grpc.status[err.code] : 'OK'),
      ),
    );
    log(`stolen token    ${answer} from another certificate`);
  } finally {
    for (const client of clients) client.close();
    tokens.close();
    server.forceShutdown();
    await tokenServer.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
