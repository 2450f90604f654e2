// Getting started (docs/getting-started.md): a Greeter service from a .proto file, a TLS gRPC server,
// a mock OAuth2 token server, and a client whose every call carries an access token.
// Plain JavaScript (ESM); run it with `node main.js` next to greeter.proto.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { TokenManager, createChannelCredentials } from 'grpc-oauth2-credentials';
import { createServerAuthInterceptor, getAuthClaims } from 'grpc-oauth2-credentials/server';
import { MockTokenServer, createTestCertificates } from 'grpc-oauth2-credentials/testing';

// 1. The service, from the .proto file.
const definition = protoLoader.loadSync(fileURLToPath(new URL('greeter.proto', import.meta.url)));
const { Greeter } = grpc.loadPackageDefinition(definition).greeter.v1;

// 2. A token server for this demo: a real HTTP server on 127.0.0.1 that issues signed JWTs.
//    In production this is your identity provider (docs/getting-started.md lists common ones).
const audience = 'https://greeter.example.test';
const tokenServer = await MockTokenServer.start({ audience });
tokenServer.addClient({ clientId: 'greeter-client', clientSecret: 'greeter-secret', allowedScopes: ['greet'] });

// 3. The gRPC server over TLS. Its interceptor verifies each call's bearer token (signature, issuer,
//    audience, expiry) and the scopes each method needs, before the handler runs.
const certs = await createTestCertificates();
const auth = createServerAuthInterceptor({
  issuer: tokenServer.issuer,
  audience,
  methods: { '/greeter.v1.Greeter/SayHello': ['greet'] },
  allowInsecureRequests: true, // only because the mock token server speaks http on 127.0.0.1
});
const server = new grpc.Server({ interceptors: [auth] });
server.addService(Greeter.service, {
  SayHello(call, callback) {
    const claims = getAuthClaims(call);
    callback(null, { message: `Hello, ${call.request.name}! (caller: ${claims.sub}, scope: ${claims.scope})` });
  },
});
const serverCredentials = grpc.ServerCredentials.createSsl(null, [
  { cert_chain: certs.serverCertBuffer, private_key: certs.serverKeyBuffer },
]);
const port = await new Promise((resolve, reject) => {
  server.bindAsync('127.0.0.1:0', serverCredentials, (error, bound) => (error ? reject(error) : resolve(bound)));
});

// 4. The client: a TokenManager fetches and refreshes tokens; the channel credentials put one on every call.
const tokens = new TokenManager({
  issuer: tokenServer.issuer,
  clientId: 'greeter-client',
  clientSecret: 'greeter-secret',
  scopes: ['greet'],
  allowInsecureRequests: true, // only because the mock token server speaks http on 127.0.0.1
});
// The test certificate is for 'localhost'; naming it avoids Node's warning about TLS names that are IP addresses.
const target = `127.0.0.1:${port}`;
const tls = grpc.credentials.createSsl(certs.caCertBuffer);
const channelOptions = { 'grpc.ssl_target_name_override': 'localhost' };
const client = new Greeter(target, createChannelCredentials(tls, tokens), channelOptions);

try {
  // 5. The first authenticated call.
  const reply = await new Promise((resolve, reject) => {
    client.SayHello({ name: 'world' }, (error, response) => (error ? reject(error) : resolve(response)));
  });
  console.log(reply.message);

  // Without a token the server refuses the call.
  const bare = new Greeter(target, tls, channelOptions);
  const refused = await new Promise((resolve) => bare.SayHello({ name: 'nobody' }, (error) => resolve(error)));
  console.log(`without a token: ${grpc.status[refused.code]}`);
  bare.close();
} finally {
  client.close();
  tokens.close();
  server.forceShutdown();
  await tokenServer.close();
}
