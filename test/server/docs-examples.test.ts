// The code blocks of docs/server.md's round-2 sections, run as they are written: the several-issuer and
// introspection options construct an interceptor, and the ready() block fetches the keys of a real issuer.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createServerAuthInterceptor, type ServerAuthOptions } from '../../src/server/index.js';
import { audience, echoPolicy, startKeyServer } from './fixture.js';

const doc = readFileSync(new URL('../../docs/server.md', import.meta.url), 'utf8');
/** The constructor of async functions, to run a doc block that uses `await`. */
async function asyncSample(): Promise<void> {
  await Promise.resolve();
}
const AsyncFunction = (asyncSample as { constructor: unknown }).constructor as new (
  ...args: string[]
) => (...values: unknown[]) => Promise<unknown>;

/** The first ```ts block after the heading `heading`. */
function blockAfter(heading: string): string {
  const start = doc.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `docs/server.md has the heading ${heading}`);
  const open = doc.indexOf('```ts\n', start) + '```ts\n'.length;
  return doc.slice(open, doc.indexOf('```', open));
}

/** Runs `block` with `names` bound to `values`; resolves with the block's `auth` (and `server`, if it makes one). */
function run(block: string, bindings: Record<string, unknown>): Promise<unknown> {
  const names = Object.keys(bindings);
  const tail = block.includes('const server') ? 'return { auth, server };' : 'return { auth };';
  return new AsyncFunction(...names, `${block}\n${tail}`)(...Object.values(bindings));
}

describe('docs/server.md code blocks', () => {
  for (const heading of ['## Several issuers', '## Opaque tokens (RFC 7662 introspection)']) {
    it(`"${heading.slice(3)}" builds an interceptor with ready()`, async () => {
      const { auth } = (await run(blockAfter(heading), { createServerAuthInterceptor, methods: echoPolicy })) as {
        auth: { ready: unknown };
      };
      assert.equal(typeof auth, 'function');
      assert.equal(typeof auth.ready, 'function');
    });
  }

  it('"Keys before the first call" fetches the issuer\'s keys before the server takes calls', async (t) => {
    const keys = await startKeyServer(t);
    // The test's issuer speaks http on loopback: allowed here, as in every local test.
    const withLocalIssuer = (options: ServerAuthOptions) =>
      createServerAuthInterceptor({ ...options, allowInsecureRequests: true });
    const { server } = (await run(blockAfter('## Keys before the first call: `ready()`'), {
      createServerAuthInterceptor: withLocalIssuer,
      grpc,
      issuer: keys.issuer,
      audience,
      methods: echoPolicy,
    })) as { server: grpc.Server };
    t.after(() => server.forceShutdown());
    assert.equal(keys.jwksRequests, 1);
  });
});
