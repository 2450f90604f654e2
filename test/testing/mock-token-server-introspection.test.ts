// The mock token server's opaque access tokens, its RFC 7662 introspection endpoint, its RFC 7009
// revocation endpoint and the faults of both, over real HTTP.
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, test, type TestContext } from 'node:test';
import { decodeJwt, generateKeyPair } from 'jose';
import * as client from 'openid-client';
import { ManualClock, MockTokenServer, type MockTokenServerOptions } from '../../src/testing/index.js';
import { IssuedTokens, maxRememberedTokens } from '../../src/testing/mock-token-server/issued-tokens.js';
import { invalidOption } from '../helpers/config-error.js';

const secret = 'Orders:secret+with spaces&symbols/never-logged';
const apiSecret = 'api-secret-never-logged';

/** The clients of every server: `orders-svc` gets tokens, `orders-api` (a resource server) introspects them. */
const clients = [
  { clientId: 'orders-svc', clientSecret: secret, allowedScopes: ['orders.read', 'orders.write'] },
  { clientId: 'orders-api', clientSecret: apiSecret },
] as const;

/** A started server with {@link clients}, closed when the test ends. */
async function startServer(t: TestContext, options: MockTokenServerOptions = {}): Promise<MockTokenServer> {
  const server = await MockTokenServer.start(options);
  t.after(() => server.close());
  for (const registered of clients) server.addClient(registered);
  return server;
}

function basic(id: string, password: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(password)}`).toString('base64')}`;
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly json: Record<string, unknown>;
}

async function post(url: string, form: Record<string, string>, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', body: new URLSearchParams(form), headers });
  const json = res.headers.get('content-type') === 'application/json' ? ((await res.json()) as never) : {};
  return { status: res.status, headers: res.headers, json };
}

/** A client-credentials token for orders-svc; `form` adds to the request (scope, resource). */
async function issue(server: MockTokenServer, form: Record<string, string> = {}): Promise<string> {
  const answer = await post(
    server.tokenEndpoint,
    { grant_type: 'client_credentials', ...form },
    { authorization: basic('orders-svc', secret) },
  );
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  return answer.json.access_token as string;
}

/** What the introspection endpoint answers about `token`, asked by orders-api with client_secret_basic unless told. */
function introspect(
  server: MockTokenServer,
  token: string,
  headers: Record<string, string> = { authorization: basic('orders-api', apiSecret) },
  form: Record<string, string> = {},
): Promise<Answer> {
  return post(server.introspectionEndpoint, { token, ...form }, headers);
}

const opaqueShape = /^[A-Za-z0-9_-]{43}$/;

