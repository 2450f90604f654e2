// Diagnostics in one process: a client whose calls are logged by createMetadataLogger (token
// redacted) and whose PERMISSION_DENIED is explained by explainAuthFailure. The server refuses a
// call the way ./server does: the status, plus the reason and the wanted scopes as trailers.
// Run it with `npx tsx examples/diagnostics/main.ts`; docs/troubleshooting.md shows its output.
import * as grpc from '@grpc/grpc-js';
import { decodeJwt } from 'jose';
import { TokenManager, createAuthInterceptor, createMetadataLogger, explainAuthFailure } from 'grpc-oauth2-credentials';
import { MockTokenServer, createTestCertificates } from 'grpc-oauth2-credentials/testing';

interface Order {
  readonly id: string;
}
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const parse = (bytes: Buffer): Order => JSON.parse(bytes.toString('utf8')) as Order;
const ordersService = {
  GetOrder: {
    path: '/orders.v1.Orders/GetOrder',
    requestStream: false,
    responseStream: false,
    requestSerialize: json,
    requestDeserialize: parse,
    responseSerialize: json,
    responseDeserialize: parse,
  },
  PlaceOrder: {
    path: '/orders.v1.Orders/PlaceOrder',
    requestStream: false,
    responseStream: false,
    requestSerialize: json,
    requestDeserialize: parse,
    responseSerialize: json,
    responseDeserialize: parse,
  },
} satisfies grpc.ServiceDefinition;
const OrdersClient = grpc.makeGenericClientConstructor(ordersService, 'Orders');

const tokenServer = await MockTokenServer.start();
tokenServer.addClient({
  clientId: 'orders-svc',
  clientSecret: 'example-secret-never-printed',
  allowedScopes: ['orders.read', 'orders.write'],
});

// A server that wants orders.write for PlaceOrder. (It only decodes the token, to stay short: a real
// one verifies it, as ./server does.)
const needs = (scope: string) => (call: grpc.ServerUnaryCall<Order, Order>, callback: grpc.sendUnaryData<Order>) => {
  const token = String(call.metadata.get('authorization')[0] ?? '').replace(/^Bearer /, '');
  if (String(decodeJwt(token).scope).split(' ').includes(scope)) return callback(null, call.request);
  const trailers = new grpc.Metadata();
  trailers.set('grpc-oauth2-reason', 'missing_scope');
  trailers.set('grpc-oauth2-scope', scope);
  callback({ code: grpc.status.PERMISSION_DENIED, details: `missing scope ${scope}`, metadata: trailers });
};
const certs = await createTestCertificates();
const server = new grpc.Server();
server.addService(ordersService, { GetOrder: needs('orders.read'), PlaceOrder: needs('orders.write') });
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync(
    '127.0.0.1:0',
    grpc.ServerCredentials.createSsl(null, [
      { private_key: certs.serverKeyBuffer, cert_chain: certs.serverCertBuffer },
    ]),
    (err, bound) => (err ? reject(err) : resolve(bound)),
  ),
);

const tokens = new TokenManager({
  issuer: tokenServer.issuer,
  clientId: 'orders-svc',
  clientSecret: 'example-secret-never-printed',
  allowInsecureRequests: true,
  scopes: ['orders.read'],
});
const tls = grpc.credentials.createSsl(certs.caCertBuffer);
const client = new OrdersClient(`127.0.0.1:${port}`, tls, {
  'grpc.ssl_target_name_override': 'localhost',
  // The logger after the auth interceptor, so it sees the header that interceptor attaches.
  interceptors: [
    createAuthInterceptor(tokens, { channelCredentials: tls }),
    createMetadataLogger({ log: (line) => console.log(line) }),
  ],
});
const call = (method: 'GetOrder' | 'PlaceOrder') =>
  new Promise<grpc.ServiceError | null>((resolve) =>
    (client[method] as (request: Order, callback: (err: grpc.ServiceError | null) => void) => void)(
      { id: 'o-1' },
      resolve,
    ),
  );

await call('GetOrder');
const err = await call('PlaceOrder');
if (err) console.log(`hint: ${explainAuthFailure(err)?.hint ?? err.message}`);

client.close();
server.forceShutdown();
tokens.close();
await tokenServer.close();
