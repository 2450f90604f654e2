import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { TokenError, TokenManager } from '../../src/index.js';
import { clientId, clientSecret } from '../helpers/token-fixtures.js';
import {
  startRawTokenServer,
  type RawAnswer,
  type RawRequest,
  type RawTokenServer,
} from '../helpers/raw-token-server.js';

const oauthMetadataPath = '/.well-known/oauth-authorization-server';
const oidcMetadataPath = '/.well-known/openid-configuration';
/** Not under the issuer's path, so that naming the issuer instead would show. */
const tokenPath = '/as/token.oauth2';

type Route = (server: RawTokenServer, request: RawRequest) => RawAnswer | undefined;

/** An issuer that serves the documents `routes` answer for, 404 for the rest. */
async function issuerServing(t: TestContext, routes: Record<string, Route>): Promise<RawTokenServer> {
  const server: RawTokenServer = await startRawTokenServer(
    t,
    (request) => routes[request.path]?.(server, request) ?? { status: 404, body: { error: 'not_found' } },
  );
  return server;
}

const metadata: Route = (server) => ({ body: { issuer: server.url, token_endpoint: `${server.url}${tokenPath}` } });
const token: Route = () => ({ body: { access_token: 'opaque-access-token', token_type: 'Bearer', expires_in: 600 } });

function managerFor(t: TestContext, server: RawTokenServer, issuer = server.url): TokenManager {
  const tokens = new TokenManager({
    issuer,
    clientId,
    clientSecret,
    allowInsecureRequests: true,
    retry: { retries: 0 },
  });
  t.after(() => tokens.close());
  return tokens;
}

async function failureOf(tokens: TokenManager): Promise<TokenError> {
  const error = await tokens.getToken().then(
    () => assert.fail('expected a failure'),
    (err: unknown) => err,
  );
  assert.ok(error instanceof TokenError, String(error));
  return error;
}

describe('discovery', () => {
  it('finds the token endpoint in the RFC 8414 document of an issuer that serves only that one', async (t) => {
    const server = await issuerServing(t, { [oauthMetadataPath]: metadata, [tokenPath]: token });
    const received = await managerFor(t, server).getToken();
    assert.equal(received.tokenType, 'Bearer');
    assert.deepEqual(
      server.requests.map((r) => r.path),
      [oauthMetadataPath, tokenPath],
    );
  });

  it('falls back to the OpenID Connect document when the RFC 8414 one is not found', async (t) => {
    const server = await issuerServing(t, { [oidcMetadataPath]: metadata, [tokenPath]: token });
    await managerFor(t, server).getToken();
    assert.deepEqual(
      server.requests.map((r) => r.path),
      [oauthMetadataPath, oidcMetadataPath, tokenPath],
    );
  });

  it('names the real token endpoint, not the issuer, when the token request fails after discovery', async (t) => {
    const server = await issuerServing(t, {
      [oauthMetadataPath]: metadata,
      [oidcMetadataPath]: metadata,
      [tokenPath]: () => ({ status: 400, body: { error: 'invalid_scope' } }),
    });
    const error = await failureOf(managerFor(t, server));
    assert.equal(error.code, 'invalid_scope');
    assert.match(error.message, new RegExp(`^token endpoint ${server.url}${tokenPath} answered HTTP 400`));
  });

  it('names the discovery document that failed', async (t) => {
    const server = await issuerServing(t, { [oauthMetadataPath]: () => ({ status: 500, body: 'down' }) });
    const error = await failureOf(managerFor(t, server));
    assert.equal(error.retryable, true);
    assert.match(error.message, new RegExp(`^discovery document ${server.url}${oauthMetadataPath} answered HTTP 500`));
  });

  it('names both documents when the issuer serves neither', async (t) => {
    const server = await issuerServing(t, {});
    const error = await failureOf(managerFor(t, server));
    assert.equal(error.code, 'invalid_response');
    assert.ok(error.message.includes(`${server.url}${oauthMetadataPath}`), error.message);
    assert.ok(error.message.includes(`${server.url}${oidcMetadataPath}`), error.message);
  });

  it('names both issuers when the document names another (a trailing slash, as Auth0 writes its issuer)', async (t) => {
    const server = await issuerServing(t, {
      [`${oauthMetadataPath}/tenant`]: (s) => ({ body: { issuer: `${s.url}/tenant/`, token_endpoint: s.url } }),
    });
    const error = await failureOf(managerFor(t, server, `${server.url}/tenant`));
    assert.equal(error.code, 'invalid_response');
    assert.equal(
      error.message,
      `discovery document ${server.url}${oauthMetadataPath}/tenant names the issuer "${server.url}/tenant/", ` +
        `not the configured issuer "${server.url}/tenant": they differ only by a trailing slash, and issuers are ` +
        `compared exactly; set issuer to "${server.url}/tenant/"`,
    );
  });

  it('names the discovery document that has no token_endpoint', async (t) => {
    const server = await issuerServing(t, { [oauthMetadataPath]: (s) => ({ body: { issuer: s.url } }) });
    const error = await failureOf(managerFor(t, server));
    assert.equal(error.code, 'invalid_response');
    assert.match(
      error.message,
      new RegExp(`discovery document ${server.url}${oauthMetadataPath} has no token_endpoint`),
    );
  });

  it('shares one discovery among the first requests of two scope sets, and keeps what it found', async (t) => {
    const server = await issuerServing(t, { [oauthMetadataPath]: metadata, [tokenPath]: token });
    const tokens = managerFor(t, server);
    await Promise.all([tokens.getToken({ scopes: ['orders.read'] }), tokens.getToken({ scopes: ['orders.write'] })]);
    await tokens.getToken({ scopes: ['orders.admin'] });
    assert.deepEqual(
      server.requests.map((r) => r.path),
      [oauthMetadataPath, tokenPath, tokenPath, tokenPath],
    );
  });

  it('tries a failed discovery again on the next request', async (t) => {
    let metadataAnswers = 0;
    const server = await issuerServing(t, {
      [oauthMetadataPath]: (s, request) =>
        ++metadataAnswers === 1 ? { status: 503, body: 'starting' } : metadata(s, request),
      [tokenPath]: token,
    });
    const tokens = managerFor(t, server);
    assert.equal((await failureOf(tokens)).status, 503);
    tokens.invalidate();
    await tokens.getToken();
    assert.deepEqual(
      server.requests.map((r) => r.path),
      [oauthMetadataPath, oauthMetadataPath, tokenPath],
    );
  });
});