describe('opaque access tokens', () => {
  test('issues random opaque tokens that are not JWTs, with token_type Bearer and expires_in', async (t) => {
    const server = await startServer(t, { accessTokenFormat: 'opaque', tokenLifetimeSec: 600 });
    const answer = await post(
      server.tokenEndpoint,
      { grant_type: 'client_credentials', scope: 'orders.read' },
      { authorization: basic('orders-svc', secret) },
    );
    assert.equal(answer.status, 200);
    assert.deepEqual(
      { ...answer.json, access_token: undefined },
      {
        access_token: undefined,
        token_type: 'Bearer',
        expires_in: 600,
        scope: 'orders.read',
      },
    );
    const token = answer.json.access_token as string;
    assert.match(token, opaqueShape);
    assert.throws(() => decodeJwt(token));
    assert.notEqual(await issue(server), token);
    assert.equal(server.issuedTokenCount, 2);
  });

  test('introspects a live opaque token as active with its claims, dated by the injected clock', async (t) => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const server = await startServer(t, { accessTokenFormat: 'opaque', clock, tokenLifetimeSec: 600 });
    const token = await issue(server, { scope: 'orders.read' });
    const iat = Date.UTC(2030, 0, 1) / 1000;
    const answer = await introspect(server, token);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('content-type'), 'application/json');
    assert.equal(answer.headers.get('cache-control'), 'no-store');
    assert.deepEqual(
      { ...answer.json, jti: undefined },
      {
        active: true,
        iss: server.issuer,
        sub: 'orders-svc',
        client_id: 'orders-svc',
        aud: 'https://api.example.test',
        scope: 'orders.read',
        iat,
        exp: iat + 600,
        jti: undefined,
        token_type: 'Bearer',
      },
    );
  });

  test('puts the requested resource into aud, as a JWT would carry it', async (t) => {
    const server = await startServer(t, { accessTokenFormat: 'opaque', audience: 'https://default.example.test' });
    const one = await issue(server, { resource: 'https://orders.example.test' });
    const two = new URLSearchParams([
      ['grant_type', 'client_credentials'],
      ['resource', 'https://a.example.test'],
      ['resource', 'https://b.example.test'],
    ]);
    const res = await fetch(server.tokenEndpoint, {
      method: 'POST',
      body: two,
      headers: { authorization: basic('orders-svc', secret) },
    });
    const several = ((await res.json()) as { access_token: string }).access_token;
    assert.equal((await introspect(server, one)).json.aud, 'https://orders.example.test');
    assert.deepEqual((await introspect(server, several)).json.aud, [
      'https://a.example.test',
      'https://b.example.test',
    ]);
    assert.equal((await introspect(server, await issue(server))).json.aud, 'https://default.example.test');
  });

  test('issues opaque tokens to a client registered with accessTokenFormat opaque, JWTs to the others', async (t) => {
    const server = await startServer(t);
    server.addClient({ clientId: 'legacy-svc', clientSecret: secret, accessTokenFormat: 'opaque' });
    const legacy = await post(
      server.tokenEndpoint,
      { grant_type: 'client_credentials' },
      { authorization: basic('legacy-svc', secret) },
    );
    assert.match(legacy.json.access_token as string, opaqueShape);
    assert.equal(decodeJwt(await issue(server)).sub, 'orders-svc');

    const opaqueServer = await startServer(t, { accessTokenFormat: 'opaque' });
    opaqueServer.addClient({ clientId: 'modern-svc', clientSecret: secret, accessTokenFormat: 'jwt' });
    const modern = await post(
      opaqueServer.tokenEndpoint,
      { grant_type: 'client_credentials' },
      { authorization: basic('modern-svc', secret) },
    );
    assert.equal(decodeJwt(modern.json.access_token as string).sub, 'modern-svc');
  });

  test('verifyAccessToken reads a live opaque token, and rejects it once revoked or expired without naming it', async (t) => {
    const clock = new ManualClock();
    const server = await startServer(t, { accessTokenFormat: 'opaque', clock, tokenLifetimeSec: 60 });
    const revoked = await issue(server, { scope: 'orders.write' });
    const expiring = await issue(server);
    assert.equal((await server.verifyAccessToken(revoked)).scope, 'orders.write');
    assert.equal(await server.revokeToken(revoked), true);
    await clock.advance(60_000);
    for (const [token, reason] of [
      [revoked, /opaque access token was revoked/],
      [expiring, /opaque access token has expired/],
    ] as const) {
      await assert.rejects(server.verifyAccessToken(token), (err: Error) => {
        assert.match(err.message, reason);
        assert.ok(!inspect(err).includes(token), 'the token reached the error');
        return true;
      });
    }
  });
});

