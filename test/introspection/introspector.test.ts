import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Denial } from '../../src/server/denial.js';
import type { Verified } from '../../src/server/verifier.js';
import { audience, introspect, introspectionFixture, opaqueToken, startSec } from './fixture.js';

/** The denial `verified` is, else a failure. */
function denial(verified: Verified): Denial {
  assert.ok(verified instanceof Denial, `expected a denial, got claims ${JSON.stringify(verified)}`);
  return verified;
}

/** The claims `verified` are, else a failure naming the denial. */
function claims(verified: Verified): Readonly<Record<string, unknown>> {
  assert.ok(!(verified instanceof Denial), `expected claims, got ${(verified as Denial).reason}`);
  return verified;
}

describe('introspection answers', () => {
  it('gives an active answer as the claims: its fields but active, iss the issuer, deep-frozen, scope as sent', async (t) => {
    const { endpoint, make, issue } = await introspectionFixture(t);
    const token = issue({ aud: [audience, 'other'], ext: { roles: ['admin'] } });
    const result = claims(await introspect(make(), token));
    assert.deepEqual(result, {
      sub: 'orders-svc',
      scope: 'orders.read orders.write',
      client_id: 'orders-svc',
      exp: startSec + 3_600,
      aud: [audience, 'other'],
      ext: { roles: ['admin'] },
      iss: endpoint.issuer,
    });
    assert.ok(Object.isFrozen(result));
    assert.ok(Object.isFrozen(result.aud));
    assert.ok(Object.isFrozen(result.ext.roles));
    assert.equal(endpoint.received.length, 1);
    assert.equal(endpoint.received[0]?.token, token);
  });

  it('keeps the iss of an answer that names the configured issuer', async (t) => {
    const { endpoint, make, issue } = await introspectionFixture(t);
    assert.equal(claims(await introspect(make(), issue({ iss: endpoint.issuer }))).iss, endpoint.issuer);
  });

  it('refuses a token the endpoint says is inactive: token_inactive, UNAUTHENTICATED', async (t) => {
    const { make } = await introspectionFixture(t);
    const refused = denial(await introspect(make(), opaqueToken()));
    assert.equal(refused.reason, 'token_inactive');
    assert.equal(refused.code, 16);
    assert.equal(refused.details, 'bearer token is not active');
  });

  const checks: [string, Record<string, unknown>, string, string][] = [
    [
      'another issuer',
      { iss: 'https://elsewhere.example.com' },
      'wrong_issuer',
      'bearer token from an issuer this server does not accept',
    ],
    [
      'another audience',
      { aud: 'https://billing.example.com' },
      'wrong_audience',
      'bearer token audience is not this server',
    ],
    [
      'an audience list without ours',
      { aud: ['a', 'b'] },
      'wrong_audience',
      'bearer token audience is not this server',
    ],
    ['an audience that is not a string', { aud: 5 }, 'wrong_audience', 'bearer token audience is not this server'],
    ['exp past the tolerance', { exp: startSec - 30 }, 'token_expired', 'bearer token expired'],
    ['nbf past the tolerance', { nbf: startSec + 31 }, 'token_not_yet_valid', 'bearer token not yet valid (nbf)'],
    ['an exp that is not a number', { exp: '2030-01-01' }, 'invalid_claims', 'bearer token has no valid exp claim'],
    // jose names the claim, and the JWT path words every nbf failure as not yet valid.
    ['an nbf that is not a number', { nbf: null }, 'token_not_yet_valid', 'bearer token not yet valid (nbf)'],
    ['an iat that is not a number', { iat: 'now' }, 'invalid_claims', 'bearer token has no valid iat claim'],
  ];
  for (const [what, answer, reason, details] of checks) {
    it(`refuses an active answer with ${what}: ${reason}, the JWT path's sentence`, async (t) => {
      const { make, issue } = await introspectionFixture(t);
      const refused = denial(await introspect(make(), issue(answer)));
      assert.equal(refused.reason, reason);
      assert.equal(refused.details, details);
      assert.equal(refused.code, 16);
    });
  }

  it('refuses an exp the JSON reads as Infinity (1e400): invalid_claims', async (t) => {
    const { endpoint, make } = await introspectionFixture(t);
    const token = opaqueToken();
    endpoint.fault = { body: '{"active":true,"sub":"x","exp":1e400}', headers: { 'content-type': 'application/json' } };
    assert.equal(denial(await introspect(make(), token)).reason, 'invalid_claims');
  });

  it('accepts exp and nbf within the clock tolerance, and answers without aud, exp or nbf', async (t) => {
    const { make, issue } = await introspectionFixture(t);
    const introspector = make();
    claims(await introspect(introspector, issue({ exp: startSec - 29, nbf: startSec + 30 })));
    claims(await introspect(introspector, issue({ aud: audience })));
    const bare = issue();
    claims(await introspect(introspector, bare));
  });
});

