// A service-account key file and per-method scopes: reads go out with an `orders.read` token, writes
// with an `orders.write` token, each cached and refreshed separately by one TokenManager.
// Run it with `npx tsx examples/service-account-scopes/main.ts`.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { TokenManager, createAuthInterceptor } from 'grpc-oauth2-credentials';
import { MockTokenServer, createTestCertificates } from 'grpc-oauth2-credentials/testing';

interface Order {
  readonly id: string;
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const parse = (bytes: Buffer): Order => JSON.parse(bytes.toString('utf8')) as Order;
const unary = (path: string): grpc.MethodDefinition<Order, Order> => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: json,
  requestDeserialize: parse,
  responseSerialize: json,
  responseDeserialize: parse,
});
const ordersService = {
  GetOrder: unary('/shop.v1.Orders/GetOrder'),
  PlaceOrder: unary('/shop.v1.Orders/PlaceOrder'),
} satisfies grpc.ServiceDefinition;

/** The scope each method needs; the server enforces it, the client requests it. */
const requiredScope: Record<string, string> = {
  [ordersService.GetOrder.path]: 'orders.read',
  [ordersService.PlaceOrder.path]: 'orders.write',
};

async function main(): Promise<void> {
  const tokenServer = await MockTokenServer.start();
  const dir = await mkdtemp(join(tmpdir(), 'sa-example-'));

  // A Google-format service-account key, as a secret manager would mount it. Made here so that no
  // private key is ever committed.
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const clientEmail = 'orders-client@shop.iam.example.test';
  const keyFile = join(dir, 'service-account.json');
  await writeFile(
    keyFile,
    JSON.stringify({
      type: 'service_account',
      client_email: clientEmail,
      private_key_id: 'key-2026-11',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      token_uri: tokenServer.tokenEndpoint,
    }),
  );
  tokenServer.addServiceAccount({
    clientEmail,
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    allowedScopes: ['orders.read', 'orders.write'],
  });

  // The server checks the token and the method's scope.
  const certs = await createTestCertificates();
  const jwks = createRemoteJWKSet(new URL(tokenServer.jwksUri));
  const check = async (call: grpc.ServerUnaryCall<Order, Order>): Promise<string> => {
    const [header] = call.metadata.get('authorization');
    const { payload } = await jwtVerify(String(header).replace(/^Bearer /, ''), jwks, { issuer: tokenServer.issuer });
    const scopes = String(payload.scope).split(' ');
    const needed = requiredScope[call.getPath()] ?? '(none)';
    if (!scopes.includes(needed))
      throw Object.assign(new Error(`needs ${needed}`), { code: grpc.status.PERMISSION_DENIED });
    return `${call.getPath()} by ${String(payload.sub)} with scope ${scopes.join(' ')}`;
  };
  const handler = (call: grpc.ServerUnaryCall<Order, Order>, callback: grpc.sendUnaryData<Order>): void => {
    check(call).then(
      (what) => callback(null, { id: `${call.request.id}: ${what}` }),
      (err: Error & { code?: number }) =>
        callback({ code: err.code ?? grpc.status.UNAUTHENTICATED, details: err.message }),
    );
  };
  const server = new grpc.Server();
  server.addService(ordersService, { GetOrder: handler, PlaceOrder: handler });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      '127.0.0.1:0',
      grpc.ServerCredentials.createSsl(null, [
        { cert_chain: certs.serverCertBuffer, private_key: certs.serverKeyBuffer },
      ]),
      (err, bound) => (err ? reject(err) : resolve(bound)),
    ),
  );

  // The client: one TokenManager from the key file, scopes picked per method.
  const tokens = TokenManager.fromServiceAccountFile(keyFile, {
    allowInsecureRequests: true, // the mock token server speaks http on loopback
  });
  const tls = grpc.credentials.createSsl(certs.caCertBuffer);
  const Client = grpc.makeGenericClientConstructor(ordersService, 'Orders');
  const client = new Client(`127.0.0.1:${port}`, tls, {
    'grpc.ssl_target_name_override': 'localhost',
    interceptors: [
      createAuthInterceptor(tokens, {
        channelCredentials: tls,
        scopesFor: (method) => [requiredScope[method] ?? 'orders.read'],
      }),
    ],
  });
  const call = (method: grpc.MethodDefinition<Order, Order>, id: string): Promise<Order> =>
    new Promise((resolve, reject) =>
      client.makeUnaryRequest<Order, Order>(method.path, json, parse, { id }, (err, reply) =>
        err ? reject(err) : resolve(reply!),
      ),
    );

  try {
    console.log(`read   ${(await call(ordersService.GetOrder, 'order-1')).id}`);
    console.log(`write  ${(await call(ordersService.PlaceOrder, 'order-2')).id}`);
    console.log(`read   ${(await call(ordersService.GetOrder, 'order-3')).id}`);
    console.log(
      `token requests: ${tokenServer.tokenRequestCount} (one per scope set; the second read reused the cached token)`,
    );
  } finally {
    client.close();
    tokens.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    await tokenServer.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error('example failed:', err);
  process.exitCode = 1;
});
