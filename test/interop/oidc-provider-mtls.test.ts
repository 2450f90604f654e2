// TokenManager authenticating to a real authorization server, oidc-provider with its mutual-TLS
// feature, by a TLS client certificate (RFC 8705 §2): both methods, certificate-bound tokens
// (cnf.x5t#S256), the mtls_endpoint_aliases token endpoint, certificate files renewed in place, and
// a proxy between them.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { decodeJwt } from 'jose';
import { TokenError, TokenManager, type TokenManagerOptions } from '../../src/index.js';
import {
  ManualClock,
  createTestCertificates,
  writeCertificateFiles,
  type CertificateFiles,
  type ClientCertificate,
} from '../../src/testing/index.js';
import { startForwardProxy } from '../helpers/forward-proxy.js';
import { mtlsClients, startOidcProvider, type MtlsClient, type OidcProvider } from '../helpers/oidc-provider.js';
import { closeAfterTest } from '../helpers/token-fixtures.js';

const spiffeId = 'spiffe://example.test/ns/shop/sa/orders';

interface Scene {
  readonly certs: Awaited<ReturnType<typeof createTestCertificates>>;
  readonly client: ClientCertificate;
  readonly files: CertificateFiles;
  readonly idp: OidcProvider;
  readonly clock: ManualClock;
  readonly manager: (client: MtlsClient, extra?: TokenManagerOptions) => TokenManager;
}

