// The receiving side in one process: a TLS gRPC server that verifies bearer JWTs and authorizes each
// method with grpc-oauth2-credentials/server, called by clients holding tokens with different scopes.
// Run it with `npx tsx examples/server-verification/main.ts`.
import * as grpc from '@grpc/grpc-js';
import { TokenManager, createChannelCredentials } from 'grpc-oauth2-credentials';
import { checkPolicy, createServerAuthInterceptor, getAuthClaims, reasonTrailer } from 'grpc-oauth2-credentials/server';
import { MockTokenServer, createTestCertificates } from 'grpc-oauth2-credentials/testing';

interface Message {
  readonly text: string;
}
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const parse = (bytes: Buffer): Message => JSON.parse(bytes.toString('utf8')) as Message;
const unaryMethod = (path: string): grpc.MethodDefinition<Message, Message> => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: json,
  requestDeserialize: parse,
  responseSerialize: json,
  responseDeserialize: parse,
});

const ordersService = {
  GetOrder: unaryMethod('/shop.v1.Orders/GetOrder'),
  PlaceOrder: unaryMethod('/shop.v1.Orders/PlaceOrder'),
} satisfies grpc.ServiceDefinition;
const healthService = { Check: unaryMethod('/grpc.health.v1.Health/Check') } satisfies grpc.ServiceDefinition;
const audience = 'https://orders.example.test';
const log = (line: string): void => console.log(line);

async function main(): Promise<void> {
  const tokenServer = await MockTokenServer.start({ audience });
  tokenServer.addClient({
    clientId: 'storefront',
    clientSecret: 'storefront-secret',
    allowedScopes: ['orders.read', 'orders.write'],
  });

  // The policy: reading needs orders.read, placing needs orders.write or orders.admin; health is public by default.
  const auth = createServerAuthInterceptor({
    issuer: tokenServer.issuer, // keys found through its discovery document
    audience,
    allowInsecureRequests: true, // the mock issuer speaks http on loopback
    methods: {
      '/shop.v1.Orders/GetOrder': ['orders.read'],
      '/shop.v1.Orders/PlaceOrder': { anyOf: ['orders.write', 'orders.admin'] },
    },
    onDecision: (d) =>
      log(`audit          ${d.method} allowed=${d.allowed} reason=${d.reason} subject=${d.subject ?? '-'}`),
  });
  checkPolicy(auth, [ordersService, healthService], { requireAll: true }); // a typo in the policy would throw here

  const server = new grpc.Server({ interceptors: [auth] });
  server.addService(ordersService, {
    GetOrder(call: grpc.ServerUnaryCall<Message, Message>, callback: grpc.sendUnaryData<Message>) {
      callback(null, { text: `order ${call.request.text} for ${String(getAuthClaims(call)?.sub)}` });
    },
    PlaceOrder(call: grpc.ServerUnaryCall<Message, Message>, callback: grpc.sendUnaryData<Message>) {
      callback(null, { text: `placed ${call.request.text} for ${String(getAuthClaims(call)?.sub)}` });
    },
  });
  server.addService(healthService, {
    Check(_call: grpc.ServerUnaryCall<Message, Message>, callback: grpc.sendUnaryData<Message>) {
      callback(null, { text: 'SERVING' });
    },
  });
  const certs = await createTestCertificates();
  const credentials = grpc.ServerCredentials.createSsl(null, [
    { cert_chain: certs.serverCertBuffer, private_key: certs.serverKeyBuffer },
  ]);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
  );

  const reader = new TokenManager({
    issuer: tokenServer.issuer,
    clientId: 'storefront',
    clientSecret: 'storefront-secret',
    scopes: ['orders.read'],
    allowInsecureRequests: true,
  });
  const clientFor = (tokens?: TokenManager): grpc.Client => {
    const tls = grpc.credentials.createSsl(certs.caCertBuffer);
    return new grpc.Client(`127.0.0.1:${port}`, tokens ? createChannelCredentials(tls, tokens) : tls, {
      'grpc.ssl_target_name_override': 'localhost',
    });
  };
  const call = (client: grpc.Client, method: grpc.MethodDefinition<Message, Message>, text: string): Promise<string> =>
    new Promise((resolve) =>
      client.makeUnaryRequest(method.path, json, parse, { text }, (err, reply) =>
        resolve(
          err
            ? `${grpc.status[err.code]}: ${err.details} (${reasonTrailer}: ${String(err.metadata.get(reasonTrailer)[0])})`
            : reply!.text,
        ),
      ),
    );

  const withToken = clientFor(reader);
  const anonymous = clientFor();
  try {
    log(`read           ${await call(withToken, ordersService.GetOrder, '42')}`);
    log(`place          ${await call(withToken, ordersService.PlaceOrder, '43')}`);
    log(`no token       ${await call(anonymous, ordersService.GetOrder, '42')}`);
    log(`health         ${await call(anonymous, healthService.Check, '')}`);
  } finally {
    withToken.close();
    anonymous.close();
    reader.close();
    server.forceShutdown();
    await tokenServer.close();
  }
}

main().catch((err: unknown) => {
  console.error('example failed:', err);
  process.exitCode = 1;
});
