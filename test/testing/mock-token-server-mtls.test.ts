// MockTokenServer's HTTPS mode: mutual TLS client authentication (RFC 8705 §2.1 tls_client_auth, §2.2
// self_signed_tls_client_auth) at its mtls_endpoint_aliases, and certificate-bound access tokens (§3),
// asked over real TLS connections with client certificates made at test time.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { inspect } from 'node:util';
import { before, describe, test, type TestContext } from 'node:test';
import { connect } from 'node:net';
import { SignJWT, decodeJwt, generateKeyPair } from 'jose';
import {
  ManualClock,
  MockTokenServer,
  createSelfSignedClientCertificate,
  createTestCertificates,
  type ClientCertificate,
  type MockClient,
  type MockTokenServerOptions,
  type TestCertificates,
} from '../../src/testing/index.js';
import { invalidOption } from '../helpers/config-error.js';

const secret = 'mtls-test:secret never-logged';
const ordersId = 'spiffe://example.org/ns/shop/sa/orders';
const ordersClient = { clientId: 'orders-svc', tlsClientAuthSanUri: ordersId, allowedScopes: ['orders.read'] };

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

/** A client certificate and its key, or none. */
type Presented = Pick<ClientCertificate, 'cert' | 'key'> | undefined;

let certs: TestCertificates;
let otherCa: TestCertificates;
let orders: ClientCertificate;
let billing: ClientCertificate;
let ordersFromOtherCa: ClientCertificate;
let selfSigned: ClientCertificate;
let otherSelfSigned: ClientCertificate;

before(async () => {
  [certs, otherCa, selfSigned, otherSelfSigned] = await Promise.all([
    createTestCertificates(),
    createTestCertificates(),
    createSelfSignedClientCertificate({ commonName: 'orders self-signed' }),
    createSelfSignedClientCertificate({ commonName: 'orders self-signed' }),
  ]);
  [orders, billing, ordersFromOtherCa] = await Promise.all([
    certs.issueClientCertificate({ spiffeId: ordersId, dnsNames: ['orders.shop.internal'], commonName: 'orders' }),
    certs.issueClientCertificate({ spiffeId: 'spiffe://example.org/ns/shop/sa/billing' }),
    otherCa.issueClientCertificate({ spiffeId: ordersId }),
  ]);
});

/** A server in HTTPS mode (the test CA's server certificate), closed when the test ends. */
async function startTlsServer(t: TestContext, options: MockTokenServerOptions = {}): Promise<MockTokenServer> {
  const server = await MockTokenServer.start({ tls: certs, ...options });
  t.after(() => server.close());
  return server;
}

/** One HTTPS request trusting the test CA, presenting `client`'s certificate when given. */
function send(url: string, client: Presented, body?: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: body === undefined ? 'GET' : 'POST',
        ca: certs.caCert,
        ...(client === undefined ? {} : { cert: client.cert, key: client.key }),
        agent: false,
        headers: body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : new URLSearchParams(body).toString());
  });
}

/** A client-credentials request at the token endpoint alias (mutual TLS), as `clientId` with no other credential. */
function mtlsTokenRequest(server: MockTokenServer, client: Presented, clientId = 'orders-svc'): Promise<Answer> {
  return send(server.mtlsEndpointAliases!.token_endpoint, client, {
    grant_type: 'client_credentials',
    client_id: clientId,
  });
}

function assertRefused(answer: Answer, description: RegExp): void {
  assert.equal(answer.status, 401, JSON.stringify(answer.json));
  assert.equal(answer.json.error, 'invalid_client');
  assert.match(String(answer.json.error_description), description);
}

