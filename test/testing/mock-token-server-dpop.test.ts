// MockTokenServer's DPoP (RFC 9449) at its token endpoint: proofs made here with jose, and with
// openid-client's own DPoP handle (its nonce retry included), over real HTTP.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { describe, test, type TestContext } from 'node:test';
import { SignJWT, calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import * as client from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import {
  ManualClock,
  MockTokenServer,
  createTestCertificates,
  type MockTokenServerOptions,
} from '../../src/testing/index.js';
import { invalidOption } from '../helpers/config-error.js';

const secret = 'dpop-test:secret never-logged';
const basic = `Basic ${Buffer.from(`orders-svc:${secret}`).toString('base64')}`;

async function startServer(t: TestContext, options: MockTokenServerOptions = {}): Promise<MockTokenServer> {
  const server = await MockTokenServer.start(options);
  t.after(() => server.close());
  server.addClient({ clientId: 'orders-svc', clientSecret: secret, allowedScopes: ['orders.read'] });
  return server;
}

interface ProofKey {
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
  readonly alg: string;
}

async function proofKey(alg: 'ES256' | 'EdDSA' = 'ES256'): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: await exportJWK(publicKey), alg };
}

/** A DPoP proof for the token endpoint of `server`; `change` overrides claims and header fields. */
function proof(
  server: MockTokenServer,
  key: ProofKey,
  change: { claims?: Record<string, unknown>; header?: Record<string, unknown>; nowMs?: number } = {},
): Promise<string> {
  const claims = {
    htm: 'POST',
    htu: server.tokenEndpoint,
    jti: randomUUID(),
    iat: Math.floor((change.nowMs ?? Date.now()) / 1000),
    ...change.claims,
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk: key.jwk, ...change.header })
    .sign(key.privateKey);
}

interface Answer {
  status: number;
  json: Record<string, unknown>;
  nonce: string | null;
}

/** A client-credentials request; several `dpop` values go out as that many header lines (fetch would join them). */
function tokenRequest(server: MockTokenServer, dpop?: string | string[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(server.tokenEndpoint, { method: 'POST' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const nonce = res.headers['dpop-nonce'] as string | undefined;
        resolve({ status: res.statusCode!, json: JSON.parse(text) as Record<string, unknown>, nonce: nonce ?? null });
      });
    });
    req.on('error', reject);
    req.setHeader('authorization', basic);
    req.setHeader('content-type', 'application/x-www-form-urlencoded');
    if (dpop !== undefined) req.setHeader('dpop', dpop);
    req.end('grant_type=client_credentials');
  });
}

describe('MockTokenServer: DPoP-bound tokens (RFC 9449 §5)', () => {
  for (const alg of ['ES256', 'EdDSA'] as const) {
    test(`a valid ${alg} proof gets token_type DPoP and a JWT bound to its key (cnf.jkt)`, async (t) => {
      const server = await startServer(t);
      const key = await proofKey(alg);
      const answer = await tokenRequest(server, await proof(server, key));
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      assert.equal(answer.json.token_type, 'DPoP');
      const jkt = await calculateJwkThumbprint(key.jwk, 'sha256');
      const claims = await server.verifyAccessToken(answer.json.access_token as string);
      assert.deepEqual(claims.cnf, { jkt });
      const entry = server.requests.at(-1)!;
      assert.equal(entry.dpop, true);
      assert.equal(entry.dpopJkt, jkt);
    });
  }

  test('without a DPoP header the token stays Bearer, unbound; the log says no proof came', async (t) => {
    const server = await startServer(t);
    const answer = await tokenRequest(server);
    assert.equal(answer.json.token_type, 'Bearer');
    assert.equal(decodeJwt(answer.json.access_token as string).cnf, undefined);
    assert.equal(server.requests.at(-1)!.dpop, undefined);
  });

  test('an opaque bound token: introspection answers cnf.jkt and token_type DPoP', async (t) => {
    const server = await startServer(t, { accessTokenFormat: 'opaque' });
    const key = await proofKey();
    const answer = await tokenRequest(server, await proof(server, key));
    assert.equal(answer.json.token_type, 'DPoP');
    const res = await fetch(server.introspectionEndpoint, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: answer.json.access_token as string }),
    });
    const introspected = (await res.json()) as Record<string, unknown>;
    assert.equal(introspected.active, true);
    assert.equal(introspected.token_type, 'DPoP');
    assert.deepEqual(introspected.cnf, { jkt: await calculateJwkThumbprint(key.jwk, 'sha256') });
  });

  test('a client registered with dpopBoundAccessTokens gets 400 invalid_dpop_proof without a proof', async (t) => {
    const server = await startServer(t);
    server.addClient({ clientId: 'orders-svc', clientSecret: secret, dpopBoundAccessTokens: true });
    const refused = await tokenRequest(server);
    assert.equal(refused.status, 400);
    assert.equal(refused.json.error, 'invalid_dpop_proof');
    const answer = await tokenRequest(server, await proof(server, await proofKey()));
    assert.equal(answer.json.token_type, 'DPoP');
  });

  test('discovery advertises dpop_signing_alg_values_supported', async (t) => {
    const server = await startServer(t);
    const metadata = (await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json()) as {
      dpop_signing_alg_values_supported: string[];
    };
    assert.ok(metadata.dpop_signing_alg_values_supported.includes('ES256'));
    assert.ok(metadata.dpop_signing_alg_values_supported.includes('EdDSA'));
    assert.ok(!metadata.dpop_signing_alg_values_supported.some((alg) => alg.startsWith('HS') || alg === 'none'));
  });
});

