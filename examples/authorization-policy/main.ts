// A small shop's gRFC A43 authorization policy (policy.json, the same file its Go and Java services
// read) on a grpc-js server, behind the bearer-token interceptor:
// - health is public: no certificate, no token;
// - the admin service answers one SPIFFE ID only, whatever scopes a token carries;
// - orders are served to the shop's workloads for EU regions only (a header rule);
// - the token interceptor decides first (is there a valid token with the method's scope?), then the
//   policy (is this workload, this method, these headers allowed?); each refusal says which.
// Denials are audited as A59 JSON lines on stdout (the policy's stdout_logger).
// Run it with `npx tsx examples/authorization-policy/main.ts`.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { TokenManager, createAuthInterceptor, explainAuthFailure } from 'grpc-oauth2-credentials';
import {
  createAuthorizationPolicyInterceptor,
  createMtlsServerCredentials,
  createServerAuthInterceptor,
  reasonTrailer,
} from 'grpc-oauth2-credentials/server';
import { MockTokenServer, createTestCertificates, writeCertificateFiles } from 'grpc-oauth2-credentials/testing';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Requests and replies are a line of text, so the example needs no .proto.
const text = { serialize: (line: string) => Buffer.from(line), deserialize: (bytes: Buffer) => bytes.toString() };
const method = (path: string): grpc.MethodDefinition<string, string> => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: text.serialize,
  requestDeserialize: text.deserialize,
  responseSerialize: text.serialize,
  responseDeserialize: text.deserialize,
});
const shop = {
  Check: method('/grpc.health.v1.Health/Check'),
  ListOrders: method('/shop.v1.Orders/List'),
  Reset: method('/shop.v1.Admin/Reset'),
};
const audience = 'https://shop.example.test';
const log = (line: string): void => console.log(line);

async function main(): Promise<void> {
  const certs = await createTestCertificates();
  const tokenServer = await MockTokenServer.start({ audience });
  tokenServer.addClient({ clientId: 'orders', clientSecret: 'orders-secret', allowedScopes: ['orders.read'] });
  tokenServer.addClient({ clientId: 'ops', clientSecret: 'ops-secret', allowedScopes: ['shop.admin'] });
  const dir = await mkdtemp(join(tmpdir(), 'authz-example-'));
  const serverTls = await writeCertificateFiles(dir, {
    cert: certs.serverCert,
    key: certs.serverKey,
    ca: certs.caCert,
  });

  // Token scopes: which client application may call which method (health needs no token by default).
  const auth = createServerAuthInterceptor({
    issuer: tokenServer.issuer,
    audience,
    allowInsecureRequests: true, // the mock issuer speaks http on loopback
    methods: { '/shop.v1.Orders/*': ['orders.read'], '/shop.v1.Admin/*': ['shop.admin'] },
  });
  // The A43 policy: which workload (client certificate) may call which method, with which headers.
  const authz = createAuthorizationPolicyInterceptor({
    policyFile: fileURLToPath(new URL('./policy.json', import.meta.url)),
    refreshIntervalMs: 60_000, // re-read every minute; a bad file keeps the last good policy
    onReload: (event) => log(event.ok ? `policy ${event.policyName} loaded` : `policy kept: ${event.error.message}`),
  });
  const server = new grpc.Server({ interceptors: [auth, authz] });
  server.addService(shop, {
    Check: (_call: grpc.ServerUnaryCall<string, string>, done: grpc.sendUnaryData<string>) => done(null, 'SERVING'),
    ListOrders: (_call: grpc.ServerUnaryCall<string, string>, done: grpc.sendUnaryData<string>) =>
      done(null, '2 orders'),
    Reset: (_call: grpc.ServerUnaryCall<string, string>, done: grpc.sendUnaryData<string>) => done(null, 'reset'),
  });
  const serverCredentials = createMtlsServerCredentials({
    certFile: serverTls.certFile,
    keyFile: serverTls.keyFile,
    caFile: serverTls.caFile,
    requireClientCertificate: false, // health is public: a client without a certificate is served too
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', serverCredentials, (err, bound) => (err ? reject(err) : resolve(bound))),
  );

  const ordersCert = await certs.issueClientCertificate({ spiffeId: 'spiffe://shop.example/ns/shop/sa/orders' });
  const opsCert = await certs.issueClientCertificate({ spiffeId: 'spiffe://shop.example/ns/ops/sa/admin' });
  const tokensOf = (clientId: string, scope: string): TokenManager =>
    new TokenManager({
      issuer: tokenServer.issuer,
      clientId,
      clientSecret: `${clientId}-secret`,
      scopes: [scope],
      allowInsecureRequests: true,
    });
  const ordersTokens = tokensOf('orders', 'orders.read');
  const opsTokens = tokensOf('ops', 'shop.admin');
  const clients: grpc.Client[] = [];
  const clientOf = (cert?: { keyBuffer: Buffer; certBuffer: Buffer }, tokens?: TokenManager): grpc.Client => {
    const channelCredentials = grpc.credentials.createSsl(certs.caCertBuffer, cert?.keyBuffer, cert?.certBuffer);
    const interceptors = tokens ? [createAuthInterceptor(tokens, { channelCredentials })] : [];
    const client = new grpc.Client(`127.0.0.1:${port}`, channelCredentials, {
      'grpc.ssl_target_name_override': 'localhost',
      interceptors,
    });
    clients.push(client);
    return client;
  };
  const hints: string[] = [];
  const call = (client: grpc.Client, path: string, headers: Record<string, string> = {}): Promise<string> => {
    const metadata = new grpc.Metadata();
    for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
    return new Promise((resolve) =>
      client.makeUnaryRequest(path, text.serialize, text.deserialize, 'hello', metadata, (err, reply) => {
        if (!err) return resolve(`OK ${reply}`);
        const reason = err.metadata.get(reasonTrailer)[0]; // policy_denied: the A43 policy; missing_scope: the token
        if (reason === 'policy_denied') hints.push(explainAuthFailure(err)?.hint ?? err.message);
        resolve(`${grpc.status[err.code]} ${String(reason)}`);
      }),
    );
  };
  try {
    const orders = clientOf(ordersCert, ordersTokens);
    log(`health, no certificate, no token   ${await call(clientOf(), shop.Check.path)}`);
    log(`orders, x-region eu-west           ${await call(orders, shop.ListOrders.path, { 'x-region': 'eu-west' })}`);
    log(`orders, x-region us-east           ${await call(orders, shop.ListOrders.path, { 'x-region': 'us-east' })}`);
    log(
      `orders, x-debug                    ${await call(orders, shop.ListOrders.path, { 'x-region': 'eu-west', 'x-debug': '1' })}`,
    );
    log(`admin, from ops                    ${await call(clientOf(opsCert, opsTokens), shop.Reset.path)}`);
    log(`admin, from orders                 ${await call(orders, shop.Reset.path)}`);
    log(`admin, from orders with ops token  ${await call(clientOf(ordersCert, opsTokens), shop.Reset.path)}`);
    log(`hint: ${hints[0]}`);
  } finally {
    for (const client of clients) client.close();
    ordersTokens.close();
    opsTokens.close();
    authz.close();
    server.forceShutdown();
    await tokenServer.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error('example failed:', err);
  process.exitCode = 1;
});
