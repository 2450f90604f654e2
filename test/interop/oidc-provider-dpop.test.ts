// TokenManager with `dpop` against a real authorization server, oidc-provider with its DPoP feature
// (RFC 9449): DPoP-bound JWT access tokens whose cnf.jkt is the key's thumbprint, the provider's
// nonce learnt through openid-client's use_dpop_nonce retry, the same key across refreshes, a given
// Ed25519 key, and a server that answers Bearer.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { calculateJwkThumbprint, decodeJwt, type JWK } from 'jose';
import { TokenError, TokenManager, type TokenManagerOptions } from '../../src/index.js';
import { startOidcProvider, type OidcProvider, type OidcProviderOptions } from '../helpers/oidc-provider.js';
import { closeAfterTest } from '../helpers/token-fixtures.js';
import { ManualClock } from '../../src/testing/index.js';

async function provider(t: TestContext, options: OidcProviderOptions): Promise<OidcProvider> {
  const idp = await startOidcProvider(options);
  t.after(() => idp.close());
  return idp;
}

function manager(t: TestContext, idp: OidcProvider, extra: TokenManagerOptions): TokenManager {
  return closeAfterTest(
    t,
    new TokenManager({
      issuer: idp.issuer,
      ...idp.clients.basic,
      scopes: ['orders.read'],
      allowInsecureRequests: true,
      retry: { retries: 0 },
      ...extra,
    }),
  );
}

function boundThumbprint(accessToken: string): unknown {
  return (decodeJwt(accessToken).cnf as { jkt?: unknown } | undefined)?.jkt;
}

describe('TokenManager with dpop against oidc-provider', () => {
  it('gets a DPoP token bound to the generated key, and keeps the key across refreshes', async (t) => {
    const idp = await provider(t, { dpop: {} });
    const tokens = manager(t, idp, { dpop: {} });
    const first = await tokens.getToken();
    assert.equal(first.tokenType, 'DPoP');
    const jkt = boundThumbprint(first.accessToken);
    assert.match(String(jkt), /^[\w-]{43}$/);
    tokens.invalidate(first.accessToken);
    const second = await tokens.getToken();
    assert.notEqual(second.accessToken, first.accessToken);
    assert.equal(second.tokenType, 'DPoP');
    assert.equal(boundThumbprint(second.accessToken), jkt);
    assert.equal(idp.requests.token, 2);
  });

  it('binds the tokens to a given Ed25519 key (its RFC 7638 thumbprint)', async (t) => {
    const idp = await provider(t, { dpop: {} });
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const tokens = manager(t, idp, { dpop: { privateKey: privateKey.export({ format: 'jwk' }) as JWK } });
    const token = await tokens.getToken();
    const expected = await calculateJwkThumbprint(publicKey.export({ format: 'jwk' }));
    assert.equal(boundThumbprint(token.accessToken), expected);
  });

  it('gets the nonce a provider requires through the use_dpop_nonce retry, for every token request', async (t) => {
    const idp = await provider(t, { dpop: { requireNonce: true } });
    const tokens = manager(t, idp, { dpop: {} });
    const first = await tokens.getToken();
    assert.equal(first.tokenType, 'DPoP');
    assert.equal(idp.requests.token, 2, 'one refused for want of a nonce, one answered');
    tokens.invalidate(first.accessToken);
    const second = await tokens.getToken();
    assert.equal(boundThumbprint(second.accessToken), boundThumbprint(first.accessToken));
  });

  it('refuses a Bearer answer to a DPoP request unless dpop.acceptBearer is set', async (t) => {
    const idp = await provider(t, { dpop: { enabled: false } });
    const strict = manager(t, idp, { dpop: {} });
    await assert.rejects(strict.getToken(), (err: Error) => {
      assert.ok(err instanceof TokenError);
      assert.equal(err.code, 'invalid_response');
      assert.match(err.message, /answered a DPoP token request with token_type "bearer", not DPoP/);
      assert.match(err.message, /dpop\.acceptBearer/);
      return true;
    });
    const lenient = manager(t, idp, { dpop: { acceptBearer: true } });
    const token = await lenient.getToken();
    assert.equal(token.tokenType, 'Bearer');
    assert.equal(boundThumbprint(token.accessToken), undefined);
  });

  it("dates the token requests' proofs by the manager's clock (an hour ahead: the provider refuses them)", async (t) => {
    const idp = await provider(t, { dpop: {} });
    const clock = new ManualClock(Date.now() + 3_600_000);
    await assert.rejects(manager(t, idp, { dpop: {}, clock }).getToken(), (err: Error) => {
      assert.ok(err instanceof TokenError);
      assert.equal(err.code, 'invalid_dpop_proof');
      return true;
    });
    const onTime = manager(t, idp, { dpop: {}, clock: new ManualClock() });
    assert.equal((await onTime.getToken()).tokenType, 'DPoP');
  });

  it('still gets bearer tokens from a DPoP-capable provider without the option', async (t) => {
    const idp = await provider(t, { dpop: {} });
    const token = await manager(t, idp, {}).getToken();
    assert.equal(token.tokenType, 'Bearer');
    assert.equal(boundThumbprint(token.accessToken), undefined);
  });
});
