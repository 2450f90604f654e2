// A server whose JWKS answers 503 refuses one call; prints the status details the client got as JSON.
// Run by keys.test.ts with NODE_DEBUG=grpc-oauth2, to see where the details of the failure go.
import type { TestContext } from 'node:test';
import { unary } from '../../helpers/grpc-fixture.js';
import { bearer, startAuthServer, startKeyServer, trusting } from '../fixture.js';

const cleanups: (() => unknown)[] = [];
const t = { after: (cleanup: () => unknown) => cleanups.push(cleanup) } as unknown as TestContext;
try {
  const keys = await startKeyServer(t);
  keys.jwksStatus = 503;
  const auth = await startAuthServer(t, trusting(keys));
  const { error } = await unary(auth.client(), { metadata: bearer(await keys.sign()) });
  process.stdout.write(JSON.stringify({ code: error?.code, details: error?.details }));
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
}
