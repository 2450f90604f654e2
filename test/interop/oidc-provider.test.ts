// Smoke tests of test/helpers/oidc-provider.ts: real oidc-provider authorization servers issuing the
// tokens the receiving side's tests verify (JWT through ./server over TLS, opaque through
// introspection), two of them as two issuers, quiet, and closed without keeping the process alive.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { createChannelCredentials, TokenManager, type TokenManagerOptions } from '../../src/index.js';
import { clientStream, unary } from '../helpers/grpc-fixture.js';
import { startOidcProvider, type OidcProvider, type OidcProviderOptions } from '../helpers/oidc-provider.js';
import { runCommand, sourceCondition } from '../helpers/run-script.js';
import { closeAfterTest } from '../helpers/token-fixtures.js';
import { audience, echoPolicy, reasonOf, startAuthServer } from '../server/fixture.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));

async function provider(t: TestContext, options?: OidcProviderOptions): Promise<OidcProvider> {
  const started = await startOidcProvider(options);
  t.after(() => started.close());
  return started;
}

/** A TokenManager finding `idp` by discovery, as the client named `client`. */
function managerOf(
  t: TestContext,
  idp: OidcProvider,
  client: keyof OidcProvider['clients'],
  extra: TokenManagerOptions = {},
): TokenManager {
  const options = { issuer: idp.issuer, ...idp.clients[client], allowInsecureRequests: true, retry: { retries: 0 } };
  return closeAfterTest(t, new TokenManager({ ...options, scopes: ['orders.read'], ...extra }));
}

/** The TLS echo server behind createServerAuthInterceptor, trusting `idp` found by discovery. */
function serverTrusting(t: TestContext, idp: OidcProvider) {
  return startAuthServer(t, { issuer: idp.issuer, audience, allowInsecureRequests: true, methods: echoPolicy });
}

const clientNames = ['basic', 'post', 'privateKeyJwt'] as const;

describe('oidc-provider harness: JWT access tokens', () => {
  for (const client of clientNames) {
    it(`a TokenManager (${idOf(client)}) gets an RS256 at+jwt token that passes the interceptor on a TLS grpc-js server`, async (t) => {
      const idp = await provider(t);
      const tokens = managerOf(t, idp, client, { resource: audience });
      const server = await serverTrusting(t, idp);
      const { error } = await unary(server.client(createChannelCredentials(server.channelCredentials(), tokens)));
      assert.equal(error, undefined);
      assert.deepEqual(server.sightings, [
        { method: '/test.v1.Echo/Unary', where: 'entry', subject: idp.clients[client].clientId },
      ]);
      assert.deepEqual(idp.requests, { discovery: 2, jwks: 1, token: 1, introspection: 0, revocation: 0 });
      const header = decodeProtectedHeader((await tokens.getToken()).accessToken);
      assert.deepEqual([header.alg, header.typ], ['RS256', 'at+jwt']);
    });
  }

  it('a token request without `resource` gets the default resource as audience', async (t) => {
    const idp = await provider(t);
    const server = await serverTrusting(t, idp);
    const tokens = managerOf(t, idp, 'basic');
    const { error } = await unary(server.client(createChannelCredentials(server.channelCredentials(), tokens)));
    assert.equal(error, undefined);
  });

  it("scopes outside the resource's are dropped from the token, and the server refuses the method needing one", async (t) => {
    const idp = await provider(t, { resources: [{ resource: audience, scopes: ['orders.read'] }] });
    const server = await serverTrusting(t, idp);
    const tokens = managerOf(t, idp, 'post', { scopes: ['orders.read', 'orders.write'] });
    assert.deepEqual((await tokens.getToken()).scopes, ['orders.read']);
    const client = server.client(createChannelCredentials(server.channelCredentials(), tokens));
    assert.equal((await unary(client)).error, undefined);
    const { error } = await clientStream(client);
    assert.equal(error?.code, grpc.status.PERMISSION_DENIED);
    assert.equal(reasonOf(error), 'missing_scope');
  });

  it('an unknown resource indicator is refused with invalid_target', async (t) => {
    const idp = await provider(t);
    await assert.rejects(idp.issueToken({ resource: 'https://nobody.example.test' }), /invalid_target/);
  });
});

