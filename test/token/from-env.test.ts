import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { exportPKCS8, generateKeyPair, SignJWT } from 'jose';
import { AuthConfigError, TokenManager } from '../../src/index.js';
import { invalidOption } from '../helpers/config-error.js';
import { clientId, clientSecret, startTokenServer } from '../helpers/token-fixtures.js';

/** Runs with exactly `vars` as the OAUTH2_* environment (others removed), restored when `t` ends. */
function useEnv(t: TestContext, vars: Record<string, string>): void {
  const saved = Object.entries(process.env).filter(([name]) => name.startsWith('OAUTH2_'));
  for (const [name] of saved) delete process.env[name];
  Object.assign(process.env, vars);
  t.after(() => {
    for (const name of Object.keys(process.env)) if (name.startsWith('OAUTH2_')) delete process.env[name];
    for (const [name, value] of saved) process.env[name] = value;
  });
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'from-env-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function fromEnv(t: TestContext, overrides?: Parameters<typeof TokenManager.fromEnv>[0]): TokenManager {
  const tokens = TokenManager.fromEnv(overrides);
  t.after(() => tokens.close());
  return tokens;
}

/** The AuthConfigError `fn` throws; fails if the message holds the secret. */
function configFailure(fn: () => unknown): AuthConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof AuthConfigError, String(error));
    assert.equal(error.code, 'invalid_option');
    assert.ok(!error.message.includes(clientSecret), 'never the secret');
    return error;
  }
  assert.fail('expected an AuthConfigError');
}