describe('what the server remembers', () => {
  test('keeps at most its bound of tokens, dropping expired ones first, then the oldest', async () => {
    assert.equal(maxRememberedTokens, 10_000);
    const clock = new ManualClock(1_000_000);
    const nowSec = 1_000;
    const tokens = new IssuedTokens(clock, 3);
    const shortLived = tokens.issueOpaque({ sub: 'a', exp: nowSec + 10 });
    const [oldest, middle] = [
      tokens.issueOpaque({ sub: 'b', exp: nowSec + 60 }),
      tokens.issueOpaque({ exp: nowSec + 60 }),
    ];
    await clock.advance(10_000);
    const fourth = tokens.issueOpaque({ exp: nowSec + 60 });
    assert.equal(tokens.opaqueState(shortLived).state, 'unknown', 'the expired one made room');
    assert.equal(tokens.opaqueState(oldest).state, 'live');
    tokens.issueOpaque({ exp: nowSec + 60 });
    assert.equal(tokens.opaqueState(oldest).state, 'unknown', 'then the oldest');
    assert.deepEqual([tokens.opaqueState(middle).state, tokens.opaqueState(fourth).state], ['live', 'live']);
  });
});

describe('the introspection endpoint', () => {
  test('is advertised in both discovery documents and found by openid-client, which reads an active answer', async (t) => {
    const server = await startServer(t, { accessTokenFormat: 'opaque' });
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const metadata = (await (await fetch(`${server.issuer}${path}`)).json()) as Record<string, unknown>;
      assert.equal(metadata.introspection_endpoint, `${server.issuer}/oauth2/introspect`);
      assert.equal(metadata.revocation_endpoint, `${server.issuer}/oauth2/revoke`);
      assert.deepEqual(metadata.introspection_endpoint_auth_methods_supported, [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
      ]);
    }
    assert.equal(server.introspectionEndpoint, `${server.issuer}/oauth2/introspect`);
    assert.equal(server.revocationEndpoint, `${server.issuer}/oauth2/revoke`);
    const token = await issue(server, { scope: 'orders.read' });
    const config = await client.discovery(new URL(server.issuer), 'orders-api', apiSecret, undefined, {
      execute: [client.allowInsecureRequests],
    });
    const answer = await client.tokenIntrospection(config, token, { token_type_hint: 'access_token' });
    assert.deepEqual([answer.active, answer.scope, answer.client_id], [true, 'orders.read', 'orders-svc']);
    assert.equal(server.requests.at(-1)?.tokenTypeHint, 'access_token');
  });

  test('accepts client_secret_post and private_key_jwt callers, through openid-client', async (t) => {
    const server = await startServer(t, { accessTokenFormat: 'opaque' });
    const token = await issue(server);
    const posted = await client.discovery(new URL(server.issuer), 'orders-api', apiSecret, client.ClientSecretPost(), {
      execute: [client.allowInsecureRequests],
    });
    assert.equal((await client.tokenIntrospection(posted, token)).active, true);
    const key = await generateKeyPair('ES256');
    server.addClient({ clientId: 'keyed-api', publicKey: key.publicKey });
    const keyed = await client.discovery(
      new URL(server.issuer),
      'keyed-api',
      undefined,
      client.PrivateKeyJwt(key.privateKey),
      { execute: [client.allowInsecureRequests] },
    );
    assert.equal((await client.tokenIntrospection(keyed, token)).active, true);
    assert.deepEqual(
      server.requests
        .filter((entry) => entry.path === '/oauth2/introspect')
        .map((entry) => [entry.path, entry.clientId, entry.authMethod, entry.active]),
      [
        ['/oauth2/introspect', 'orders-api', 'client_secret_post', true],
        ['/oauth2/introspect', 'keyed-api', 'private_key_jwt', true],
      ],
    );
  });

  test('introspects the JWTs it issued: active while they verify, inactive once signed by a rotated-out key', async (t) => {
    const server = await startServer(t);
    const token = await issue(server, { scope: 'orders.read' });
    const claims = decodeJwt(token);
    const answer = await introspect(server, token);
    assert.deepEqual(answer.json, { active: true, ...claims, token_type: 'Bearer' });
    await server.rotateSigningKey();
    assert.deepEqual((await introspect(server, token)).json, { active: false });
    assert.equal((await introspect(server, await issue(server))).json.active, true);
  });

  test('answers active false for an unknown token, a JWT it did not sign and a token of another shape', async (t) => {
    const server = await startServer(t, { accessTokenFormat: 'opaque' });
    await issue(server);
    const other = await MockTokenServer.start();
    t.after(() => other.close());
    other.addClient({ clientId: 'orders-svc', clientSecret: secret });
    const foreign = await issue(other);
    for (const token of ['A'.repeat(43), foreign, 'not a token', 'a.b.c']) {
      const answer = await introspect(server, token);
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.json, { active: false });
    }
  });

  test('answers active false for a revoked token, opaque or JWT, and revokeToken says whether it revoked one', async (t) => {
    const opaque = await startServer(t, { accessTokenFormat: 'opaque' });
    const jwt = await startServer(t);
    for (const server of [opaque, jwt]) {
      const token = await issue(server);
      const kept = await issue(server);
      assert.equal(await server.revokeToken(token), true);
      assert.equal(await server.revokeToken(token), false, 'already revoked');
      assert.equal(await server.revokeToken('A'.repeat(43)), false, 'unknown');
      assert.deepEqual((await introspect(server, token)).json, { active: false });
      assert.equal((await introspect(server, kept)).json.active, true);
    }
  });

  test('answers active false once a token reaches its exp on the injected clock', async (t) => {
    const clock = new ManualClock();
    const opaque = await startServer(t, { accessTokenFormat: 'opaque', clock, tokenLifetimeSec: 300 });
    const jwt = await startServer(t, { clock, tokenLifetimeSec: 300 });
    const tokens = [await issue(opaque), await issue(jwt)] as const;
    await clock.advance(299_000);
    assert.equal((await introspect(opaque, tokens[0])).json.active, true);
    assert.equal((await introspect(jwt, tokens[1])).json.active, true);
    await clock.advance(1_000);
    assert.deepEqual((await introspect(opaque, tokens[0])).json, { active: false });
    assert.deepEqual((await introspect(jwt, tokens[1])).json, { active: false });
  });

  test('answers an already expired opaque token of a token fault with active false', async (t) => {
    const server = await startServer(t, { accessTokenFormat: 'opaque' });
    server.failNext(1, { type: 'token', jwtLifetimeSec: 0 });
    assert.deepEqual((await introspect(server, await issue(server))).json, { active: false });
  });

  test('answers a wrong, missing or unknown client authentication with 401 invalid_client', async (t) => {
    const server = await startServer(t, { accessTokenFormat: 'opaque' });
    const token = await issue(server);
    const wrong = await introspect(server, token, { authorization: basic('orders-api', `${apiSecret}-wrong`) });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.error, 'invalid_client');
    assert.equal(wrong.headers.get('www-authenticate'), 'Basic realm="mock", error="invalid_client"');
    const missing = await introspect(server, token, {});
    const unknown = await introspect(server, token, {}, { client_id: 'nobody', client_secret: apiSecret });
    assert.deepEqual([missing.status, missing.json.error], [401, 'invalid_client']);
    assert.deepEqual([unknown.status, unknown.json.error], [401, 'invalid_client']);
    assert.equal('active' in wrong.json || 'active' in missing.json || 'active' in unknown.json, false);
  });

  test('answers a request without a token with 400 and GET with 405', async (t) => {
    const server = await startServer(t);
    const missing = await post(server.introspectionEndpoint, {}, { authorization: basic('orders-api', apiSecret) });
    assert.deepEqual([missing.status, missing.json.error], [400, 'invalid_request']);
    const get = await fetch(server.introspectionEndpoint);
    assert.deepEqual([get.status, get.headers.get('allow')], [405, 'POST']);
  });

  test('counts introspection requests, refused and faulted ones included, apart from token requests', async (t) => {
    const server = await startServer(t, { accessTokenFormat: 'opaque' });
    const token = await issue(server);
    await introspect(server, token);
    await introspect(server, token, {});
    server.failNext(1, { type: 'error', status: 503 }, { endpoint: 'introspection' });
    await introspect(server, token);
    assert.equal(server.introspectionRequestCount, 3);
    assert.equal(server.tokenRequestCount, 1);
    assert.equal(server.revocationRequestCount, 0);
  });
});