describe('introspection cache', () => {
  it('answers a token seen before synchronously, without a request', async (t) => {
    const { endpoint, make, issue } = await introspectionFixture(t);
    const introspector = make();
    const token = issue();
    const first = claims(await introspect(introspector, token));
    const again = introspect(introspector, token);
    assert.ok(!(again instanceof Promise), 'a cache hit is synchronous');
    assert.equal(again, first);
    assert.equal(endpoint.received.length, 1);
  });

  it('uses an active answer until its exp plus the tolerance, then asks again', async (t) => {
    const { endpoint, clock, make, issue } = await introspectionFixture(t);
    const introspector = make({ cacheMaxSec: 3_600 });
    const token = issue({ exp: startSec + 100 });
    claims(await introspect(introspector, token));
    await clock.advance(129_999);
    claims(introspect(introspector, token) as Verified);
    assert.equal(endpoint.received.length, 1);
    await clock.advance(1);
    assert.equal(denial(await introspect(introspector, token)).reason, 'token_expired');
    assert.equal(endpoint.received.length, 2);
  });

  it('uses an active answer for cacheMaxSec at most, then asks again (a revoked token is refused)', async (t) => {
    const { endpoint, clock, make, issue } = await introspectionFixture(t);
    const introspector = make({ cacheMaxSec: 60 });
    const token = issue();
    claims(await introspect(introspector, token));
    await clock.advance(59_999);
    claims(introspect(introspector, token) as Verified);
    endpoint.answers.set(token, { active: false });
    await clock.advance(1);
    assert.equal(denial(await introspect(introspector, token)).reason, 'token_inactive');
    assert.equal(endpoint.received.length, 2);
  });

  it('asks on every call with cacheMaxSec 0', async (t) => {
    const { endpoint, make, issue } = await introspectionFixture(t);
    const introspector = make({ cacheMaxSec: 0 });
    const token = issue();
    for (let i = 0; i < 3; i++) claims(await introspect(introspector, token));
    assert.equal(endpoint.received.length, 3);
  });

  it('remembers an inactive answer for inactiveCacheSec (default 10), then asks again', async (t) => {
    const { endpoint, clock, make } = await introspectionFixture(t);
    const introspector = make();
    const token = opaqueToken();
    assert.equal(denial(await introspect(introspector, token)).reason, 'token_inactive');
    await clock.advance(9_999);
    const again = introspect(introspector, token);
    assert.ok(!(again instanceof Promise), 'a remembered refusal is synchronous');
    assert.equal(denial(again).reason, 'token_inactive');
    assert.equal(endpoint.received.length, 1);
    await clock.advance(1);
    assert.equal(denial(await introspect(introspector, token)).reason, 'token_inactive');
    assert.equal(endpoint.received.length, 2);
  });

  it('remembers no inactive answer with inactiveCacheSec 0', async (t) => {
    const { endpoint, make } = await introspectionFixture(t);
    const introspector = make({ inactiveCacheSec: 0 });
    const token = opaqueToken();
    for (let i = 0; i < 3; i++) assert.equal(denial(await introspect(introspector, token)).reason, 'token_inactive');
    assert.equal(endpoint.received.length, 3);
  });

  it('remembers an active answer that fails a check as a refusal, but not one that is not yet valid', async (t) => {
    const { endpoint, make, issue } = await introspectionFixture(t);
    const introspector = make();
    const wrongAudience = issue({ aud: 'elsewhere' });
    const early = issue({ nbf: startSec + 60 });
    for (let i = 0; i < 2; i++) {
      assert.equal(denial(await introspect(introspector, wrongAudience)).reason, 'wrong_audience');
      assert.equal(denial(await introspect(introspector, early)).reason, 'token_not_yet_valid');
    }
    assert.equal(endpoint.received.filter((r) => r.token === wrongAudience).length, 1);
    assert.equal(endpoint.received.filter((r) => r.token === early).length, 2);
  });

  it('keeps at most maxCachedTokens active answers, dropping the least recently used', async (t) => {
    const { endpoint, make, issue } = await introspectionFixture(t);
    const introspector = make({}, { maxCachedTokens: 2 });
    const [a, b, c] = [issue(), issue(), issue()];
    for (const token of [a, b, a, c]) claims(await introspect(introspector, token));
    assert.equal(endpoint.received.length, 3);
    assert.ok(!(introspect(introspector, a) instanceof Promise), 'a, used last but one, is kept');
    assert.ok(introspect(introspector, b) instanceof Promise, 'b, least recently used, went');
  });

  it('keeps refusals in a bound of their own: a flood of inactive tokens does not push out active answers', async (t) => {
    const { endpoint, make, issue } = await introspectionFixture(t);
    const introspector = make({}, { maxCachedTokens: 10 });
    const good = issue();
    claims(await introspect(introspector, good));
    for (let i = 0; i < 50; i++) await introspect(introspector, opaqueToken());
    assert.ok(!(introspect(introspector, good) instanceof Promise), 'the active answer is still cached');
    assert.equal(endpoint.received.length, 51);
  });

  it('sends one request for 1,000 concurrent calls with one new token, and for calls that come while it is pending', async (t) => {
    const { endpoint, make, issue } = await introspectionFixture(t);
    const introspector = make();
    const token = issue();
    let open!: () => void;
    endpoint.gate = new Promise((resolve) => (open = resolve));
    const pending = (verified: Verified | Promise<Verified>): Promise<Verified> => {
      assert.ok(verified instanceof Promise, 'waits for the request');
      return verified;
    };
    const calls = Array.from({ length: 1_000 }, () => pending(introspect(introspector, token)));
    while (endpoint.received.length === 0) await new Promise((resolve) => setImmediate(resolve));
    calls.push(pending(introspect(introspector, token)));
    open();
    const results = await Promise.all(calls);
    for (const result of results) assert.equal(claims(result).sub, 'orders-svc');
    assert.equal(endpoint.received.length, 1);
  });
});
