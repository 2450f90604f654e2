// The whole SDK in one process: a mock OAuth2 token server, a TLS gRPC server that checks bearer
// tokens, and a client whose every call carries a token from a TokenManager.
// Run it with `npm run demo`.
import * as grpc from '@grpc/grpc-js';
import { decodeJwt } from 'jose';
import { TokenManager, createAuthInterceptor, InsecureChannelError } from 'grpc-oauth2-credentials';
import { MockTokenServer, createTestCertificates } from 'grpc-oauth2-credentials/testing';
import { createServerAuthInterceptor, getAuthClaims } from 'grpc-oauth2-credentials/server';

interface Note {
  readonly text: string;
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const parse = (bytes: Buffer): Note => JSON.parse(bytes.toString('utf8')) as Note;

function method(path: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Note, Note> {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: json,
    requestDeserialize: parse,
    responseSerialize: json,
    responseDeserialize: parse,
  };
}

/** A small service defined in code (no .proto file): unary, server streaming, bidi streaming. */
const notesService = {
  Get: method('/demo.v1.Notes/Get', false, false),
  List: method('/demo.v1.Notes/List', false, true),
  Chat: method('/demo.v1.Notes/Chat', true, true),
} satisfies grpc.ServiceDefinition;
const NotesClient = grpc.makeGenericClientConstructor(notesService, 'Notes');

const log = (line: string): void => console.log(line);
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  // 1. The token server: a real HTTP server on 127.0.0.1 that signs JWT access tokens.
  const tokenServer = await MockTokenServer.start({ tokenLifetimeSec: 4 });
  tokenServer.addClient({
    clientId: 'orders-svc',
    clientSecret: 'demo-secret-never-printed',
    allowedScopes: ['notes.read'],
  });
  log(`token server   ${tokenServer.issuer} (tokens live 4 s, so a background refresh happens during the demo)`);

  // 2. The gRPC server over TLS, checking every call's bearer token against the token server's JWKS.
  const certs = await createTestCertificates();
  // The auth interceptor from ./server checks each call's token (keys from the JWKS) and scopes
  // before any handler runs; handlers read the verified claims with getAuthClaims.
  const auth = createServerAuthInterceptor({
    issuer: tokenServer.issuer,
    audience: 'https://api.example.test', // the mock token server's default audience
    jwksUri: tokenServer.jwksUri,
    allowInsecureRequests: true, // the mock token server speaks plain http on loopback
    methods: { '/demo.v1.Notes/*': ['notes.read'] },
  });
  const who = (call: { metadata: grpc.Metadata }): string => {
    const claims = getAuthClaims(call);
    return `${String(claims?.sub)} [${String(claims?.scope)}]`;
  };

  const server = new grpc.Server({ interceptors: [auth] });
  server.addService(notesService, {
    Get(call: grpc.ServerUnaryCall<Note, Note>, callback: grpc.sendUnaryData<Note>) {
      callback(null, { text: `note "${call.request.text}" for ${who(call)}` });
    },
    List(call: grpc.ServerWritableStream<Note, Note>) {
      for (const n of [1, 2, 3]) call.write({ text: `note ${n} for ${who(call)}` });
      call.end();
    },
    Chat(call: grpc.ServerDuplexStream<Note, Note>) {
      call.on('data', (note: Note) => call.write({ text: `${who(call)} said "${note.text}"` }));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      '127.0.0.1:0',
      grpc.ServerCredentials.createSsl(null, [
        { cert_chain: certs.serverCertBuffer, private_key: certs.serverKeyBuffer },
      ]),
      (err, bound) => (err ? reject(err) : resolve(bound)),
    ),
  );
  log(`gRPC server    127.0.0.1:${port} over TLS, verifying bearer JWTs`);

  // 3. The client: a TokenManager and the auth interceptor on a TLS channel.
  const tokens = new TokenManager({
    tokenEndpoint: tokenServer.tokenEndpoint,
    clientId: 'orders-svc',
    clientSecret: 'demo-secret-never-printed',
    scopes: ['notes.read'],
    allowInsecureRequests: true, // the mock token server speaks plain http on loopback
  });
  const tls = grpc.credentials.createSsl(certs.caCertBuffer);
  const client = new NotesClient(`127.0.0.1:${port}`, tls, {
    interceptors: [createAuthInterceptor(tokens, { channelCredentials: tls })],
    'grpc.ssl_target_name_override': 'localhost',
  });

  try {
    const token = await tokens.getToken();
    const claims = decodeJwt(token.accessToken);
    log(`token fetched  ${String(token)}`);
    log(
      `  claims       sub=${String(claims.sub)} scope="${String(claims.scope)}" lifetime=${Number(claims.exp) - Number(claims.iat)} s jti=${String(claims.jti).slice(0, 8)}…`,
    );

    const unary = await new Promise<Note>((resolve, reject) =>
      client.makeUnaryRequest<Note, Note>(notesService.Get.path, json, parse, { text: 'hello' }, (err, reply) =>
        err ? reject(err) : resolve(reply!),
      ),
    );
    log(`unary          ${unary.text}`);

    const listed: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = client.makeServerStreamRequest<Note, Note>(notesService.List.path, json, parse, { text: 'all' });
      stream.on('data', (note: Note) => listed.push(note.text));
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    log(`server stream  ${listed.length} messages, first: ${listed[0]}`);

    const chatted: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = client.makeBidiStreamRequest<Note, Note>(notesService.Chat.path, json, parse);
      stream.on('data', (note: Note) => chatted.push(note.text));
      stream.on('error', reject);
      stream.on('end', resolve);
      for (const text of ['ping', 'pong']) stream.write({ text });
      stream.end();
    });
    log(`bidi stream    ${chatted.join(' | ')}`);

    // 4. The token lives 4 s, shorter than the 60 s refresh margin: it is refreshed at half-life
    //    by a timer, with no call waiting.
    const refreshed = await new Promise<{ latencyMs: number; callerWaited: boolean }>((resolve) =>
      tokens.once('tokenIssued', resolve),
    );
    const next = await tokens.getToken();
    log(
      `refreshed      in the background (${refreshed.latencyMs} ms, caller waited: ${refreshed.callerWaited}); new token ${next.accessToken === token.accessToken ? 'SAME' : 'differs'}, expires in ${seconds(next.expiresAt.getTime() - Date.now())}`,
    );
    const again = await new Promise<Note>((resolve, reject) =>
      client.makeUnaryRequest<Note, Note>(
        notesService.Get.path,
        json,
        parse,
        { text: 'after refresh' },
        (err, reply) => (err ? reject(err) : resolve(reply!)),
      ),
    );
    log(`unary          ${again.text}`);
    const stats = tokens.stats();
    log(
      `stats          token requests: ${stats.tokenRequests}, calls that waited for the network: ${stats.callersWaited}, cache hits: ${stats.cacheHits}`,
    );

    // 5. An insecure channel is refused before any token is fetched or sent.
    try {
      createAuthInterceptor(tokens, { channelCredentials: grpc.credentials.createInsecure() });
      throw new Error('an insecure channel was accepted');
    } catch (err) {
      if (!(err instanceof InsecureChannelError)) throw err as Error;
      log(`insecure       refused: ${err.name}: ${err.message.split(': ').slice(1, 2).join('')}`);
    }
  } finally {
    client.close();
    tokens.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    await tokenServer.close();
  }
  log('done');
}

main().catch((err: unknown) => {
  console.error('demo failed:', err);
  process.exitCode = 1;
});