describe('the revocation endpoint (RFC 7009)', () => {
  test('revokes a token of the calling client through openid-client, and answers 200 for an unknown one', async (t) => {
    const server = await startServer(t, { accessTokenFormat: 'opaque' });
    const token = await issue(server);
    const config = await client.discovery(new URL(server.issuer), 'orders-svc', secret, undefined, {
      execute: [client.allowInsecureRequests],
    });
    await client.tokenRevocation(config, token);
    await client.tokenRevocation(config, 'A'.repeat(43));
    assert.deepEqual((await introspect(server, token)).json, { active: false });
    assert.equal(server.revocationRequestCount, 2);
  });

  test("refuses to revoke another client's token, and a caller that fails authentication", async (t) => {
    const server = await startServer(t);
    const token = await issue(server);
    const other = await post(server.revocationEndpoint, { token }, { authorization: basic('orders-api', apiSecret) });
    assert.deepEqual([other.status, other.json.error], [400, 'unauthorized_client']);
    const wrong = await post(server.revocationEndpoint, { token }, { authorization: basic('orders-svc', 'wrong') });
    assert.equal(wrong.status, 401);
    assert.equal((await introspect(server, token)).json.active, true);
  });
});

describe('introspection faults', () => {
  const faulted = async (t: TestContext): Promise<{ server: MockTokenServer; token: string }> => {
    const server = await startServer(t, { accessTokenFormat: 'opaque' });
    return { server, token: await issue(server) };
  };
  const endpoint = { endpoint: 'introspection' } as const;
  const request = (server: MockTokenServer, token: string): Promise<Response> =>
    fetch(server.introspectionEndpoint, {
      method: 'POST',
      body: new URLSearchParams({ token }),
      headers: { authorization: basic('orders-api', apiSecret) },
    });

  test('answers 500 while down, only at the introspection endpoint, then normally again', async (t) => {
    const { server, token } = await faulted(t);
    server.failNext(2, { type: 'error', status: 500 }, endpoint);
    assert.equal((await request(server, token)).status, 500);
    assert.match(await issue(server), opaqueShape, 'the token endpoint is not faulted');
    assert.equal((await request(server, token)).status, 500);
    assert.equal((await request(server, token)).status, 200);
    assert.deepEqual(
      server.requests.filter((entry) => entry.path === '/oauth2/introspect').map((entry) => entry.fault),
      ['error', 'error', undefined],
    );
  });

  test('drops the connection for a reset fault and never answers a hang fault until close()', async (t) => {
    const { server, token } = await faulted(t);
    server.failNext(1, { type: 'reset' }, endpoint);
    await assert.rejects(request(server, token), TypeError);
    server.failNext(1, { type: 'hang' }, endpoint);
    const pending = request(server, token);
    await waitFor(() => server.introspectionRequestCount === 2);
    await server.close();
    await assert.rejects(pending, TypeError);
  });

  test('answers normally after a delay fault', async (t) => {
    const { server, token } = await faulted(t);
    server.failNext(1, { type: 'delay', ms: 100 }, endpoint);
    const started = performance.now();
    const res = await request(server, token);
    assert.ok(performance.now() - started >= 90, 'answered late');
    assert.equal(((await res.json()) as { active: boolean }).active, true);
  });

  test('sends a non-JSON body, a huge body and JSON that is not an object as given', async (t) => {
    const { server, token } = await faulted(t);
    const huge = `{"active":true,"pad":"${'x'.repeat(2 * 1024 * 1024)}"}`;
    const bodies = ['<html>not json</html>', huge, '[{"active":true}]', '"active"', 'null'];
    for (const body of bodies) server.failNext(1, { type: 'body', body }, endpoint);
    for (const body of bodies) {
      const res = await request(server, token);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), body);
    }
    assert.equal(((await (await request(server, token)).json()) as { active: boolean }).active, true);
  });

  test('cuts an introspection answer short for a reset-mid-body fault', async (t) => {
    const { server, token } = await faulted(t);
    server.failNext(1, { type: 'reset-mid-body' }, endpoint);
    const res = await request(server, token);
    assert.equal(res.status, 200);
    await assert.rejects(res.text());
  });

  test('faults the revocation endpoint alone, and clearFaults() drops the queued faults of every endpoint', async (t) => {
    const { server, token } = await faulted(t);
    server.failNext(1, { type: 'error', status: 503 }, { endpoint: 'revocation' });
    const revoked = await post(server.revocationEndpoint, { token }, { authorization: basic('orders-svc', secret) });
    assert.equal(revoked.status, 503);
    assert.equal((await request(server, token)).status, 200);
    server.failNext(1, { type: 'error', status: 503 }, endpoint);
    server.failNext(1, { type: 'error', status: 503 }, { endpoint: 'revocation' });
    server.failNext(1, { type: 'error', status: 503 });
    server.clearFaults();
    assert.equal((await request(server, token)).status, 200);
    assert.match(await issue(server), opaqueShape);
  });

  test('refuses a token fault, which shapes issued tokens, for the introspection and revocation endpoints', async (t) => {
    const server = await startServer(t);
    for (const where of ['introspection', 'revocation'] as const) {
      assert.throws(
        () => server.failNext(1, { type: 'token', jwtLifetimeSec: 0 }, { endpoint: where }),
        invalidOption('failNext: a "token" fault applies to the token endpoint only, not to "' + where + '"'),
      );
    }
  });
});

