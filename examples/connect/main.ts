// Connect-ES with OAuth2 tokens: a connect-node server over TLS whose interceptor verifies each token
// and its scope, and clients on the gRPC and the Connect protocol whose interceptor attaches the tokens.
// Run it with `npx tsx examples/connect/main.ts`.
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { setTimeout } from 'node:timers/promises';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { connectNodeAdapter, createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import type { JWTPayload } from 'jose';
import { TokenManager } from 'grpc-oauth2-credentials';
// The client side's interceptor, and the server side's (two lines, as the docs show them).
import { createConnectAuthInterceptor } from 'grpc-oauth2-credentials/connect';
import { createConnectServerAuthInterceptor, getConnectAuthClaims } from 'grpc-oauth2-credentials/connect';
import { MockTokenServer, createTestCertificates } from 'grpc-oauth2-credentials/testing';
import { OrderSchema, OrdersService } from './orders-service.js';

async function main(): Promise<void> {
  const tokenServer = await MockTokenServer.start();
  tokenServer.addClient({
    clientId: 'shop-frontend',
    clientSecret: 'example-secret-never-printed',
    allowedScopes: ['orders.read', 'orders.watch'],
  });

  // The server: verifies each token against the token server's keys, and the scope each method needs.
  const serverAuth = createConnectServerAuthInterceptor({
    issuer: tokenServer.issuer,
    audience: 'https://api.example.test', // the mock token server's audience
    jwksUri: tokenServer.jwksUri,
    allowInsecureRequests: true, // the mock token server speaks http on loopback
    methods: { '/shop.v1.Orders/GetOrder': ['orders.read'], '/shop.v1.Orders/WatchOrder': ['orders.watch'] },
  });
  await serverAuth.ready(); // the token server's keys, before the first call
  const certs = await createTestCertificates();
  const server = http2.createSecureServer(
    { cert: certs.serverCert, key: certs.serverKey },
    connectNodeAdapter({
      interceptors: [serverAuth],
      routes: (router) =>
        router.service(OrdersService, {
          getOrder(request, context) {
            const claims = getConnectAuthClaims(context); // verified, never from a header
            return create(OrderSchema, { id: request.id, status: `shipped (asked by ${describe(claims)})` });
          },
          async *watchOrder(request, context) {
            const who = describe(getConnectAuthClaims(context));
            for (const status of ['packed', 'shipped']) {
              yield create(OrderSchema, { id: request.id, status: `${status} (for ${who})` });
              await setTimeout(10); // the order moves on
            }
          },
        }),
    }),
  );
  // Open HTTP/2 sessions would keep server.close() waiting; the example ends them itself.
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => sessions.add(session.on('close', () => sessions.delete(session))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // The client side: one TokenManager, one interceptor, scopes picked per method.
  const tokens = new TokenManager({
    tokenEndpoint: tokenServer.tokenEndpoint,
    clientId: 'shop-frontend',
    clientSecret: 'example-secret-never-printed',
    scopes: ['orders.read'],
    allowInsecureRequests: true, // the mock token server speaks http on loopback
  });
  const auth = createConnectAuthInterceptor(tokens, {
    scopesFor: (method) => (method === '/shop.v1.Orders/WatchOrder' ? ['orders.watch'] : undefined),
  });
  const nodeOptions = { ca: certs.caCert }; // trust the example's own CA
  const overGrpc = createClient(OrdersService, createGrpcTransport({ baseUrl, nodeOptions, interceptors: [auth] }));
  const overConnect = createClient(
    OrdersService,
    createConnectTransport({ baseUrl, httpVersion: '2', nodeOptions, interceptors: [auth] }),
  );
  const anonymous = createClient(OrdersService, createGrpcTransport({ baseUrl, nodeOptions }));
  const plaintext = createClient(
    OrdersService,
    createConnectTransport({ baseUrl: 'http://127.0.0.1:9', httpVersion: '2', interceptors: [auth] }),
  );

  try {
    console.log(`grpc unary      ${(await overGrpc.getOrder({ id: 'order-1' })).status}`);
    for await (const order of overGrpc.watchOrder({ id: 'order-2' }))
      console.log(`grpc stream     ${order.id} ${order.status}`);
    console.log(`connect unary   ${(await overConnect.getOrder({ id: 'order-3' })).status}`);
    console.log(`token requests  ${tokenServer.tokenRequestCount} (one per scope set, shared by both transports)`);
    await anonymous.getOrder({ id: 'order-5' }).catch((error: unknown) => {
      const { code, metadata } = ConnectError.from(error);
      console.log(`no token        refused: ${Code[code]} ${metadata.get('grpc-oauth2-reason')}`);
    });
    await plaintext.getOrder({ id: 'order-4' }).then(
      () => console.log('http:           sent (unexpected)'),
      (error: unknown) => console.log(`http:           refused: ${Code[ConnectError.from(error).code]}, nothing sent`),
    );
  } finally {
    tokens.close();
    server.close();
    for (const session of sessions) session.destroy();
    await tokenServer.close();
  }
}

/** Who called, with which scopes, from the verified claims. */
function describe(claims: Readonly<JWTPayload> | undefined): string {
  return `${claims?.sub ?? 'nobody'} with ${String(claims?.scope)}`;
}

main().catch((error: unknown) => {
  console.error('example failed:', error);
  process.exitCode = 1;
});