describe('MockTokenServer over HTTPS: discovery', () => {
  test('the issuer is https on 127.0.0.1; discovery advertises both mTLS methods, bound tokens and the aliases', async (t) => {
    const server = await startTlsServer(t);
    assert.match(server.issuer, /^https:\/\/127\.0\.0\.1:\d+$/);
    const aliases = server.mtlsEndpointAliases!;
    const aliasOrigin = new URL(aliases.token_endpoint).origin;
    assert.match(aliasOrigin, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(aliasOrigin, server.issuer, 'the aliases are a listener of their own');
    assert.deepEqual(aliases, {
      token_endpoint: `${aliasOrigin}/oauth2/token`,
      introspection_endpoint: `${aliasOrigin}/oauth2/introspect`,
      revocation_endpoint: `${aliasOrigin}/oauth2/revoke`,
    });
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const { status, json } = await send(`${server.issuer}${path}`, undefined);
      assert.equal(status, 200);
      assert.equal(json.issuer, server.issuer);
      assert.equal(json.token_endpoint, server.tokenEndpoint);
      assert.equal(json.tls_client_certificate_bound_access_tokens, true);
      assert.deepEqual(json.mtls_endpoint_aliases, aliases);
      for (const field of ['token_endpoint_auth_methods_supported', 'introspection_endpoint_auth_methods_supported']) {
        assert.deepEqual(json[field], [
          'client_secret_basic',
          'client_secret_post',
          'private_key_jwt',
          'tls_client_auth',
          'self_signed_tls_client_auth',
        ]);
      }
    }
  });

  test('without the tls option the server is plain HTTP and advertises no mTLS', async (t) => {
    const server = await MockTokenServer.start();
    t.after(() => server.close());
    assert.match(server.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(server.mtlsEndpointAliases, undefined);
    const json = (await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(json.mtls_endpoint_aliases, undefined);
    assert.equal(json.tls_client_certificate_bound_access_tokens, undefined);
    assert.deepEqual(json.token_endpoint_auth_methods_supported, [
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
    ]);
  });
});

describe('MockTokenServer over HTTPS: tls_client_auth (RFC 8705 §2.1)', () => {
  test('a certificate the test CA signed with the registered SPIFFE ID gets a token bound to it', async (t) => {
    const server = await startTlsServer(t);
    server.addClient(ordersClient);
    const { status, json } = await mtlsTokenRequest(server, orders);
    assert.equal(status, 200, JSON.stringify(json));
    const claims = await server.verifyAccessToken(String(json.access_token));
    assert.equal(claims.sub, 'orders-svc');
    assert.equal(claims.scope, 'orders.read');
    assert.deepEqual(claims.cnf, { 'x5t#S256': orders.sha256 });
    const entry = server.requests.at(-1)!;
    assert.equal(entry.authMethod, 'tls_client_auth');
    assert.equal(entry.clientId, 'orders-svc');
    assert.equal(entry.certificateSha256, orders.sha256);
    assert.equal(entry.mtlsAlias, true);
    assert.equal(entry.status, 200);
  });

  test('the subject DN or a DNS SAN can be the registered name instead', async (t) => {
    const server = await startTlsServer(t);
    server.addClient({ clientId: 'by-dn', tlsClientAuthSubjectDn: 'CN=orders' });
    server.addClient({ clientId: 'by-dns', tlsClientAuthSanDns: 'orders.shop.internal' });
    server.addClient({ clientId: 'other-dn', tlsClientAuthSubjectDn: 'CN=billing' });
    assert.equal((await mtlsTokenRequest(server, orders, 'by-dn')).status, 200);
    assert.equal((await mtlsTokenRequest(server, orders, 'by-dns')).status, 200);
    assertRefused(await mtlsTokenRequest(server, orders, 'other-dn'), /subject DN does not match/);
  });

  test('refused (401 invalid_client, logged) with another identity, another CA, no certificate, or an expired one', async (t) => {
    const clock = new ManualClock();
    const server = await startTlsServer(t, { clock });
    server.addClient(ordersClient);
    assertRefused(await mtlsTokenRequest(server, billing), /URI SAN does not match/);
    assertRefused(await mtlsTokenRequest(server, ordersFromOtherCa), /not signed by the trusted CA/);
    assertRefused(await mtlsTokenRequest(server, selfSigned), /not signed by the trusted CA/);
    assertRefused(await mtlsTokenRequest(server, undefined), /no client certificate/);
    await clock.advance(3 * 86_400_000); // the certificate is valid for 2 days, on the server's clock
    assertRefused(await mtlsTokenRequest(server, orders), /client certificate has expired/);
    const refused = server.requests.map(({ authMethod, certificateSha256, status }) => ({
      authMethod,
      certificateSha256,
      status,
    }));
    assert.deepEqual(refused, [
      { authMethod: 'tls_client_auth', certificateSha256: billing.sha256, status: 401 },
      { authMethod: 'tls_client_auth', certificateSha256: ordersFromOtherCa.sha256, status: 401 },
      { authMethod: 'tls_client_auth', certificateSha256: selfSigned.sha256, status: 401 },
      { authMethod: 'tls_client_auth', certificateSha256: undefined, status: 401 },
      { authMethod: 'tls_client_auth', certificateSha256: orders.sha256, status: 401 },
    ]);
    assert.equal(server.issuedTokenCount, 0);
  });

  test('the main token endpoint does not ask for a certificate: a client ignoring the aliases fails visibly', async (t) => {
    const server = await startTlsServer(t);
    server.addClient(ordersClient);
    const answer = await send(server.tokenEndpoint, orders, {
      grant_type: 'client_credentials',
      client_id: 'orders-svc',
    });
    assertRefused(answer, /no client certificate.*mtls_endpoint_aliases/);
    assert.equal(server.requests.at(-1)!.mtlsAlias, undefined);
    assert.equal(server.requests.at(-1)!.certificateSha256, undefined);
  });
});

describe('MockTokenServer over HTTPS: self_signed_tls_client_auth (RFC 8705 §2.2)', () => {
  test('a registered self-signed certificate authenticates, with no CA check, and binds the token', async (t) => {
    const server = await startTlsServer(t);
    server.addClient({ clientId: 'orders-svc', selfSignedCertificates: [otherSelfSigned.cert, selfSigned.cert] });
    const { status, json } = await mtlsTokenRequest(server, selfSigned);
    assert.equal(status, 200, JSON.stringify(json));
    assert.deepEqual(decodeJwt(String(json.access_token)).cnf, { 'x5t#S256': selfSigned.sha256 });
    assert.equal(server.requests.at(-1)!.authMethod, 'self_signed_tls_client_auth');
    assert.equal(server.requests.at(-1)!.certificateSha256, selfSigned.sha256);
  });

  test('refused with an unregistered certificate (self-signed or CA-signed), none, or an expired one', async (t) => {
    const clock = new ManualClock();
    const server = await startTlsServer(t, { clock });
    server.addClient({ clientId: 'orders-svc', selfSignedCertificates: selfSigned.cert });
    assertRefused(await mtlsTokenRequest(server, otherSelfSigned), /not a certificate registered for this client/);
    assertRefused(await mtlsTokenRequest(server, orders), /not a certificate registered for this client/);
    assertRefused(await mtlsTokenRequest(server, undefined), /no client certificate/);
    await clock.advance(3 * 86_400_000);
    assertRefused(await mtlsTokenRequest(server, selfSigned), /client certificate has expired/);
    assert.deepEqual(
      server.requests.map((entry) => [entry.authMethod, entry.status]),
      Array(4).fill(['self_signed_tls_client_auth', 401]),
    );
  });
});

describe('MockTokenServer over HTTPS: certificate-bound tokens (RFC 8705 §3)', () => {
  test('a secret client gets a bound token only when it presents a certificate the CA verified', async (t) => {
    const server = await startTlsServer(t);
    server.addClient({ clientId: 'reports', clientSecret: secret });
    const form = { grant_type: 'client_credentials', client_id: 'reports', client_secret: secret };
    const cnfOf = async (url: string, client: Presented): Promise<unknown> => {
      const { status, json } = await send(url, client, form);
      assert.equal(status, 200, JSON.stringify(json));
      return decodeJwt(String(json.access_token)).cnf;
    };
    assert.equal(await cnfOf(server.tokenEndpoint, undefined), undefined);
    assert.equal(await cnfOf(server.tokenEndpoint, billing), undefined, 'the main endpoints ask for no certificate');
    assert.deepEqual(await cnfOf(server.mtlsEndpointAliases!.token_endpoint, billing), { 'x5t#S256': billing.sha256 });
    assert.equal(await cnfOf(server.mtlsEndpointAliases!.token_endpoint, selfSigned), undefined, 'not verified');
    assert.equal(await cnfOf(server.mtlsEndpointAliases!.token_endpoint, undefined), undefined);
  });

  test('a private_key_jwt client may name the alias as its assertion audience, and is bound by its certificate', async (t) => {
    const server = await startTlsServer(t);
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    server.addClient({ clientId: 'reports', publicKey });
    const tokenEndpoint = server.mtlsEndpointAliases!.token_endpoint;
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('reports')
      .setSubject('reports')
      .setAudience(tokenEndpoint)
      .setIssuedAt()
      .setExpirationTime('2m')
      .setJti('one')
      .sign(privateKey);
    const { status, json } = await send(tokenEndpoint, billing, {
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    assert.equal(status, 200, JSON.stringify(json));
    assert.deepEqual(decodeJwt(String(json.access_token)).cnf, { 'x5t#S256': billing.sha256 });
    assert.equal(server.requests.at(-1)!.authMethod, 'private_key_jwt');
  });

  test('an opaque token carries cnf in its introspection answer', async (t) => {
    const server = await startTlsServer(t, { accessTokenFormat: 'opaque' });
    server.addClient(ordersClient);
    const token = String((await mtlsTokenRequest(server, orders)).json.access_token);
    const answer = await send(server.mtlsEndpointAliases!.introspection_endpoint, orders, {
      client_id: 'orders-svc',
      token,
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.json.active, true);
    assert.deepEqual(answer.json.cnf, { 'x5t#S256': orders.sha256 });
    assert.equal(server.requests.at(-1)!.authMethod, 'tls_client_auth');
  });

  test('tlsClientCertificateBoundAccessTokens: false turns binding off for that client', async (t) => {
    const server = await startTlsServer(t);
    server.addClient({ ...ordersClient, tlsClientCertificateBoundAccessTokens: false });
    const { status, json } = await mtlsTokenRequest(server, orders);
    assert.equal(status, 200);
    assert.equal(decodeJwt(String(json.access_token)).cnf, undefined);
  });

  test('the log and the server hold no secret, key or token; a thumbprint is all of a certificate', async (t) => {
    const server = await startTlsServer(t);
    server.addClient(ordersClient);
    server.addClient({ clientId: 'reports', clientSecret: secret });
    const tokens = [String((await mtlsTokenRequest(server, orders)).json.access_token)];
    const form = { grant_type: 'client_credentials', client_id: 'reports', client_secret: secret };
    tokens.push(String((await send(server.mtlsEndpointAliases!.token_endpoint, billing, form)).json.access_token));
    const seen = `${JSON.stringify(server.requests)} ${inspect(server.requests, { depth: 9 })} ${inspect(server)}`;
    const keyBody = (pem: string): string => pem.split('\n')[1]!;
    for (const hidden of [secret, ...tokens, keyBody(orders.key), keyBody(billing.key), keyBody(certs.serverKey)])
      assert.equal(seen.includes(hidden), false);
    assert.equal(seen.includes(keyBody(orders.cert)), false, 'no certificate either, only its thumbprint');
    assert.ok(seen.includes(orders.sha256));
  });
});

test('close() closes both listeners', async () => {
  const server = await MockTokenServer.start({ tls: certs });
  const ports = [server.issuer, server.mtlsEndpointAliases!.token_endpoint].map((url) => Number(new URL(url).port));
  await server.close();
  for (const port of ports) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(false)));
      socket.once('error', () => resolve(true));
    });
    assert.equal(refused, true, `port ${port} still open`);
  }
});

