// Several issuers on one server: each JWT goes by its `iss` to that issuer's keys and audience only,
// an unknown `iss` is refused without a request, and ready() fetches every issuer's keys up front.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { ManualClock } from '../../src/testing/index.js';
import { AuthConfigError, createServerAuthInterceptor, type AuthDecision } from '../../src/server/index.js';
import { unary } from '../helpers/grpc-fixture.js';
import { invalidOption } from '../helpers/config-error.js';
import { startIntrospectionEndpoint } from '../introspection/introspection-endpoint.js';
import {
  audience,
  bearer,
  echoPolicy,
  newSigningKey,
  reasonOf,
  startAuthServer,
  startKeyServer,
  trusting,
} from './fixture.js';

async function twoIssuers(t: TestContext, extra: { onDecision?: (decision: AuthDecision) => void } = {}) {
  const [first, second] = [await startKeyServer(t), await startKeyServer(t)];
  const clock = new ManualClock();
  const claimsSeen: unknown[] = [];
  const auth = await startAuthServer(
    t,
    {
      issuers: [
        { issuer: first.issuer, audience, jwksUri: first.jwksUri },
        { issuer: second.issuer, audience: 'orders', jwksUri: second.jwksUri, algorithms: ['RS256'] },
      ],
      allowInsecureRequests: true,
      methods: echoPolicy,
      clock,
      ...extra,
    },
    { onUnary: (claims) => claimsSeen.push(claims?.iss) },
  );
  const client = auth.client();
  const call = async (token: string) => (await unary(client, { metadata: bearer(token) })).error;
  return { first, second, clock, auth, call, claimsSeen };
}

describe('several issuers', () => {
  it("accepts each issuer's tokens for its own audience, and says which issuer verified them", async (t) => {
    const decisions: AuthDecision[] = [];
    const { first, second, call, claimsSeen } = await twoIssuers(t, { onDecision: (d) => decisions.push(d) });
    assert.equal(await call(await first.sign()), undefined);
    assert.equal(await call(await second.sign({ aud: 'orders' })), undefined);
    assert.deepEqual(claimsSeen, [first.issuer, second.issuer]);
    assert.deepEqual(
      decisions.map(({ issuer, reason }) => [issuer, reason]),
      [
        [first.issuer, 'granted'],
        [second.issuer, 'granted'],
      ],
    );
  });

  it("refuses a token with another issuer's audience, or without the method's scopes", async (t) => {
    const { first, second, call } = await twoIssuers(t);
    assert.equal(reasonOf(await call(await second.sign())), 'wrong_audience', "the first issuer's audience");
    assert.equal(reasonOf(await call(await first.sign({ aud: 'orders' }))), 'wrong_audience');
    assert.equal(reasonOf(await call(await second.sign({ aud: 'orders', scope: 'x' }))), 'missing_scope');
  });

  it("verifies a token only with the keys of the issuer it names: another issuer's key does not sign for it", async (t) => {
    const { first, second, call } = await twoIssuers(t);
    // Signed by the first issuer's key, claiming to come from the second (same kid: the second's set lacks it).
    const forged = await second.sign({ aud: 'orders' }, { key: first.key });
    assert.equal(reasonOf(await call(forged)), 'unknown_key');
    // With the second issuer's kid, but the first issuer's key: the signature fails.
    const sameKid = await newSigningKey();
    const swapped = await second.sign(
      { aud: 'orders' },
      { key: { privateKey: sameKid.privateKey, jwk: { ...sameKid.jwk, kid: second.key.jwk.kid } } },
    );
    assert.equal(reasonOf(await call(swapped)), 'bad_signature');
  });

  it('refuses a token whose iss no issuer has (unknown_issuer), without any request', async (t) => {
    const { first, second, call } = await twoIssuers(t);
    const error = await call(await first.sign({ iss: 'https://elsewhere.example.test' }));
    assert.equal(reasonOf(error), 'unknown_issuer');
    assert.match(error?.details ?? '', /issuer this server does not accept/);
    assert.equal(reasonOf(await call(await first.sign({ iss: 42 } as never))), 'unknown_issuer');
    assert.equal(first.jwksRequests + second.jwksRequests, 0);
  });
});

describe('one issuer', () => {
  it('refuses a JWT of another issuer unknown_issuer without a request, before and after the keys are fetched', async (t) => {
    const keys = await startKeyServer(t);
    const auth = await startAuthServer(t, trusting(keys));
    const call = async (token: string) => (await unary(auth.client(), { metadata: bearer(token) })).error;
    const foreign = { iss: 'https://elsewhere.example.test' };
    assert.equal(reasonOf(await call(await keys.sign(foreign, { key: await newSigningKey() }))), 'unknown_issuer');
    assert.equal(keys.jwksRequests, 0, 'no keys fetched for it');
    assert.equal(await call(await keys.sign()), undefined);
    // Keys held: signed by this issuer's key but naming another issuer, or by an unknown key.
    assert.equal(reasonOf(await call(await keys.sign(foreign))), 'unknown_issuer');
    assert.equal(reasonOf(await call(await keys.sign(foreign, { key: await newSigningKey() }))), 'unknown_issuer');
    assert.equal(keys.jwksRequests, 1);
  });
});