describe('TokenManager.fromEnv', () => {
  it('gets a token with OAUTH2_TOKEN_ENDPOINT, OAUTH2_CLIENT_ID, OAUTH2_CLIENT_SECRET, OAUTH2_SCOPES, OAUTH2_AUDIENCE and OAUTH2_RESOURCE', async (t) => {
    const server = await startTokenServer(t);
    useEnv(t, {
      OAUTH2_TOKEN_ENDPOINT: server.tokenEndpoint,
      OAUTH2_CLIENT_ID: clientId,
      OAUTH2_CLIENT_SECRET: clientSecret,
      OAUTH2_SCOPES: ' orders.read  orders.write ',
      OAUTH2_AUDIENCE: 'https://orders.example.test',
      OAUTH2_RESOURCE: 'https://orders.example.test/v1',
      OAUTH2_ALLOW_INSECURE_REQUESTS: 'true',
    });
    const token = await fromEnv(t).getToken();
    assert.deepEqual(token.scopes, ['orders.read', 'orders.write']);
    const [request] = server.requests;
    assert.equal(request?.clientId, clientId);
    assert.equal(request?.scope, 'orders.read orders.write');
    assert.equal(request?.audience, 'https://orders.example.test');
    assert.equal(request?.resource, 'https://orders.example.test/v1');
  });

  it('discovers the token endpoint from OAUTH2_ISSUER and reads the secret from OAUTH2_CLIENT_SECRET_FILE', async (t) => {
    const server = await startTokenServer(t);
    const secretFile = join(tempDir(t), 'secret');
    writeFileSync(secretFile, `${clientSecret}\n`);
    useEnv(t, {
      OAUTH2_ISSUER: server.issuer,
      OAUTH2_CLIENT_ID: clientId,
      OAUTH2_CLIENT_SECRET_FILE: secretFile,
      OAUTH2_ALLOW_INSECURE_REQUESTS: 'true',
    });
    await fromEnv(t).getToken();
    assert.equal(server.requests.at(-1)?.authMethod, 'client_secret_basic');
  });

  it('signs client assertions with the key in OAUTH2_PRIVATE_KEY_FILE', async (t) => {
    const server = await startTokenServer(t);
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    server.addClient({ clientId: 'keyed-svc', publicKey });
    const keyFile = join(tempDir(t), 'key.pem');
    writeFileSync(keyFile, await exportPKCS8(privateKey));
    useEnv(t, {
      OAUTH2_TOKEN_ENDPOINT: server.tokenEndpoint,
      OAUTH2_CLIENT_ID: 'keyed-svc',
      OAUTH2_PRIVATE_KEY_FILE: keyFile,
      OAUTH2_ALLOW_INSECURE_REQUESTS: 'true',
    });
    await fromEnv(t).getToken();
    assert.equal(server.requests.at(-1)?.authMethod, 'private_key_jwt');
  });

  it('sends the JWT in OAUTH2_CLIENT_ASSERTION_FILE as the client assertion', async (t) => {
    const server = await startTokenServer(t);
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    server.addClient({ clientId: 'workload-svc', publicKey });
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('workload-svc')
      .setSubject('workload-svc')
      .setAudience(server.tokenEndpoint)
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti('a-1')
      .sign(privateKey);
    const assertionFile = join(tempDir(t), 'token');
    writeFileSync(assertionFile, assertion);
    useEnv(t, {
      OAUTH2_TOKEN_ENDPOINT: server.tokenEndpoint,
      OAUTH2_CLIENT_ID: 'workload-svc',
      OAUTH2_CLIENT_ASSERTION_FILE: assertionFile,
      OAUTH2_ALLOW_INSECURE_REQUESTS: 'true',
    });
    await fromEnv(t).getToken();
    assert.equal(server.requests.at(-1)?.authMethod, 'private_key_jwt');
  });

  it('takes OAUTH2_ALLOW_INSECURE_REQUESTS=false at its word and refuses an http endpoint', (t) => {
    useEnv(t, {
      OAUTH2_TOKEN_ENDPOINT: 'http://127.0.0.1:9/token',
      OAUTH2_CLIENT_ID: clientId,
      OAUTH2_CLIENT_SECRET: clientSecret,
      OAUTH2_ALLOW_INSECURE_REQUESTS: 'false',
    });
    assert.throws(() => fromEnv(t), invalidOption(/^tokenEndpoint is http:\/\/; .*allowInsecureRequests: true/));
  });

  it('accepts only true or false in OAUTH2_ALLOW_INSECURE_REQUESTS', (t) => {
    useEnv(t, {
      OAUTH2_TOKEN_ENDPOINT: 'http://127.0.0.1:9/token',
      OAUTH2_CLIENT_ID: clientId,
      OAUTH2_CLIENT_SECRET: clientSecret,
      OAUTH2_ALLOW_INSECURE_REQUESTS: 'yes',
    });
    assert.equal(configFailure(() => fromEnv(t)).message, 'OAUTH2_ALLOW_INSECURE_REQUESTS must be true or false');
  });

  it('names the missing variable: the endpoint, the client id, the credential', (t) => {
    useEnv(t, { OAUTH2_CLIENT_ID: clientId, OAUTH2_CLIENT_SECRET: clientSecret });
    assert.equal(configFailure(() => fromEnv(t)).message, 'set OAUTH2_ISSUER (discovery) or OAUTH2_TOKEN_ENDPOINT');
    process.env.OAUTH2_TOKEN_ENDPOINT = 'https://auth.example.test/token';
    delete process.env.OAUTH2_CLIENT_ID;
    assert.equal(configFailure(() => fromEnv(t)).message, 'set OAUTH2_CLIENT_ID');
    process.env.OAUTH2_CLIENT_ID = clientId;
    delete process.env.OAUTH2_CLIENT_SECRET;
    assert.match(
      configFailure(() => fromEnv(t)).message,
      /^set one of OAUTH2_CLIENT_SECRET, OAUTH2_CLIENT_SECRET_FILE, OAUTH2_PRIVATE_KEY_FILE/,
    );
  });

  it("names a misspelled variable and suggests the right one, and leaves other tools' OAUTH2_ variables alone", (t) => {
    useEnv(t, {
      OAUTH2_TOKEN_ENDPOINT: 'https://auth.example.test/token',
      OAUTH2_CLIENT_ID: clientId,
      OAUTH2_CLIENT_SECRET: clientSecret,
      OAUTH2_SCOPE: 'orders.read',
    });
    assert.equal(
      configFailure(() => fromEnv(t)).message,
      'unknown environment variable OAUTH2_SCOPE; did you mean OAUTH2_SCOPES?',
    );
    delete process.env.OAUTH2_SCOPE;
    process.env.OAUTH2_PROXY_COOKIE_SECRET = 'another-tools-setting';
    fromEnv(t);
  });

  it('takes a TLS client certificate from OAUTH2_TLS_CERT_FILE with OAUTH2_TLS_KEY_FILE (and OAUTH2_TLS_CA_FILE)', (t) => {
    const dir = tempDir(t);
    useEnv(t, {
      OAUTH2_TOKEN_ENDPOINT: 'https://auth.example.test/token',
      OAUTH2_CLIENT_ID: clientId,
      OAUTH2_TLS_CERT_FILE: join(dir, 'tls.crt'),
    });
    assert.equal(configFailure(() => fromEnv(t)).message, 'OAUTH2_TLS_CERT_FILE is set without OAUTH2_TLS_KEY_FILE');
    process.env.OAUTH2_TLS_KEY_FILE = join(dir, 'tls.key');
    process.env.OAUTH2_TLS_CA_FILE = join(dir, 'ca.crt');
    // Read as tlsClientCertificate's files: the certificate's is read first, and is missing here.
    assert.equal(
      configFailure(() => fromEnv(t)).message,
      `tlsClientCertificate: certFile ${join(dir, 'tls.crt')} does not exist`,
    );
    process.env.OAUTH2_CLIENT_SECRET = clientSecret;
    assert.equal(
      configFailure(() => fromEnv(t)).message,
      'OAUTH2_CLIENT_SECRET and OAUTH2_TLS_CERT_FILE are both set; set only one credential',
    );
    delete process.env.OAUTH2_TLS_CERT_FILE;
    assert.equal(
      configFailure(() => fromEnv(t)).message,
      'OAUTH2_TLS_KEY_FILE and OAUTH2_TLS_CA_FILE set without OAUTH2_TLS_CERT_FILE',
    );
  });

  it('refuses two credentials at once, naming both and neither value', (t) => {
    useEnv(t, {
      OAUTH2_TOKEN_ENDPOINT: 'https://auth.example.test/token',
      OAUTH2_CLIENT_ID: clientId,
      OAUTH2_CLIENT_SECRET: clientSecret,
      OAUTH2_CLIENT_SECRET_FILE: '/run/secrets/oauth2',
    });
    assert.equal(
      configFailure(() => fromEnv(t)).message,
      'OAUTH2_CLIENT_SECRET and OAUTH2_CLIENT_SECRET_FILE are both set; set only one credential',
    );
  });

  it("lets overrides win: a credential given there replaces the environment's, an option replaces its variable", async (t) => {
    const server = await startTokenServer(t);
    useEnv(t, {
      OAUTH2_TOKEN_ENDPOINT: server.tokenEndpoint,
      OAUTH2_CLIENT_ID: clientId,
      OAUTH2_CLIENT_SECRET_FILE: '/nonexistent',
      OAUTH2_SCOPES: 'orders.read',
      OAUTH2_ALLOW_INSECURE_REQUESTS: 'true',
    });
    await fromEnv(t, { clientSecret, scopes: ['inventory.read'] }).getToken();
    assert.equal(server.requests.at(-1)?.scope, 'inventory.read');
    assert.match(
      configFailure(() => fromEnv(t, { scopez: [] } as never)).message,
      /unknown TokenManager option "scopez"; did you mean "scopes"\?/,
    );
  });

  it('treats an empty variable as unset', (t) => {
    useEnv(t, {
      OAUTH2_TOKEN_ENDPOINT: 'https://auth.example.test/token',
      OAUTH2_CLIENT_ID: clientId,
      OAUTH2_CLIENT_SECRET: clientSecret,
      OAUTH2_CLIENT_SECRET_FILE: '',
      OAUTH2_AUDIENCE: ' ',
    });
    fromEnv(t);
  });
});