describe('MockTokenServer: bad DPoP proofs get 400 invalid_dpop_proof (RFC 9449 §4.3)', () => {
  const unsigned = (server: MockTokenServer, jwk: JWK): string => {
    const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = { htm: 'POST', htu: server.tokenEndpoint, jti: randomUUID(), iat: Math.floor(Date.now() / 1000) };
    return `${part({ alg: 'none', typ: 'dpop+jwt', jwk })}.${part(claims)}.`;
  };
  const cases: [string, RegExp, (server: MockTokenServer, key: ProofKey) => Promise<string | string[]>][] = [
    ['alg none', /does not verify/, (server, key) => Promise.resolve(unsigned(server, key.jwk))],
    [
      'HS256',
      /does not verify \(ERR_JOSE_ALG_NOT_ALLOWED\)/,
      async (server, key) => {
        const hmac = new TextEncoder().encode('a symmetric key of thirty-two bytes');
        const jwk = key.jwk; // a public key, so that only the algorithm is wrong
        return new SignJWT({ htm: 'POST', htu: server.tokenEndpoint, jti: randomUUID(), iat: Date.now() / 1000 })
          .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk })
          .sign(hmac);
      },
    ],
    [
      'a private jwk',
      /private key/,
      async (server, key) => proof(server, key, { header: { jwk: await exportJWK(key.privateKey) } }),
    ],
    ['no jwk', /does not verify/, (server, key) => proof(server, key, { header: { jwk: undefined } })],
    ['typ JWT', /does not verify/, (server, key) => proof(server, key, { header: { typ: 'JWT' } })],
    ['another htu', /htu/, (server, key) => proof(server, key, { claims: { htu: `${server.issuer}/oauth2/other` } })],
    ['htm GET', /htm/, (server, key) => proof(server, key, { claims: { htm: 'GET' } })],
    ['iat 10 minutes old', /iat/, (server, key) => proof(server, key, { nowMs: Date.now() - 600_000 })],
    ['iat 10 minutes ahead', /iat/, (server, key) => proof(server, key, { nowMs: Date.now() + 600_000 })],
    ['no jti', /jti/, (server, key) => proof(server, key, { claims: { jti: undefined } })],
    ['a jti of 10 kB', /jti/, (server, key) => proof(server, key, { claims: { jti: 'j'.repeat(10_000) } })],
    ['two DPoP headers', /more than one/, async (server, key) => [await proof(server, key), await proof(server, key)]],
  ];
  for (const [name, reason, make] of cases) {
    test(name, async (t) => {
      const server = await startServer(t);
      const answer = await tokenRequest(server, await make(server, await proofKey()));
      assert.equal(answer.status, 400);
      assert.equal(answer.json.error, 'invalid_dpop_proof');
      assert.match(answer.json.error_description as string, reason);
      assert.equal(server.issuedTokenCount, 0);
      assert.equal(server.requests.at(-1)!.dpop, true);
    });
  }

  test('a replayed proof (same jti) is refused; the log holds neither proof nor token', async (t) => {
    const server = await startServer(t);
    const sent = await proof(server, await proofKey());
    const first = await tokenRequest(server, sent);
    assert.equal(first.status, 200);
    const again = await tokenRequest(server, sent);
    assert.equal(again.status, 400);
    assert.equal(again.json.error, 'invalid_dpop_proof');
    assert.match(again.json.error_description as string, /jti/);
    const log = JSON.stringify(server.requests);
    for (const part of [sent, ...sent.split('.'), first.json.access_token as string]) assert.ok(!log.includes(part));
  });

  test("iat is checked on the server's clock", async (t) => {
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const server = await startServer(t, { clock });
    const key = await proofKey();
    assert.equal((await tokenRequest(server, await proof(server, key))).status, 400);
    assert.equal((await tokenRequest(server, await proof(server, key, { nowMs: clock.now() }))).status, 200);
  });
});

