import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { TokenError, TokenManager, type TokenManagerOptions } from '../../src/index.js';
import { MockWorkloadIssuer, type MockTokenServer } from '../../src/testing/index.js';
import { startRawTokenServer, type RawTokenServer } from '../helpers/raw-token-server.js';
import { invalidOption } from '../helpers/config-error.js';
import { clientId, clientSecret, createClock, startTokenServer } from '../helpers/token-fixtures.js';

const jwtType = 'urn:ietf:params:oauth:token-type:jwt';
const exchangeGrant = 'urn:ietf:params:oauth:grant-type:token-exchange';
const workload = 'system:serviceaccount:shop:orders';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'exchange-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A mock security-token service trusting the cluster's tokens as subject tokens, and a subject token file. */
async function sts(t: TestContext): Promise<{ server: MockTokenServer; cluster: MockWorkloadIssuer; path: string }> {
  const clock = createClock();
  const server = await startTokenServer(t, { clock });
  const cluster = await MockWorkloadIssuer.create({ clock });
  server.addSubjectTokenIssuer({ issuer: cluster.issuer, publicKey: cluster.publicJwk, audience: 'sts.example.test' });
  const path = join(await tempDir(t), 'k8s-token');
  await cluster.writeTokenFile(path, { subject: workload, audience: 'sts.example.test' });
  return { server, cluster, path };
}

function manager(t: TestContext, options: TokenManagerOptions): TokenManager {
  const tokens = new TokenManager({ clientId, allowInsecureRequests: true, retry: { retries: 0 }, ...options });
  t.after(() => tokens.close());
  return tokens;
}

/** A token server answering every request with an opaque token of `issuedTokenType` (none: left out). */
async function recordingServer(
  t: TestContext,
  issuedTokenType: string | undefined = 'urn:ietf:params:oauth:token-type:access_token',
): Promise<RawTokenServer> {
  let issued = 0;
  return startRawTokenServer(t, () => ({
    body: {
      access_token: `exchanged-${++issued}`,
      token_type: 'Bearer',
      expires_in: 3600,
      issued_token_type: issuedTokenType,
    },
  }));
}

const sent = (server: RawTokenServer, name: string): (string | null)[] =>
  server.requests.map((r) => new URLSearchParams(r.body).get(name));

