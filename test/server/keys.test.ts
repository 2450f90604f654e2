import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ManualClock } from '../../src/testing/index.js';
import {
  AuthConfigError,
  createServerAuthInterceptor,
  type AuthDecision,
  type ServerAuthOptions,
} from '../../src/server/index.js';
import { runChild } from '../helpers/child-process.js';
import { unary } from '../helpers/grpc-fixture.js';
import * as fixture from './fixture.js';
import { bearer, newSigningKey, reasonOf, startAuthServer, startKeyServer, trusting } from './fixture.js';

async function scene(t: TestContext, options: Partial<ServerAuthOptions> = {}) {
  const keys = await startKeyServer(t);
  const clock = new ManualClock();
  const decisions: AuthDecision[] = [];
  const onDecision = (decision: AuthDecision): number => decisions.push(decision);
  const auth = await startAuthServer(t, { ...trusting(keys), clock, onDecision, ...options });
  const client = auth.client();
  const call = async (token: string) => (await unary(client, { metadata: bearer(token) })).error;
  return { keys, clock, auth, call, decisions };
}

describe('signing keys', () => {
  it('fetches the JWKS once for many calls', async (t) => {
    const { keys, call } = await scene(t, { maxCachedTokens: 0 });
    const token = await keys.sign();
    await Promise.all(Array.from({ length: 20 }, () => call(token)));
    for (let i = 0; i < 5; i++) assert.equal(await call(token), undefined);
    assert.equal(keys.jwksRequests, 1);
  });

  /** Keys fetched by a first call; then a new key served beside the old one, and the clock `afterMs` on. */
  async function rotatedIn(t: TestContext, afterMs: number) {
    const context = await scene(t);
    const { keys, clock, call } = context;
    assert.equal(await call(await keys.sign()), undefined);
    const next = await newSigningKey();
    keys.served = [keys.key.jwk, next.jwk];
    await clock.advance(afterMs);
    const signWithNew = (sub = 'orders-svc') => keys.sign({ sub }, { key: next, nowMs: clock.now() });
    return { ...context, signWithNew };
  }

  it('accepts a rotated-in key after one refetch once the cooldown has passed', async (t) => {
    const { keys, call, signWithNew } = await rotatedIn(t, 30_000);
    assert.equal(await call(await signWithNew()), undefined);
    assert.equal(keys.jwksRequests, 2);
  });

  it('accepts the first token of a rotated-in key that arrives when the keys are stale: it waits for the refetch it started', async (t) => {
    const { keys, call, signWithNew } = await rotatedIn(t, 600_000);
    assert.equal(await call(await signWithNew()), undefined);
    assert.equal(keys.jwksRequests, 2);
  });

  it('accepts tokens of a rotated-in key that arrive while another call refetches the keys for it', async (t) => {
    const { keys, call, signWithNew } = await rotatedIn(t, 30_000);
    const tokens = await Promise.all(['first', 'second', 'third'].map(signWithNew));
    assert.deepEqual(await Promise.all(tokens.map(call)), [undefined, undefined, undefined]);
    assert.equal(keys.jwksRequests, 2);
  });

  it('verifies a token without kid against each key that fits (two RSA keys during a rotation)', async (t) => {
    const { keys, call } = await scene(t);
    keys.served = [(await newSigningKey()).jwk, keys.key.jwk];
    assert.equal(await call(await keys.sign({}, { header: { kid: undefined } })), undefined);
    const stranger = await newSigningKey();
    const forged = await keys.sign({}, { key: stranger, header: { kid: undefined } });
    assert.equal(reasonOf(await call(forged)), 'bad_signature');
  });

  it('does not refetch for an unknown kid within the cooldown', async (t) => {
    const { keys, clock, call } = await scene(t);
    assert.equal(await call(await keys.sign()), undefined);
    const next = await newSigningKey();
    keys.served = [next.jwk];
    await clock.advance(29_000);
    assert.equal(reasonOf(await call(await keys.sign({}, { key: next }))), 'unknown_key');
    assert.equal(keys.jwksRequests, 1);
  });

  it('answers a flood of 1,000 forged kids with at most one JWKS request per cooldown', async (t) => {
    const { keys, clock, call } = await scene(t);
    assert.equal(await call(await keys.sign()), undefined);
    const forger = await newSigningKey();
    const forged = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        keys.sign({}, { key: { ...forger, jwk: { ...forger.jwk, kid: `forged-${i}` } } }),
      ),
    );
    await clock.advance(30_000);
    const errors = await Promise.all(forged.map(call));
    assert.ok(errors.every((error) => reasonOf(error) === 'unknown_key'));
    await clock.advance(10_000);
    await Promise.all(forged.slice(0, 100).map(call));
    t.diagnostic(
      `1,000 forged kids after the cooldown, then 100 more 10 s later: ${keys.jwksRequests - 1} JWKS refetches`,
    );
    assert.equal(keys.jwksRequests, 2);
  });

  it('ends calls UNAVAILABLE while the JWKS cannot be fetched and no key is cached, then recovers', async (t) => {
    const { keys, clock, call } = await scene(t);
    keys.jwksStatus = 503;
    const token = await keys.sign();
    const error = await call(token);
    assert.equal(error?.code, grpc.status.UNAVAILABLE);
    assert.equal(reasonOf(error), 'keys_unavailable');
    // The failure is remembered for 5 s: calls in that window do not hit the JWKS endpoint.
    for (let i = 0; i < 10; i++) assert.equal((await call(token))?.code, grpc.status.UNAVAILABLE);
    assert.equal(keys.jwksRequests, 1);
    keys.jwksStatus = undefined;
    await clock.advance(5_000);
    assert.equal(await call(token), undefined);
    assert.equal(keys.jwksRequests, 2);
  });

  it('tells the client only that the keys are unavailable; the URL that failed and how go to onDecision', async (t) => {
    const { keys, call, decisions } = await scene(t);
    keys.jwksStatus = 503;
    const error = await call(await keys.sign());
    assert.equal(error?.code, grpc.status.UNAVAILABLE);
    assert.equal(reasonOf(error), 'keys_unavailable');
    assert.equal(error?.details, "the server's signing keys are unavailable; try again later");
    assert.equal(decisions[0]?.details, error?.details);
    assert.match(
      decisions[0]?.internalDetails ?? '',
      /^signing keys unavailable: JWKS http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json answered HTTP 503$/,
    );
  });

  it('writes the URL that failed and how to NODE_DEBUG=grpc-oauth2, not to the client', async (t) => {
    const { code, stdout, stderr } = await runChild(t, 'test/server/scripts/keys-unavailable.ts', [], {
      env: { NODE_DEBUG: 'grpc-oauth2' },
    });
    assert.equal(code, 0, stderr);
    const { details } = JSON.parse(stdout) as { details: string };
    assert.doesNotMatch(details, /127\.0\.0\.1|jwks|JOSEError/);
    assert.match(
      stderr,
      /GRPC-OAUTH2 \d+: server refused \/test\.v1\.Echo\/Unary: UNAVAILABLE keys_unavailable \(signing keys unavailable: JWKS http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json answered HTTP 503\)/,
    );
  });

  it('refuses a JWKS answer past 1 MB and stops reading it (64 MB streamed)', async (t) => {
    const { keys, call, decisions } = await scene(t);
    keys.paddingBytes = 64 << 20;
    assert.equal(reasonOf(await call(await keys.sign())), 'keys_unavailable');
    assert.match(
      decisions[0]?.internalDetails ?? '',
      /JWKS http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json answered with more than 1048576 bytes$/,
    );
    t.diagnostic(`of a 64 MB JWKS, ${(keys.paddingSent / 2 ** 20).toFixed(0)} MB were sent before the server stopped`);
    assert.ok(keys.paddingSent < 16 << 20, `${keys.paddingSent} bytes sent`);
  });

  it('refuses discovery documents past 1 MB', async (t) => {
    const { keys, call, decisions } = await scene(t, { jwksUri: undefined });
    keys.documents['openid-configuration'] = keys.documents['oauth-authorization-server'];
    keys.paddingBytes = 2 << 20;
    assert.equal(reasonOf(await call(await keys.sign())), 'keys_unavailable');
    assert.match(
      decisions[0]?.internalDetails ?? '',
      /oauth-authorization-server answered with more than 1048576 bytes; .*openid-configuration answered with more than 1048576 bytes$/,
    );
  });

  it('keeps serving with the cached keys when a background refresh fails', async (t) => {
    const { keys, clock, call } = await scene(t, { maxCachedTokens: 0 });
    const token = await keys.sign({ exp: Math.floor(Date.now() / 1000) + 7200 });
    assert.equal(await call(token), undefined);
    keys.jwksStatus = 500;
    await clock.advance(600_000);
    assert.equal(await call(token), undefined);
    assert.equal(await call(token), undefined);
    assert.equal(keys.jwksRequests, 2);
  });

  for (const [what, answer] of [
    ['200 with an HTML page', { status: 200, body: '<html><body>Sign in</body></html>' }],
    ['403', { status: 403, body: { error: 'forbidden' } }],
    ['JSON without issuer', { status: 200, body: { jwks_uri: 'https://elsewhere.example.test/keys' } }],
  ] as const) {
    it(`falls back to the OpenID Connect document when the RFC 8414 one answers ${what}`, async (t) => {
      const { keys, call } = await scene(t, { jwksUri: undefined });
      keys.documents['oauth-authorization-server'] = answer;
      keys.documents['openid-configuration'] = { status: 200, body: { issuer: keys.issuer, jwks_uri: keys.jwksUri } };
      assert.equal(await call(await keys.sign()), undefined);
    });
  }

  it('names what was wrong with each discovery document when neither is usable', async (t) => {
    const { keys, call, decisions } = await scene(t, { jwksUri: undefined });
    keys.documents['oauth-authorization-server'] = { status: 403, body: {} };
    keys.documents['openid-configuration'] = { status: 200, body: 'not json' };
    assert.equal(reasonOf(await call(await keys.sign())), 'keys_unavailable');
    assert.equal(
      decisions[0]?.internalDetails,
      `signing keys unavailable: issuer "${keys.issuer}" has no usable discovery document: ` +
        `${keys.issuer}/.well-known/oauth-authorization-server answered HTTP 403; ` +
        `${keys.issuer}/.well-known/openid-configuration is not a JSON object`,
    );
  });

  for (const [what, named] of [
    ['with a trailing slash (as Auth0 writes its issuers)', '/'],
    ['on another path', '/other'],
  ] as const) {
    it(`names both issuers, on the first call, when the discovery document names the issuer ${what}`, async (t) => {
      const { keys, call, decisions } = await scene(t, { jwksUri: undefined });
      const documentIssuer = `${keys.issuer}${named}`;
      keys.documents['oauth-authorization-server'].body = { issuer: documentIssuer, jwks_uri: keys.jwksUri };
      assert.equal(reasonOf(await call(await keys.sign())), 'keys_unavailable');
      const details = decisions[0]?.internalDetails ?? '';
      const hint = `: they differ only by a trailing slash, and issuers are compared exactly; set issuer to "${documentIssuer}"`;
      assert.ok(
        details.includes(
          `${keys.issuer}/.well-known/oauth-authorization-server names the issuer "${documentIssuer}", ` +
            `not the configured issuer "${keys.issuer}"${named === '/' ? hint : ''}`,
        ),
        details,
      );
      if (named !== '/') assert.ok(!details.includes('trailing slash'), details);
    });
  }
});

