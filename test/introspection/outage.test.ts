import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Denial } from '../../src/server/denial.js';
import type { Verified } from '../../src/server/verifier.js';
import type { RawAnswer } from '../helpers/raw-token-server.js';
import { introspect, introspectionFixture, opaqueToken } from './fixture.js';

/** The `introspection_unavailable` denial `verified` is (UNAVAILABLE), else a failure; returns its internal details. */
function unavailable(verified: Verified): string {
  assert.ok(verified instanceof Denial, `expected a denial, got claims ${JSON.stringify(verified)}`);
  assert.equal(verified.reason, 'introspection_unavailable');
  assert.equal(verified.code, 14);
  assert.equal(verified.details, 'the server cannot check bearer tokens right now; try again later');
  return verified.internalDetails;
}

describe('introspection endpoint down', () => {
  it('keeps answering a cached token while the endpoint is down, and refuses an uncached one UNAVAILABLE', async (t) => {
    const { endpoint, make, issue } = await introspectionFixture(t);
    const introspector = make();
    const known = issue();
    assert.ok(!((await introspect(introspector, known)) instanceof Denial));
    endpoint.fault = { fault: 'reset' };
    const cached = introspect(introspector, known);
    assert.ok(!(cached instanceof Promise) && !(cached instanceof Denial), 'the cached answer serves');
    const details = unavailable(await introspect(introspector, issue()));
    assert.match(details, new RegExp(`could not reach introspection endpoint ${endpoint.endpoint}`));
  });

  it('stops using a cached answer at its bound even while the endpoint is down', async (t) => {
    const { endpoint, clock, make, issue } = await introspectionFixture(t);
    const introspector = make({ cacheMaxSec: 60 });
    const token = issue();
    assert.ok(!((await introspect(introspector, token)) instanceof Denial));
    endpoint.fault = { status: 503, body: 'down' };
    await clock.advance(60_000);
    assert.match(unavailable(await introspect(introspector, token)), /answered HTTP 503/);
    endpoint.fault = undefined;
    assert.ok(!((await introspect(introspector, token)) instanceof Denial), 'back once the endpoint is');
  });

  it('refuses UNAVAILABLE when nothing listens at the endpoint', async (t) => {
    const { make } = await introspectionFixture(t);
    const introspector = make({ endpoint: 'http://127.0.0.1:1/introspect' });
    assert.match(
      unavailable(await introspect(introspector, opaqueToken())),
      /could not reach introspection endpoint http:\/\/127\.0\.0\.1:1\/introspect/,
    );
  });

  it('waits at most requestTimeoutMs for an endpoint that does not answer', async (t) => {
    const { endpoint, make } = await introspectionFixture(t);
    const introspector = make({}, { requestTimeoutMs: 200 });
    endpoint.fault = { fault: 'hang' };
    const started = performance.now();
    assert.match(
      unavailable(await introspect(introspector, opaqueToken())),
      /introspection endpoint .* did not answer/,
    );
    const waitedMs = performance.now() - started;
    assert.ok(waitedMs >= 190 && waitedMs < 1_500, `waited ${waitedMs} ms`);
  });

  const notJson = /answered with a body that is not JSON$/;
  const notAnswer = /answered with JSON that is not an introspection answer \(an object with a boolean "active"\)$/;
  const badAnswers: [string, RawAnswer, RegExp][] = [
    ['a 500', { status: 500, body: { error: 'server_error' } }, /answered HTTP 500/],
    ['a body that is not JSON', { body: '<html>sign in</html>', headers: { 'content-type': 'text/html' } }, notJson],
    ['JSON that does not parse', { body: '{"active":tru', headers: { 'content-type': 'application/json' } }, notJson],
    [
      'JSON that is not an object',
      { body: '[{"active":true}]', headers: { 'content-type': 'application/json' } },
      notAnswer,
    ],
    ['JSON without active', { body: { sub: 'x', scope: 'orders.read' } }, notAnswer],
    ['an active that is not a boolean', { body: { active: 'true', sub: 'x' } }, notAnswer],
    ['a body larger than 1 MB', { body: { active: true, pad: 'x'.repeat(1_100_000) } }, /larger than 1048576 bytes/],
    ['a redirect', { status: 302, headers: { location: 'https://elsewhere.example.com/' }, body: '' }, /redirect/],
  ];
  for (const [what, answer, detail] of badAnswers) {
    it(`refuses UNAVAILABLE, with a reason for the server's logs, when the endpoint answers ${what}`, async (t) => {
      const { endpoint, make, issue } = await introspectionFixture(t);
      endpoint.fault = answer;
      const details = unavailable(await introspect(make(), issue()));
      assert.match(details, detail);
      assert.ok(details.includes(endpoint.endpoint), details);
    });
  }

  it("refuses UNAVAILABLE, saying the server's credentials were refused, when the endpoint answers 401", async (t) => {
    const { endpoint, make, issue } = await introspectionFixture(t);
    const introspector = make({ clientSecret: 'not-the-secret' });
    const details = unavailable(await introspect(introspector, issue()));
    assert.match(details, /this server's client credentials were refused: introspection endpoint \S+ answered/);
    assert.match(details, /HTTP 401 invalid_client/);
    assert.equal(endpoint.received[0]?.authenticated, false);
  });

  it("refuses UNAVAILABLE, saying the server's credentials were refused, when the endpoint answers 400", async (t) => {
    const { endpoint, make, issue } = await introspectionFixture(t);
    endpoint.fault = {
      status: 400,
      body: { error: 'invalid_request', error_description: 'client authentication failed' },
    };
    const details = unavailable(await introspect(make(), issue()));
    assert.match(details, /this server's client credentials were refused: .*HTTP 400 invalid_request/);
  });

  it('does not remember an unavailable answer: the next call asks again', async (t) => {
    const { endpoint, make, issue } = await introspectionFixture(t);
    const introspector = make();
    const token = issue();
    endpoint.fault = { status: 503 };
    unavailable(await introspect(introspector, token));
    endpoint.fault = undefined;
    assert.ok(!((await introspect(introspector, token)) instanceof Denial));
    assert.equal(endpoint.received.length, 2);
  });
});

describe('a flood of distinct tokens', () => {
  it('keeps at most maxConcurrentRequests requests in flight and refuses the calls over it at once', async (t) => {
    const { endpoint, make, issue } = await introspectionFixture(t);
    const introspector = make({ maxConcurrentRequests: 4 });
    let open!: () => void;
    endpoint.gate = new Promise((resolve) => (open = resolve));
    const pending = Array.from({ length: 4 }, () => introspect(introspector, opaqueToken()));
    assert.ok(pending.every((result) => result instanceof Promise));
    const flood = Array.from({ length: 100 }, () => introspect(introspector, opaqueToken()));
    for (const refused of flood) {
      assert.ok(!(refused instanceof Promise), 'refused at once');
      assert.match(
        unavailable(refused),
        /maxConcurrentRequests \(4\) requests to \S+ already in flight; refused without asking/,
      );
    }
    open();
    for (const result of await Promise.all(pending)) assert.equal((result as Denial).reason, 'token_inactive');
    assert.equal(endpoint.received.length, 4);
    assert.ok(!((await introspect(introspector, issue())) instanceof Denial), 'a slot is free again');
  });

  it('costs one request per distinct invalid token, and none for one sent again within inactiveCacheSec', async (t) => {
    const { endpoint, make } = await introspectionFixture(t);
    const introspector = make();
    const tokens = Array.from({ length: 20 }, opaqueToken);
    for (let round = 0; round < 5; round++)
      for (const result of await Promise.all(tokens.map(async (token) => introspect(introspector, token))))
        assert.equal((result as Denial).reason, 'token_inactive');
    assert.equal(endpoint.received.length, 20);
  });
});