describe('token exchange (tokenExchange)', () => {
  it('exchanges the subject token from a file for an access token about that subject', async (t) => {
    const { server, path } = await sts(t);
    const tokens = manager(t, {
      tokenEndpoint: server.tokenEndpoint,
      clientSecret,
      scopes: ['orders.read'],
      tokenExchange: { subjectTokenFile: path, subjectTokenType: jwtType },
    });

    const claims = await server.verifyAccessToken((await tokens.getToken()).accessToken);
    assert.equal(claims.sub, workload);
    assert.equal(claims.client_id, clientId);
    assert.equal(claims.scope, 'orders.read');
    const logged = server.requests.at(-1)!;
    assert.equal(logged.grantType, exchangeGrant);
    assert.equal(logged.subjectTokenType, jwtType);
    assert.equal(logged.authMethod, 'client_secret_basic');
  });

  it('sends the grant, both tokens with their types, the requested type, audience, resource and scope', async (t) => {
    const raw = await recordingServer(t);
    const cluster = await MockWorkloadIssuer.create();
    const subject = await cluster.sign({ subject: workload, audience: 'sts' });
    const actor = await cluster.sign({ subject: 'system:serviceaccount:shop:gateway', audience: 'sts' });
    const tokens = manager(t, {
      tokenEndpoint: `${raw.url}/token`,
      clientSecret,
      scopes: ['orders.read'],
      audience: 'orders-api',
      resource: 'https://orders.example.test',
      tokenExchange: {
        subjectToken: () => subject,
        subjectTokenType: jwtType,
        actorToken: () => Promise.resolve(actor),
        actorTokenType: jwtType,
        requestedTokenType: 'urn:ietf:params:oauth:token-type:access_token',
      },
    });
    await tokens.getToken();

    const body = new URLSearchParams(raw.requests[0]!.body);
    assert.deepEqual(Object.fromEntries(body), {
      grant_type: exchangeGrant,
      scope: 'orders.read',
      audience: 'orders-api',
      resource: 'https://orders.example.test',
      subject_token: subject,
      subject_token_type: jwtType,
      actor_token: actor,
      actor_token_type: jwtType,
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    });
    assert.match(raw.requests[0]!.headers.authorization ?? '', /^Basic /);
  });

  it('sends the new subject token after the platform rotates the file', async (t) => {
    const raw = await recordingServer(t);
    const cluster = await MockWorkloadIssuer.create();
    const path = join(await tempDir(t), 'token');
    const first = await cluster.writeTokenFile(path, { subject: workload, audience: 'sts' });
    const tokens = manager(t, {
      tokenEndpoint: `${raw.url}/token`,
      clientSecret,
      tokenExchange: { subjectTokenFile: path, subjectTokenType: jwtType },
    });
    await tokens.getToken();

    const second = await cluster.writeTokenFile(path, { subject: workload, audience: 'sts' });
    tokens.invalidate();
    await tokens.getToken();
    assert.deepEqual(sent(raw, 'subject_token'), [first, second]);
  });

  it('shares one exchange among concurrent callers and serves it from the cache afterwards', async (t) => {
    const { server, path } = await sts(t);
    const tokens = manager(t, {
      tokenEndpoint: server.tokenEndpoint,
      clientSecret,
      tokenExchange: { subjectTokenFile: path, subjectTokenType: jwtType },
    });
    const all = await Promise.all(Array.from({ length: 20 }, () => tokens.getToken()));
    await tokens.getToken();
    assert.equal(new Set(all.map((token) => token.accessToken)).size, 1);
    assert.equal(server.tokenRequestCount, 1);
  });

  it('lets a public client exchange with only its client_id', async (t) => {
    const { server, path } = await sts(t);
    const tokens = manager(t, {
      tokenEndpoint: server.tokenEndpoint,
      clientId: 'public-app',
      tokenExchange: { subjectTokenFile: path, subjectTokenType: jwtType },
    });
    assert.equal((await server.verifyAccessToken((await tokens.getToken()).accessToken)).sub, workload);
    assert.equal(server.requests.at(-1)?.authMethod, 'none');
    assert.equal(server.requests.at(-1)?.clientId, 'public-app');
  });

  it('names the actor of a delegation in the act claim', async (t) => {
    const { server, cluster, path } = await sts(t);
    const actor = await cluster.sign({ subject: 'system:serviceaccount:shop:gateway', audience: 'sts.example.test' });
    const tokens = manager(t, {
      tokenEndpoint: server.tokenEndpoint,
      clientSecret,
      tokenExchange: {
        subjectTokenFile: path,
        subjectTokenType: jwtType,
        actorToken: () => actor,
        actorTokenType: jwtType,
      },
    });
    const claims = await server.verifyAccessToken((await tokens.getToken()).accessToken);
    assert.deepEqual(claims.act, { sub: 'system:serviceaccount:shop:gateway' });
  });

  it('passes the server refusing a subject token from an untrusted issuer on as invalid_grant', async (t) => {
    const { server } = await sts(t);
    const stranger = await MockWorkloadIssuer.create({ issuer: 'https://stranger.example.test' });
    const subject = await stranger.sign({ subject: workload, audience: 'sts.example.test' });
    const tokens = manager(t, {
      tokenEndpoint: server.tokenEndpoint,
      clientSecret,
      tokenExchange: { subjectToken: () => subject, subjectTokenType: jwtType },
    });
    await assert.rejects(tokens.getToken(), (err: unknown) => {
      assert.ok(err instanceof TokenError);
      assert.equal(err.code, 'invalid_grant');
      assert.ok(!err.message.includes(subject));
      return true;
    });
  });

  const tokenType = (name: string): string => `urn:ietf:params:oauth:token-type:${name}`;

  for (const issued of ['refresh_token', 'id_token']) {
    it(`refuses an answer whose issued_token_type is ${issued} as invalid_response, not a Bearer access token`, async (t) => {
      const { server, path } = await sts(t);
      const tokens = manager(t, {
        tokenEndpoint: server.tokenEndpoint,
        clientSecret,
        tokenExchange: { subjectTokenFile: path, subjectTokenType: jwtType },
      });
      server.failNext(1, { type: 'token', issuedTokenType: tokenType(issued) });
      let issuedToken = '';
      tokens.once('tokenIssued', () => assert.fail('the wrong kind of token was served'));
      await assert.rejects(tokens.getToken(), (err: unknown) => {
        assert.ok(err instanceof TokenError);
        assert.equal(err.code, 'invalid_response');
        assert.match(
          err.message,
          new RegExp(`sent issued_token_type urn:ietf:params:oauth:token-type:${issued}, not an access token`),
        );
        issuedToken = err.message;
        return true;
      });
      assert.equal(server.issuedTokenCount, 1, 'the server did issue one, and it was refused');
      assert.ok(!/eyJ/.test(issuedToken), 'the refused token is not in the message');
    });
  }

  it('serves the type it asked for with requestedTokenType, and an access_token or no issued_token_type as before', async (t) => {
    const { server, path } = await sts(t);
    const asked = manager(t, {
      tokenEndpoint: server.tokenEndpoint,
      clientSecret,
      tokenExchange: { subjectTokenFile: path, subjectTokenType: jwtType, requestedTokenType: tokenType('id_token') },
    });
    server.failNext(1, { type: 'token', issuedTokenType: tokenType('id_token') });
    assert.equal((await server.verifyAccessToken((await asked.getToken()).accessToken)).sub, workload);

    const plain = manager(t, {
      tokenEndpoint: server.tokenEndpoint,
      clientSecret,
      scopes: ['orders.read'],
      tokenExchange: { subjectTokenFile: path, subjectTokenType: jwtType },
    });
    assert.equal((await server.verifyAccessToken((await plain.getToken()).accessToken)).sub, workload);
    const raw = await recordingServer(t, undefined);
    const untyped = manager(t, {
      tokenEndpoint: `${raw.url}/token`,
      clientSecret,
      tokenExchange: { subjectTokenFile: path, subjectTokenType: jwtType },
    });
    assert.equal((await untyped.getToken()).accessToken, 'exchanged-1');
  });

  const refusals: [string, string, RegExp][] = [
    ['jwt', tokenType('jwt'), /sent issued_token_type urn:ietf:params:oauth:token-type:jwt, not an access token/],
    ['saml2', tokenType('saml2'), /sent issued_token_type urn:ietf:params:oauth:token-type:saml2, not an access token/],
    [
      'a type that is no RFC 8693 type (not quoted)',
      `${clientSecret}\r\nforged`,
      /sent an issued_token_type that is not an RFC 8693 token type, not an access token/,
    ],
  ];
  for (const [name, issuedTokenType, message] of refusals) {
    it(`refuses an answer of ${name} it did not ask for`, async (t) => {
      const { server, path } = await sts(t);
      const tokens = manager(t, {
        tokenEndpoint: server.tokenEndpoint,
        clientSecret,
        tokenExchange: { subjectTokenFile: path, subjectTokenType: jwtType },
      });
      server.failNext(1, { type: 'token', issuedTokenType });
      await assert.rejects(tokens.getToken(), (err: unknown) => {
        assert.ok(err instanceof TokenError && err.code === 'invalid_response');
        assert.match(err.message, message);
        assert.ok(!err.message.includes(clientSecret) && !err.message.includes('forged'));
        return true;
      });
    });
  }
});

