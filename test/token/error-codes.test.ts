import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it, type TestContext } from 'node:test';
import { TokenError, TokenManager } from '../../src/index.js';
import { clientId, clientSecret } from '../helpers/token-fixtures.js';
import { startRawTokenServer, type RawAnswer } from '../helpers/raw-token-server.js';

/** The failure a manager reports when its token endpoint always gives `answer`. */
async function failureFor(t: TestContext, answer: RawAnswer, secret = clientSecret): Promise<TokenError> {
  const server = await startRawTokenServer(t, () => answer);
  const tokens = new TokenManager({
    tokenEndpoint: `${server.url}/token`,
    clientId,
    clientSecret: secret,
    allowInsecureRequests: true,
    retry: { retries: 0 },
  });
  t.after(() => tokens.close());
  const error = await tokens.getToken().then(
    () => assert.fail('expected a failure'),
    (err: unknown) => err,
  );
  assert.ok(error instanceof TokenError, String(error));
  return error;
}

function assertNoSecret(error: TokenError, secret = clientSecret): void {
  for (const text of [
    error.code,
    error.message,
    JSON.stringify(error),
    inspect(error, { showHidden: true, depth: 8 }),
  ]) {
    assert.ok(!text.includes(secret), `leaked: ${text.slice(0, 300)}`);
  }
}

describe('OAuth error codes chosen by the token server', () => {
  it('passes a plain RFC 6749 error token through as the code', async (t) => {
    const error = await failureFor(t, { status: 400, body: { error: 'invalid_target' } });
    assert.equal(error.code, 'invalid_target');
  });

  it('turns a JSON error that echoes the client secret into invalid_response', async (t) => {
    const error = await failureFor(t, { status: 400, body: { error: clientSecret } });
    assert.equal(error.code, 'invalid_response');
    assertNoSecret(error);
  });

  it('turns a WWW-Authenticate error that echoes the client secret into invalid_response', async (t) => {
    const error = await failureFor(t, {
      status: 401,
      headers: { 'www-authenticate': `Basic realm="x", error="${clientSecret}"` },
      body: '',
    });
    assert.equal(error.code, 'invalid_response');
    assertNoSecret(error);
  });

  it('turns a 5xx body whose error echoes the client secret into a retryable invalid_response', async (t) => {
    const error = await failureFor(t, { status: 503, body: { error: clientSecret } });
    assert.equal(error.code, 'invalid_response');
    assert.equal(error.retryable, true);
    assertNoSecret(error);
  });

  it('turns an error that is a well-formed token but equals the secret into invalid_response', async (t) => {
    const tokenLikeSecret = 'plain_lowercase_secret_0123456789';
    const error = await failureFor(t, { status: 400, body: { error: tokenLikeSecret } }, tokenLikeSecret);
    assert.equal(error.code, 'invalid_response');
    assertNoSecret(error, tokenLikeSecret);
  });

  for (const [what, code] of [
    ['capital letters', 'Invalid_Client'],
    ['a space', 'invalid client'],
    ['punctuation', 'invalid-client!'],
    ['more than 64 characters', `invalid_${'x'.repeat(60)}`],
  ] as const) {
    it(`turns an error code with ${what} into invalid_response`, async (t) => {
      const error = await failureFor(t, { status: 400, body: { error: code } });
      assert.equal(error.code, 'invalid_response');
      assert.ok(!error.message.includes(code), error.message);
    });
  }
});