describe('ready()', () => {
  it("fetches every issuer's keys before the first call, so that no call waits for them", async (t) => {
    const { first, second, auth, call } = await twoIssuers(t);
    await auth.interceptor.ready();
    assert.deepEqual([first.jwksRequests, second.jwksRequests], [1, 1]);
    assert.equal(await call(await first.sign()), undefined);
    assert.equal(await call(await second.sign({ aud: 'orders' })), undefined);
    await auth.interceptor.ready();
    assert.deepEqual([first.jwksRequests, second.jwksRequests], [1, 1], 'keys held are kept');
  });

  it('finds the keys through discovery when no jwksUri is given', async (t) => {
    const keys = await startKeyServer(t);
    const auth = createServerAuthInterceptor({
      issuer: keys.issuer,
      audience,
      allowInsecureRequests: true,
      methods: echoPolicy,
    });
    await auth.ready();
    assert.equal(keys.jwksRequests, 1);
  });

  it('rejects naming each issuer that failed and why, and the others still serve', async (t) => {
    const { first, second, auth, call } = await twoIssuers(t);
    second.jwksStatus = 503;
    const error: unknown = await auth.interceptor.ready().then(
      () => assert.fail('ready() resolved'),
      (err: unknown) => err,
    );
    assert.ok(error instanceof Error);
    assert.match(error.message, new RegExp(`issuer "${second.issuer}": JWKS ${second.jwksUri.replace(/[.]/g, '\\.')}`));
    assert.doesNotMatch(error.message, new RegExp(`"${first.issuer}"`));
    assert.equal(await call(await first.sign()), undefined);
  });
});

describe('keys while the JWKS endpoint is down', () => {
  it('a new kid is keys_unavailable (UNAVAILABLE), never unknown_key, while the refetch fails', async (t) => {
    const { first, clock, call } = await twoIssuers(t);
    assert.equal(await call(await first.sign()), undefined);
    first.jwksStatus = 503;
    await clock.advance(31_000);
    const next = await newSigningKey();
    assert.equal(reasonOf(await call(await first.sign({}, { key: next }))), 'keys_unavailable');
    // Within the cooldown after the failed refetch: still unavailable, not "your token is bad".
    assert.equal(reasonOf(await call(await first.sign({}, { key: next }))), 'keys_unavailable');
    assert.equal(await call(await first.sign()), undefined, 'the last good keys keep serving');
    first.jwksStatus = undefined;
    first.served.push(next.jwk);
    await clock.advance(31_000);
    assert.equal(await call(await first.sign({}, { key: next })), undefined);
  });
});

describe('issuers options', () => {
  const base = { methods: echoPolicy, allowInsecureRequests: true };
  const entry = { issuer: 'https://a.example.test', audience: 'orders' };

  it('refuses the shorthand and issuers together, naming both', () => {
    assert.throws(
      () => createServerAuthInterceptor({ ...base, issuer: entry.issuer, audience: 'x', issuers: [entry] }),
      invalidOption(/give either issuers or issuer, audience at the top, not both/),
    );
  });

  it('refuses an entry without audience, an unknown name with a suggestion, an empty list and a repeated issuer', () => {
    const make = (issuers: unknown) => () => createServerAuthInterceptor({ ...base, issuers } as never);
    assert.throws(
      make([entry, { issuer: 'https://b.example.test' }]),
      invalidOption(/issuers\[1\]\.audience is required/),
    );
    assert.throws(
      make([{ ...entry, jwksUrl: 'https://a.example.test/k' }]),
      invalidOption(/issuers\[0\] option "jwksUrl"; did you mean "jwksUri"/),
    );
    assert.throws(make([]), invalidOption(/issuers must be a non-empty array/));
    assert.throws(make([entry, entry]), invalidOption(/names "https:\/\/a\.example\.test" twice/));
    assert.throws(make(['https://a.example.test']), invalidOption(/issuers\[0\] must be an object/));
    assert.throws(
      make([{ ...entry, algorithms: ['HS256'] }]),
      invalidOption(/issuers\[0\]\.algorithms: algorithm "HS256" is not accepted/),
    );
  });

  it('refuses an http issuer without allowInsecureRequests, naming the entry', () => {
    assert.throws(
      () =>
        createServerAuthInterceptor({
          methods: echoPolicy,
          issuers: [entry, { issuer: 'http://b.example.test', audience: 'x' }],
        }),
      (err: unknown) => err instanceof AuthConfigError && /issuers\[1\]\.issuer is http:\/\//.test(err.message),
    );
  });

  it('needs issuers or issuer', () => {
    assert.throws(
      () => createServerAuthInterceptor({ methods: echoPolicy }),
      invalidOption(/needs issuer and audience, or issuers/),
    );
  });
});