describe('MockTokenServer over HTTPS: bad options', () => {
  test('tls must be the test certificates, or { caCert, serverCert, serverKey } that match and name 127.0.0.1', async () => {
    const { caCert, serverCert, serverKey } = certs;
    const start = (tls: unknown): Promise<MockTokenServer> => MockTokenServer.start({ tls } as MockTokenServerOptions);
    await assert.rejects(
      start({ caCert, serverCert, serverkey: serverKey }),
      invalidOption('unknown MockTokenServer tls option "serverkey"; did you mean "serverKey"?'),
    );
    await assert.rejects(start({ caCert, serverCert }), invalidOption(/tls\.serverKey must be PEM text or a Buffer/));
    await assert.rejects(start('yes'), invalidOption(/MockTokenServer tls options must be an object/));
    await assert.rejects(
      start({ caCert, serverCert, serverKey: otherCa.serverKey }),
      invalidOption(/tls\.serverKey does not match tls\.serverCert/),
    );
    await assert.rejects(
      start({ caCert, serverCert: orders.cert, serverKey: orders.key }),
      invalidOption(/tls\.serverCert must name 127\.0\.0\.1/),
    );
    await assert.rejects(
      start({ caCert: 'not a certificate', serverCert, serverKey }),
      invalidOption(/tls\.caCert is not a PEM certificate/),
    );
    for (const error of await Promise.allSettled([start({ caCert, serverCert, serverKey: otherCa.serverKey })]))
      assert.equal(inspect(error).includes(otherCa.serverKey.split('\n')[1]!), false, 'the key is never quoted');
  });

  test('addClient refuses mTLS fields on a plain HTTP server, ambiguous subjects, and methods without what they need', async (t) => {
    const plain = await MockTokenServer.start();
    t.after(() => plain.close());
    assert.throws(
      () => plain.addClient(ordersClient),
      invalidOption(/addClient tlsClientAuthSanUri needs a server started with the tls option/),
    );
    const server = await startTlsServer(t);
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { tlsClientAuthSanUri: ordersId, tlsClientAuthSanDns: 'orders.shop.internal' },
        /give one of tlsClientAuthSubjectDn, tlsClientAuthSanUri, tlsClientAuthSanDns, not 2/,
      ],
      [{ authMethods: ['tls_client_auth'], clientSecret: secret }, /authMethods tls_client_auth needs one of/],
      [{ authMethods: ['self_signed_tls_client_auth'] }, /self_signed_tls_client_auth needs selfSignedCertificates/],
      [{ selfSignedCertificates: [selfSigned.cert, 'nope'] }, /selfSignedCertificates\[1\] is not a PEM certificate/],
      [{ selfSignedCertificates: [] }, /selfSignedCertificates must hold at least one certificate/],
      [{ tlsClientAuthSanUri: '' }, /tlsClientAuthSanUri must be a non-empty string/],
      [{ ...ordersClient, tlsClientCertificateBoundAccessTokens: 'no' }, /must be true or false, not a string/],
      [
        { tlsClientAuthSanUrl: ordersId },
        /unknown addClient option "tlsClientAuthSanUrl"; did you mean "tlsClientAuthSanUri"\?/,
      ],
    ];
    for (const [fields, message] of cases) {
      const client = { clientId: 'orders-svc', ...fields } as MockClient;
      assert.throws(() => server.addClient(client), invalidOption(message), JSON.stringify(Object.keys(fields)));
    }
  });
});