describe('MockTokenServer: DPoP at the mtls_endpoint_aliases (HTTPS mode)', () => {
  test('htu must be the token endpoint of the listener asked', async (t) => {
    const certs = await createTestCertificates();
    const server = await startServer(t, { tls: certs });
    const alias = server.mtlsEndpointAliases!.token_endpoint;
    const dispatcher = new Agent({ connect: { ca: certs.caCert } });
    t.after(() => dispatcher.close());
    const key = await proofKey();
    const ask = async (htu: string): Promise<Record<string, unknown>> => {
      const res = await undiciFetch(alias, {
        method: 'POST',
        dispatcher,
        headers: { authorization: basic, dpop: await proof(server, key, { claims: { htu } }) },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
      return (await res.json()) as Record<string, unknown>;
    };
    assert.equal((await ask(alias)).token_type, 'DPoP');
    assert.equal((await ask(server.tokenEndpoint)).error, 'invalid_dpop_proof');
  });
});

describe('MockTokenServer: DPoP nonces (RFC 9449 §8)', () => {
  test('dpopNonce: a proof without the nonce gets 400 use_dpop_nonce and a DPoP-Nonce header; with it, a token', async (t) => {
    const server = await startServer(t, { dpopNonce: true });
    const key = await proofKey();
    const first = await tokenRequest(server, await proof(server, key));
    assert.equal(first.status, 400);
    assert.equal(first.json.error, 'use_dpop_nonce');
    assert.ok(first.nonce);
    const second = await tokenRequest(server, await proof(server, key, { claims: { nonce: first.nonce } }));
    assert.equal(second.status, 200);
    assert.equal(second.json.token_type, 'DPoP');
    assert.equal(second.nonce, first.nonce); // a token answer carries the nonce too

    const rotated = server.rotateDpopNonce();
    assert.notEqual(rotated, first.nonce);
    const stale = await tokenRequest(server, await proof(server, key, { claims: { nonce: first.nonce } }));
    assert.equal(stale.json.error, 'use_dpop_nonce');
    assert.equal(stale.nonce, rotated);
  });

  test('rotateDpopNonce on a server started without dpopNonce starts requiring one', async (t) => {
    const server = await startServer(t);
    const nonce = server.rotateDpopNonce();
    const key = await proofKey();
    assert.equal((await tokenRequest(server, await proof(server, key))).json.error, 'use_dpop_nonce');
    assert.equal((await tokenRequest(server, await proof(server, key, { claims: { nonce } }))).status, 200);
  });
});

describe("MockTokenServer: openid-client's DPoP handle", () => {
  for (const dpopNonce of [false, true]) {
    test(`clientCredentialsGrant with getDPoPHandle gets a bound token${dpopNonce ? ', retrying on use_dpop_nonce' : ''}`, async (t) => {
      const server = await startServer(t, { dpopNonce });
      const config = await client.discovery(
        new URL(server.issuer),
        'orders-svc',
        undefined,
        client.ClientSecretBasic(secret),
        { execute: [client.allowInsecureRequests] },
      );
      const keyPair = await client.randomDPoPKeyPair('ES256');
      const DPoP = client.getDPoPHandle(config, keyPair);
      const tokens = await client.clientCredentialsGrant(config, { scope: 'orders.read' }, { DPoP });
      assert.equal(tokens.token_type, 'dpop');
      const claims = await server.verifyAccessToken(tokens.access_token);
      assert.deepEqual(claims.cnf, { jkt: await calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256') });
      assert.equal(server.tokenRequestCount, dpopNonce ? 2 : 1);
    });
  }
});

describe('MockTokenServer: DPoP options', () => {
  test('dpopNonce must be a boolean', async () => {
    await assert.rejects(MockTokenServer.start({ dpopNonce: 'yes' as unknown as boolean }), invalidOption(/dpopNonce/));
  });

  test('dpopBoundAccessTokens must be a boolean', async (t) => {
    const server = await startServer(t);
    assert.throws(
      () => server.addClient({ clientId: 'x', clientSecret: 's', dpopBoundAccessTokens: 1 as unknown as boolean }),
      invalidOption(/dpopBoundAccessTokens/),
    );
  });
});
