// nice-grpc with OAuth2 tokens: nice-grpc runs on grpc-js, so the SDK's channel credentials go into
// its createChannel as they are. Run it with `npx tsx examples/nice-grpc/main.ts`.
import * as grpc from '@grpc/grpc-js';
import { createChannel, createClient } from 'nice-grpc';
import { TokenManager, createChannelCredentials } from 'grpc-oauth2-credentials';
import { MockTokenServer, createTestCertificates } from 'grpc-oauth2-credentials/testing';

interface Greeting {
  readonly text: string;
}

// A grpc-js service definition; nice-grpc also takes ts-proto's generated definitions.
const json = (value: Greeting): Buffer => Buffer.from(JSON.stringify(value));
const parse = (bytes: Buffer): Greeting => JSON.parse(bytes.toString('utf8')) as Greeting;
const method = {
  requestSerialize: json,
  requestDeserialize: parse,
  responseSerialize: json,
  responseDeserialize: parse,
};
const greeterService = {
  Greet: { path: '/hello.v1.Greeter/Greet', requestStream: false, responseStream: false, ...method },
  GreetMany: { path: '/hello.v1.Greeter/GreetMany', requestStream: false, responseStream: true, ...method },
} satisfies grpc.ServiceDefinition;

async function main(): Promise<void> {
  const tokenServer = await MockTokenServer.start();
  tokenServer.addClient({
    clientId: 'greeter-client',
    clientSecret: 'example-secret-never-printed',
    allowedScopes: ['greet'],
  });

  // A server that answers with the first characters of the bearer token it received.
  const certs = await createTestCertificates();
  const tokenOf = (
    call: grpc.ServerUnaryCall<Greeting, Greeting> | grpc.ServerWritableStream<Greeting, Greeting>,
  ): string => String(call.metadata.get('authorization')[0] ?? 'none').slice(0, 'Bearer eyJ'.length);
  const server = new grpc.Server();
  server.addService(greeterService, {
    Greet: (call: grpc.ServerUnaryCall<Greeting, Greeting>, callback: grpc.sendUnaryData<Greeting>) =>
      callback(null, { text: `hello ${call.request.text} (authorization: ${tokenOf(call)}...)` }),
    GreetMany: (call: grpc.ServerWritableStream<Greeting, Greeting>) => {
      for (const name of call.request.text.split(','))
        call.write({ text: `hello ${name} (authorization: ${tokenOf(call)}...)` });
      call.end();
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      '127.0.0.1:0',
      grpc.ServerCredentials.createSsl(null, [
        { cert_chain: certs.serverCertBuffer, private_key: certs.serverKeyBuffer },
      ]),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    ),
  );

  const tokens = new TokenManager({
    tokenEndpoint: tokenServer.tokenEndpoint,
    clientId: 'greeter-client',
    clientSecret: 'example-secret-never-printed',
    scopes: ['greet'],
    allowInsecureRequests: true, // the mock token server speaks http on loopback
  });
  // The one line that matters: TLS channel credentials carrying the tokens. Without credentials,
  // createChannel('host:port') would be plaintext, and createChannelCredentials refuses insecure ones.
  const channel = createChannel(
    `127.0.0.1:${port}`,
    createChannelCredentials(grpc.credentials.createSsl(certs.caCertBuffer), tokens),
    {
      'grpc.ssl_target_name_override': 'localhost', // the example certificate names localhost
    },
  );
  const greeter = createClient(greeterService, channel);

  try {
    console.log(`unary   ${(await greeter.Greet({ text: 'Ada' })).text}`);
    for await (const reply of greeter.GreetMany({ text: 'Grace,Linus' })) console.log(`stream  ${reply.text}`);
    console.log(`token requests: ${tokenServer.tokenRequestCount}`);
  } finally {
    channel.close();
    tokens.close();
    server.forceShutdown();
    await tokenServer.close();
  }
}

main().catch((error: unknown) => {
  console.error('example failed:', error);
  process.exitCode = 1;
});
