import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import {
  SignJWT,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  jwtVerify,
  type CryptoKey,
} from 'jose';
import * as client from 'openid-client';
import { ManualClock } from '../../src/testing/index.js';
import { MockTokenServer, type MockTokenServerOptions } from '../../src/testing/index.js';
import { invalidOption } from '../helpers/config-error.js';

const secret = 'Sup3r:secret+with spaces&symbols/never-logged';
const jwtBearer = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const assertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** A started server with `orders-svc` (secret) registered, closed when the test ends. */
async function startServer(t: TestContext, options: MockTokenServerOptions = {}): Promise<MockTokenServer> {
  const server = await MockTokenServer.start(options);
  t.after(() => server.close());
  server.addClient({ clientId: 'orders-svc', clientSecret: secret, allowedScopes: ['orders.read', 'orders.write'] });
  return server;
}

function basic(id: string, password: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(password)}`).toString('base64')}`;
}

interface Answer {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}

async function postToken(
  server: MockTokenServer,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(server.tokenEndpoint, { method: 'POST', body: new URLSearchParams(form), headers });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

function discover(server: MockTokenServer, clientId: string, auth: client.ClientAuth): Promise<client.Configuration> {
  return client.discovery(new URL(server.issuer), clientId, undefined, auth, {
    execute: [client.allowInsecureRequests],
  });
}

function clientAssertion(
  clientId: string,
  key: CryptoKey,
  audience: string,
  jti: string = randomUUID(),
  alg = 'ES256',
): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime('2m')
    .setJti(jti)
    .sign(key);
}

function serviceAccountAssertion(
  email: string,
  key: CryptoKey,
  audience: string,
  claims: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(email)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(key);
}