describe('tokenExchange options', () => {
  const base = { tokenEndpoint: 'https://sts.example.test/token', clientId: 'c' };
  const cases: [string, unknown, RegExp][] = [
    [
      'a misspelt name',
      { subjectTokenFile: '/t', subjectTokenTyp: jwtType },
      /^unknown tokenExchange option "subjectTokenTyp"; did you mean "subjectTokenType"\?$/,
    ],
    ['no subject token', { subjectTokenType: jwtType }, /^tokenExchange needs subjectTokenFile or subjectToken$/],
    ['no subject token type', { subjectTokenFile: '/t' }, /^tokenExchange.subjectTokenType must be a non-empty string/],
    [
      'a file and a function',
      { subjectTokenFile: '/t', subjectToken: () => 'x', subjectTokenType: jwtType },
      /^give tokenExchange.subjectTokenFile or tokenExchange.subjectToken, not both$/,
    ],
    [
      'an actor token without its type',
      { subjectTokenFile: '/t', subjectTokenType: jwtType, actorTokenFile: '/a' },
      /^tokenExchange.actorTokenType must be a non-empty string/,
    ],
    [
      'an actor type without a token',
      { subjectTokenFile: '/t', subjectTokenType: jwtType, actorTokenType: jwtType },
      /^tokenExchange.actorTokenType needs actorTokenFile or actorToken$/,
    ],
    ['a string for the options', 'urn:x', /^tokenExchange must be an object$/],
  ];
  for (const [what, tokenExchange, message] of cases) {
    it(`refuses ${what} at construction`, () => {
      assert.throws(() => new TokenManager({ ...base, tokenExchange } as TokenManagerOptions), invalidOption(message));
    });
  }

  it('refuses a shared cache: exchanged tokens belong to the subject, not the client', () => {
    const sharedCache = { get: () => Promise.resolve(undefined), set: () => Promise.resolve() };
    assert.throws(
      () =>
        new TokenManager({
          ...base,
          clientSecret: 's',
          sharedCache,
          tokenExchange: { subjectTokenFile: '/t', subjectTokenType: jwtType },
        }),
      invalidOption(/^sharedCache needs/),
    );
  });
});