describe('key URLs', () => {
  const base = { audience: fixture.audience, methods: fixture.echoPolicy };
  it('refuses an http:// jwksUri unless allowInsecureRequests is true', () => {
    assert.throws(
      () =>
        createServerAuthInterceptor({
          ...base,
          issuer: 'https://auth.example.test',
          jwksUri: 'http://auth.example.test/jwks',
        }),
      (err: unknown) => {
        assert.ok(err instanceof AuthConfigError);
        assert.match(err.message, /jwksUri is http:\/\/.*allowInsecureRequests: true/);
        return true;
      },
    );
    assert.equal(
      typeof createServerAuthInterceptor({
        ...base,
        issuer: 'https://auth.example.test',
        jwksUri: 'http://auth.example.test/jwks',
        allowInsecureRequests: true,
      }),
      'function',
    );
  });

  it('refuses an http:// issuer to discover keys from unless allowInsecureRequests is true', () => {
    assert.throws(
      () => createServerAuthInterceptor({ ...base, issuer: 'http://auth.example.test' }),
      /issuer is http:\/\//,
    );
  });

  const warningsOf = async (t: TestContext, scenario: string) => {
    const script = 'test/server/scripts/insecure-keys-warning.ts';
    const { code, stdout, stderr } = await runChild(t, script, [scenario]);
    assert.equal(code, 0, stderr);
    return JSON.parse(stdout) as { name: string; code: string; message: string }[];
  };

  it('gives no warning for http:// key URLs on loopback', async (t) => {
    assert.deepEqual(await warningsOf(t, 'loopback'), []);
  });

  for (const [scenario, what] of [
    ['jwksUri', 'createServerAuthInterceptor: jwksUri'],
    ['issuer', 'createServerAuthInterceptor: issuer'],
    ['discovered', 'jwks_uri of http://127.0.0.1:\\d+/.well-known/oauth-authorization-server'],
  ] as const) {
    it(`warns once, as the token side does, for an http:// ${scenario} off loopback with allowInsecureRequests`, async (t) => {
      const warnings = await warningsOf(t, scenario);
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      assert.equal(warnings[0]?.name, 'InsecureEndpointWarning');
      assert.equal(warnings[0]?.code, 'GRPC_OAUTH2_INSECURE_KEY_SOURCE');
      assert.match(
        warnings[0]?.message ?? '',
        new RegExp(`^${what} is http:// on a host that is not loopback: .*PLAINTEXT`),
      );
    });
  }
});