describe('opaque tokens of several issuers', () => {
  async function twoIntrospecting(t: TestContext) {
    const client = { clientId: 'orders-api', secret: 'introspection-secret-1' };
    const [ory, okta] = [await startIntrospectionEndpoint(t, client), await startIntrospectionEndpoint(t, client)];
    const introspection = (prefix: string) => ({
      clientId: client.clientId,
      clientSecret: client.secret,
      tokenPrefixes: [prefix],
    });
    const claimsSeen: unknown[] = [];
    const auth = await startAuthServer(
      t,
      {
        issuers: [
          { issuer: ory.issuer, audience, introspection: introspection('ory_at_') },
          { issuer: okta.issuer, audience, introspection: introspection('okta_') },
        ],
        allowInsecureRequests: true,
        methods: echoPolicy,
      },
      { onUnary: (claims) => claimsSeen.push(claims?.iss) },
    );
    const call = async (token: string) => (await unary(auth.client(), { metadata: bearer(token) })).error;
    return { ory, okta, auth, call, claimsSeen };
  }
  const live = (issuer: string) => ({ active: true, scope: 'orders.read', aud: audience, iss: issuer, exp: 4e9 });

  it('asks only the issuer whose prefix the token has, and refuses a token no issuer takes without a request', async (t) => {
    const { ory, okta, call, claimsSeen } = await twoIntrospecting(t);
    ory.answers.set('ory_at_first', live(ory.issuer));
    okta.answers.set('okta_second', live(okta.issuer));
    assert.equal(await call('ory_at_first'), undefined);
    assert.equal(await call('okta_second'), undefined);
    assert.deepEqual(claimsSeen, [ory.issuer, okta.issuer]);
    assert.deepEqual([ory.received.length, okta.received.length], [1, 1]);
    assert.equal(reasonOf(await call('other_token')), 'malformed_token');
    // The other issuer's answer for a token with this issuer's prefix is never asked for.
    okta.answers.set('ory_at_third', live(okta.issuer));
    assert.equal(reasonOf(await call('ory_at_third')), 'token_inactive');
    assert.deepEqual([ory.received.length, okta.received.length], [2, 1]);
  });

  it('readies every introspection, naming the issuer that failed', async (t) => {
    const { ory, okta, auth } = await twoIntrospecting(t);
    await auth.interceptor.ready();
    okta.discoverable = false;
    const fresh = createServerAuthInterceptor({
      issuers: [
        { issuer: ory.issuer, audience, introspection: { clientId: 'a', clientSecret: 's', tokenPrefixes: ['o'] } },
        { issuer: okta.issuer, audience, introspection: { clientId: 'a', clientSecret: 's', tokenPrefixes: ['k'] } },
      ],
      allowInsecureRequests: true,
      methods: echoPolicy,
    });
    await assert.rejects(fresh.ready(), (err: Error) => {
      assert.match(err.message, new RegExp(`issuer "${okta.issuer}"`));
      assert.doesNotMatch(err.message, new RegExp(`issuer "${ory.issuer}"`));
      assert.doesNotMatch(err.message, /\bs\b.*secret/);
      return true;
    });
  });

  it('refuses several introspecting issuers without tokenPrefixes, or with overlapping ones', () => {
    const entry = (issuer: string, tokenPrefixes?: string[]) => ({
      issuer,
      audience,
      introspection: { clientId: 'orders-api', clientSecret: 'x', ...(tokenPrefixes && { tokenPrefixes }) },
    });
    const make = (issuers: unknown[]) => () => createServerAuthInterceptor({ issuers, methods: echoPolicy } as never);
    assert.throws(
      make([entry('https://a.example.test'), entry('https://b.example.test', ['b_'])]),
      invalidOption(/issuers\[0\]\.introspection\.tokenPrefixes is required when several issuers introspect/),
    );
    assert.throws(
      make([entry('https://a.example.test', ['at_']), entry('https://b.example.test', ['at_x'])]),
      invalidOption(/token prefix "at_x" of issuers\[1\] overlaps "at_" of issuers\[0\]/),
    );
    assert.doesNotThrow(make([entry('https://a.example.test'), { issuer: 'https://b.example.test', audience }]));
  });

  it('names the issuer entry in introspection option errors, never the secret', () => {
    assert.throws(
      () =>
        createServerAuthInterceptor({
          issuers: [
            { issuer: 'https://a.example.test', audience, introspection: { clientId: 'x', clientSecrett: 'hunter2' } },
          ],
          methods: echoPolicy,
        } as never),
      (err: unknown) =>
        invalidOption(/issuers\[0\]\.introspection option "clientSecrett"; did you mean "clientSecret"/)(err) &&
        !(err as Error).message.includes('hunter2'),
    );
  });
});
