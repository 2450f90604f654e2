// Measures the CPU cost per unary call of the server auth interceptor: without it, with it and the
// verified-token cache, and with the cache off, for RS256 and ES256 tokens. Run once by hand:
//   npx tsx test/server/scripts/verification-cost.ts
// Client and server share this process, so figures are process CPU per call (both sides); the
// differences between rows are the interceptor's cost. Not a test: no timing is asserted anywhere.
import * as grpc from '@grpc/grpc-js';
import { jwtVerify, createLocalJWKSet } from 'jose';
import { MockTokenServer, createTestCertificates } from '../../../src/testing/index.js';
import { createServerAuthInterceptor } from '../../../src/server/index.js';
import { echoService } from '../../helpers/grpc-fixture.js';

const calls = 4000;
const concurrency = 16;
const certs = await createTestCertificates();

async function measure(label: string, interceptors: grpc.ServerInterceptor[], token: string): Promise<void> {
  const server = new grpc.Server({ interceptors });
  const reply = { method: '', authorization: [], metadata: {}, text: 'ok' };
  server.addService(echoService, {
    Unary: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, reply),
    ClientStream: () => undefined,
    ServerStream: () => undefined,
    Bidi: () => undefined,
  });
  const creds = grpc.ServerCredentials.createSsl(null, [
    { private_key: certs.serverKeyBuffer, cert_chain: certs.serverCertBuffer },
  ]);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? reject(e) : resolve(p))),
  );
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createSsl(certs.caCertBuffer), {
    'grpc.ssl_target_name_override': 'localhost',
  });
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const one = (): Promise<void> =>
    new Promise((resolve, reject) =>
      client.makeUnaryRequest(
        echoService.Unary.path,
        echoService.Unary.requestSerialize,
        echoService.Unary.responseDeserialize,
        { text: 'x' },
        metadata.clone(),
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  const run = async (n: number): Promise<void> => {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < n) await one();
      }),
    );
  };
  await run(500); // warm up: connection, JIT, JWKS fetch, cache fill
  const best: number[] = [];
  for (let round = 0; round < 3; round++) {
    const before = process.cpuUsage();
    await run(calls);
    const used = process.cpuUsage(before);
    best.push((used.user + used.system) / calls);
  }
  console.log(
    `${label.padEnd(34)} ${Math.min(...best)
      .toFixed(1)
      .padStart(7)} µs CPU per call (best of 3 rounds of ${calls})`,
  );
  client.close();
  server.forceShutdown();
}

for (const alg of ['RS256', 'ES256'] as const) {
  const tokenServer = await MockTokenServer.start({ signingAlg: alg });
  tokenServer.addClient({ clientId: 'bench', clientSecret: 'bench-secret' });
  const answer = await fetch(tokenServer.tokenEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from('bench:bench-secret').toString('base64')}`,
    },
    body: 'grant_type=client_credentials&scope=orders.read',
  });
  const { access_token: token } = (await answer.json()) as { access_token: string };
  const options = {
    issuer: tokenServer.issuer,
    audience: 'https://api.example.test',
    jwksUri: tokenServer.jwksUri,
    allowInsecureRequests: true,
    methods: { '/test.v1.Echo/*': ['orders.read'] },
  };
  await measure(`${alg} no interceptor`, [], token);
  const passThrough: grpc.ServerInterceptor = (_descriptor, call) => new grpc.ServerInterceptingCall(call);
  await measure(`${alg} pass-through interceptor`, [passThrough], token);
  await measure(`${alg} interceptor, cache on`, [createServerAuthInterceptor(options)], token);
  await measure(
    `${alg} interceptor, cache off`,
    [createServerAuthInterceptor({ ...options, maxCachedTokens: 0 })],
    token,
  );
  // jose's jwtVerify alone, for the signature check the cache saves.
  const keys = createLocalJWKSet(tokenServer.jwks);
  const start = process.cpuUsage();
  for (let i = 0; i < 2000; i++) await jwtVerify(token, keys, { issuer: tokenServer.issuer });
  const used = process.cpuUsage(start);
  console.log(
    `${`${alg} jwtVerify alone`.padEnd(34)} ${((used.user + used.system) / 2000).toFixed(1).padStart(7)} µs CPU per verification`,
  );
  await tokenServer.close();
}
