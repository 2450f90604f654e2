// Makes server interceptors with allowInsecureRequests for one scenario and prints, as JSON, the
// process warnings that caused. A child process, since a warning is given once per process.
import type { TestContext } from 'node:test';
import { createServerAuthInterceptor } from '../../../src/server/index.js';
import { unary } from '../../helpers/grpc-fixture.js';
import { bearer, startAuthServer, startKeyServer, trusting } from '../fixture.js';

const warnings: { name: string; code: unknown; message: string }[] = [];
process.on('warning', ({ name, message, ...rest }) =>
  warnings.push({ name, message, code: (rest as { code?: unknown }).code }),
);
const base = { audience: 'https://orders.example.test', methods: {}, allowInsecureRequests: true };

const scenario = process.argv[2];
if (scenario === 'loopback') {
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'idp.localhost', '[::1]'])
    createServerAuthInterceptor({ ...base, issuer: `http://${host}:8080`, jwksUri: `http://${host}:8080/keys` });
} else if (scenario === 'jwksUri') {
  createServerAuthInterceptor({ ...base, issuer: 'https://idp.example.test', jwksUri: 'http://idp.example.test/keys' });
} else if (scenario === 'issuer') {
  createServerAuthInterceptor({ ...base, issuer: 'http://idp.example.test' });
} else if (scenario === 'discovered') {
  // On loopback, but its discovery document names a JWKS elsewhere (TEST-NET-1, never reached).
  const cleanups: (() => unknown)[] = [];
  const t = { after: (cleanup: () => unknown) => cleanups.push(cleanup) } as unknown as TestContext;
  const keys = await startKeyServer(t);
  const jwksUri = 'http://192.0.2.1/keys';
  keys.documents['oauth-authorization-server'].body = { issuer: keys.issuer, jwks_uri: jwksUri };
  const auth = await startAuthServer(t, { ...trusting(keys), jwksUri: undefined, requestTimeoutMs: 200 });
  await unary(auth.client(), { metadata: bearer(await keys.sign()) });
  for (const cleanup of cleanups.reverse()) await cleanup();
}
await new Promise((resolve) => setImmediate(resolve));
process.stdout.write(JSON.stringify(warnings));
