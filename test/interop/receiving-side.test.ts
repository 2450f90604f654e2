// The receiving side against real authorization servers (oidc-provider): two issuers on one grpc-js
// server over TLS, opaque tokens through RFC 7662 introspection, revocation seen once the cached answer
// expires, and the introspection endpoint stopped and restarted under load.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createChannelCredentials, TokenManager } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import type { AuthDecision, IssuerOptions } from '../../src/server/index.js';
import { clientStream, unary } from '../helpers/grpc-fixture.js';
import { startOidcProvider, type OidcProvider, type OidcProviderOptions } from '../helpers/oidc-provider.js';
import { closeAfterTest } from '../helpers/token-fixtures.js';
import { audience, bearer, echoPolicy, reasonOf, startAuthServer } from '../server/fixture.js';

const partner = 'https://partner.example.test';
const elsewhere = 'https://elsewhere.example.test';

async function provider(t: TestContext, options?: OidcProviderOptions): Promise<OidcProvider> {
  const started = await startOidcProvider(options);
  t.after(() => started.close());
  return started;
}

/** The introspection options of the server for `idp`: its introspector client. */
function introspectingAt(idp: OidcProvider, extra: Partial<IssuerOptions['introspection']> = {}) {
  const { clientId, clientSecret } = idp.clients.introspector;
  return { clientId, clientSecret, ...extra };
}

describe('two oidc-provider issuers on one server', () => {
  it("accepts each issuer's tokens, and refuses each where its audience or scopes do not fit", async (t) => {
    const first = await provider(t, { resources: [{ resource: audience }, { resource: elsewhere }] });
    const second = await provider(t, { resources: [{ resource: partner, scopes: ['orders.read'] }] });
    const decisions: AuthDecision[] = [];
    const server = await startAuthServer(t, {
      issuers: [
        { issuer: first.issuer, audience },
        { issuer: second.issuer, audience: partner },
      ],
      allowInsecureRequests: true,
      methods: echoPolicy,
      onDecision: (decision) => decisions.push(decision),
    });
    await server.interceptor.ready();
    const tokensOf = (idp: OidcProvider, resource: string, scopes = ['orders.read', 'orders.write']) =>
      closeAfterTest(
        t,
        new TokenManager({ issuer: idp.issuer, ...idp.clients.basic, allowInsecureRequests: true, resource, scopes }),
      );
    const clientOf = (tokens: TokenManager) =>
      server.client(createChannelCredentials(server.channelCredentials(), tokens));

    assert.equal((await unary(clientOf(tokensOf(first, audience)))).error, undefined);
    assert.equal((await unary(clientOf(tokensOf(second, partner)))).error, undefined);
    assert.deepEqual(
      decisions.map(({ issuer, reason }) => [issuer, reason]),
      [
        [first.issuer, 'granted'],
        [second.issuer, 'granted'],
      ],
    );
    // The first issuer's token for another API: its audience is not this server's.
    const wrongAudience = await unary(clientOf(tokensOf(first, elsewhere)));
    assert.equal(reasonOf(wrongAudience.error), 'wrong_audience');
    // The second issuer grants orders.read only: ClientStream needs orders.write.
    const { error } = await clientStream(clientOf(tokensOf(second, partner)));
    assert.equal(error?.code, grpc.status.PERMISSION_DENIED);
    assert.equal(reasonOf(error), 'missing_scope');
    assert.deepEqual([first.requests.introspection, second.requests.introspection], [0, 0]);
  });
});