describe('request log and errors', () => {
  test('never hold an introspected or revoked token, in any request or answer of the mock', async (t) => {
    const server = await startServer(t, { accessTokenFormat: 'opaque' });
    const token = await issue(server);
    const jwtServer = await startServer(t);
    const jwt = await issue(jwtServer);
    const answers: Answer[] = [];
    for (const [s, value] of [
      [server, token],
      [jwtServer, jwt],
    ] as const) {
      answers.push(await introspect(s, value, { authorization: basic('orders-api', 'wrong') }));
      answers.push(await introspect(s, value));
      s.failNext(1, { type: 'error', status: 500, error: 'server_error' }, { endpoint: 'introspection' });
      answers.push(await introspect(s, value));
      answers.push(
        await post(s.revocationEndpoint, { token: value }, { authorization: basic('orders-api', apiSecret) }),
      );
      answers.push(await post(s.revocationEndpoint, { token: value }, { authorization: basic('orders-svc', secret) }));
      answers.push(await introspect(s, value));
    }
    const seen = [
      JSON.stringify(server.requests),
      JSON.stringify(jwtServer.requests),
      inspect(server),
      inspect(jwtServer),
    ];
    for (const answer of answers) seen.push(JSON.stringify(answer.json), JSON.stringify([...answer.headers]));
    for (const text of seen) {
      assert.equal(text.includes(token), false, 'the opaque token leaked');
      assert.equal(text.includes(jwt.split('.').at(-1)!), false, 'the JWT leaked');
    }
    assert.deepEqual(
      server.requests.slice(1).map((entry) => [entry.path, entry.clientId, entry.status, entry.active]),
      [
        ['/oauth2/introspect', 'orders-api', 401, undefined],
        ['/oauth2/introspect', 'orders-api', 200, true],
        ['/oauth2/introspect', undefined, 500, undefined],
        ['/oauth2/revoke', 'orders-api', 400, undefined],
        ['/oauth2/revoke', 'orders-svc', 200, undefined],
        ['/oauth2/introspect', 'orders-api', 200, false],
      ],
    );
  });
});

async function waitFor(condition: () => boolean, limitMs = 5_000): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
