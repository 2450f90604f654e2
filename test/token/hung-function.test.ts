import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenManager, type AccessToken } from '../../src/index.js';
import { MockWorkloadIssuer, type ManualClock } from '../../src/testing/index.js';
import { clientId, clientSecret, createClock, requestsSettled, startTokenServer } from '../helpers/token-fixtures.js';

const subject = 'system:serviceaccount:shop:orders';
const requestTimeoutMs = 10_000;

/**
 * The first getToken() times out with the hung call; the hung call counted as a failed attempt
 * (callers within its backoff get it at once), and the retry calls again, which answers. Resolves
 * with the first token got within 3 s (manual) of that recovery, if any.
 */
async function timesOutThenRecovers(clock: ManualClock, tokens: TokenManager): Promise<AccessToken | undefined> {
  const first = tokens.getToken();
  first.catch(() => undefined);
  await clock.advance(requestTimeoutMs);
  await assert.rejects(first, { code: 'timeout' });
  const recoveredAtMs = clock.now();
  let token: AccessToken | undefined;
  while (token === undefined && clock.now() - recoveredAtMs <= 3_000) {
    await clock.advance(100);
    await requestsSettled(tokens);
    token = await tokens.getToken().catch(() => undefined);
  }
  return token;
}

/**
 * A credential function that hangs on its first call and answers afterwards (a CI provider's OIDC
 * endpoint that stalled once): the scope set must not stay wedged behind the call that never ends.
 */
describe('a credential function that hangs once', () => {
  for (const option of ['clientAssertion', 'tokenExchange.subjectToken'] as const) {
    it(
      `${option}: the first getToken() times out, and a token comes once the function answers again`,
      { timeout: 20_000 },
      async (t) => {
        const clock = createClock();
        const server = await startTokenServer(t, { clock });
        const cluster = await MockWorkloadIssuer.create({ clock });
        let calls = 0;
        const tokenFunction = (): Promise<string> =>
          ++calls === 1
            ? new Promise<string>(() => undefined)
            : cluster.sign({ subject, audience: option === 'clientAssertion' ? server.tokenEndpoint : 'sts' });
        let tokens: TokenManager;
        if (option === 'clientAssertion') {
          server.addClient({
            clientId: 'workload-client',
            federatedCredential: { issuer: cluster.issuer, subject, publicKey: cluster.publicJwk },
          });
          tokens = new TokenManager({
            tokenEndpoint: server.tokenEndpoint,
            clientId: 'workload-client',
            clientAssertion: tokenFunction,
            allowInsecureRequests: true,
            clock,
            requestTimeoutMs,
            maxWaitMs: requestTimeoutMs,
          });
        } else {
          server.addSubjectTokenIssuer({ issuer: cluster.issuer, publicKey: cluster.publicJwk, audience: 'sts' });
          tokens = new TokenManager({
            tokenEndpoint: server.tokenEndpoint,
            clientId,
            clientSecret,
            tokenExchange: { subjectToken: tokenFunction, subjectTokenType: 'urn:ietf:params:oauth:token-type:jwt' },
            allowInsecureRequests: true,
            clock,
            requestTimeoutMs,
            maxWaitMs: requestTimeoutMs,
          });
        }
        t.after(() => tokens.close());

        const token = await timesOutThenRecovers(clock, tokens);
        assert.equal(token?.tokenType, 'Bearer', 'a token within 3 s');
        assert.equal(calls, 2);
        assert.equal(server.tokenRequestCount, 1);
      },
    );
  }
});

describe('a token source that hangs once', () => {
  it('is bounded by requestTimeoutMs: the next attempt gets a token', { timeout: 20_000 }, async (t) => {
    const clock = createClock();
    let calls = 0;
    const tokens = new TokenManager({
      tokenSource: {
        endpoint: 'a user source',
        fetchToken: () =>
          ++calls === 1
            ? new Promise(() => undefined)
            : Promise.resolve({ accessToken: 'user-token', expiresAt: new Date(clock.now() + 3_600_000) }),
      },
      clock,
      requestTimeoutMs,
      maxWaitMs: requestTimeoutMs,
    });
    t.after(() => tokens.close());
    assert.equal((await timesOutThenRecovers(clock, tokens))?.accessToken, 'user-token');
    assert.equal(calls, 2);
  });
});