describe('opaque tokens from oidc-provider', () => {
  async function opaqueScene(t: TestContext, cacheMaxSec = 300) {
    const jwtIdp = await provider(t);
    const idp = await provider(t, { resources: [{ resource: audience, format: 'opaque' }] });
    const clock = new ManualClock();
    const decisions: AuthDecision[] = [];
    const claimsSeen: unknown[] = [];
    const server = await startAuthServer(
      t,
      {
        issuers: [
          { issuer: jwtIdp.issuer, audience },
          { issuer: idp.issuer, audience, introspection: introspectingAt(idp, { cacheMaxSec }) },
        ],
        allowInsecureRequests: true,
        methods: echoPolicy,
        clock,
        onDecision: (decision) => decisions.push(decision),
      },
      { onUnary: (claims) => claimsSeen.push(claims) },
    );
    const client = server.client();
    const call = async (token: string) => (await unary(client, { metadata: bearer(token) })).error;
    return { jwtIdp, idp, clock, server, call, decisions, claimsSeen };
  }

  it('accepts an opaque token through introspection, with its scopes feeding the policy and its issuer named', async (t) => {
    const { jwtIdp, idp, server, call, decisions, claimsSeen } = await opaqueScene(t);
    await server.interceptor.ready();
    const { accessToken } = await idp.issueToken({ resource: audience, scope: 'orders.read' });
    assert.doesNotMatch(accessToken, /^eyJ/, 'an opaque token');
    for (let i = 0; i < 5; i++) assert.equal(await call(accessToken), undefined);
    assert.equal(idp.requests.introspection, 1, 'one introspection answer for five calls');
    const [claims] = claimsSeen as Record<string, unknown>[];
    assert.equal(claims?.iss, idp.issuer);
    assert.equal(claims?.scope, 'orders.read');
    assert.equal(decisions[0]?.issuer, idp.issuer);
    // orders.write is not in the answer's scope: ClientStream is refused by the policy.
    const { error } = await clientStream(server.client(), { metadata: bearer(accessToken) });
    assert.equal(reasonOf(error), 'missing_scope');
    // A JWT of the other issuer still goes to its keys, never to introspection.
    const jwt = await jwtIdp.issueToken({ resource: audience, scope: 'orders.read' });
    assert.equal(await call(jwt.accessToken), undefined);
    assert.equal(jwtIdp.requests.introspection + idp.requests.introspection, 1, 'the JWT went to its keys');
  });

  it('refuses a revoked token once the cached answer expires (cacheMaxSec), and 1,000 concurrent calls cost one request', async (t) => {
    const { idp, clock, call } = await opaqueScene(t, 60);
    const { accessToken } = await idp.issueToken({ resource: audience, scope: 'orders.read' });
    const first = await Promise.all(Array.from({ length: 1000 }, () => call(accessToken)));
    assert.ok(first.every((error) => error === undefined));
    assert.equal(idp.requests.introspection, 1);
    await idp.revoke(accessToken);
    assert.equal(await call(accessToken), undefined, 'the cached answer still holds');
    await clock.advance(61_000);
    const error = await call(accessToken);
    assert.equal(error?.code, grpc.status.UNAUTHENTICATED);
    assert.equal(reasonOf(error), 'token_inactive');
    assert.equal(idp.requests.introspection, 2);
  });

  it('keeps accepting a token it accepted while the introspection endpoint is stopped and restarted under load', async (t) => {
    const { idp, clock, call } = await opaqueScene(t, 300);
    const known = (await idp.issueToken({ resource: audience, scope: 'orders.read' })).accessToken;
    const fresh = (await idp.issueToken({ resource: audience, scope: 'orders.read' })).accessToken;
    assert.equal(await call(known), undefined);
    const outcomes = new Map<string, number>();
    const count = (error: grpc.ServiceError | undefined): void => {
      const key = error === undefined ? 'OK' : `${grpc.status[error.code]} ${reasonOf(error)}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    };
    const wave = async (token: string, calls = 100) =>
      (await Promise.all(Array.from({ length: calls }, () => call(token)))).forEach(count);

    const stopping = idp.stop();
    await Promise.all([wave(known), stopping]);
    await wave(known);
    const down = await call(fresh);
    assert.equal(down?.code, grpc.status.UNAVAILABLE, 'a token with no cached answer: UNAVAILABLE');
    assert.equal(reasonOf(down), 'introspection_unavailable');
    // Past the cached answer's bound, still down: UNAVAILABLE, never UNAUTHENTICATED.
    await clock.advance(301_000);
    await wave(known, 20);
    await idp.restart();
    await wave(known);
    assert.equal(await call(fresh), undefined);

    assert.equal(
      [...outcomes.keys()].filter((key) => key.startsWith('UNAUTHENTICATED')).length,
      0,
      String([...outcomes]),
    );
    assert.ok((outcomes.get('OK') ?? 0) >= 300, String([...outcomes]));
    assert.ok((outcomes.get('UNAVAILABLE introspection_unavailable') ?? 0) >= 1, String([...outcomes]));
  });
});