async function scene(t: TestContext, { alias = false, opaque = false } = {}): Promise<Scene> {
  const certs = await createTestCertificates();
  const client = await certs.issueClientCertificate({ spiffeId });
  const dir = await mkdtemp(join(tmpdir(), 'token-mtls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const files = await writeCertificateFiles(join(dir, 'tls'), { cert: client.cert, key: client.key, ca: certs.caCert });
  const idp = await startOidcProvider({
    ...(opaque && { resources: [{ resource: 'https://orders.example.test', format: 'opaque' }] }),
    mtls: {
      serverCert: certs.serverCert,
      serverKey: certs.serverKey,
      ca: certs.caCert,
      spiffeId,
      selfSignedCertificate: client.cert,
      alias,
    },
  });
  t.after(() => idp.close());
  const clock = new ManualClock();
  const manager = (mtlsClient: MtlsClient, extra: TokenManagerOptions = {}): TokenManager =>
    closeAfterTest(
      t,
      new TokenManager({
        issuer: idp.issuer,
        ...mtlsClient,
        tlsClientCertificate: { certFile: files.certFile, keyFile: files.keyFile, caFile: files.caFile },
        scopes: ['orders.read'],
        retry: { retries: 0 },
        proxy: false,
        clock,
        ...extra,
      }),
    );
  return { certs, client, files, idp, clock, manager };
}

/** The `x5t#S256` a JWT access token is bound to. */
async function boundTo(tokens: TokenManager): Promise<unknown> {
  const claims = decodeJwt((await tokens.getToken()).accessToken);
  return (claims.cnf as Record<string, unknown> | undefined)?.['x5t#S256'];
}

/**
 * The next token, fetched anew: the cached one is given up as a resource server refusing it would,
 * 30 s after the last (the shortest time between forced refreshes) on the manager's clock. The IdP
 * dates its tokens by the real clock, so moving the manager's clock past their expiry instead would
 * make every new token look expired on arrival.
 */
async function nextBoundTo(tokens: TokenManager, clock: ManualClock): Promise<unknown> {
  await clock.advance(30_000);
  tokens.invalidate((await tokens.getToken()).accessToken);
  return boundTo(tokens);
}

/** The GRPC_OAUTH2_CERTIFICATE_NOT_RELOADED warnings emitted during the test. */
function reloadWarnings(t: TestContext): Error[] {
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    if ((warning as { code?: string }).code === 'GRPC_OAUTH2_CERTIFICATE_NOT_RELOADED') warnings.push(warning);
  };
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  return warnings;
}

describe('oidc-provider (mTLS): client authentication by a TLS client certificate', () => {
  for (const name of ['pki', 'selfSigned'] as const) {
    it(`gets a token bound to the certificate with ${mtlsClients[name].clientAuthMethod}`, async (t) => {
      const { idp, client, manager } = await scene(t);
      const tokens = manager(mtlsClients[name]);
      assert.equal(await boundTo(tokens), client.sha256);
      assert.equal(decodeJwt((await tokens.getToken()).accessToken).client_id, mtlsClients[name].clientId);
      assert.equal(idp.requests.token, 1);
    });
  }

  it('gets an opaque token that introspects as bound to the certificate', async (t) => {
    const { idp, client, manager } = await scene(t, { opaque: true });
    const tokens = manager(mtlsClients.pki);
    const answer = await idp.introspect((await tokens.getToken()).accessToken);
    assert.equal(answer.active, true);
    assert.deepEqual(answer.cnf, { 'x5t#S256': client.sha256 });
  });

  it('sends the token request to mtls_endpoint_aliases.token_endpoint when the discovery document has it', async (t) => {
    const { idp, client, manager } = await scene(t, { alias: true });
    const tokens = manager(mtlsClients.pki);
    assert.equal(await boundTo(tokens), client.sha256);
    assert.deepEqual([idp.aliasRequests.token, idp.requests.token], [1, 0]);
    assert.ok(idp.mtlsTokenEndpoint?.startsWith('https://'));
  });

  it('is refused (invalid_client) with a certificate whose SAN is not the registered one', async (t) => {
    const { certs, manager } = await scene(t);
    const other = await certs.issueClientCertificate({ spiffeId: 'spiffe://example.test/ns/shop/sa/billing' });
    const dir = await mkdtemp(join(tmpdir(), 'token-mtls-other-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const files = await writeCertificateFiles(dir, { cert: other.cert, key: other.key, ca: certs.caCert });
    const tokens = manager(mtlsClients.pki, {
      tlsClientCertificate: { certFile: files.certFile, keyFile: files.keyFile, caFile: files.caFile },
    });
    const error = await tokens.getToken().then(
      () => assert.fail('expected a refusal'),
      (err: unknown) => err,
    );
    assert.ok(error instanceof TokenError);
    assert.equal(error.code, 'invalid_client');
  });

  it('binds the next token to the renewed certificate once the files are renewed in place', async (t) => {
    const { idp, certs, client, files, clock, manager } = await scene(t);
    const tokens = manager(mtlsClients.pki);
    assert.equal(await boundTo(tokens), client.sha256);
    const next = await certs.issueClientCertificate({ spiffeId });
    await files.renew({ cert: next.cert, key: next.key, ca: certs.caCert });
    assert.equal(await nextBoundTo(tokens, clock), next.sha256);
    assert.equal(await nextBoundTo(tokens, clock), next.sha256);
    assert.equal(idp.requests.token, 3);
  });

  it('keeps the last good certificate when the renewed pair does not match, reporting it once', async (t) => {
    const { idp, certs, client, files, clock, manager } = await scene(t);
    const warnings = reloadWarnings(t);
    const tokens = manager(mtlsClients.pki);
    assert.equal(await boundTo(tokens), client.sha256);
    const next = await certs.issueClientCertificate({ spiffeId });
    await files.renew({ cert: next.cert, key: client.key, ca: certs.caCert });
    for (let i = 0; i < 3; i++) assert.equal(await nextBoundTo(tokens, clock), client.sha256);
    assert.equal(idp.requests.token, 4);
    await new Promise((resolve) => setImmediate(resolve));
    const reported = warnings;
    assert.equal(reported.length, 1);
    assert.match(reported[0]!.message, /keyFile .*tls\.key does not match the certificate in certFile/);
    assert.ok(!reported[0]!.message.includes(client.key.split('\n')[1]!));
  });

  it('keeps the last good certificate while the files are gone, reporting it once when a second read fails too', async (t) => {
    const { idp, client, files, clock, manager } = await scene(t);
    const warnings = reloadWarnings(t);
    const tokens = manager(mtlsClients.pki);
    assert.equal(await boundTo(tokens), client.sha256);
    await rm(join(dirname(files.certFile), '..data'));
    assert.equal(await nextBoundTo(tokens, clock), client.sha256);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(warnings.length, 0, 'one failed read is a renewal under way, not yet a problem');
    for (let i = 0; i < 2; i++) assert.equal(await nextBoundTo(tokens, clock), client.sha256);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      warnings.map((w) => w.message),
      [`tlsClientCertificate: kept the last good certificate: certFile ${files.certFile} does not exist`],
    );
    assert.equal(idp.requests.token, 4);
  });

  it('TokenManager.fromEnv: OAUTH2_TLS_CERT_FILE, OAUTH2_TLS_KEY_FILE and OAUTH2_TLS_CA_FILE', async (t) => {
    const { idp, client, files, clock } = await scene(t);
    const vars = {
      OAUTH2_ISSUER: idp.issuer,
      OAUTH2_CLIENT_ID: mtlsClients.pki.clientId,
      OAUTH2_TLS_CERT_FILE: files.certFile,
      OAUTH2_TLS_KEY_FILE: files.keyFile,
      OAUTH2_TLS_CA_FILE: files.caFile,
      OAUTH2_SCOPES: 'orders.read',
    };
    const saved = Object.entries(process.env).filter(([name]) => name.startsWith('OAUTH2_'));
    for (const [name] of saved) delete process.env[name];
    Object.assign(process.env, vars);
    t.after(() => {
      for (const name of Object.keys(vars)) delete process.env[name];
      for (const [name, value] of saved) process.env[name] = value;
    });
    const tokens = closeAfterTest(t, TokenManager.fromEnv({ clock, proxy: false, retry: { retries: 0 } }));
    assert.equal(await boundTo(tokens), client.sha256);
  });

  it('presents the certificate through a proxy tunnel (CONNECT)', async (t) => {
    const { idp, client, manager } = await scene(t);
    const proxy = await startForwardProxy(t);
    const tokens = manager(mtlsClients.pki, { proxy: proxy.url });
    assert.equal(await boundTo(tokens), client.sha256);
    const port = new URL(idp.issuer).port;
    assert.ok(
      proxy.requests.some((r) => r.kind === 'connect' && r.target === `127.0.0.1:${port}`),
      JSON.stringify(proxy.requests),
    );
  });
});
