import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { TokenManager } from '../../src/index.js';
import type { ServiceAccountOptions } from '../../src/index.js';
import { invalidOption } from '../helpers/config-error.js';
import { clientSecret, closeAfterTest, createTempDir, startTokenServer } from '../helpers/token-fixtures.js';

/** `content` as JSON in a file of a temporary directory removed after the test; its path. */
async function writeJson(t: TestContext, content: unknown): Promise<string> {
  const path = join(await createTempDir(t, 'sa-'), 'key.json');
  await writeFile(path, JSON.stringify(content));
  return path;
}

/** A manager for the key file at `path`, closed after the test. */
function fromFile(t: TestContext, path: string, options?: ServiceAccountOptions): TokenManager {
  return closeAfterTest(t, TokenManager.fromServiceAccountFile(path, options));
}

function rsaKeyPair(): { publicPem: string; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

describe('service-account key files', () => {
  it('uses a Google-format key with the JWT-bearer grant, the scopes in the assertion', async (t) => {
    const server = await startTokenServer(t);
    const { publicPem, privatePem } = rsaKeyPair();
    const clientEmail = 'orders@project.iam.example.test';
    server.addServiceAccount({ clientEmail, publicKey: publicPem });
    const path = await writeJson(t, {
      type: 'service_account',
      project_id: 'project',
      private_key_id: 'key-1',
      private_key: privatePem,
      client_email: clientEmail,
      client_id: '1234567890',
      token_uri: server.tokenEndpoint,
    });
    const tokens = fromFile(t, path, { scopes: ['orders.read', 'orders.write'], allowInsecureRequests: true });
    const token = await tokens.getToken();
    const claims = await server.verifyAccessToken(token.accessToken);
    assert.equal(claims.sub, clientEmail);
    assert.equal(claims.scope, 'orders.read orders.write');
    assert.equal(server.requests.at(-1)?.grantType, 'urn:ietf:params:oauth:grant-type:jwt-bearer');
  });

  it('reads a rotated service-account key file again when the server refuses the old key', async (t) => {
    const server = await startTokenServer(t);
    const clientEmail = 'orders@project.iam.example.test';
    const keyFile = (privatePem: string, keyId: string): unknown => ({
      type: 'service_account',
      private_key_id: keyId,
      private_key: privatePem,
      client_email: clientEmail,
      token_uri: server.tokenEndpoint,
    });
    const first = rsaKeyPair();
    server.addServiceAccount({ clientEmail, publicKey: first.publicPem });
    const path = await writeJson(t, keyFile(first.privatePem, 'key-1'));
    const tokens = fromFile(t, path, { allowInsecureRequests: true });
    await tokens.getToken();
    const second = rsaKeyPair();
    server.addServiceAccount({ clientEmail, publicKey: second.publicPem });
    await writeFile(path, JSON.stringify(keyFile(second.privatePem, 'key-2')));
    tokens.invalidate();
    await tokens.getToken();
    assert.deepEqual(
      server.requests.filter((r) => r.path === '/oauth2/token').map((r) => r.status),
      [200, 400, 200],
      'one refusal of the old key (invalid_grant), then the request signed with the new one',
    );
  });

  it('uses a generic OAuth2 client file with a client secret', async (t) => {
    const server = await startTokenServer(t);
    const path = await writeJson(t, {
      client_id: 'orders-svc',
      client_secret: clientSecret,
      token_endpoint: server.tokenEndpoint,
    });
    const tokens = fromFile(t, path, { scopes: ['orders.read'], allowInsecureRequests: true });
    await tokens.getToken();
    assert.equal(server.requests.at(-1)?.authMethod, 'client_secret_basic');
  });

  it('uses a generic OAuth2 client file with a private key and discovery', async (t) => {
    const server = await startTokenServer(t);
    const { publicPem, privatePem } = rsaKeyPair();
    server.addClient({ clientId: 'keyed-client', publicKey: publicPem });
    const path = await writeJson(t, { client_id: 'keyed-client', private_key: privatePem, issuer: server.issuer });
    const tokens = fromFile(t, path, { allowInsecureRequests: true });
    await tokens.getToken();
    assert.equal(server.requests.at(-1)?.authMethod, 'private_key_jwt');
  });

  const broken: [string, unknown, RegExp][] = [
    [
      'no client_email',
      { type: 'service_account', private_key: 'PRIVATE KEY placeholder', token_uri: 'https://a.test/t' },
      /"client_email"/,
    ],
    [
      'no private_key',
      { type: 'service_account', client_email: 'a@b', token_uri: 'https://a.test/t' },
      /"private_key"/,
    ],
    [
      'a private_key that is not PEM',
      { type: 'service_account', client_email: 'a@b', private_key: 'abc', token_uri: 'https://a.test/t' },
      /"private_key" is not a PEM/,
    ],
    [
      'no token_uri',
      { type: 'service_account', client_email: 'a@b', private_key: 'PRIVATE KEY placeholder' },
      /"token_uri"/,
    ],
    [
      'a numeric client_id',
      { client_id: 5, client_secret: 'x', token_endpoint: 'https://a.test/t' },
      /"client_id" must be a string/,
    ],
    [
      'neither secret nor key',
      { client_id: 'a', token_endpoint: 'https://a.test/t' },
      /neither "client_secret" nor "private_key"/,
    ],
    ['no endpoint', { client_id: 'a', client_secret: 'x' }, /neither "token_endpoint" nor "issuer"/],
    ['an unknown type', { type: 'authorized_user', client_id: 'a' }, /"type" "authorized_user" is not supported/],
  ];
  for (const [what, content, message] of broken) {
    it(`names the field when the key file has ${what}`, async (t) => {
      const path = await writeJson(t, content);
      assert.throws(() => fromFile(t, path), invalidOption(message));
    });
  }

  /** A service-account key file whose token_uri is plain http. */
  const plainHttpKeyFile = (t: TestContext): Promise<string> =>
    writeJson(t, {
      type: 'service_account',
      client_email: 'a@b.example.test',
      private_key: rsaKeyPair().privatePem,
      token_uri: 'http://auth.example.test/token',
    });

  it('refuses an http token_uri without allowInsecureRequests', async (t) => {
    const path = await plainHttpKeyFile(t);
    assert.throws(() => fromFile(t, path), invalidOption(/^"token_uri" of .* is http:\/\/; .*allowInsecureRequests/));
  });

  it('accepts an http token_uri with allowInsecureRequests', async (t) => {
    const path = await plainHttpKeyFile(t);
    assert.ok(fromFile(t, path, { allowInsecureRequests: true }) instanceof TokenManager);
  });

  it('says so when the key file is missing', async (t) => {
    const dir = await createTempDir(t, 'sa-');
    assert.throws(
      () => fromFile(t, join(dir, 'absent.json')),
      invalidOption(/^key file .* could not be read \(ENOENT\)$/),
    );
  });

  it('says so when the key file is not JSON, without quoting it', async (t) => {
    const path = join(await createTempDir(t, 'sa-'), 'garbage.json');
    await writeFile(path, `{"private_key": "${'x'.repeat(10)}`);
    assert.throws(
      () => fromFile(t, path),
      (err: Error) => invalidOption(/not valid JSON/)(err) && !err.message.includes('xxxxxxxxxx'),
    );
  });
});
