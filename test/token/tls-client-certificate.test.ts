// TokenManager's tlsClientCertificate option (RFC 8705 §2): what is refused at construction, and how,
// never showing the key. The token requests themselves are in test/interop/oidc-provider-mtls.test.ts.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { before, describe, it } from 'node:test';
import { AuthConfigError, TokenManager, type TokenError, type TokenManagerOptions } from '../../src/index.js';
import { ManualClock, createTestCertificates, type ClientCertificate } from '../../src/testing/index.js';

const tokenEndpoint = 'https://auth.example.test/oauth2/token';
let dir: string;
let client: ClientCertificate;
let other: ClientCertificate;
let caCert: string;
let serverTls: { cert: string; key: string };
const path = (name: string): string => join(dir, name);

before(async () => {
  const certs = await createTestCertificates();
  caCert = certs.caCert;
  serverTls = { cert: certs.serverCert, key: certs.serverKey };
  client = await certs.issueClientCertificate({ spiffeId: 'spiffe://example.test/orders' });
  other = await certs.issueClientCertificate();
  dir = await mkdtemp(join(tmpdir(), 'tls-client-certificate-'));
  await Promise.all([
    writeFile(path('tls.crt'), client.cert),
    writeFile(path('tls.key'), client.key, { mode: 0o600 }),
    writeFile(path('other.key'), other.key, { mode: 0o600 }),
    writeFile(path('ca.crt'), caCert),
    writeFile(path('empty.crt'), '\n  \n'),
    writeFile(path('key-as-cert.crt'), client.key),
    mkdir(path('a-directory')),
  ]);
  process.once('exit', () => void rm(dir, { recursive: true, force: true }));
});

const good = (): { certFile: string; keyFile: string } => ({ certFile: path('tls.crt'), keyFile: path('tls.key') });

function manager(options: Partial<TokenManagerOptions>): TokenManager {
  return new TokenManager({ tokenEndpoint, clientId: 'orders-svc', ...options });
}

