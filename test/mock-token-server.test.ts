import assert from 'node:assert/strict';
import { connect } from 'node:tls';
import { createServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { createTestCertificates } from '../src/testing/certificates.js';
import { clientId, clientSecret, startTokenServer } from './helpers/token-fixtures.js';

async function tokenRequest(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: response.headers };
}

const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('MockTokenServer', () => {
  it('serves RFC 8414 and OpenID discovery documents and a JWKS', async () => {
    const server = await startTokenServer();
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const doc = (await (await fetch(server.issuer + path)).json()) as Record<string, unknown>;
      assert.equal(doc.issuer, server.issuer);
      assert.equal(doc.token_endpoint, server.tokenEndpoint);
      assert.equal(doc.jwks_uri, server.jwksUri);
    }
    const jwks = (await (await fetch(server.jwksUri)).json()) as { keys: { kid?: string; use?: string; d?: string }[] };
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0]?.use, 'sig');
    assert.equal(jwks.keys[0]?.d, undefined, 'no private part');
  });

  it('refuses a wrong client secret with 401 invalid_client and a Basic challenge', async () => {
    const server = await startTokenServer();
    const answer = await tokenRequest(server.tokenEndpoint, { grant_type: 'client_credentials' }, { authorization: basic(clientId, 'wrong') });
    assert.equal(answer.status, 401);
    assert.equal(answer.body.error, 'invalid_client');
    assert.match(answer.headers.get('www-authenticate') ?? '', /^Basic /);
  });

  it('refuses a scope outside the client allowed scopes with invalid_scope', async () => {
    const server = await startTokenServer();
    const answer = await tokenRequest(server.tokenEndpoint, { grant_type: 'client_credentials', scope: 'admin' }, { authorization: basic(clientId, clientSecret) });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error, 'invalid_scope');
  });

  it('refuses a client assertion signed with the wrong key, and a replayed one', async () => {
    const server = await startTokenServer();
    const registered = await generateKeyPair('ES256');
    const other = await generateKeyPair('ES256');
    server.addClient({ clientId: 'jwt-client', publicKey: await exportJWK(registered.publicKey) });
    const assertion = (key: CryptoKey, jti: string) =>
      new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer('jwt-client').setSubject('jwt-client').setAudience(server.issuer).setJti(jti).setIssuedAt().setExpirationTime('1m').sign(key);
    const form = (jwt: string) => ({ grant_type: 'client_credentials', client_id: 'jwt-client', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt });
    assert.equal((await tokenRequest(server.tokenEndpoint, form(await assertion(other.privateKey, 'a')))).body.error, 'invalid_client');
    const good = await assertion(registered.privateKey, 'b');
    assert.equal((await tokenRequest(server.tokenEndpoint, form(good))).status, 200);
    assert.equal((await tokenRequest(server.tokenEndpoint, form(good))).body.error, 'invalid_client', 'replayed jti');
  });

  it('answers other grant types with unsupported_grant_type and other paths with 404', async () => {
    const server = await startTokenServer();
    assert.equal((await tokenRequest(server.tokenEndpoint, { grant_type: 'password' }, { authorization: basic(clientId, clientSecret) })).body.error, 'unsupported_grant_type');
    assert.equal((await fetch(`${server.issuer}/nothing`)).status, 404);
  });

  it('applies queued faults in order for the next requests, then serves normally', async () => {
    const server = await startTokenServer();
    server.failNext(2, { type: 'error', status: 503, retryAfter: 7 });
    server.failNext(1, { type: 'html' });
    const auth = { authorization: basic(clientId, clientSecret) };
    const first = await fetch(server.tokenEndpoint, { method: 'POST', headers: auth, body: new URLSearchParams({ grant_type: 'client_credentials' }) });
    assert.equal(first.status, 503);
    assert.equal(first.headers.get('retry-after'), '7');
    await first.text();
    assert.equal((await tokenRequest(server.tokenEndpoint, { grant_type: 'client_credentials' }, auth).catch(() => ({ status: 503 }))).status, 503);
    const html = await fetch(server.tokenEndpoint, { method: 'POST', headers: auth, body: new URLSearchParams({ grant_type: 'client_credentials' }) });
    assert.equal(html.status, 502);
    assert.match(html.headers.get('content-type') ?? '', /text\/html/);
    await html.text();
    assert.equal((await tokenRequest(server.tokenEndpoint, { grant_type: 'client_credentials' }, auth)).status, 200);
    assert.equal(server.tokenRequestCount, 4);
    assert.deepEqual(server.requests.map((r) => r.fault), ['error', 'error', 'html', undefined]);
  });

  it('keeps secrets, assertions and tokens out of its request log', async () => {
    const server = await startTokenServer();
    const auth = { authorization: basic(clientId, clientSecret) };
    const ok = await tokenRequest(server.tokenEndpoint, { grant_type: 'client_credentials', scope: 'orders.read' }, auth);
    await tokenRequest(server.tokenEndpoint, { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret });
    const log = JSON.stringify(server.requests);
    assert.ok(!log.includes(clientSecret));
    assert.ok(!log.includes(auth.authorization.slice(6)));
    assert.ok(!log.includes(String(ok.body.access_token)));
    assert.deepEqual(server.requests.map((r) => r.authMethod), ['client_secret_basic', 'client_secret_post']);
  });

  it('drops a hanging request when closed', async () => {
    const server = await startTokenServer();
    server.failNext(1, { type: 'hang' });
    const pending = fetch(server.tokenEndpoint, { method: 'POST', body: 'grant_type=client_credentials' }).then(
      () => 'answered',
      () => 'dropped',
    );
    while (server.tokenRequestCount === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    await server.close();
    assert.equal(await pending, 'dropped');
  });
});

describe('createTestCertificates', () => {
  it('makes a CA and a localhost server certificate that complete a real TLS handshake', async () => {
    const certs = await createTestCertificates();
    assert.match(certs.serverKey, /BEGIN PRIVATE KEY/, 'PKCS#8 PEM');
    const server = createServer({ cert: certs.serverCert, key: certs.serverKey }, (socket) => socket.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      for (const servername of ['localhost', undefined]) {
        const greeting = await new Promise<string>((resolve, reject) => {
          const socket = connect({ host: '127.0.0.1', port, ca: certs.caCert, ...(servername ? { servername } : { checkServerIdentity: () => undefined }) }, () => {
            assert.equal(socket.authorized, true);
          });
          let data = '';
          socket.on('data', (d: Buffer) => (data += d.toString()));
          socket.on('end', () => resolve(data));
          socket.on('error', reject);
        });
        assert.equal(greeting, 'hello');
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