describe('discovery', () => {
  test('serves the same RFC 8414 metadata at both well-known paths', async (t) => {
    const server = await startServer(t);
    const oauth = (await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    const openid = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    assert.deepEqual(openid, oauth);
    assert.equal(oauth.issuer, server.issuer);
    assert.equal(oauth.token_endpoint, server.tokenEndpoint);
    assert.equal(oauth.jwks_uri, server.jwksUri);
    assert.deepEqual(oauth.token_endpoint_auth_methods_supported, [
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
    ]);
    assert.deepEqual(oauth.grant_types_supported, [
      'client_credentials',
      jwtBearer,
      'urn:ietf:params:oauth:grant-type:token-exchange',
    ]);
    assert.ok((oauth.token_endpoint_auth_signing_alg_values_supported as string[]).includes('ES256'));
    assert.deepEqual(oauth.scopes_supported, ['orders.read', 'orders.write']);
  });

  test('serves only the RFC 8414 document when discovery is oauth', async (t) => {
    const server = await startServer(t, { discovery: 'oauth' });
    const oauth = await fetch(`${server.issuer}/.well-known/oauth-authorization-server`);
    assert.equal(oauth.status, 200);
    assert.equal(((await oauth.json()) as Record<string, unknown>).token_endpoint, server.tokenEndpoint);
    assert.equal((await fetch(`${server.issuer}/.well-known/openid-configuration`)).status, 404);
  });

  test('serves only the OpenID document when discovery is oidc', async (t) => {
    const server = await startServer(t, { discovery: 'oidc' });
    assert.equal((await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).status, 404);
    assert.equal((await fetch(`${server.issuer}/.well-known/openid-configuration`)).status, 200);
  });

  test('serves no discovery document but still issues tokens when discovery is none', async (t) => {
    const server = await startServer(t, { discovery: 'none' });
    assert.equal((await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).status, 404);
    assert.equal((await fetch(`${server.issuer}/.well-known/openid-configuration`)).status, 404);
    assert.equal(
      (await postToken(server, { grant_type: 'client_credentials' }, { authorization: basic('orders-svc', secret) }))
        .status,
      200,
    );
  });

  test('serves the signing key at the JWKS endpoint with kid, alg and use', async (t) => {
    const server = await startServer(t, { signingAlg: 'ES256' });
    const jwks = (await (await fetch(server.jwksUri)).json()) as { keys: Record<string, unknown>[] };
    assert.equal(jwks.keys.length, 1);
    const [key] = jwks.keys;
    assert.equal(key?.kty, 'EC');
    assert.equal(key?.alg, 'ES256');
    assert.equal(key?.use, 'sig');
    assert.equal(typeof key?.kid, 'string');
    assert.equal(key?.d, undefined, 'no private part');
  });

  test('rotates its signing key: new tokens carry the new kid, and tokens signed before no longer verify', async (t) => {
    const server = await startServer(t, { signingAlg: 'ES256' });
    const config = await discover(server, 'orders-svc', client.ClientSecretBasic(secret));
    const before = (await client.clientCredentialsGrant(config, { scope: 'orders.read' })).access_token;
    const oldKid = decodeProtectedHeader(before).kid;
    const kid = await server.rotateSigningKey();
    assert.notEqual(kid, oldKid);
    const jwks = (await (await fetch(server.jwksUri)).json()) as { keys: { kid: string; alg: string }[] };
    assert.deepEqual(
      jwks.keys.map((key) => [key.kid, key.alg]),
      [[kid, 'ES256']],
      'the JWKS serves the new key alone',
    );
    const after = (await client.clientCredentialsGrant(config, { scope: 'orders.read' })).access_token;
    assert.equal(decodeProtectedHeader(after).kid, kid);
    assert.equal((await server.verifyAccessToken(after)).sub, 'orders-svc');
    await assert.rejects(server.verifyAccessToken(before));
  });
});

describe('client authentication', () => {
  test('issues a token to a client_secret_basic client found through discovery', async (t) => {
    const server = await startServer(t);
    const config = await discover(server, 'orders-svc', client.ClientSecretBasic(secret));
    const tokens = await client.clientCredentialsGrant(config, { scope: 'orders.read' });
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.scope, 'orders.read');
    assert.equal(tokens.expires_in, 3600);
    assert.equal(server.requests.at(-1)?.authMethod, 'client_secret_basic');
  });

  test('issues a token to a client_secret_post client', async (t) => {
    const server = await startServer(t);
    const config = await discover(server, 'orders-svc', client.ClientSecretPost(secret));
    const tokens = await client.clientCredentialsGrant(config, { scope: 'orders.write' });
    assert.equal(tokens.scope, 'orders.write');
    assert.equal(server.requests.at(-1)?.authMethod, 'client_secret_post');
  });

  test('issues a token to a private_key_jwt client registered with a JWK', async (t) => {
    const server = await startServer(t);
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    server.addClient({ clientId: 'keyed-svc', publicKey: await exportJWK(publicKey) });
    const config = await discover(server, 'keyed-svc', client.PrivateKeyJwt(privateKey));
    const tokens = await client.clientCredentialsGrant(config);
    assert.equal((await server.verifyAccessToken(tokens.access_token)).sub, 'keyed-svc');
    assert.equal(server.requests.at(-1)?.authMethod, 'private_key_jwt');
  });

  test('decodes Basic credentials that were form-urlencoded before base64', async (t) => {
    const server = await startServer(t);
    server.addClient({ clientId: 'svc:with/odd chars', clientSecret: 'p@ss:w+rd %' });
    const answer = await postToken(
      server,
      { grant_type: 'client_credentials' },
      { authorization: basic('svc:with/odd chars', 'p@ss:w+rd %') },
    );
    assert.equal(answer.status, 200);
  });

  test('answers a wrong Basic secret with 401 invalid_client and a Basic challenge', async (t) => {
    const server = await startServer(t);
    const answer = await postToken(
      server,
      { grant_type: 'client_credentials' },
      { authorization: basic('orders-svc', 'wrong') },
    );
    assert.equal(answer.status, 401);
    assert.equal(answer.json.error, 'invalid_client');
    assert.match(answer.headers.get('www-authenticate') ?? '', /^Basic realm="mock", error="invalid_client"/);
  });

  test('answers a wrong posted secret with 401 invalid_client', async (t) => {
    const server = await startServer(t);
    const answer = await postToken(server, {
      grant_type: 'client_credentials',
      client_id: 'orders-svc',
      client_secret: 'wrong',
    });
    assert.equal(answer.status, 401);
    assert.equal(answer.json.error, 'invalid_client');
    assert.equal(answer.headers.get('www-authenticate'), null);
  });

  test('answers an unknown client and a missing authentication with 401 invalid_client', async (t) => {
    const server = await startServer(t);
    const unknown = await postToken(
      server,
      { grant_type: 'client_credentials' },
      { authorization: basic('nobody', secret) },
    );
    const missing = await postToken(server, { grant_type: 'client_credentials', client_id: 'orders-svc' });
    assert.deepEqual([unknown.status, unknown.json.error], [401, 'invalid_client']);
    assert.deepEqual([missing.status, missing.json.error], [401, 'invalid_client']);
  });

  test('refuses a method the client is not registered for', async (t) => {
    const server = await startServer(t);
    server.addClient({ clientId: 'post-only', clientSecret: secret, authMethods: ['client_secret_post'] });
    const viaBasic = await postToken(
      server,
      { grant_type: 'client_credentials' },
      { authorization: basic('post-only', secret) },
    );
    const viaPost = await postToken(server, {
      grant_type: 'client_credentials',
      client_id: 'post-only',
      client_secret: secret,
    });
    assert.deepEqual([viaBasic.status, viaBasic.json.error], [401, 'invalid_client']);
    assert.equal(viaPost.status, 200);
  });

  test('refuses two authentication methods in one request', async (t) => {
    const server = await startServer(t);
    const answer = await postToken(
      server,
      { grant_type: 'client_credentials', client_secret: secret },
      { authorization: basic('orders-svc', secret) },
    );
    assert.deepEqual([answer.status, answer.json.error], [400, 'invalid_request']);
  });

  test('answers private_key_jwt signed with a wrong key with invalid_client', async (t) => {
    const server = await startServer(t);
    const registered = await generateKeyPair('ES256');
    const other = await generateKeyPair('ES256');
    server.addClient({ clientId: 'keyed-svc', publicKey: registered.publicKey });
    const config = await discover(server, 'keyed-svc', client.PrivateKeyJwt(other.privateKey));
    await assert.rejects(client.clientCredentialsGrant(config), (err: unknown) => {
      assert.ok(err instanceof client.ResponseBodyError);
      assert.equal(err.error, 'invalid_client');
      assert.equal(err.status, 401);
      return true;
    });
  });

  test('refuses a client assertion whose jti was already used', async (t) => {
    const server = await startServer(t);
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    server.addClient({ clientId: 'keyed-svc', publicKey: await exportSPKI(publicKey) });
    const assertion = await clientAssertion('keyed-svc', privateKey, server.tokenEndpoint);
    const form = {
      grant_type: 'client_credentials',
      client_assertion_type: assertionType,
      client_assertion: assertion,
    };
    assert.equal((await postToken(server, form)).status, 200);
    const replay = await postToken(server, form);
    assert.deepEqual([replay.status, replay.json.error], [401, 'invalid_client']);
  });

  test('accepts a client assertion signed with Ed25519 (RFC 9864), as the server side accepts it', async (t) => {
    const server = await startServer(t);
    const { privateKey, publicKey } = await generateKeyPair('Ed25519');
    server.addClient({ clientId: 'keyed-svc', publicKey });
    const discovered = (await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json()) as {
      token_endpoint_auth_signing_alg_values_supported: string[];
    };
    assert.ok(discovered.token_endpoint_auth_signing_alg_values_supported.includes('Ed25519'));
    const assertion = await clientAssertion('keyed-svc', privateKey, server.tokenEndpoint, randomUUID(), 'Ed25519');
    const answer = await postToken(server, {
      grant_type: 'client_credentials',
      client_assertion_type: assertionType,
      client_assertion: assertion,
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
  });

  test('refuses a client assertion for another audience', async (t) => {
    const server = await startServer(t);
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    server.addClient({ clientId: 'keyed-svc', publicKey });
    const assertion = await clientAssertion('keyed-svc', privateKey, 'https://elsewhere.example');
    const answer = await postToken(server, {
      grant_type: 'client_credentials',
      client_assertion_type: assertionType,
      client_assertion: assertion,
    });
    assert.deepEqual([answer.status, answer.json.error], [401, 'invalid_client']);
  });

  test('throws at addClient for a key it cannot read', async (t) => {
    const server = await startServer(t);
    assert.throws(
      () => server.addClient({ clientId: 'bad', publicKey: 'not a pem' }),
      invalidOption('MockTokenServer: publicKey is not a readable JWK, PEM or CryptoKey'),
    );
  });
});

describe('grants and scopes', () => {
  test('issues a jwt-bearer token with the scope the assertion carries', async (t) => {
    const server = await startServer(t);
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    server.addServiceAccount({ clientEmail: 'robot@project.iam.example', publicKey: await exportSPKI(publicKey) });
    const assertion = await serviceAccountAssertion('robot@project.iam.example', privateKey, server.tokenEndpoint, {
      scope: 'a.read b.write',
    });
    const answer = await postToken(server, { grant_type: jwtBearer, assertion });
    assert.equal(answer.status, 200);
    assert.equal(answer.json.scope, 'a.read b.write');
    const claims = await server.verifyAccessToken(answer.json.access_token as string);
    assert.equal(claims.sub, 'robot@project.iam.example');
    assert.equal(claims.scope, 'a.read b.write');
    assert.deepEqual(
      {
        grantType: server.requests.at(-1)?.grantType,
        clientId: server.requests.at(-1)?.clientId,
        authMethod: server.requests.at(-1)?.authMethod,
      },
      { grantType: jwtBearer, clientId: 'robot@project.iam.example', authMethod: 'none' },
    );
  });

  test('answers a jwt-bearer assertion for another audience with invalid_grant', async (t) => {
    const server = await startServer(t);
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    server.addServiceAccount({ clientEmail: 'robot@project.iam.example', publicKey: await exportJWK(publicKey) });
    const assertion = await serviceAccountAssertion(
      'robot@project.iam.example',
      privateKey,
      'https://oauth2.googleapis.com/token',
    );
    const answer = await postToken(server, { grant_type: jwtBearer, assertion });
    assert.deepEqual([answer.status, answer.json.error], [400, 'invalid_grant']);
  });

  test('answers a scope outside the allowed ones with 400 invalid_scope', async (t) => {
    const server = await startServer(t);
    const config = await discover(server, 'orders-svc', client.ClientSecretBasic(secret));
    await assert.rejects(client.clientCredentialsGrant(config, { scope: 'orders.read admin' }), (err: unknown) => {
      assert.ok(err instanceof client.ResponseBodyError);
      assert.equal(err.error, 'invalid_scope');
      assert.equal(err.status, 400);
      return true;
    });
  });

  test('grants every allowed scope when none is asked for', async (t) => {
    const server = await startServer(t);
    const answer = await postToken(
      server,
      { grant_type: 'client_credentials' },
      { authorization: basic('orders-svc', secret) },
    );
    assert.equal(answer.json.scope, 'orders.read orders.write');
  });

  test('puts the resource, else the audience, else the default into aud', async (t) => {
    const server = await startServer(t, { audience: 'https://default.example' });
    const auth = { authorization: basic('orders-svc', secret) };
    const audOf = async (form: Record<string, string>): Promise<unknown> =>
      (
        await server.verifyAccessToken(
          (await postToken(server, { grant_type: 'client_credentials', ...form }, auth)).json.access_token as string,
        )
      ).aud;
    assert.equal(await audOf({}), 'https://default.example');
    assert.equal(await audOf({ audience: 'https://aud.example' }), 'https://aud.example');
    assert.equal(
      await audOf({ audience: 'https://aud.example', resource: 'https://res.example' }),
      'https://res.example',
    );
  });

  test('answers another grant type with 400 unsupported_grant_type', async (t) => {
    const server = await startServer(t);
    const answer = await postToken(server, { grant_type: 'password', username: 'u', password: 'p' });
    assert.deepEqual([answer.status, answer.json.error], [400, 'unsupported_grant_type']);
  });

  test('answers GET on the token endpoint with 405, a JSON body with 400 and an unknown path with 404', async (t) => {
    const server = await startServer(t);
    const get = await fetch(server.tokenEndpoint);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    const json = await fetch(server.tokenEndpoint, {
      method: 'POST',
      body: '{"grant_type":"client_credentials"}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(json.status, 400);
    assert.equal(((await json.json()) as { error: string }).error, 'invalid_request');
    assert.equal((await fetch(`${server.issuer}/nope`)).status, 404);
  });
});

describe('issued tokens', () => {
  test("open servers never share a signing key; a closed server's key comes back under a new kid", async () => {
    const first = await MockTokenServer.start();
    const second = await MockTokenServer.start();
    const [firstKey] = first.jwks.keys;
    const [secondKey] = second.jwks.keys;
    assert.notEqual(firstKey!.n, secondKey!.n, 'two open servers, two keys');
    await first.close();
    const third = await MockTokenServer.start();
    const [thirdKey] = third.jwks.keys;
    assert.notEqual(thirdKey!.n, secondKey!.n, 'not the key of a server still open');
    assert.notEqual(thirdKey!.kid, firstKey!.kid, 'a reused key is served under a new kid');
    await Promise.all([second.close(), third.close()]);
  });

  test('issues a JWT that verifies against the JWKS with the expected claims', async (t) => {
    const server = await startServer(t, { tokenLifetimeSec: 600 });
    const config = await discover(server, 'orders-svc', client.ClientSecretBasic(secret));
    const tokens = await client.clientCredentialsGrant(config, { scope: 'orders.read' });
    const { payload, protectedHeader } = await jwtVerify(
      tokens.access_token,
      createRemoteJWKSet(new URL(server.jwksUri)),
      {
        issuer: server.issuer,
        audience: 'https://api.example.test',
      },
    );
    assert.equal(payload.sub, 'orders-svc');
    assert.equal(payload.client_id, 'orders-svc');
    assert.equal(payload.scope, 'orders.read');
    assert.equal(payload.exp! - payload.iat!, 600);
    assert.equal(typeof payload.jti, 'string');
    assert.equal(protectedHeader.kid, server.jwks.keys[0]?.kid);
    assert.equal(server.issuedTokenCount, 1);
  });

  test('dates tokens and the Date header by the injected clock, with Cache-Control no-store', async (t) => {
    const start = Date.parse('2030-01-01T00:00:00Z');
    const server = await startServer(t, { clock: new ManualClock(start) });
    const answer = await postToken(
      server,
      { grant_type: 'client_credentials' },
      { authorization: basic('orders-svc', secret) },
    );
    assert.equal(answer.headers.get('date'), 'Tue, 01 Jan 2030 00:00:00 GMT');
    assert.equal(answer.headers.get('cache-control'), 'no-store');
    const header = decodeProtectedHeader(answer.json.access_token as string);
    assert.equal(header.typ, 'at+jwt');
    assert.equal((await server.verifyAccessToken(answer.json.access_token as string)).iat, start / 1000);
  });

  test('follows tokenLifetimeSec and omitExpiresIn set after start', async (t) => {
    const server = await startServer(t);
    server.tokenLifetimeSec = 2;
    const short = await postToken(
      server,
      { grant_type: 'client_credentials' },
      { authorization: basic('orders-svc', secret) },
    );
    assert.equal(short.json.expires_in, 2);
    server.omitExpiresIn = true;
    const without = await postToken(
      server,
      { grant_type: 'client_credentials' },
      { authorization: basic('orders-svc', secret) },
    );
    assert.equal('expires_in' in without.json, false);
    assert.equal(typeof without.json.access_token, 'string');
  });
});

describe('faults', () => {
  const auth = { authorization: basic('orders-svc', secret) };
  const form = { grant_type: 'client_credentials' };
  const request = (server: MockTokenServer): Promise<Response> =>
    fetch(server.tokenEndpoint, { method: 'POST', body: new URLSearchParams(form), headers: auth });

  test('answers an error fault with its status, OAuth body and Retry-After', async (t) => {
    const server = await startServer(t);
    server.failNext(1, {
      type: 'error',
      status: 503,
      error: 'temporarily_unavailable',
      errorDescription: 'maintenance',
      retryAfter: 7,
    });
    const res = await request(server);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '7');
    assert.equal(res.headers.get('www-authenticate'), null);
    assert.deepEqual(await res.json(), { error: 'temporarily_unavailable', error_description: 'maintenance' });
  });

  test('adds a Basic challenge to a 401 error fault unless told not to', async (t) => {
    const server = await startServer(t);
    server.failNext(1, { type: 'error', status: 401, error: 'invalid_client' });
    server.failNext(1, { type: 'error', status: 401, error: 'invalid_client', wwwAuthenticate: false });
    assert.equal((await request(server)).headers.get('www-authenticate'), 'Basic realm="mock", error="invalid_client"');
    assert.equal((await request(server)).headers.get('www-authenticate'), null);
  });

  test('answers an error fault without an error code with a non-JSON body', async (t) => {
    const server = await startServer(t);
    server.failNext(1, { type: 'error', status: 500 });
    const res = await request(server);
    assert.equal(res.status, 500);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  });

  test('answers normally after a delay fault', async (t) => {
    const server = await startServer(t);
    server.failNext(1, { type: 'delay', ms: 150 });
    const started = performance.now();
    const res = await request(server);
    assert.ok(performance.now() - started >= 140, 'answered late');
    assert.equal(res.status, 200);
    assert.equal(server.requests.at(-1)?.fault, 'delay');
  });

  test('never answers a hang fault and close() destroys its socket', async (t) => {
    const server = await startServer(t);
    server.failNext(1, { type: 'hang' });
    const pending = request(server);
    await waitFor(() => server.requests.at(-1)?.fault === 'hang');
    await server.close();
    await assert.rejects(pending, TypeError);
  });

  test('sends only headers for a hang-after-headers fault until close()', async (t) => {
    const server = await startServer(t);
    server.failNext(1, { type: 'hang-after-headers' });
    const res = await request(server);
    assert.equal(res.status, 200);
    const body = res.text();
    await server.close();
    await assert.rejects(body);
  });

  test('drops the connection for a reset fault', async (t) => {
    const server = await startServer(t);
    server.failNext(1, { type: 'reset' });
    await assert.rejects(request(server), TypeError);
    assert.equal(server.requests.at(-1)?.status, undefined);
  });

  test('cuts the body short for a reset-mid-body fault', async (t) => {
    const server = await startServer(t);
    server.failNext(1, { type: 'reset-mid-body' });
    const res = await request(server);
    assert.equal(res.status, 200);
    await assert.rejects(res.text());
  });

  test('sends a body fault as given', async (t) => {
    const server = await startServer(t);
    server.failNext(1, { type: 'body', body: '{"access_token": 42', headers: { 'x-test': 'yes' } });
    server.failNext(1, { type: 'body', status: 203, contentType: 'text/plain', body: Buffer.from('plain') });
    const malformed = await request(server);
    assert.deepEqual(
      [malformed.status, malformed.headers.get('content-type'), malformed.headers.get('x-test')],
      [200, 'application/json', 'yes'],
    );
    assert.equal(await malformed.text(), '{"access_token": 42');
    const plain = await request(server);
    assert.deepEqual(
      [plain.status, plain.headers.get('content-type'), await plain.text()],
      [203, 'text/plain', 'plain'],
    );
  });

  test('lets a body fault replace the Date header whatever its letter case', async (t) => {
    const server = await startServer(t);
    server.failNext(1, {
      type: 'body',
      body: '{}',
      headers: { Date: 'Mon, 01 Jan 2001 00:00:00 GMT', 'Content-Type': 'text/plain' },
    });
    const res = await request(server);
    assert.equal(res.headers.get('date'), 'Mon, 01 Jan 2001 00:00:00 GMT');
    assert.equal(res.headers.get('content-type'), 'text/plain');
  });

  test('issues a token whose JWT exp differs from expires_in for a token fault', async (t) => {
    const server = await startServer(t, { tokenLifetimeSec: 3600 });
    server.failNext(1, { type: 'token', jwtLifetimeSec: 60 });
    const skewed = await postToken(server, form, auth);
    assert.equal(skewed.status, 200);
    assert.equal(skewed.json.expires_in, 3600);
    const claims = decodeJwt(skewed.json.access_token as string);
    assert.equal(claims.exp! - claims.iat!, 60);
    assert.equal(server.requests.at(-1)?.fault, 'token');
    const normal = decodeJwt((await postToken(server, form, auth)).json.access_token as string);
    assert.equal(normal.exp! - normal.iat!, 3600);
    assert.equal(server.issuedTokenCount, 2);
  });

  test('issues an already expired JWT with a skewed Date header for a token fault', async (t) => {
    const clock = new ManualClock(Date.parse('2030-01-01T12:00:00Z'));
    const server = await startServer(t, { clock });
    const seventyMinutesBehind = new Date(clock.now() - 70 * 60_000).toUTCString();
    server.failNext(1, { type: 'token', jwtLifetimeSec: -600, headers: { Date: seventyMinutesBehind } });
    const answer = await postToken(server, form, auth);
    assert.equal(answer.headers.get('date'), seventyMinutesBehind);
    assert.equal(answer.headers.get('cache-control'), 'no-store');
    assert.equal(decodeJwt(answer.json.access_token as string).exp, clock.now() / 1000 - 600);
  });

  test('sets or leaves out expires_in for a token fault whatever the server does', async (t) => {
    const server = await startServer(t, { omitExpiresIn: true });
    server.failNext(1, { type: 'token', expiresInSec: 5 });
    assert.equal((await postToken(server, form, auth)).json.expires_in, 5);
    server.omitExpiresIn = false;
    server.failNext(1, { type: 'token', omitExpiresIn: true });
    const without = await postToken(server, form, auth);
    assert.equal('expires_in' in without.json, false);
    assert.equal(
      decodeJwt(without.json.access_token as string).exp! - decodeJwt(without.json.access_token as string).iat!,
      3600,
    );
  });

  test('still authenticates the client under a token fault', async (t) => {
    const server = await startServer(t);
    server.failNext(1, { type: 'token', jwtLifetimeSec: 60 });
    const answer = await postToken(server, form, { authorization: basic('orders-svc', 'wrong') });
    assert.deepEqual([answer.status, answer.json.error], [401, 'invalid_client']);
    assert.equal(server.issuedTokenCount, 0);
  });

  test('echoes the Basic header, the form body and the secret into error, error_description and WWW-Authenticate', async (t) => {
    const server = await startServer(t);
    server.failNext(1, { type: 'echo' });
    const header = basic('orders-svc', secret);
    const sentBody = new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders.read' }).toString();
    const answer = await postToken(
      server,
      { grant_type: 'client_credentials', scope: 'orders.read' },
      { authorization: header },
    );
    assert.equal(answer.status, 401);
    const echoed = `${header} ${sentBody} ${secret}`;
    assert.equal(answer.json.error, echoed);
    assert.equal(answer.json.error_description, echoed);
    assert.equal(
      answer.headers.get('www-authenticate'),
      `Basic realm="mock", error="${echoed}", error_description="${echoed}"`,
    );
    assert.equal(server.requests.at(-1)?.fault, 'echo');
  });

  test('echoes a client_secret_post body still form-encoded, only where asked', async (t) => {
    const server = await startServer(t);
    server.failNext(1, { type: 'echo', parts: ['body'], into: ['error_description'], status: 400 });
    const sent = { grant_type: 'client_credentials', client_id: 'orders-svc', client_secret: secret };
    const answer = await postToken(server, sent);
    assert.equal(answer.status, 400);
    assert.deepEqual(answer.json, {
      error: 'invalid_request',
      error_description: new URLSearchParams(sent).toString(),
    });
    assert.equal(answer.headers.get('www-authenticate'), null);
  });

  test('echoes a client assertion into error', async (t) => {
    const server = await startServer(t);
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    server.addClient({ clientId: 'keyed-svc', publicKey });
    const assertion = await clientAssertion('keyed-svc', privateKey, server.tokenEndpoint);
    server.failNext(1, { type: 'echo', parts: ['assertion'], into: ['error'] });
    const answer = await postToken(server, {
      grant_type: 'client_credentials',
      client_assertion_type: assertionType,
      client_assertion: assertion,
    });
    assert.deepEqual(answer.json, { error: assertion });
  });

  test('quotes an echoed secret with quotes and backslashes as one WWW-Authenticate parameter', async (t) => {
    const server = await startServer(t);
    server.failNext(1, { type: 'echo', parts: ['secret'], into: ['www-authenticate'] });
    await postToken(server, {
      grant_type: 'client_credentials',
      client_id: 'orders-svc',
      client_secret: 'a"b\\c',
    }).then((answer) => {
      assert.equal(
        answer.headers.get('www-authenticate'),
        'Basic realm="mock", error="a\\"b\\\\c", error_description="a\\"b\\\\c"',
      );
    });
  });

  test('sends an HTML error page for an html fault', async (t) => {
    const server = await startServer(t);
    server.failNext(1, { type: 'html' });
    const res = await request(server);
    assert.equal(res.status, 502);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await res.text(), /<html>/);
  });

  test('counts failNext down in order, then serves normally again', async (t) => {
    const server = await startServer(t);
    server.failNext(2, { type: 'error', status: 500, error: 'server_error' });
    server.failNext(1, { type: 'html', status: 504 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(server)).status);
    assert.deepEqual(statuses, [500, 500, 504, 200]);
    assert.equal(server.tokenRequestCount, 4);
    assert.equal(server.issuedTokenCount, 1);
    assert.deepEqual(
      server.requests.map((r) => r.fault),
      ['error', 'error', 'html', undefined],
    );
  });

  test('lets a queued fault win over a malformed request', async (t) => {
    const server = await startServer(t);
    server.failNext(1, { type: 'error', status: 503, error: 'temporarily_unavailable' });
    const res = await fetch(server.tokenEndpoint, {
      method: 'POST',
      body: 'not a form',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(res.status, 503);
  });

  test('answers 500 rather than crash when a body fault carries an unusable header', async (t) => {
    const server = await startServer(t);
    server.failNext(1, { type: 'body', body: '{}', headers: { 'x-broken': 'line\nbreak' } });
    const res = await request(server);
    assert.equal(res.status, 500);
    assert.equal(((await res.json()) as { error: string }).error, 'server_error');
    assert.equal((await request(server)).status, 200);
  });

  test('drops queued faults on clearFaults()', async (t) => {
    const server = await startServer(t);
    server.failNext(3, { type: 'error', status: 500 });
    server.clearFaults();
    assert.equal((await request(server)).status, 200);
  });
});

describe('request log', () => {
  test('never holds a secret, Basic header, assertion or token', async (t) => {
    const server = await startServer(t);
    const seen: string[] = [secret, encodeURIComponent(secret), basic('orders-svc', secret)];

    const basicAnswer = await postToken(
      server,
      { grant_type: 'client_credentials', scope: 'orders.read' },
      { authorization: basic('orders-svc', secret) },
    );
    const postAnswer = await postToken(server, {
      grant_type: 'client_credentials',
      client_id: 'orders-svc',
      client_secret: secret,
    });
    await postToken(
      server,
      { grant_type: 'client_credentials' },
      { authorization: basic('orders-svc', `${secret}-wrong`) },
    );

    const keyed = await generateKeyPair('ES256');
    server.addClient({ clientId: 'keyed-svc', publicKey: keyed.publicKey });
    const clientJwt = await clientAssertion('keyed-svc', keyed.privateKey, server.issuer);
    const keyedAnswer = await postToken(server, {
      grant_type: 'client_credentials',
      client_assertion_type: assertionType,
      client_assertion: clientJwt,
    });

    const robot = await generateKeyPair('RS256');
    server.addServiceAccount({ clientEmail: 'robot@project.iam.example', publicKey: robot.publicKey });
    const bearerJwt = await serviceAccountAssertion(
      'robot@project.iam.example',
      robot.privateKey,
      server.tokenEndpoint,
      { scope: 'x' },
    );
    const bearerAnswer = await postToken(server, { grant_type: jwtBearer, assertion: bearerJwt });

    for (const answer of [basicAnswer, postAnswer, keyedAnswer, bearerAnswer])
      seen.push(answer.json.access_token as string);
    seen.push(clientJwt, bearerJwt);
    const log = JSON.stringify(server.requests);
    for (const value of seen) {
      assert.ok(value.length > 10);
      assert.equal(log.includes(value), false, 'a secret reached the log');
      // The signature alone would also be a leak.
      assert.equal(log.includes(value.split('.').at(-1)!), false, 'part of a JWT reached the log');
    }
    assert.deepEqual(
      server.requests.map((r) => [r.clientId, r.authMethod, r.status]),
      [
        ['orders-svc', 'client_secret_basic', 200],
        ['orders-svc', 'client_secret_post', 200],
        ['orders-svc', 'client_secret_basic', 401],
        ['keyed-svc', 'private_key_jwt', 200],
        ['robot@project.iam.example', 'none', 200],
      ],
    );
  });
  test('never holds what an echo fault sends back', async (t) => {
    const server = await startServer(t);
    server.failNext(1, { type: 'echo' });
    await postToken(server, { grant_type: 'client_credentials' }, { authorization: basic('orders-svc', secret) });
    const log = JSON.stringify(server.requests);
    for (const value of [secret, encodeURIComponent(secret), basic('orders-svc', secret)])
      assert.equal(log.includes(value), false, 'a secret reached the log');
  });
});

describe('robustness and close', () => {
  test('survives malformed requests and keeps serving', async (t) => {
    const server = await startServer(t);
    const garbage = [
      { authorization: 'Basic %%%not-base64' },
      { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` },
      { authorization: `Basic ${Buffer.from('%E0%A4%A:x').toString('base64')}` },
      { authorization: 'Bearer something' },
    ];
    for (const headers of garbage) {
      const answer = await postToken(server, { grant_type: 'client_credentials' }, headers);
      assert.equal(answer.status, 401);
    }
    const huge = await fetch(server.tokenEndpoint, {
      method: 'POST',
      body: `grant_type=client_credentials&pad=${'a'.repeat(100_000)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(huge.status, 413);
    assert.equal((await postToken(server, { grant_type: 'client_credentials', assertion: 'a.b.c' })).status, 401);
    assert.equal((await postToken(server, { grant_type: jwtBearer, assertion: 'not-a-jwt' })).status, 400);
    await rawRequest(server, 'THIS IS NOT HTTP\r\n\r\n');
    const ok = await postToken(
      server,
      { grant_type: 'client_credentials' },
      { authorization: basic('orders-svc', secret) },
    );
    assert.equal(ok.status, 200);
  });

  test('close() resolves with a request hanging, is idempotent and refuses new connections', async (t) => {
    const server = await startServer(t);
    server.failNext(1, { type: 'hang' });
    const socketClosed = rawRequest(server, `POST /oauth2/token HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n`);
    await waitFor(() => server.tokenRequestCount === 1);
    await Promise.all([server.close(), server.close()]);
    assert.equal(await socketClosed, '', 'the socket closed without an answer');
    await assert.rejects(fetch(server.jwksUri), TypeError);
  });
});

/** Writes `text` on a raw TCP connection and resolves with what came back once the server closes it. */
function rawRequest(server: MockTokenServer, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(server.issuer).port), '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
    socket.end(text);
  });
}

async function waitFor(condition: () => boolean, limitMs = 5_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
