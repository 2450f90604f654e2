import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, type Interceptor } from '@connectrpc/connect';
import { audience, echoPolicy, newSigningKey, startKeyServer } from '../server/fixture.js';
import { callKinds, echoClient, protocols, type Protocol } from './connect-fixture.js';
import { startAuthConnectServer, startKeyServerScene } from './server-fixture.js';

const scene = startKeyServerScene;

/** A unary call over `protocol` with `authorization: Bearer <token>` (no SDK interceptor). */
async function callWith(protocol: Protocol, baseUrl: string, token: string) {
  const client = await echoClient(protocol, baseUrl, []);
  return callKinds.unary(client, { headers: { authorization: `Bearer ${token}` } });
}

const reasonOf = (error: { metadata: Headers } | undefined): string | null | undefined =>
  error?.metadata.get('grpc-oauth2-reason');

for (const protocol of protocols) {
  describe(`Connect server interceptor and tokens, ${protocol} protocol`, () => {
    it('refuses expired, badly signed and malformed tokens Unauthenticated with their reason', async (t) => {
      const { keys, server } = await scene(t);
      const nowSec = Math.floor(Date.now() / 1000);
      const stranger = await newSigningKey();
      const cases: [string, string, string][] = [
        ['expired', await keys.sign({ exp: nowSec - 120 }), 'token_expired'],
        [
          'signed by another key under a known kid',
          await keys.sign({}, { key: { ...stranger, jwk: { ...stranger.jwk, kid: keys.key.jwk.kid } } }),
          'bad_signature',
        ],
        ['not a JWT', 'opaque-token-value', 'malformed_token'],
        ['for another audience', await keys.sign({ aud: 'https://billing.example.test' }), 'wrong_audience'],
      ];
      for (const [what, token, reason] of cases) {
        const { error } = await callWith(protocol, server.baseUrl, token);
        assert.equal(error?.code, Code.Unauthenticated, what);
        assert.equal(reasonOf(error), reason, what);
      }
      assert.deepEqual(server.sightings, []);
      assert.deepEqual(
        server.decisions.map(({ code, reason, allowed, subject }) => ({ code, reason, allowed, subject })),
        cases.map(([, , reason]) => ({ code: Code.Unauthenticated, reason, allowed: false, subject: undefined })),
      );
    });

    it("accepts each issuer's tokens for its own audience, refuses an unknown issuer without any request", async (t) => {
      const first = await startKeyServer(t);
      const second = await startKeyServer(t);
      const server = await startAuthConnectServer(t, {
        issuers: [
          { issuer: first.issuer, audience, jwksUri: first.jwksUri },
          { issuer: second.issuer, audience: 'orders', jwksUri: second.jwksUri },
        ],
        allowInsecureRequests: true,
        methods: echoPolicy,
      });
      assert.equal((await callWith(protocol, server.baseUrl, await first.sign())).error, undefined);
      assert.equal((await callWith(protocol, server.baseUrl, await second.sign({ aud: 'orders' }))).error, undefined);
      assert.deepEqual(
        server.sightings.map(({ claims }) => claims?.iss),
        [first.issuer, second.issuer],
      );
      const wrongAudience = await callWith(protocol, server.baseUrl, await second.sign());
      assert.equal(reasonOf(wrongAudience.error), 'wrong_audience');
      const requestsBefore = first.jwksRequests + second.jwksRequests;
      const unknown = await callWith(protocol, server.baseUrl, await first.sign({ iss: 'https://idp.example.test' }));
      assert.equal(unknown.error?.code, Code.Unauthenticated);
      assert.equal(reasonOf(unknown.error), 'unknown_issuer');
      assert.equal(first.jwksRequests + second.jwksRequests, requestsBefore);
      assert.deepEqual(
        server.decisions.map(({ issuer }) => issuer),
        [first.issuer, second.issuer, undefined, undefined],
      );
    });

    it('ends calls Unavailable keys_unavailable while the keys cannot be fetched; the URL goes to onDecision only', async (t) => {
      const { keys, server } = await scene(t);
      keys.jwksStatus = 503;
      const { error } = await callWith(protocol, server.baseUrl, await keys.sign());
      assert.equal(error?.code, Code.Unavailable);
      assert.equal(reasonOf(error), 'keys_unavailable');
      assert.ok(!error.message.includes(keys.jwksUri), error.message);
      assert.ok(server.decisions[0]?.internalDetails.includes(keys.jwksUri));
      assert.deepEqual(server.sightings, []);
    });
  });
}

describe('ready()', () => {
  it("fetches the issuer's keys before the first call, so that no call waits for them", async (t) => {
    const { keys, server } = await scene(t);
    await server.interceptor.ready();
    assert.equal(keys.jwksRequests, 1);
    keys.jwksStatus = 503;
    assert.equal((await callWith('grpc', server.baseUrl, await keys.sign())).error, undefined);
    assert.equal(keys.jwksRequests, 1);
  });

  it('rejects naming the issuer that failed and why', async (t) => {
    const { keys, server } = await scene(t);
    keys.jwksStatus = 500;
    await assert.rejects(server.interceptor.ready(), (error: Error) => {
      assert.equal(
        error.message,
        `the server is not ready: issuer "${keys.issuer}": JWKS ${keys.jwksUri} answered HTTP 500`,
      );
      return true;
    });
  });
});

describe('two authorization values', () => {
  it('refuses two values an interceptor ahead of it produced (Headers joins them) as malformed_token', async (t) => {
    const appender: Interceptor = (next) => (request) => {
      request.header.append('authorization', 'Bearer second-token');
      return next(request);
    };
    const { keys, server } = await startKeyServerScene(t, {}, { before: [appender] });
    const { error } = await callWith('grpc', server.baseUrl, await keys.sign());
    assert.equal(error?.code, Code.Unauthenticated);
    assert.equal(reasonOf(error), 'malformed_token');
    assert.deepEqual(server.sightings, []);
  });
});