/** The AuthConfigError `options` make, checked to show no line of either key. */
function refusal(options: Partial<TokenManagerOptions>): string {
  let message = '';
  assert.throws(
    () => manager(options).close(),
    (err: unknown) => {
      assert.ok(err instanceof AuthConfigError, String(err));
      message = err.message;
      return true;
    },
  );
  for (const key of [client.key, other.key]) {
    for (const line of key.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')))
      assert.ok(!message.includes(line) && !inspect(message).includes(line), `key material in: ${message}`);
  }
  return message;
}

describe('tlsClientCertificate: bad input is an AuthConfigError naming the option or file', () => {
  it('tls_client_auth or self_signed_tls_client_auth without tlsClientCertificate', () => {
    for (const method of ['tls_client_auth', 'self_signed_tls_client_auth'] as const) {
      assert.equal(
        refusal({ clientAuthMethod: method, clientSecret: 'a-secret-value' }),
        `clientAuthMethod ${method} needs tlsClientCertificate`,
      );
    }
  });

  it('tlsClientCertificate with another auth method, or with a secret or private key', () => {
    assert.match(
      refusal({ tlsClientCertificate: good(), clientAuthMethod: 'client_secret_basic' }),
      /^tlsClientCertificate needs clientAuthMethod tls_client_auth or self_signed_tls_client_auth, not client_secret_basic$/,
    );
    assert.equal(
      refusal({ tlsClientCertificate: good(), clientSecret: 'a-secret-value' }),
      'give only one credential, not clientSecret and tlsClientCertificate',
    );
    assert.equal(
      refusal({ tlsClientCertificate: good(), privateKeyFile: path('tls.key') }),
      'give only one credential, not privateKeyFile and tlsClientCertificate',
    );
  });

  it('unknown or missing names inside tlsClientCertificate, or not an object', () => {
    assert.equal(
      refusal({ tlsClientCertificate: { ...good(), keyfile: 'x' } as never }),
      'unknown tlsClientCertificate option "keyfile"; did you mean "keyFile"?',
    );
    assert.match(
      refusal({ tlsClientCertificate: { certFile: path('tls.crt') } as never }),
      /^tlsClientCertificate\.keyFile must be a non-empty string/,
    );
    assert.equal(
      refusal({ tlsClientCertificate: path('tls.crt') as never }),
      'tlsClientCertificate must be an object { certFile, keyFile }',
    );
  });

  it('a missing, unreadable or empty file, naming it', () => {
    assert.equal(
      refusal({ tlsClientCertificate: { ...good(), certFile: path('nothing.crt') } }),
      `tlsClientCertificate: certFile ${path('nothing.crt')} does not exist`,
    );
    assert.equal(
      refusal({ tlsClientCertificate: { ...good(), keyFile: path('a-directory') } }),
      `tlsClientCertificate: keyFile ${path('a-directory')} could not be read (EISDIR)`,
    );
    assert.equal(
      refusal({ tlsClientCertificate: { ...good(), certFile: path('empty.crt') } }),
      `tlsClientCertificate: certFile ${path('empty.crt')} is empty`,
    );
    assert.equal(
      refusal({ tlsClientCertificate: { ...good(), caFile: path('empty.crt') } }),
      `tlsClientCertificate: caFile ${path('empty.crt')} is empty`,
    );
  });

  it('a certificate file holding a key, or a key that is not the certificate’s, without quoting it', () => {
    assert.equal(
      refusal({ tlsClientCertificate: { ...good(), certFile: path('key-as-cert.crt') } }),
      `tlsClientCertificate: certFile ${path('key-as-cert.crt')} holds no valid PEM certificate`,
    );
    assert.equal(
      refusal({ tlsClientCertificate: { ...good(), keyFile: path('other.key') } }),
      `tlsClientCertificate: keyFile ${path('other.key')} does not match the certificate in certFile ${path('tls.crt')}`,
    );
    assert.equal(
      refusal({ tlsClientCertificate: { ...good(), keyFile: path('tls.crt') } }),
      `tlsClientCertificate: keyFile ${path('tls.crt')} holds no valid PEM private key`,
    );
  });

  it('an expired certificate (by the manager’s clock)', () => {
    const clock = new ManualClock(Date.now() + 3 * 86_400_000);
    assert.match(
      refusal({ tlsClientCertificate: good(), clock }),
      new RegExp(`^tlsClientCertificate: the certificate in certFile ${path('tls.crt')} expired on `),
    );
  });

  it('an http: token endpoint or issuer, even with allowInsecureRequests', () => {
    for (const [name, url] of [
      ['tokenEndpoint', 'http://127.0.0.1:8080/token'],
      ['issuer', 'http://127.0.0.1:8080'],
    ] as const) {
      const endpoints = name === 'issuer' ? { tokenEndpoint: undefined, issuer: url } : { tokenEndpoint: url };
      for (const auth of [{ tlsClientCertificate: good() }, { clientAuthMethod: 'tls_client_auth' as const }]) {
        assert.equal(
          refusal({ ...endpoints, ...auth, allowInsecureRequests: true }),
          `${name} must be https with a TLS client certificate (tlsClientCertificate)`,
        );
      }
    }
  });
});

describe('tlsClientCertificate: a good pair', () => {
  it('makes a manager (tls_client_auth by default) whose inspect and JSON show no key material', () => {
    const tokens = manager({ tlsClientCertificate: { ...good(), caFile: path('ca.crt') } });
    try {
      const shown = [
        inspect(tokens, { showHidden: true, depth: 12, getters: true }),
        JSON.stringify(tokens) ?? '',
      ].join('\n');
      for (const line of client.key.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')))
        assert.ok(!shown.includes(line), 'key material in inspect or JSON');
    } finally {
      tokens.close();
    }
  });
});

describe('tlsClientCertificate: discovery', () => {
  it('a discovery document naming an http: token endpoint is a config TokenError, and no token request goes out', async (t) => {
    const paths: string[] = [];
    const server = createServer(serverTls, (req, res) => {
      paths.push(req.url ?? '');
      const issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer, token_endpoint: 'http://127.0.0.1:9/token' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => server.close());
    const issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const tokens = new TokenManager({
      issuer,
      clientId: 'orders-svc',
      tlsClientCertificate: { ...good(), caFile: path('ca.crt') },
    });
    t.after(() => tokens.close());
    await assert.rejects(tokens.getToken(), (err: TokenError) => {
      assert.equal(err.code, 'config');
      assert.match(
        err.message,
        /token endpoint http:\/\/127\.0\.0\.1:9\/token.*not https: a TLS client certificate needs TLS/,
      );
      return true;
    });
    assert.ok(paths.length > 0 && paths.every((p) => p.startsWith('/.well-known/')), paths.join(' '));
  });
});