describe('oidc-provider harness: opaque tokens', () => {
  const opaque = {
    resource: 'https://ledger.example.test',
    audience: 'ledger-api',
    format: 'opaque',
    ttlSec: 120,
  } as const;

  it('issues an opaque token that introspects active with its audience, scope and lifetime, and inactive once revoked', async (t) => {
    const idp = await provider(t, { resources: [opaque] });
    const { accessToken, expiresIn, scope } = await idp.issueToken({ scope: 'orders.read' });
    assert.match(accessToken, /^[\w-]{40,}$/, 'not a JWT');
    assert.deepEqual([expiresIn, scope], [120, 'orders.read']);
    const answer = await idp.introspect(accessToken);
    assert.equal(answer.active, true);
    assert.deepEqual(
      [answer.iss, answer.aud, answer.scope, answer.client_id],
      [idp.issuer, 'ledger-api', 'orders.read', 'orders-basic'],
    );
    assert.equal((answer.exp as number) - (answer.iat as number), 120);
    await idp.revoke(accessToken);
    assert.deepEqual(await idp.introspect(accessToken), { active: false });
    assert.deepEqual([idp.requests.token, idp.requests.introspection, idp.requests.revocation], [1, 2, 1]);
  });

  it('answers `active: false` to a client that may not introspect', async (t) => {
    const idp = await provider(t, { resources: [opaque] });
    const { accessToken } = await idp.issueToken();
    const { clientId, clientSecret } = idp.clients.basic;
    const response = await fetch(idp.introspectionEndpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ token: accessToken }),
    });
    assert.deepEqual(await response.json(), { active: false });
    assert.equal((await idp.introspect(accessToken)).active, true);
  });

  it('keeps its tokens across stop() and restart() on the same port, refusing connections in between', async (t) => {
    const idp = await provider(t, { resources: [opaque] });
    const { accessToken } = await idp.issueToken();
    await idp.stop();
    await assert.rejects(
      idp.introspect(accessToken),
      (error: Error) => (error.cause as { code?: string }).code === 'ECONNREFUSED',
    );
    await idp.restart();
    assert.equal((await idp.introspect(accessToken)).active, true);
  });

  it('stop() cuts a connection in the middle of a request at once', { timeout: 10_000 }, async (t) => {
    const idp = await provider(t);
    const socket = connect(Number(new URL(idp.issuer).port), '127.0.0.1');
    t.after(() => socket.destroy());
    await once(socket, 'connect');
    socket.write('POST /token/introspection HTTP/1.1\r\nhost: 127.0.0.1\r\n');
    const closed = new Promise((resolve) => socket.on('error', () => undefined).on('close', resolve));
    await idp.stop();
    await closed;
  });
});

describe('oidc-provider harness: two issuers', () => {
  it("gives tokens that verify with their own issuer's keys only", async (t) => {
    const [first, second] = [await provider(t), await provider(t)];
    const keysOf = async (idp: OidcProvider) =>
      createLocalJWKSet((await (await fetch(idp.jwksUri)).json()) as JSONWebKeySet);
    const [firstKeys, secondKeys] = [await keysOf(first), await keysOf(second)];
    const [firstToken, secondToken] = [(await first.issueToken()).accessToken, (await second.issueToken()).accessToken];
    assert.equal(
      (await jwtVerify(firstToken, firstKeys, { issuer: first.issuer, audience })).payload.iss,
      first.issuer,
    );
    assert.equal(
      (await jwtVerify(secondToken, secondKeys, { issuer: second.issuer, audience })).payload.iss,
      second.issuer,
    );
    await assert.rejects(jwtVerify(firstToken, secondKeys), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
    const forged = `${secondToken.split('.').slice(0, 2).join('.')}.${firstToken.split('.')[2]}`;
    await assert.rejects(jwtVerify(forged, secondKeys), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
    const servers = [await serverTrusting(t, first), await serverTrusting(t, second)];
    for (const [i, server] of servers.entries()) {
      const own = managerOf(t, [first, second][i]!, 'basic');
      const { error } = await unary(server.client(createChannelCredentials(server.channelCredentials(), own)));
      assert.equal(error, undefined, `issuer ${i + 1}'s own server`);
    }
  });
});

describe('oidc-provider harness: output and shutdown', () => {
  it("prints a server error of the provider's with console.error", async (t) => {
    const errors = t.mock.method(console, 'error', () => undefined);
    const idp = await provider(t, { resources: [{ resource: audience, ttlSec: 0.5 }] });
    await assert.rejects(idp.issueToken(), /server_error/);
    assert.equal(errors.mock.callCount(), 1);
    assert.match(String(errors.mock.calls[0]?.arguments[0]), /server_error at \/token/);
  });

  it('loads, serves two issuers and every client, follows a mocked Date, prints nothing, and lets the process exit once closed', async (t) => {
    // In a child: the first load of oidc-provider is what may warn, and node:test's Date mock warns
    // once per process that it is experimental (silenced in the child by --disable-warning).
    const script = fileURLToPath(new URL('../fixtures/oidc-provider-script.ts', import.meta.url));
    const args = [tsx, '--disable-warning=ExperimentalWarning', sourceCondition, script];
    const result = await runCommand((fn) => t.after(fn), process.execPath, args, root, 30_000);
    assert.deepEqual(result, {
      code: 0,
      stdout: [
        'issued 6 tokens',
        'opaque token active, then revoked and inactive',
        'opaque token of 60 s active 59 s later, inactive 76 s later (15 s tolerance)',
        '',
      ].join('\n'),
      stderr: '',
    });
  });
});

function idOf(client: (typeof clientNames)[number]): string {
  return { basic: 'client_secret_basic', post: 'client_secret_post', privateKeyJwt: 'private_key_jwt' }[client];
}
